"""A process streaming commands is killed with SIGKILL at random points, on SQLite and on PostgreSQL.

After each kill, on the same database: every command the process saw committed is there (at the revision it
was told, exactly once), a bulk batch is there entirely or not at all, no case is half-written (revision =
number of events, the chain verifies, replay gives the stored row, the outbox has a row per event, the armed
timers match each case's stage), and the engine carries on: a new process continues where the dead one
stopped, and this process fires commands on the cases the dead one left behind.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from hazardflow import Actor, Engine, SimulatedClock
from hazardflow.persistence.sql import SqlStore

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("crash_child.py")
TOWNSHIP = "500240204"
MANAGER = Actor("e-li", "李安全", {"safety_manager"}, "500240204-BU-0001", TOWNSHIP)
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)


class Ledger:
    """What the killed processes reported as committed."""

    def __init__(self) -> None:
        self.committed: dict[str, tuple[str, int]] = {}
        self.unsure_batches: list[list[str]] = []
        self.kills_inside_batch = 0

    def read(self, lines: list[str]) -> None:
        pending: list[str] | None = None
        for line in lines:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "ok" and len(parts) == 4:
                self.committed[parts[1]] = (parts[2], int(parts[3]))
            elif parts[0] == "begin":
                pending = parts[2:]
            elif parts[0] == "batch":
                pending = None
        if pending is not None:
            self.unsure_batches.append(pending)
            self.kills_inside_batch += 1


def run_and_kill(url: str, run: str, seed: int, rng: random.Random, ledger: Ledger) -> int:
    """Start a streaming process, let it commit a random number of commands, SIGKILL it; return lines seen."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), url, run, str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    target = rng.randint(10, 60)
    lines: list[str] = []
    try:
        while sum(1 for x in lines if x.startswith("ok ")) < target:
            line = proc.stdout.readline()
            if not line:
                err = proc.stderr.read() if proc.stderr else ""
                raise AssertionError(f"the streaming process stopped by itself:\n{err}")
            lines.append(line)
        time.sleep(rng.uniform(0, 0.03))  # land somewhere inside the next commands
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # Lines already in the pipe were written after their commit returned: they count too.
    lines.extend(rest.splitlines())
    ledger.read(lines)
    return len(lines)


def check_database(url: str, ledger: Ledger) -> None:
    with SqlStore(url) as store:
        engine = Engine(store=store, clock=SimulatedClock("2024-03-20T09:00:00+08:00"))
        cases = {c.id: c for c in store.iter_cases()}
        events = {cid: store.load_events(cid) for cid in cases}
        by_key: Counter[str] = Counter()
        where: dict[str, tuple[str, int]] = {}
        for cid, evs in events.items():
            for ev in evs:
                if ev.idempotency_key:
                    by_key[ev.idempotency_key] += 1
                    where[ev.idempotency_key] = (cid, ev.seq)
        # Every command reported as committed is there, where it was reported, exactly once.
        for key, (cid, seq) in ledger.committed.items():
            assert where.get(key) == (cid, seq), f"committed command {key} is missing or moved"
        assert all(n == 1 for n in by_key.values()), "an event was written twice"
        # A batch interrupted by the kill is there entirely or not at all.
        for keys in ledger.unsure_batches:
            present = sum(1 for k in keys if k in where)
            assert present in (0, len(keys)), f"half of a batch survived: {present} of {keys}"
        # No half-written case: chains, revisions, replay, columns, outbox, timers.
        report = engine.verify_audit()
        assert report.ok, str(report)
        assert report.cases == len(cases)
        assert store.event_column_problems() == []
        outbox = {(cid, seq) for _, cid, seq, _ in store.read_outbox(limit=1_000_000)}
        assert outbox == {(cid, ev.seq) for cid, evs in events.items() for ev in evs}
        for cid, case in cases.items():
            armed = store.armed_timers(cid)
            assert all(t.armed_seq <= case.rev for t in armed)
            deadlines = [t for t in armed if t.kind == "deadline"]
            if case.closed_at is not None or case.deadline is None:
                assert deadlines == [], cid
            else:
                assert [t.due_at for t in deadlines] == [case.deadline.due_at], cid


def carry_on(url: str) -> None:
    """This process picks up the cases the dead one left mid-way and moves them on."""
    with SqlStore(url) as store:
        engine = Engine(store=store, clock=SimulatedClock("2024-03-20T09:00:00+08:00"), outbox=True)
        moved = 0
        for case in list(store.iter_cases(state="rectifying")):
            payload = {"evidence": ["照片.jpg"], "rectified_by": MANAGER.id}
            engine.fire(case.id, "submit_review", actor=MANAGER, payload=payload)
            moved += 1
        for case in list(store.iter_cases(state="under_review")):
            engine.fire(case.id, "approve", actor=OFFICER, payload={"opinion": "复核通过"})
            moved += 1
        assert moved > 0
        engine.run_due()
        assert engine.verify_audit().ok


def crash_repeatedly(url: str, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    ledger = Ledger()
    SqlStore(url).close()
    for run in range(kills):
        run_and_kill(url, f"r{run}", seed * 100 + run, rng, ledger)
        check_database(url, ledger)
    assert len(ledger.committed) >= 10 * kills
    carry_on(url)
    check_database(url, ledger)


def test_sigkill_on_sqlite(tmp_path: Path) -> None:
    crash_repeatedly(f"sqlite:///{tmp_path / 'hazards.db'}", kills=3, seed=7)


@pytest.mark.postgres
def test_sigkill_on_postgres(postgres_databases: Callable[[], str]) -> None:
    crash_repeatedly(postgres_databases(), kills=2, seed=11)
