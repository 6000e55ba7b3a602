"""Claims on the SQL stores across connections and processes: who holds a timer, and what a dead claim leaves.

PostgreSQL: a claim is a transaction holding the timer's and its case's rows (``FOR UPDATE OF t, c SKIP
LOCKED``); a second connection skips them, never waits. SQLite: a claim holds the write lock; another
writer waits up to its busy timeout and then skips. On both, a claim whose connection is gone holds nothing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazardflow import Engine, SequentialIds, SimulatedClock
from hazardflow.persistence.sql import SqlStore
from hazardflow.testing import snapshot_store
from timer_support import events_of, open_general

NOW = "2024-03-16T00:00:00+08:00"  # the deadline of 2024-03-15 has passed; rung 1 has no delay


def seeded(store: SqlStore, n: int) -> tuple[Engine, SimulatedClock, list[str]]:
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    engine = Engine(store=store, clock=clock, ids=SequentialIds())
    ids = [open_general(engine, "2024-03-15").id for _ in range(n)]
    clock.set(NOW)
    return engine, clock, ids


def deadline_of(store: SqlStore, case_id: str) -> str:
    return next(t.id for t in store.armed_timers(case_id) if t.kind == "deadline")


# ── PostgreSQL: a second connection ────────────────────────────────────────────────────────────────
@pytest.fixture
def two_pg_stores(fresh_postgres_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    first, second = SqlStore(fresh_postgres_url), SqlStore(fresh_postgres_url)
    yield first, second
    first.close()
    second.close()


@pytest.mark.postgres
def test_postgres_a_claim_held_by_another_connection_is_skipped_not_waited_for(
    two_pg_stores: tuple[SqlStore, SqlStore],
) -> None:
    store, other_store = two_pg_stores
    engine, clock, ids = seeded(store, 3)
    now = clock.now()
    held = deadline_of(store, ids[0])
    reminder = next(t.id for t in store.armed_timers(ids[0]) if t.kind == "reminder")
    claim = other_store.claim_timer(held, now)
    assert claim is not None
    try:
        started = time.monotonic()
        assert store.claim_timer(held, now) is None
        # The claim holds the case too: another timer of the same case is skipped as well.
        assert store.claim_timer(reminder, now) is None
        assert time.monotonic() - started < 5  # skipped, never waited for
        # Finding is a plain read: the held timer is still found.
        assert held in {t.id for t in store.due_timers(now, limit=100)}
        report = engine.run_due(owner="w1")
        # The other two cases: deadline and rung 1 each fired, their reminders superseded.
        assert (report.fired, report.cancelled) == (4, 2)
        assert report.skipped >= 1
        assert events_of(engine, ids[0], "mark_overdue") == []
    finally:
        claim.close()
    # Closed without a commit: the next sweep fires the first case's deadline at once.
    again = engine.run_due(owner="w1")
    assert (again.fired, again.cancelled) == (2, 1)
    assert len(events_of(engine, ids[0], "mark_overdue")) == 1
    assert engine.verify_audit().ok


@pytest.mark.postgres
def test_postgres_a_claim_whose_connection_drops_holds_nothing(two_pg_stores: tuple[SqlStore, SqlStore]) -> None:
    store, other_store = two_pg_stores
    engine, clock, ids = seeded(store, 1)
    held = deadline_of(store, ids[0])
    before = snapshot_store(store)
    claim = other_store.claim_timer(held, clock.now())
    assert claim is not None
    # The worker's connection goes away mid-firing (a crash, a network cut): the server aborts the transaction.
    claim._conn.dbapi.close()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    mine = store.claim_timer(held, clock.now())
    while mine is None and time.monotonic() < deadline:
        time.sleep(0.05)
        mine = store.claim_timer(held, clock.now())
    assert mine is not None
    mine.close()
    assert snapshot_store(store) == before
    assert engine.run_due().fired == 2
    claim.close()  # the dead claim ends quietly


# ── SQLite: the write lock ─────────────────────────────────────────────────────────────────────────
LOCKER = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("ROLLBACK")
    """
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'claims.db'}"


def test_sqlite_a_claim_while_another_process_holds_the_write_lock_is_skipped(sqlite_url: str, tmp_path: Path) -> None:
    with SqlStore(sqlite_url) as seeder:
        seeded(seeder, 2)
    script = tmp_path / "locker.py"
    script.write_text(LOCKER, encoding="utf-8")
    locker = subprocess.Popen(
        [sys.executable, str(script), sqlite_url.removeprefix("sqlite:///"), "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        with SqlStore(sqlite_url, busy_timeout=0.2) as store:
            engine = Engine(store=store, clock=SimulatedClock(NOW), ids=SequentialIds())
            before = snapshot_store(store)
            started = time.monotonic()
            assert store.claim_timer(store.due_timers(engine.now(), limit=10)[0].id, engine.now()) is None
            report = engine.run_due()
            assert time.monotonic() - started < 10  # each claim waited 0.2 s at most, then skipped
            assert (report.fired, report.cancelled, report.failed) == (0, 0, 0)
            assert report.skipped >= 1
            assert snapshot_store(store) == before
    finally:
        locker.kill()
        locker.wait(10)
    # The lock holder is gone (killed: the OS dropped its lock, SQLite ignores what it had begun).
    with SqlStore(sqlite_url, busy_timeout=0.2) as store:
        engine = Engine(store=store, clock=SimulatedClock(NOW))
        report = engine.run_due()
        assert (report.fired, report.cancelled, report.skipped) == (4, 2, 0)
        assert engine.verify_audit().ok


def test_sqlite_a_claim_held_by_another_store_waits_for_it(sqlite_url: str) -> None:
    with SqlStore(sqlite_url) as first, SqlStore(sqlite_url, busy_timeout=0.2) as second:
        _engine, clock, ids = seeded(first, 1)
        held = deadline_of(first, ids[0])
        claim = first.claim_timer(held, clock.now())
        assert claim is not None
        with claim:
            # Another store (another worker) cannot take the write lock while the claim holds it: busy, skip.
            assert second.claim_timer(held, clock.now()) is None
            reminder = next(t.id for t in first.armed_timers(ids[0]) if t.kind == "reminder")
            assert second.claim_timer(reminder, clock.now()) is None
            # Reads go on meanwhile (WAL).
            assert second.get_timer(held) is not None
        # Once it ends, the other worker claims at once.
        mine = second.claim_timer(held, clock.now())
        assert mine is not None
        mine.close()


def test_sqlite_one_connection_store_reads_inside_its_own_claim() -> None:
    """``sqlite://`` has one connection: a firing reads through the store while its claim holds it."""
    store = SqlStore("sqlite://")
    try:
        engine, _, ids = seeded(store, 2)
        report = engine.run_due()
        assert (report.fired, report.cancelled) == (4, 2)
        assert all(len(events_of(engine, cid, "mark_overdue")) == 1 for cid in ids)
    finally:
        store.close()
