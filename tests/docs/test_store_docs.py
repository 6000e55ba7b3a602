"""The storage pages' Python snippets run as written (on a SQLite file in a scratch directory)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from hazardflow import Actor, ConcurrentUpdateError, Engine, SimulatedClock
from hazardflow._model import Write
from hazardflow.persistence.sql import SqlStore

DOCS = Path(__file__).resolve().parents[2] / "docs"
_PYTHON = re.compile(r"```python\n(.*?)```", re.S)


def snippets(page: str) -> list[str]:
    return _PYTHON.findall((DOCS / page).read_text(encoding="utf-8"))


FIELDS = {
    "grade": "general",
    "source": "supervisory_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": "500240204-BU-0001",
    "location": "仓库",
    "description": "消防通道堆放杂物",
}


def test_sqlite_quick_start_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = snippets("how-to/choose-database.md")[0]
    namespace: dict[str, object] = {}
    exec(compile(first, "choose-database.md", "exec"), namespace)
    assert (tmp_path / "hazards.db").exists()
    case = namespace["case"]
    with Engine.from_url("sqlite:///hazards.db") as engine:
        assert engine.get(case.id) == case  # type: ignore[attr-defined]
        assert engine.verify_audit().ok


def test_batch_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    batch = next(s for s in snippets("how-to/choose-database.md") if "engine.batch()" in s)
    officer = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", "500240204")
    rows = [{"jurisdiction": "500240204", "fields": FIELDS} for _ in range(25)]
    with Engine.from_url("sqlite:///hazards.db") as engine:
        exec(batch, {"engine": engine, "officer": officer, "rows_from_the_old_system": rows})
        assert len(list(engine.cases())) == 25


def test_migration_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (snippet,) = snippets("how-to/migrations.md")
    exec(snippet, {})
    from hazardflow.persistence import migrate

    assert migrate.current("sqlite:///hazards.db") == migrate.HEAD


def test_retry_helper_retries_real_conflicts(tmp_path: Path) -> None:
    (snippet,) = snippets("explanation/durability.md")
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    fire_with_retry = namespace["fire_with_retry"]
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    officer = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", "500240204")
    other = Engine.from_url(url, clock=SimulatedClock("2024-03-04T09:00:00+08:00"))
    departments = iter(["fire_department", "emergency_management"] * 5)

    class Interleaved(SqlStore):
        """A real store; before each of its next ``races`` commits another engine changes the case first."""

        races = 0

        def commit(self, writes: Sequence[Write]) -> None:
            if self.races:
                self.races -= 1
                other.fire(case.id, "assign_department", actor=officer, payload={"department": next(departments)})
            super().commit(writes)

    store = Interleaved(url)
    engine = Engine(store=store, clock=SimulatedClock("2024-03-04T09:00:00+08:00"))
    case = engine.open_case("hazard", actor=officer, jurisdiction="500240204", **FIELDS)
    order = {"deadline": "2024-12-31", "measures": "清理通道", "responsible": "李安全"}
    store.races = 2
    done = fire_with_retry(engine, case.id, "set_deadline", actor=officer, payload=order, key="order-1")
    assert done.state == "rectifying"
    assert [e.trigger for e in engine.history(case.id)] == [
        "register",
        "assign_department",
        "assign_department",
        "set_deadline",
    ]
    # Conflicting every time: the helper gives up after its attempts, and nothing of its command is stored.
    store.races = 5
    with pytest.raises(ConcurrentUpdateError):
        fire_with_retry(
            engine, case.id, "order_stop", actor=officer, payload={"level": "partial", "reason": "整改期间"}, key="s-1"
        )
    assert store.lookup_idempotency(case.id, "s-1") is None
    assert engine.get(case.id).stop_production == "none"
    assert engine.verify_audit().ok
    engine.close()
    other.close()


def test_readme_sqlite_commands_run_again_and_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hazardflow.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--store", "sqlite:///hazards.db"])
    assert first.exit_code == 0, first.output
    assert "HZ-000001" in first.output
    assert "audit OK: 3 case(s)" in first.output
    again = runner.invoke(app, ["demo", "--store", "sqlite:///hazards.db"])
    assert again.exit_code == 0, again.output
    assert "HZ-000004" in again.output
    assert "audit OK: 6 case(s)" in again.output
    verified = runner.invoke(app, ["audit", "verify", "--url", "sqlite:///hazards.db"])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("audit OK: 6 case(s)")
    bad = runner.invoke(app, ["demo", "--store", "sqlite:///no/such/dir/hazards.db"])
    assert bad.exit_code == 2
    assert "database unavailable" in bad.output
