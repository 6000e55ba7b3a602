"""Several OS processes fire commands at the same cases at once, on SQLite and on PostgreSQL.

Every command either commits exactly once or gets ConcurrentUpdateError (or a guard's refusal when another
process already made the change); no update is lost, no event is duplicated, idempotency keys stay unique
across processes, and every hash chain verifies. Each worker's store waits a moment before committing, which
widens the window between reading a case and writing it, so the processes really collide.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from hazardflow import Actor, ConcurrentUpdateError, Engine, GuardRejected, SimulatedClock
from hazardflow._model import Write
from hazardflow.persistence.sql import SqlStore

pytestmark = pytest.mark.slow

TOWNSHIP = "500240204"
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
FIELDS: dict[str, Any] = {
    "grade": "general",
    "source": "supervisory_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": "BU-1",
    "location": "仓库",
    "description": "消防通道堆放杂物",
}
WORKERS = 4
COMMANDS = 25
SHARED_OPENS = 3
CASES = ("HZ-A", "HZ-B")
DEPARTMENTS = ("fire_department", "emergency_management")


class SlowCommitStore(SqlStore):
    """A real SQL store that pauses between the command's read and its commit."""

    def commit(self, writes: Sequence[Write]) -> None:
        time.sleep(0.002)
        super().commit(writes)


def worker(url: str, wid: int, barrier: Any, out: Any) -> None:
    engine = Engine(store=SlowCommitStore(url), clock=SimulatedClock("2024-03-04T09:00:00+08:00"))
    rng = random.Random(wid)
    results: list[tuple[str, str, str, int, str]] = []
    barrier.wait()
    for i in range(COMMANDS):
        cid = rng.choice(CASES)
        key = f"w{wid}-{i}"
        current = engine.get(cid).fields.get("department")
        dept = DEPARTMENTS[0] if current != DEPARTMENTS[0] else DEPARTMENTS[1]
        try:
            new = engine.fire(
                cid, "assign_department", actor=OFFICER, payload={"department": dept}, idempotency_key=key
            )
        except ConcurrentUpdateError:
            results.append(("conflict", key, cid, 0, dept))
        except GuardRejected:
            results.append(("refused", key, cid, 0, dept))
        else:
            results.append(("ok", key, cid, new.rev, dept))
    for j in range(SHARED_OPENS):
        key = f"shared-{j}"
        try:
            case = engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, idempotency_key=key, **FIELDS)
        except ConcurrentUpdateError:
            results.append(("open-conflict", key, "", 0, ""))
        else:
            results.append(("open", key, case.id, case.rev, ""))
    engine.close()
    out.put(results)


def run_workers(url: str) -> list[tuple[str, str, str, int, str]]:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    out = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, wid, barrier, out)) for wid in range(WORKERS)]
    for p in procs:
        p.start()
    results: list[tuple[str, str, str, int, str]] = []
    for _ in procs:
        results.extend(out.get(timeout=120))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def check_concurrent_commands(url: str) -> None:
    with SqlStore(url) as store:
        engine = Engine(store=store, clock=SimulatedClock("2024-03-04T09:00:00+08:00"))
        for cid in CASES:
            engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, case_id=cid, **FIELDS)
    results = run_workers(url)
    outcomes = Counter(r[0] for r in results)
    assert outcomes["ok"] + outcomes["conflict"] + outcomes["refused"] == WORKERS * COMMANDS
    assert outcomes["conflict"] > 0, "the workers never collided: the test did not exercise concurrency"
    assert outcomes["ok"] > 0
    with SqlStore(url) as store:
        engine = Engine(store=store)
        events = {cid: store.load_events(cid) for cid in CASES}
        # Every committed command is there exactly once, at the revision it was told, with its payload.
        ok = [r for r in results if r[0] == "ok"]
        assert len({(cid, rev) for _, _, cid, rev, _ in ok}) == len(ok), "two commits claim one revision"
        for _, key, cid, rev, dept in ok:
            ev = events[cid][rev - 1]
            assert (ev.seq, ev.idempotency_key, ev.payload["department"]) == (rev, key, dept)
            assert store.lookup_idempotency(cid, key) is not None
        # Nothing else: no lost update, no duplicate, nothing from a refused or conflicting command.
        for cid in CASES:
            assert len(events[cid]) == 1 + sum(1 for r in ok if r[2] == cid)
            assert store.load_case(cid).rev == len(events[cid])  # type: ignore[union-attr]
        keys = Counter(ev.idempotency_key for evs in events.values() for ev in evs if ev.idempotency_key)
        assert all(n == 1 for n in keys.values())
        assert set(keys) == {r[1] for r in ok}
        # One case per shared opening key, whoever won the race; the others got it back or a conflict.
        for j in range(SHARED_OPENS):
            key = f"shared-{j}"
            hit = store.lookup_idempotency("open:hazard", key)
            assert hit is not None
            opened = [r for r in results if r[1] == key and r[0] == "open"]
            assert opened
            assert {r[2] for r in opened} == {hit[0]}
            assert len([r for r in results if r[1] == key]) == WORKERS
        cases = list(store.iter_cases())
        assert len(cases) == len(CASES) + SHARED_OPENS
        report = engine.verify_audit()
        assert report.ok, str(report)
        assert store.event_column_problems() == []


def test_processes_on_sqlite(tmp_path: Path) -> None:
    check_concurrent_commands(f"sqlite:///{tmp_path / 'hazards.db'}")


@pytest.mark.postgres
def test_processes_on_postgres(postgres_databases: Callable[[], str]) -> None:
    check_concurrent_commands(postgres_databases())
