"""As a new user meets it: every command the docs show, and every example, runs clean twice in a row.

The commands are read from README.md and the pages under docs/ (code blocks and inline code that start with
``hazardflow`` or ``.venv/bin/hazardflow``), run in the order the pages give them, then the whole sequence runs
again on the databases the first pass made. On SQLite the URLs are the docs' own files (in a scratch folder);
on PostgreSQL every database URL of the docs becomes a database of its own on the test server, and
``--replace`` gets ``--yes`` (no one is there to confirm). Every simulation is cut to its first month
(``--until``, which the docs allow) to keep the test short: ``tests/docs/test_readme.py`` runs the README's
main job in full, and ``tests/unit/test_new_user_view.py`` checks its campaign year (escalations included).
Only the main job draws its charts here.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from hazardflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "reference" not in p.parts)]
#: Words that mark a command as a pattern to fill in, not one to run.
PLACEHOLDERS = re.compile(r"\bURL\b|<|…|\$\{|SCENARIO|情景|\bPATH\b|\bID\b|\[|\bN\b|my_township|日期|目录|政策")
URL = re.compile(r"(?:sqlite|postgres(?:ql)?(?:\+psycopg)?)://\S+")
SHORT = "2024-01-31"
#: A web address in a command (a webhook receiver, an OA's page): run only when it names this machine.
WEB = re.compile(r"(?:https?|wss?)://(\[[^\]]*\]|[^/:\s]+)")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
#: Commands that run until stopped: the docs may show them, this test never starts them.
LONG_RUNNING = {"serve", "deliver"}


def _safe_to_run(run: list[str]) -> None:
    """Refuse a docs command that would reach beyond this machine or never end (a fix belongs in the docs)."""
    for arg in run:
        for host in WEB.findall(arg):
            assert host.lower() in LOOPBACK, f"docs command names a non-loopback host {host!r}: {' '.join(run)}"
    assert run[0] not in LONG_RUNNING, f"docs command runs until stopped (mark it as a pattern): {' '.join(run)}"


def _commands_of(text: str) -> Iterator[str]:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            yield from _parts(line)
    for span in inline:
        yield from _parts(span)


def _parts(line: str) -> Iterator[str]:
    line = line.strip().removeprefix("$ ")
    for raw in line.split("&&"):
        part = raw.split("  #")[0].strip()
        if part.startswith(("hazardflow ", ".venv/bin/hazardflow ")) and not PLACEHOLDERS.search(part):
            yield part


def _a_mention(args: list[str]) -> bool:
    """``hazardflow audit verify`` named in a sentence: a command with required parameters and none given."""
    from typer.main import get_command

    cmd = get_command(app)
    rest = list(args)
    while rest and hasattr(cmd, "commands") and rest[0] in cmd.commands:
        cmd = cmd.commands[rest.pop(0)]
    return not rest and any(p.required for p in cmd.params)


def doc_commands() -> list[list[str]]:
    """Every runnable command of the docs, as argument lists, in page order (repeats kept once)."""
    seen: list[list[str]] = []
    for page in PAGES:
        for cmd in _commands_of(page.read_text(encoding="utf-8")):
            args = shlex.split(cmd)[1:]
            if args and args not in seen and not _a_mention(args):
                seen.append(args)
    return seen


MAIN_JOB = next(a for a in doc_commands() if "simulate" in a and "--replace" in a and "simulation.db" in " ".join(a))


def test_the_docs_show_the_commands_a_new_user_runs() -> None:
    names = {" ".join(a[:2]) for a in doc_commands()}
    for expected in ("simulate examples/scenarios/sanjia_2024_2026.py", "demo --store", "audit verify", "db upgrade"):
        assert any(n.startswith(expected) for n in names), (expected, names)
    assert any(a[0] == "policy" for a in doc_commands())
    assert any(a[0] == "lifecycle" for a in doc_commands())


def test_a_command_reaching_beyond_this_machine_is_refused() -> None:
    with pytest.raises(AssertionError, match="non-loopback host"):
        _safe_to_run(["webhooks", "add", "--target", "https://oa.example.gov.cn/hooks"])
    with pytest.raises(AssertionError, match="runs until stopped"):
        _safe_to_run(["deliver", "--url", "sqlite:///x.db"])
    _safe_to_run(["webhooks", "add", "--target", "http://127.0.0.1:9000/hooks"])


def _repo_path(arg: str) -> str:
    """A path of the repository (``examples/...py`` or ``examples/...py:Class``) made absolute."""
    head, sep, tail = arg.partition(":")
    if not arg.startswith("-") and "://" not in arg and (ROOT / head).exists():
        return f"{ROOT / head}{sep}{tail}"
    return arg


def _prepare(args: list[str], urls: Callable[[str], str], folder: Path, *, postgres: bool) -> list[str]:
    out = [URL.sub(lambda m: urls(m.group(0)), a) for a in args]
    out = [_repo_path(a) for a in out]
    if out[0] == "worker":
        if "--once" not in out:
            out.append("--once")
        if "--health-file" in out:
            out[out.index("--health-file") + 1] = str(folder / "worker-health.json")
    if out[0] == "simulate":
        if "--until" not in out:
            out += ["--until", SHORT]
        else:
            out[out.index("--until") + 1] = SHORT
        if args != MAIN_JOB and "--no-charts" not in out:
            out.append("--no-charts")  # the charts are drawn by the main job (and checked elsewhere)
        if postgres and "--replace" in out:
            out.append("--yes")
    return out


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, urls: Callable[[str], str], *, postgres: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(env={"COLUMNS": "80"})
    commands = [a for a in doc_commands() if not postgres or any(URL.search(x) for x in a)]
    assert commands
    tipoff, township = _load("tipoff_to_escalated_closure"), _load("township_deadlines")
    example_db = urls("sqlite:///demo.db")
    for round_ in (1, 2):
        for args in commands:
            run = _prepare(args, urls, tmp_path, postgres=postgres)
            _safe_to_run(run)
            result = runner.invoke(app, run, catch_exceptions=False)
            assert result.exit_code == 0, (round_, " ".join(run), result.output)
            assert "Traceback" not in result.output
            if args == MAIN_JOB:
                assert (tmp_path / "simulation-output" / "report.zh.md").is_file()
        # The examples, on the same database as the round before (the tip-off walk-through keeps its record).
        assert tipoff.main(["tipoff_to_escalated_closure.py", example_db]) == 0
        engine = tipoff.build_engine(example_db)
        try:
            report = engine.verify_audit()
            assert report.ok, report
            assert report.cases == 3 * round_  # one walk-through per run, numbered after the one before
        finally:
            engine.close()
        township.main(echo=False)


@pytest.mark.slow
def test_every_docs_command_and_example_twice_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def urls(url: str) -> str:
        if url.startswith("sqlite:///"):
            return url
        # a PostgreSQL URL of the docs (a server we do not have) becomes a SQLite file of its own
        return f"sqlite:///{re.sub(r'[^A-Za-z0-9]+', '_', url)}.db"

    _run_everything(tmp_path, monkeypatch, urls, postgres=False)


@pytest.mark.slow
def test_every_docs_command_and_example_twice_on_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_databases: Callable[[], str]
) -> None:
    made: dict[str, str] = {}

    def urls(url: str) -> str:
        key = url.rstrip("/")
        if key not in made:
            made[key] = postgres_databases()
        return made[key]

    _run_everything(tmp_path, monkeypatch, urls, postgres=True)
