"""The Python snippets of the simulation how-to run as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "simulation.md"


def test_simulation_howto_snippets_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert blocks
    for code in blocks:
        namespace: dict[str, object] = {}
        exec(compile(code, str(DOC), "exec"), namespace)
        result = namespace["result"]
        assert result.period("2024Q1").total_opened() > 0  # type: ignore[attr-defined]


def test_readme_runs_a_scenario_first() -> None:
    readme = (DOC.parents[2] / "README.md").read_text(encoding="utf-8")
    first = next(line for line in readme.splitlines() if line.startswith("python3 -m venv"))
    assert "hazardflow simulate examples/scenarios/" in first
    scenario = first.split("hazardflow simulate ", 1)[1].split()[0]
    assert (DOC.parents[2] / scenario).is_file()
