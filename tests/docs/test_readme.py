"""The README's commands are the ones CI runs and they work: the test command, the main job, the CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hazardflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def setup_commands() -> list[str]:
    """The set-up commands of the README's quick start, in order (each one line starting with a venv)."""
    return [line.strip() for line in README.splitlines() if line.strip().startswith("python3 -m venv .venv")]


def test_readme_has_the_two_setup_commands() -> None:
    commands = setup_commands()
    assert len(commands) == 2, commands
    main_job, tests = commands
    assert ".[all]" in main_job
    assert ".venv/bin/hazardflow " in main_job
    assert ".[test]" in tests


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^TEST_COMMAND='([^']*)'$", ci, re.M)
    assert match is not None, ".ci/run no longer defines TEST_COMMAND"
    assert 'bash -c "$TEST_COMMAND"' in ci
    assert setup_commands()[1] == match.group(1)


def _cli_args(command: str) -> list[str]:
    """The ``hazardflow ...`` part of a set-up command, with paths of the repository made absolute."""
    part = next(p.strip() for p in command.split("&&") if p.strip().startswith(".venv/bin/hazardflow"))
    args = shlex.split(part)[1:]
    return [str(ROOT / a) if (ROOT / a).exists() and not a.startswith("-") else a for a in args]


def test_the_readme_main_job_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the README's first command runs, it runs here (in-process, without the install steps)."""
    args = _cli_args(setup_commands()[0])
    monkeypatch.chdir(tmp_path)  # anything it writes lands in the test's own directory
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.strip()


def test_demo_walks_the_sample_cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "refused: hazardflow.guard_rejected" in result.output  # the fixer may not sign his own fix
    assert "→ closed" in result.output
    assert "audit OK" in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lifecycle_show_mermaid(lang: str) -> None:
    result = CliRunner().invoke(app, ["lifecycle", "show", "hazard", "--format", "mermaid", "--lang", lang])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("stateDiagram-v2\n")
    label = "审核销号" if lang == "zh" else "approve and close"
    assert f"under_review --> closed: {label}" in result.output
    assert "[*] --> registered" in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lifecycle_show_table(lang: str) -> None:
    result = CliRunner().invoke(app, ["lifecycle", "show", "hazard", "--format", "table", "--lang", lang])
    assert result.exit_code == 0, result.output
    header = "| 触发 | 从 | 到 |" if lang == "zh" else "| trigger | from | to |"
    assert header in result.output
    assert ("| `closed` | 已销号 | 是 |" if lang == "zh" else "| `closed` | closed | yes |") in result.output


def test_lifecycle_show_unknown_workflow_suggests() -> None:
    result = CliRunner().invoke(app, ["lifecycle", "show", "hazzard"])
    assert result.exit_code == 2
    assert "Did you mean 'hazard'?" in result.output


def test_the_readme_python_example_runs() -> None:
    code = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert code, "the README shows how to use the engine from Python"
    namespace: dict[str, object] = {}
    exec(compile(code[0], "README.md", "exec"), namespace)
    case = namespace["case"]
    assert case.state == "registered"  # type: ignore[attr-defined]
