"""The reference pages generated from the code (lifecycles, glossary, error codes, API) are up to date."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parents[2]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_pages_match_the_code() -> None:
    stale = generator().stale()
    assert stale == [], f"stale generated docs {stale}: run `python scripts/gen_docs.py` and commit the result"


def test_the_hazard_page_shows_both_languages() -> None:
    page = (ROOT / "docs" / "reference" / "lifecycles" / "hazard.md").read_text(encoding="utf-8")
    assert page.count("```mermaid") == 2
    assert "registered --> rectifying: 限期整改" in page
    assert "registered --> rectifying: order rectification by a deadline" in page
    assert "| `approve` 审核销号 |" in page
    assert "| `approve` approve and close |" in page


def test_every_workflow_and_glossary_kind_has_its_page() -> None:
    from hazardflow._glossary import GLOSSARY
    from hazardflow.workflows import default_workflows

    for wf in default_workflows():
        assert (ROOT / "docs" / "reference" / "lifecycles" / f"{wf.id}.md").exists()
    glossary = (ROOT / "docs" / "reference" / "glossary.md").read_text(encoding="utf-8")
    for term in GLOSSARY:
        assert f"| `{term.id}` | {term.zh} |" in glossary


def test_a_change_in_the_table_makes_the_page_stale(tmp_path: Path) -> None:
    gen = generator()
    gen.ROOT = tmp_path  # an empty checkout: every page is missing, hence stale
    assert set(gen.stale()) == set(gen.pages())
