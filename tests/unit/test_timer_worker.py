"""TimerWorker in-process: APScheduler only wakes it, sweeps never overlap or raise, health is reported."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog.testing

from hazardflow import Engine, InvalidInput, SystemClock
from hazardflow.testing import MemoryStore
from hazardflow.timers import TimerWorker
from hazardflow.timers.worker import JOB_POLL, JOB_WAKE
from timer_support import seed_overdue


def overdue_cases(n: int) -> Engine:
    """``n`` cases whose deadline (yesterday, 24:00) and first ladder rung are due now, in real time."""
    return Engine(store=seed_overdue(MemoryStore(), n))


def test_bad_settings_are_refused() -> None:
    engine = Engine()
    for kwargs, field in [
        ({"interval": 0}, "interval"),
        ({"interval": True}, "interval"),
        ({"hold_seconds": -1}, "hold_seconds"),
        ({"health_interval": "soon"}, "health_interval"),
        ({"limit": 0}, "limit"),
    ]:
        with pytest.raises(InvalidInput) as info:
            TimerWorker(engine, **kwargs)
        assert info.value.field == field
        assert "must be a positive" in str(info.value)


def test_a_sweep_fires_what_is_due_and_reports_health(tmp_path: Path) -> None:
    engine = overdue_cases(3)
    health = tmp_path / "health.json"
    worker = TimerWorker(engine, interval=60, health_file=health)
    with structlog.testing.capture_logs() as logs:
        report = worker.sweep()
    assert report is not None
    assert (report.fired, report.failed) == (6, 0)  # each case: overdue + 函告
    assert [e["event"] for e in logs] == ["worker.sweep"]
    assert logs[0]["fired"] == 6
    snap = json.loads(health.read_text(encoding="utf-8"))
    assert snap["status"] == "ok"
    assert snap["sweeps"] == 1
    assert snap["fired_total"] == 6
    assert snap["last_sweep"]["fired"] == 6
    assert snap["next_due"] is not None  # rung 2, ten working days ahead
    assert snap["next_wake"] is None  # beyond the next poll: the poll comes first
    assert worker.sweep().fired == 0  # type: ignore[union-attr]


def test_a_failing_store_degrades_health_and_never_raises(tmp_path: Path) -> None:
    class Down(MemoryStore):
        def due_timers(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("database is down")

    worker = TimerWorker(Engine(store=Down()), interval=60, health_file=tmp_path / "h.json")
    with structlog.testing.capture_logs() as logs:
        assert worker.sweep() is None
    assert [(e["event"], e["log_level"]) for e in logs] == [("worker.sweep_failed", "error")]
    assert "database is down" in logs[0]["error"]
    snap = worker.health()
    assert snap.status == "degraded"
    assert snap.consecutive_failures == 1
    assert json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))["status"] == "degraded"


def test_the_alarm_is_set_for_the_next_due_instant() -> None:
    class Soon(MemoryStore):
        def next_due(self) -> Any:
            return SystemClock().now() + timedelta(seconds=5)

    worker = TimerWorker(Engine(store=Soon()), interval=60)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while worker.health().sweeps < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        job = worker._scheduler.get_job(JOB_WAKE)
        assert job is not None
        assert job.misfire_grace_time is None  # a late wake-up still runs (APScheduler's default drops it)
        assert job.coalesce
        assert job.max_instances == 1
        assert abs((job.next_run_time - worker.health().next_due).total_seconds()) < 0.01  # type: ignore[operator]
        poll = worker._scheduler.get_job(JOB_POLL)
        assert poll.trigger.interval == timedelta(seconds=60)
        assert poll.misfire_grace_time is None
    finally:
        worker.stop()
    assert worker.health().status == "stopped"


def test_stop_interrupts_a_sweep_between_firings_and_leaves_nothing_held() -> None:
    engine = overdue_cases(20)
    worker = TimerWorker(engine, interval=60)
    fired: list[str] = []

    def slow_listener(case: Any, event: Any) -> None:
        fired.append(case.id)
        if len(fired) == 3:
            worker.request_stop()

    engine.subscribe(slow_listener)
    report = worker.sweep()
    assert report is not None
    assert report.interrupted
    assert report.fired == 3
    # Nothing is held back: a fresh worker fires the rest at once.
    assert Engine(store=engine.store).run_due().fired == 40 - 3


def test_run_loops_until_asked_to_stop(tmp_path: Path) -> None:
    engine = overdue_cases(2)
    worker = TimerWorker(engine, interval=0.05, health_interval=0.05, health_file=tmp_path / "h.json")
    thread = threading.Thread(target=worker.run)
    with structlog.testing.capture_logs() as logs:
        thread.start()
        deadline = time.monotonic() + 20
        while worker.health().fired_total < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.request_stop()
        thread.join(20)
    assert not thread.is_alive()
    events = [e["event"] for e in logs]
    assert events[0] == "worker.started"
    assert "worker.health" in events
    assert events[-2:] == ["worker.stopping", "worker.stopped"]
    assert worker.health().fired_total == 4
    assert json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))["status"] == "stopped"


def test_health_file_writes_from_several_threads_never_collide(tmp_path: Path) -> None:
    # The sweep (scheduler thread), the health job and stop() can write the file at once.
    worker = TimerWorker(overdue_cases(1), interval=60, health_file=tmp_path / "health.json")
    with structlog.testing.capture_logs() as logs:
        threads = [threading.Thread(target=lambda: [worker._write_health_file() for _ in range(40)]) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert [e for e in logs if e["event"] == "worker.health_file_failed"] == []
    assert json.loads((tmp_path / "health.json").read_text(encoding="utf-8"))["worker_id"] == worker.engine.worker_id
    assert list(tmp_path.glob(".*.tmp")) == []
