"""The Python snippets of the ensembles how-to ("How sure is this result?") run as written."""

from __future__ import annotations

import json
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


def test_the_city_example_runs_county_by_county(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hazardflow.cli import app

    scenario = DOC.parents[2] / "examples" / "scenarios" / "chizhou_city_2024_2026.py"
    out = tmp_path / "city"
    args = ["simulate", str(scenario), "--seeds", "1", "--partition", "county", "--until", "2024-01-31"]
    result = CliRunner().invoke(app, [*args, "--workers", "1", "--no-charts", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 tasks in this process" in " ".join(result.output.split())
    doc = json.loads((out / "ensemble.json").read_text(encoding="utf-8"))
    assert doc["per_seed"][0]["stats"]["cases"] > 3000
    assert all(t["judged"] == 0 for t in doc["targets"])  # the run stops before every checkpoint


def test_the_ensemble_tables_fit_80_columns_without_cutting_a_number(tmp_path: Path) -> None:
    import re

    from typer.testing import CliRunner

    from hazardflow.cli import app

    scenario = DOC.parents[2] / "examples" / "scenarios" / "sanjia_2024_2026.py"
    args = ["simulate", str(scenario), "--seeds", "1-2", "--workers", "1", "--no-charts"]
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, [*args, "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert not re.search(r"[\d%\]]…", result.output), result.output  # a number or interval cut short
