"""Timer sweeps at scale: 1,000 due timers among 1,000,000 open cases, found, claimed and fired, beside baselines.

Run: ``.venv/bin/python benchmarks/timers.py`` (SQLite and PostgreSQL, 10k → 100k → 1M open cases, 1,000 due
at each size); ``--backends sqlite``, ``--sizes 10000,100000``, ``--repeat 9``, ``--quick`` (10k and 50k only).
PostgreSQL needs ``HAZARDFLOW_TEST_POSTGRES_URL`` (or ``--pg-url``); the benchmark creates a database of its
own there and drops it at the end.

A sweep (``Engine.run_due``) finds the due timers with a plain read, then fires each one in its own
transaction, which begins by *claiming* the timer (``Store.claim_timer``: the timer and its case read under a
lock, ``FOR UPDATE OF t, c SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and ends with the
firing's commit. What is measured at each size N (open cases, each with exactly one armed deadline timer; 1,000
of them due):

* **raw SELECT**: the indexed query the find step runs, on a plain driver connection (``sqlite3`` /
  ``psycopg``), fetched: ``SELECT <timer columns> FROM hf_timer WHERE status = 'armed' AND due_at <= now
  AND (lease_expires_at IS NULL OR lease_expires_at <= now) ORDER BY due_at, id LIMIT 1000``.
* **find** (``due_timers``): ``SqlStore.due_timers(now, limit=1000)``, the sweep's find step: the same query
  through the store, and ``Timer`` objects built from the rows. It writes nothing. The two alternate,
  repetition by repetition; figures are medians (and the min-max range), and the ratio ``find/raw`` is taken
  per repetition and its median reported. Target: ≤ 2x.
* **claim** and **load_case**, µs each (median over 200 of the due timers, alternating): a claim is the first
  round trip of a firing (``BEGIN`` + the locking read of timer and case, pipelined on PostgreSQL); it takes the
  place of the ``load_case`` a firing did before, so the two are shown side by side. Each claim is closed
  (rolled back) untimed.
* **sweep**: ``Engine.run_due(now, limit=1000)`` once over the 1,000 due timers: the find, then per timer the
  claim, the ``mark_overdue`` command path (guards, effects, the hash-chained audit event, the first ladder
  rung armed) and its commit in the claim's transaction. Total seconds and ms per firing.
* **commands**: the same 1,000 ``mark_overdue`` commands on another 1,000 due cases, one at a time, through the
  command path ``Engine.fire`` runs (``load_case``, the engine's ``_execute``, ``Store.commit``; ``Engine.fire``
  itself refuses the system actor these commands belong to), with no find and no claim. ms per command. The
  sweep's ms per firing beside it shows what the sweep adds over plain commands.
* **memory**: ``tracemalloc`` peak of Python allocations during a find of the 1,000 due timers, and during a
  full sweep of another 1,000 (separate runs, untimed), at each N. Flat as N grows means a sweep never holds
  more than its batch.

Seeding: the due cases (3,000 at each size: for the sweep, the commands and the memory run) are opened and
ordered through the engine (valid cases, events and timers). The other cases are **bulk-inserted rows that
bypass the engine**: copies of a case the engine made (state ``rectifying``, a fixed rectification date spread
over the following 200 days, the deadline JSON and the pinned deadline matching the timer's due instant), one
case row and one armed deadline timer row each, written in the store's own formats. Their audit events are not
written (a sweep never reads events of cases it does not fire), so ``verify_audit`` is run only over cases the
sweep fired. The policy gives no reminders and starts the ladder 30 working days after a missed deadline, so a
sweep fires exactly the 1,000 deadline timers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from hazardflow import SYSTEM, Actor, Delay, Engine, SimulatedClock, Unit
from hazardflow._calendar import Deadline, DeadlineSpec, end_of_local_day
from hazardflow._engine import _UnitOfWork
from hazardflow.persistence.sql import SqlStore
from hazardflow.persistence.sql._rows import _DUMPS, _sqlite_ts
from hazardflow.persistence.sql._statements import _TIMER_COLS
from hazardflow.policies import NationalBaseline
from hazardflow.policies.base import Rung

TOWNSHIP = "500240204"
UNIT = "500240204-BU-0001"
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
REGISTER = {
    "grade": "general",
    "source": "supervisory_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": UNIT,
    "location": "仓库",
    "description": "消防通道堆放杂物",
}
#: The instant every measurement is taken at; due deadlines end before it, the others after.
NOW = datetime.fromisoformat("2026-06-01T10:00:00+08:00").astimezone(UTC)
SEEDED_AT = "2026-05-20T09:00:00+08:00"
DUE_DAY = date(2026, 5, 29)
FIRST_FUTURE_DAY = date(2026, 6, 2)
SPREAD_DAYS = 200
RAW_SQL = (
    f"SELECT {_TIMER_COLS} FROM hf_timer WHERE status = 'armed' AND due_at <= ? "
    "AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY due_at, id LIMIT ?"
)


class BenchTownship(NationalBaseline):
    """No reminders; the ladder starts 30 working days after a missed deadline (so a sweep fires only deadlines)."""

    policy_id = "bench.township"
    policy_version = "1"
    jurisdiction = TOWNSHIP
    reminder_offsets: ClassVar = {}
    overdue_ladder = (
        Rung("formal_letter", Delay(30, Unit.WORKING_DAY), "business_unit"),
        Rung("circular_notice", Delay(10, Unit.WORKING_DAY), "business_unit"),
    )


# ── backends ───────────────────────────────────────────────────────────────────────────────────────
class Backend:
    name: str
    url: str

    def raw(self, now: datetime, limit: int) -> list[Any]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def bulk(self, cases: list[tuple[Any, ...]], timers: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def analyze(self) -> None:
        raise NotImplementedError

    def plan(self, now: datetime, limit: int) -> str:
        raise NotImplementedError

    def ts(self, value: datetime) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class Sqlite(Backend):
    name = "SQLite"

    def __init__(self, path: str) -> None:
        import sqlite3

        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        self.path = path
        self.url = f"sqlite:///{path}"
        SqlStore(self.url).close()  # the schema, as the store creates it
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def ts(self, value: datetime) -> Any:
        return _sqlite_ts(value)

    def raw(self, now: datetime, limit: int) -> list[Any]:
        t = _sqlite_ts(now)
        return self.conn.execute(RAW_SQL, (t, t, limit)).fetchall()

    def describe(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (a file, WAL, synchronous=NORMAL: the store's defaults)"

    def bulk(self, cases: list[tuple[Any, ...]], timers: list[tuple[Any, ...]]) -> None:
        from hazardflow.persistence.sql._statements import _SQL

        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(_SQL["insert_case"], cases)
        self.conn.executemany(_SQL["insert_timer"], timers)
        self.conn.execute("COMMIT")

    def analyze(self) -> None:
        self.conn.execute("ANALYZE")

    def plan(self, now: datetime, limit: int) -> str:
        t = _sqlite_ts(now)
        rows = self.conn.execute("EXPLAIN QUERY PLAN " + RAW_SQL, (t, t, limit)).fetchall()
        return "; ".join(str(r[-1]) for r in rows)

    def close(self) -> None:
        self.conn.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)


class Postgres(Backend):
    name = "PostgreSQL"

    def __init__(self, base_url: str) -> None:
        import psycopg
        import sqlalchemy as sa

        url = sa.make_url(base_url)
        self.admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.db = f"hf_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        self.url = url.set(drivername="postgresql+psycopg", database=self.db).render_as_string(hide_password=False)
        SqlStore(self.url).close()
        plain = url.set(drivername="postgresql", database=self.db).render_as_string(hide_password=False)
        self.conn = psycopg.connect(plain, autocommit=True)
        self.sql = RAW_SQL.replace("?", "%s")
        self.version = self.conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]

    def ts(self, value: datetime) -> Any:
        return value

    def raw(self, now: datetime, limit: int) -> list[Any]:
        return self.conn.execute(self.sql, (now, now, limit)).fetchall()

    def describe(self) -> str:
        show = {k: self.conn.execute(f"SHOW {k}").fetchone()[0] for k in ("synchronous_commit", "autovacuum")}  # type: ignore[index]
        return (
            f"PostgreSQL {self.version} (synchronous_commit={show['synchronous_commit']}, "
            f"autovacuum={show['autovacuum']}; hf_timer vacuumed and analyzed after seeding, untimed)"
        )

    def bulk(self, cases: list[tuple[Any, ...]], timers: list[tuple[Any, ...]]) -> None:
        case_cols = (
            "id, workflow, state, rev, jurisdiction, owning_jurisdiction, policy_id, policy_version, grade, "
            "industry, source, department, business_unit, deadline_at, deadline, overdue, sanction_rung, "
            "opened_at, updated_at, closed_at, fields, last_hash, pins"
        )
        timer_cols = "id, case_id, workflow, kind, key, due_at, armed_seq, armed_state, rung, status"
        with self.conn.transaction(), self.conn.cursor() as cur:
            with cur.copy(f"COPY hf_case ({case_cols}) FROM STDIN") as copy:
                for row in cases:
                    copy.write_row(row)
            with cur.copy(f"COPY hf_timer ({timer_cols}) FROM STDIN") as copy:
                for row in timers:
                    copy.write_row(row)

    def analyze(self) -> None:
        self.conn.execute("VACUUM ANALYZE hf_timer")
        self.conn.execute("ANALYZE hf_case")

    def plan(self, now: datetime, limit: int) -> str:
        rows = self.conn.execute("EXPLAIN " + self.sql, (now, now, limit)).fetchall()
        return " | ".join(r[0].strip() for r in rows[:3])

    def close(self) -> None:
        import psycopg

        self.conn.close()
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')


# ── seeding ────────────────────────────────────────────────────────────────────────────────────────
def engine_on(store: SqlStore) -> Engine:
    return Engine(store=store, clock=SimulatedClock(SEEDED_AT), policies=[BenchTownship()])


def seed_due(store: SqlStore, n: int) -> None:
    """``n`` cases ordered fixed by DUE_DAY, through the engine: their deadline timers are due at NOW."""
    engine = engine_on(store)
    payload = {"deadline": DUE_DAY.isoformat(), "measures": "清理通道", "responsible": "李安全"}
    for start in range(0, n, 500):
        with engine.batch():
            for _ in range(start, min(n, start + 500)):
                case = engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **REGISTER)
                engine.fire(case.id, "set_deadline", actor=OFFICER, payload=payload)


class Copier:
    """Rows of not-yet-due cases, copied from one the engine made, in the store's own formats."""

    def __init__(self, store: SqlStore, backend: Backend) -> None:
        engine = engine_on(store)
        case = engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **REGISTER)
        self.template = engine.fire(
            case.id,
            "set_deadline",
            actor=OFFICER,
            payload={"deadline": FIRST_FUTURE_DAY.isoformat(), "measures": "清理通道", "responsible": "李安全"},
        )
        self.backend = backend
        self.json_text = backend.name == "SQLite"
        self._by_day: dict[date, tuple[Any, Any, Any, Any]] = {}
        self.made = 0

    def _day(self, day: date) -> tuple[Any, Any, Any, Any]:
        hit = self._by_day.get(day)
        if hit is None:
            t = self.template
            assert t.deadline is not None
            deadline = Deadline(
                "rectify", end_of_local_day(day), DeadlineSpec.fixed(day, source="order"), t.deadline.start
            )
            pins = {**{k: d.to_json() for k, d in t.pins.items()}, "rectify": deadline.to_json()}
            hit = (self.backend.ts(deadline.due_at), _DUMPS(deadline.to_json()), _DUMPS(dict(t.fields)), _DUMPS(pins))
            self._by_day[day] = hit
        return hit

    def rows(self, n: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        t = self.template
        ts = self.backend.ts
        opened, updated = ts(t.opened_at), ts(t.updated_at)
        f = t.fields
        cases: list[tuple[Any, ...]] = []
        timers: list[tuple[Any, ...]] = []
        for i in range(self.made, self.made + n):
            cid = f"HZ-B{i:07d}"
            due_ts, deadline_json, fields_json, pins_json = self._day(
                FIRST_FUTURE_DAY + timedelta(days=i % SPREAD_DAYS)
            )
            cases.append(
                (
                    cid,
                    "hazard",
                    "rectifying",
                    t.rev,
                    TOWNSHIP,
                    TOWNSHIP,
                    t.policy_id,
                    t.policy_version,
                    f["grade"],
                    f["industry"],
                    f["source"],
                    f.get("department"),
                    f["business_unit"],
                    due_ts,
                    deadline_json,
                    False,
                    0,
                    opened,
                    updated,
                    None,
                    fields_json,
                    t.last_hash,
                    pins_json,
                )
            )
            timers.append(
                (f"{cid}/{t.rev}/d", cid, "hazard", "deadline", "rectify", due_ts, t.rev, "rectifying", 0, "armed")
            )
        self.made += n
        return cases, timers


# ── measuring ──────────────────────────────────────────────────────────────────────────────────────
def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def med(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.2f} ({min(values) * 1000:.2f}-{max(values) * 1000:.2f})"


def fire_as_commands(engine: Engine, store: SqlStore, n: int) -> int:
    """The due deadlines' ``mark_overdue`` commands, one at a time, through the path ``Engine.fire`` runs."""
    fired = 0
    for timer in store.due_timers(NOW, limit=n):
        case = store.load_case(timer.case_id)
        assert case is not None
        command = engine._timer_command(timer, case)
        assert command is not None
        trigger, payload = command
        uow = _UnitOfWork(store)
        late = (NOW - timer.due_at).total_seconds()
        engine._execute(uow, case, trigger, SYSTEM, payload, NOW, timer=timer, late=late)
        store.commit(uow.writes)
        fired += 1
    return fired


def claims_and_loads(store: SqlStore, sample: int) -> tuple[list[float], list[float]]:
    """Seconds of ``claim_timer`` and of ``load_case`` for ``sample`` due timers, alternating."""
    claim_t: list[float] = []
    load_t: list[float] = []
    for timer in store.due_timers(NOW, limit=sample):
        start = time.perf_counter()
        claim = store.claim_timer(timer.id, NOW)
        claim_t.append(time.perf_counter() - start)
        assert claim is not None
        claim.close()
        start = time.perf_counter()
        case = store.load_case(timer.case_id)
        load_t.append(time.perf_counter() - start)
        assert case is not None
    return claim_t, load_t


def run_backend(backend: Backend, sizes: list[int], due: int, repeat: int) -> Iterator[dict[str, Any]]:
    store = SqlStore(backend.url)
    copier = Copier(store, backend)
    present = 1
    try:
        for n in sizes:
            t0 = time.perf_counter()
            add = n - present - due
            for start in range(0, add, 100_000):
                cases, timers = copier.rows(min(100_000, add - start))
                backend.bulk(cases, timers)
            seed_due(store, due)
            present = n
            backend.analyze()
            seeded = time.perf_counter() - t0
            raw_t: list[float] = []
            find_t: list[float] = []
            ratios: list[float] = []
            for _ in range(repeat):
                r, rows = timed(lambda: backend.raw(NOW, due))
                ft, found = timed(lambda: store.due_timers(NOW, limit=due))
                assert len(rows) == len(found) == due, (len(rows), len(found))
                raw_t.append(r)
                find_t.append(ft)
                ratios.append(ft / r)
            claim_t, load_t = claims_and_loads(store, min(200, due))
            find_mb = peak_mb(lambda: store.due_timers(NOW, limit=due))
            engine = Engine(store=store, policies=[BenchTownship()], worker_id="bench")
            commands_s, fired = timed(lambda e=engine: fire_as_commands(e, store, due))
            assert fired == due
            seed_due(store, due)  # another 1,000 due, for the sweep
            present += due
            sweep_s, report = timed(lambda e=engine: e.run_due(NOW, limit=due))
            assert (report.fired, report.failed, report.cancelled, report.skipped) == (due, 0, 0, 0), report
            fired_ids = sorted({cid for cid, _ in report.events})
            audit = all(engine.verify_audit(cid).ok for cid in fired_ids[:50])
            seed_due(store, due)  # and another 1,000, for the memory run of a full sweep
            present += due
            sweep_mb = peak_mb(lambda e=engine: e.run_due(NOW, limit=due))
            yield {
                "backend": backend.name,
                "n": n,
                "due": due,
                "seeded_s": seeded,
                "raw": raw_t,
                "find": find_t,
                "ratio": ratios,
                "claim_us": statistics.median(claim_t) * 1e6,
                "load_us": statistics.median(load_t) * 1e6,
                "sweep_s": sweep_s,
                "commands_s": commands_s,
                "find_mb": find_mb,
                "sweep_mb": sweep_mb,
                "plan": backend.plan(NOW, due),
                "audit_ok": audit,
            }
    finally:
        store.close()
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10k and 50k cases, 3 repetitions")
    parser.add_argument("--sqlite-path", default="/tmp/hazardflow-bench-timers.db")
    parser.add_argument("--pg-url", default=os.environ.get("HAZARDFLOW_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    sizes = [10_000, 50_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 3 if args.quick else args.repeat
    print(f"timers benchmark · Python {sys.version.split()[0]} · {' '.join(sys.argv)}")
    print(
        f"{args.due} due timers at each size; raw and find in ms: median (min-max) over {repeat} repetitions; "
        "claim and load_case: median µs over 200 due timers\n"
    )
    head = (
        f"{'backend':<11}{'open cases':>11}  {'raw SELECT ms':>22}  {'find ms':>22}  {'find/raw':>8}  "
        f"{'claim µs':>8}  {'load_case µs':>12}  {'sweep s':>7}  {'ms/firing':>9}  {'commands s':>10}  "
        f"{'ms/command':>10}  {'MB find':>7}  {'MB sweep':>8}"
    )
    print(head)
    print("-" * len(head))
    plans = []
    described = []
    for which in args.backends.split(","):
        if which == "sqlite":
            backend: Backend = Sqlite(args.sqlite_path)
        elif which == "postgres":
            if not args.pg_url:
                print("PostgreSQL skipped: set HAZARDFLOW_TEST_POSTGRES_URL or --pg-url")
                continue
            backend = Postgres(args.pg_url)
        else:
            raise SystemExit(f"unknown backend {which!r}; use sqlite, postgres")
        described.append(backend.describe())
        for row in run_backend(backend, sizes, args.due, repeat):
            print(
                f"{row['backend']:<11}{row['n']:>11,}  {med(row['raw']):>22}  {med(row['find']):>22}  "
                f"{statistics.median(row['ratio']):>7.2f}x  {row['claim_us']:>8.0f}  {row['load_us']:>12.0f}  "
                f"{row['sweep_s']:>7.3f}  {row['sweep_s'] / row['due'] * 1000:>9.3f}  {row['commands_s']:>10.3f}  "
                f"{row['commands_s'] / row['due'] * 1000:>10.3f}  {row['find_mb']:>7.2f}  {row['sweep_mb']:>8.2f}",
                flush=True,
            )
            plans.append((row["backend"], row["n"], row["plan"], row["seeded_s"], row["audit_ok"]))
    print()
    print("\n".join(described))
    print("query plans of the raw SELECT, seeding time, audit of fired cases:")
    for backend_name, n, plan, seeded, audit in plans:
        print(f"  {backend_name} {n:,}: seeded in {seeded:.1f}s; audit {'ok' if audit else 'FAILED'}; plan: {plan}")


if __name__ == "__main__":
    main()
