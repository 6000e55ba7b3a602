"""The Python snippets of the ensembles how-to ("How sure is this result?") run as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "ensembles.md"


def test_ensemble_howto_snippets_run_and_agree() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 2
    assert blocks[0] == blocks[1]  # the Chinese and the English section show the same code
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    e = namespace["e"]
    assert e.seeds == (1, 2, 3)  # type: ignore[attr-defined]
    assert {t.id for t in e.targets()} == {"stock_cleared", "inflow_curbed", "dynamic_zero"}  # type: ignore[attr-defined]


def test_every_command_line_option_the_howto_names_exists() -> None:
    from typer.testing import CliRunner

    from hazardflow.cli import app

    lines = DOC.read_text(encoding="utf-8").splitlines()
    commands = " ".join(line for line in lines if line.startswith(("hazardflow simulate", "    --")))
    help_text = CliRunner().invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"}).output
    options = set(re.findall(r"(--[a-z][a-z-]+)", commands))
    assert {"--seeds", "--workers", "--dask", "--partition", "--compare"} <= options
    for option in sorted(options):
        assert option in help_text, option
