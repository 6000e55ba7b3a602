"""The tip-off, escalation and routing pages: their diagrams are the rendered tables, their snippets run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hazardflow._lifecycle import render_mermaid
from hazardflow.workflows import ESCALATION, TIPOFF

DOCS = Path(__file__).resolve().parents[2] / "docs"
_MERMAID = re.compile(r"```mermaid\n(.*?)```", re.S)
_PYTHON = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize(
    ("page", "workflow"), [("explanation/tipoff.md", TIPOFF), ("explanation/escalation.md", ESCALATION)]
)
def test_diagrams_are_the_rendered_lifecycle(page: str, workflow: object) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    diagrams = _MERMAID.findall(text)
    spec = workflow.spec  # type: ignore[attr-defined]
    assert diagrams == [render_mermaid(spec, "zh"), render_mermaid(spec, "en")], (
        f"regenerate with `hazardflow lifecycle show {spec.id}` (--lang zh and en) and paste into docs/{page}"
    )


def test_tipoff_snippet_runs() -> None:
    text = (DOCS / "explanation/tipoff.md").read_text(encoding="utf-8")
    (snippet,) = _PYTHON.findall(text)
    namespace: dict[str, object] = {}
    exec(compile(snippet, "tipoff.md", "exec"), namespace)
    engine = namespace["engine"]
    tip = namespace["tip"]
    events = engine.history(tip.id)  # type: ignore[attr-defined]
    assert [e.type for e in events] == ["tipoff.received", "tipoff.reporter_viewed"]


def test_routing_query_matches_the_engine(tmp_path: Path) -> None:
    """The SQL a host runs (how-to page) returns what engine.cases(department=...) returns."""
    import sqlalchemy as sa

    from hazardflow.persistence.sql import SqlStore
    from workflow_support import OFFICER, make_engine, register

    url = f"sqlite:///{tmp_path / 'routing.db'}"
    engine = make_engine(SqlStore(url))
    school = register(engine, industry="construction")
    register(engine, industry="chemicals")
    fixed = register(engine, industry="gas")
    engine.fire(fixed.id, "fix_on_spot", actor=OFFICER, payload={"fixed_by": "u-worker", "measures": "更换软管"})
    text = (DOCS / "how-to/department-routing.md").read_text(encoding="utf-8")
    (query,) = re.findall(r"```sql\n(.*?)```", text, re.S)
    db = sa.create_engine(url)
    with db.connect() as conn:
        ids = [row.id for row in conn.execute(sa.text(query))]
    db.dispose()
    expected = [
        c.id
        for c in engine.cases(
            workflow="hazard", department="housing_construction", jurisdiction="500240", open_only=True
        )
    ]
    assert ids == expected == [school.id]
    engine.close()


def test_the_cli_renders_what_the_docs_show() -> None:
    from typer.testing import CliRunner

    from hazardflow.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["lifecycle", "list"])
    assert listed.exit_code == 0
    assert "tipoff\t举报线索" in listed.output
    assert "escalation\t问题提级" in listed.output
    for workflow in (TIPOFF, ESCALATION):
        for lang in ("zh", "en"):
            shown = runner.invoke(app, ["lifecycle", "show", workflow.spec.id, "--lang", lang])
            assert shown.exit_code == 0
            assert shown.output == render_mermaid(workflow.spec, lang)
