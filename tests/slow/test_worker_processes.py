"""``hazardflow worker`` as real processes: catch-up, waking on time, SIGTERM, races, and a SIGKILLed worker.

DESIGN invariant 5 across processes: several workers racing over thousands of due timers fire each exactly
once (4 processes on PostgreSQL, 2 on SQLite); a worker SIGKILLed in the middle of a firing holds nothing
back: another worker fires its timers at once, none twice, and the audit log verifies. Every run is bounded
by timeouts; no process outlives its test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hazardflow import Engine, SimulatedClock, SystemClock
from hazardflow.persistence.sql import SqlStore
from timer_support import OFFICER, TOWNSHIP, seed_overdue

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CLI = str(Path(sys.executable).with_name("hazardflow"))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; any still running at the end are killed (never left behind)."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(10)


def spawn(processes: list[subprocess.Popen[str]], *args: str) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    processes.append(p)
    return p


def json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for raw in text.splitlines():
        if raw.strip():
            out.append(json.loads(raw))  # every line a worker prints is JSON
    return out


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def fired_per_timer(store: SqlStore) -> Counter[str]:
    """How many audit events each timer produced (a timer firing twice would show 2)."""
    counts: Counter[str] = Counter()
    for case in store.iter_cases(workflow="hazard"):
        seqs = {e.seq: e for e in store.load_events(case.id) if e.trigger in ("mark_overdue", "sanction")}
        for seq, e in seqs.items():
            key = "d" if e.trigger == "mark_overdue" else f"s{e.payload['rung']}"
            counts[f"{case.id}/{key}"] += 1
            timer_seq = seq
            assert timer_seq > 0
    return counts


def check_each_fired_once(url: str, cases: int) -> None:
    with SqlStore(url, create=False) as store:
        counts = fired_per_timer(store)
        assert len(counts) == 2 * cases
        assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1][:5]
        for case in store.iter_cases(workflow="hazard"):
            assert case.overdue
            assert case.sanction_rung == 1
            armed = store.armed_timers(case.id)
            assert [t.kind for t in armed] == ["sanction"]  # rung 2, ten working days ahead
            assert armed[0].lease_owner is None


# ── one worker: catch-up, waking at the next due instant, health, SIGTERM ───────────────────────────
def test_worker_catches_up_wakes_on_time_and_stops_on_sigterm(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    with SqlStore(url) as store:
        seed_overdue(store, 5)
        # A tip-off about a blocked fire exit, received 24 h minus 25 s ago: its 24-hour verification deadline
        # falls due 25 s from now (time enough for the worker to start and catch up, even on a busy machine),
        # long before the next poll.
        received = SystemClock().now() - timedelta(hours=24) + timedelta(seconds=25)
        desk = OFFICER.__class__("c-sun", "孙受理", {"complaint_officer"}, "三星乡安办", TOWNSHIP)
        tip = Engine(store=store, clock=SimulatedClock(received)).open_case(
            "tipoff",
            actor=desk,
            jurisdiction=TOWNSHIP,
            channel="public",
            category="blocked_fire_exit",
            description="安全出口被货物堵塞",
            location="商场二楼",
        )
        assert tip.deadline is not None
        assert tip.deadline.due_at == received + timedelta(hours=24)
    health = tmp_path / "health.json"
    worker = spawn(
        processes,
        CLI,
        "worker",
        "--url",
        url,
        "--interval",
        "600",
        "--health-file",
        str(health),
        "--health-interval",
        "0.5",
        "--worker-id",
        "w-test",
    )

    def health_record() -> dict[str, Any]:
        try:
            return dict(json.loads(health.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return {}

    wait_for(lambda: health_record().get("fired_total", 0) >= 10, 60, "the catch-up sweep")
    after_catch_up = health_record()
    assert SystemClock().now() < tip.deadline.due_at, "the machine was too slow to start the worker in 25 s"
    # The alarm is set for the tip-off's deadline (the next due instant), not for the poll in 600 s.
    assert after_catch_up["next_due"] == tip.deadline.due_at.isoformat()
    assert after_catch_up["next_wake"] == (tip.deadline.due_at + timedelta(milliseconds=1)).isoformat()
    wait_for(lambda: health_record().get("fired_total", 0) >= 11, 60, "the wake-up at the tip-off's deadline")
    with SqlStore(url, create=False) as store:
        overdue = [e for e in store.load_events(tip.id) if e.trigger == "mark_overdue"]
    assert len(overdue) == 1
    assert overdue[0].late_seconds is not None
    assert overdue[0].late_seconds < 30  # woken by the alarm at the due instant, not by the 600 s poll
    snap = health_record()
    assert snap["status"] == "ok"
    assert snap["worker_id"] == "w-test"
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    logs = json_lines(out)
    events = [line["event"] for line in logs]
    assert events[0] == "worker.started"
    assert "worker.health" in events
    assert "worker.sweep" in events
    assert events[-3:] == ["worker.signal", "worker.stopping", "worker.stopped"]
    assert all({"ts", "level", "event"} <= set(line) for line in logs)
    assert next(line for line in logs if line["event"] == "worker.signal")["signal"] == "SIGTERM"
    assert health_record()["status"] == "stopped"


def test_worker_refuses_a_database_without_schema_and_runs_once(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    p = spawn(processes, CLI, "worker", "--url", empty)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 2
    line = json_lines(out)[-1]
    assert line["event"] == "worker.failed_to_start"
    assert line["level"] == "error"
    assert "hazardflow db upgrade" in line["error"] or "schema" in line["error"]
    url = f"sqlite:///{tmp_path / 'once.db'}"
    with SqlStore(url) as store:
        seed_overdue(store, 3)
    p = spawn(processes, CLI, "worker", "--url", url, "--once")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert [(line["event"], line["fired"]) for line in json_lines(out)] == [("worker.sweep", 6)]
    check_each_fired_once(url, 3)


# ── several workers racing ─────────────────────────────────────────────────────────────────────────
def race(url: str, workers: int, cases: int, processes: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    with SqlStore(url) as store:
        seed_overdue(store, cases)
    health = [tmp_path / f"h{i}.json" for i in range(workers)]
    procs = [
        spawn(
            processes,
            CLI,
            "worker",
            "--url",
            url,
            "--interval",
            "0.3",
            "--batch",
            "25",
            "--hold",
            "120",
            "--worker-id",
            f"racer-{i}",
            "--health-file",
            str(health[i]),
            "--health-interval",
            "0.3",
        )
        for i in range(workers)
    ]

    def total_fired() -> int:
        total = 0
        for h in health:
            with contextlib.suppress(OSError, ValueError, KeyError):  # not written yet, or mid-replace
                total += json.loads(h.read_text(encoding="utf-8"))["fired_total"]
        return total

    wait_for(lambda: total_fired() >= 2 * cases, 150, f"{2 * cases} firings")
    for p in procs:
        p.send_signal(signal.SIGTERM)
    per_worker = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        per_worker.append(sum(line.get("fired", 0) for line in json_lines(out) if line["event"] == "worker.sweep"))
    assert sum(per_worker) == 2 * cases
    assert sum(1 for n in per_worker if n > 0) >= 2, per_worker  # they really raced
    check_each_fired_once(url, cases)


@pytest.mark.postgres
def test_four_workers_on_postgres_fire_each_timer_once(
    fresh_postgres_url: str, processes: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    race(fresh_postgres_url, 4, 1500, processes, tmp_path)


def test_two_workers_on_sqlite_fire_each_timer_once(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    race(f"sqlite:///{tmp_path / 'race.db'}", 2, 1000, processes, tmp_path)


# ── a worker killed in the middle of a firing ──────────────────────────────────────────────────────
DOOMED = textwrap.dedent(
    """
    import sys, time
    from hazardflow import Engine
    from hazardflow.persistence.sql import SqlStore

    def hang(self, conn, writes):
        # Claimed and computed, not committed: the firing's transaction is open when the process dies.
        print("firing", writes[0].case.id, flush=True)
        time.sleep(3600)

    SqlStore._commit_claimed = hang
    engine = Engine(store=SqlStore(sys.argv[1], create=False), worker_id="doomed")
    engine.run_due(limit=40)
    """
)


def killed_mid_firing(url: str, processes: list[subprocess.Popen[str]], tmp_path: Path) -> None:
    cases = 30
    with SqlStore(url) as store:
        seed_overdue(store, cases)
    script = tmp_path / "doomed.py"
    script.write_text(DOOMED, encoding="utf-8")
    doomed = spawn(processes, sys.executable, str(script), url)
    assert doomed.stdout is not None
    first = doomed.stdout.readline()
    assert first.startswith("firing "), first + (doomed.stderr.read() if doomed.stderr else "")
    held_case = first.split()[1]
    postgres = url.startswith("postgresql")
    # While it hangs mid-firing: on PostgreSQL another worker skips the claimed timer (and its case) and fires
    # every other one; on SQLite the claim holds the write lock, so another worker's claims wait out their busy
    # timeout and skip. Either way nothing is fired twice.
    with SqlStore(url, create=False, busy_timeout=0.5) as store:
        survivor = Engine(store=store, worker_id="survivor")
        during = survivor.run_due(limit=100)
        if postgres:
            assert during.fired == 2 * (cases - 1)
            assert during.skipped >= 1
        else:
            assert during.fired == 0
            assert during.skipped >= 1
        assert [e.trigger for e in store.load_events(held_case)] == ["register", "set_deadline"]
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    assert doomed.returncode == -signal.SIGKILL
    killed_at = time.monotonic()
    with SqlStore(url, create=False) as store:
        survivor = Engine(store=store, worker_id="survivor")
        fired = 0
        # At once: no lease to wait out (PostgreSQL needs a moment to see the dead connection go).
        while fired < (2 if postgres else 2 * cases) and time.monotonic() - killed_at < 10:
            fired += survivor.run_due(limit=100).fired
            time.sleep(0.05)
        assert fired == (2 if postgres else 2 * cases)
        assert time.monotonic() - killed_at < 10
        armed = [t for c in store.iter_cases(workflow="hazard") for t in store.armed_timers(c.id)]
        assert all(t.lease_owner is None for t in armed)  # nothing held back by the dead worker
        assert survivor.verify_audit().ok
    check_each_fired_once(url, cases)


def test_a_worker_killed_mid_firing_holds_nothing_back_on_sqlite(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    killed_mid_firing(f"sqlite:///{tmp_path / 'kill.db'}", processes, tmp_path)


@pytest.mark.postgres
def test_a_worker_killed_mid_firing_holds_nothing_back_on_postgres(
    fresh_postgres_url: str, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    killed_mid_firing(fresh_postgres_url, processes, tmp_path)
