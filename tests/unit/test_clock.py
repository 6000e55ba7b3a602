"""Clocks: the only wall-clock read is SystemClock; simulated time never goes backwards; the engine stores UTC."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from hazardflow import Engine, InvalidInput, SimulatedClock, SystemClock
from hazardflow.abc import Clock

SRC = Path(__file__).resolve().parents[2] / "src" / "hazardflow"

#: Calls that read the wall clock for domain time. ``time.monotonic``/``perf_counter`` measure durations and
#: are allowed; APScheduler and structlog read time inside their own packages, not in ``src/``.
FORBIDDEN = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}


def _wall_clock_reads(path: Path, root: Path = SRC) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in FORBIDDEN:
                hits.append(f"{path.relative_to(root)}:{node.lineno}: {name}.{node.func.attr}()")
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            for alias in node.names:
                if (node.module, alias.name) in FORBIDDEN:
                    hits.append(f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {alias.name}")
    return hits


def test_nothing_but_system_clock_reads_the_wall_clock() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 10
    hits = [h for f in files for h in _wall_clock_reads(f)]
    # File and call, not the line number (docstrings move lines).
    assert [(h.split(":")[0], h.split(": ", 1)[1]) for h in hits] == [("_clock.py", "datetime.now()")], hits


def test_the_scan_catches_every_form(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import time, datetime as dt\nfrom time import time as t\nfrom datetime import date\n"
        "dt.datetime.now()\ndt.datetime.utcnow()\ntime.time()\ndate.today()\n",
        encoding="utf-8",
    )
    assert len(_wall_clock_reads(bad, tmp_path)) == 5


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert isinstance(SystemClock(), Clock)


def test_simulated_clock_moves_only_forward() -> None:
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    assert clock.now() == datetime(2024, 3, 4, 1, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.advance(days=1, hours=2) == datetime(2024, 3, 5, 3, tzinfo=UTC)
    assert clock.advance(timedelta(minutes=30)) == datetime(2024, 3, 5, 3, 30, tzinfo=UTC)
    assert clock.set("2024-03-06T00:00:00+08:00") == datetime(2024, 3, 5, 16, tzinfo=UTC)
    with pytest.raises(InvalidInput) as info:
        clock.advance(timedelta(seconds=-1))
    assert info.value.field == "delta"
    assert "never goes backwards" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        clock.set("2024-03-01T00:00:00+08:00")
    assert info.value.field == "instant"
    assert "never goes backwards (now 2024-03-05T16:00:00+00:00)" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        clock.set(datetime(2025, 1, 1))
    assert "must be timezone-aware" in str(info.value)
    assert clock.now() == datetime(2024, 3, 5, 16, tzinfo=UTC)
    with pytest.raises(InvalidInput) as info:
        SimulatedClock("2024-03-04T09:00:00")
    assert info.value.field == "start"


class NaiveClock:
    def now(self) -> datetime:
        return datetime(2024, 3, 4, 9, 0)  # no zone: UTC or Beijing time?


class BeijingClock:
    def now(self) -> datetime:
        return datetime(2024, 3, 4, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def test_engine_refuses_a_naive_clock_and_stores_utc() -> None:
    with pytest.raises(InvalidInput) as info:
        Engine(clock=NaiveClock()).now()
    assert info.value.field == "clock"
    assert "timezone-aware" in str(info.value)
    assert Engine(clock=BeijingClock()).now() == datetime(2024, 3, 4, 1, tzinfo=UTC)
    assert Engine(clock=BeijingClock()).now().tzinfo is UTC
