"""Timer sweeps at scale: finding and leasing 1,000 due timers among 1,000,000 open cases, beside a raw SELECT.

Run: ``.venv/bin/python benchmarks/timers.py`` (SQLite and PostgreSQL, 10k → 100k → 1M open cases, 1,000 due
at each size); ``--backends sqlite``, ``--sizes 10000,100000``, ``--repeat 9``, ``--quick`` (10k and 50k only).
PostgreSQL needs ``HAZARDFLOW_TEST_POSTGRES_URL`` (or ``--pg-url``); the benchmark creates a database of its
own there and drops it at the end.

What is compared, at each size N (open cases, each with exactly one armed deadline timer; 1,000 of them due):

* **raw SELECT**: the indexed query the lease is built on, run on a plain driver connection (``sqlite3`` /
  ``psycopg``) and fetched: ``SELECT <timer columns> FROM hf_timer WHERE status = 'armed' AND due_at <= now
  AND (lease_expires_at IS NULL OR lease_expires_at <= now) ORDER BY due_at, id LIMIT 1000``.
* **lease SQL**: the store's own lease statement run on the same plain connection: the same selection, plus
  writing the lease (owner + expiry) on every row it returns, in one transaction (``BEGIN IMMEDIATE`` +
  ``UPDATE … RETURNING`` on SQLite; ``SELECT … FOR UPDATE SKIP LOCKED`` feeding an ``UPDATE … RETURNING`` on
  PostgreSQL). This separates the cost of the durable lease write from the cost of the Python layer.
* **find + lease** (``lease_due``): ``SqlStore.lease_due(now, limit=1000)``, what ``Engine.run_due`` does
  before firing: the lease statement through the store, and ``Timer`` objects built from the rows. The
  leases are cleared (untimed) before the next repetition.

  The three alternate, repetition by repetition; figures are medians (and the min-max range); the ratio
  ``lease_due/raw`` is taken per repetition and its median reported. Target: ≤ 2x.
* **full sweep**: ``Engine.run_due(now, limit=500)`` once: leasing, and firing the 1,000 ``mark_overdue``
  commands, each its own transaction (load the case, run the command path, append the hash-chained audit
  event, mark the timer fired, arm the first ladder rung). Reported as total and per firing; it is a
  different thing from the query and is not held to the 2x target.
* **memory**: ``tracemalloc`` peak of Python allocations during a lease of the 1,000 due timers, and during a
  full sweep of another 1,000 (separate runs, untimed), at each N. Flat as N grows means the sweep never
  loads more than its batch.

Seeding: the 1,000 due cases at each size are opened and ordered through the engine (valid cases, events and
timers). The other cases are **bulk-inserted rows that bypass the engine**: copies of a case the engine made
(state ``rectifying``, a fixed rectification date spread over the following 200 days, the deadline JSON
and the pinned deadline matching the timer's due instant), one case row and one armed deadline
timer row each, written in the store's own formats. Their audit events are not written (the sweep never
reads events of cases it does not fire), so ``verify_audit`` is run only over the cases the sweep fired.
The policy gives no reminders and starts the ladder 30 working days after a missed deadline, so a sweep
fires exactly the 1,000 deadline timers.
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

from hazardflow import Actor, Delay, Engine, SimulatedClock, Unit
from hazardflow._calendar import Deadline, DeadlineSpec, end_of_local_day
from hazardflow.persistence.sql import _DUMPS, _LEASE_POSTGRES, _LEASE_SQLITE, _TIMER_COLS, SqlStore, _sqlite_ts
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

    def lease_sql(self, now: datetime, limit: int) -> list[Any]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def bulk(self, cases: list[tuple[Any, ...]], timers: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def reset_leases(self) -> None:
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

    def lease_sql(self, now: datetime, limit: int) -> list[Any]:
        t = _sqlite_ts(now)
        expires = _sqlite_ts(now + timedelta(seconds=300))
        self.conn.execute("BEGIN IMMEDIATE")
        rows = self.conn.execute(_LEASE_SQLITE, ("bench", expires, t, t, limit)).fetchall()
        self.conn.execute("COMMIT")
        return rows

    def describe(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (a file, WAL, synchronous=NORMAL: the store's defaults)"

    def bulk(self, cases: list[tuple[Any, ...]], timers: list[tuple[Any, ...]]) -> None:
        from hazardflow.persistence.sql import _SQL

        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(_SQL["insert_case"], cases)
        self.conn.executemany(_SQL["insert_timer"], timers)
        self.conn.execute("COMMIT")

    def reset_leases(self) -> None:
        self.conn.execute(
            "UPDATE hf_timer SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL"
        )

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

    def lease_sql(self, now: datetime, limit: int) -> list[Any]:
        expires = now + timedelta(seconds=300)
        return self.conn.execute(_LEASE_POSTGRES, ("bench", expires, now, now, limit)).fetchall()

    def describe(self) -> str:
        show = {k: self.conn.execute(f"SHOW {k}").fetchone()[0] for k in ("synchronous_commit", "autovacuum")}  # type: ignore[index]
        return (
            f"PostgreSQL {self.version} (synchronous_commit={show['synchronous_commit']}, "
            f"autovacuum={show['autovacuum']}: each repetition vacuums hf_timer, untimed)"
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

    def reset_leases(self) -> None:
        self.conn.execute(
            "UPDATE hf_timer SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL"
        )
        # Every repetition starts from the same table: the dead row versions of the last lease are vacuumed.
        self.conn.execute("VACUUM hf_timer")

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
            sql_t: list[float] = []
            lease_t: list[float] = []
            ratios: list[float] = []
            for _ in range(repeat):
                r, rows = timed(lambda: backend.raw(NOW, due))
                st, sql_rows = timed(lambda: backend.lease_sql(NOW, due))
                backend.reset_leases()
                lt, leased = timed(lambda: store.lease_due(NOW, owner="bench", lease_seconds=300, limit=due))
                backend.reset_leases()
                assert len(rows) == len(sql_rows) == len(leased) == due, (len(rows), len(sql_rows), len(leased))
                raw_t.append(r)
                sql_t.append(st)
                lease_t.append(lt)
                ratios.append(lt / r)
            lease_mb = peak_mb(lambda: store.lease_due(NOW, owner="bench", lease_seconds=300, limit=due))
            backend.reset_leases()
            engine = Engine(store=store, policies=[BenchTownship()], worker_id="bench")
            sweep_s, report = timed(lambda e=engine: e.run_due(NOW, limit=500))
            assert (report.fired, report.failed, report.cancelled) == (due, 0, 0), report
            fired_ids = sorted({cid for cid, _ in report.events})
            audit = all(engine.verify_audit(cid).ok for cid in fired_ids[:50])
            seed_due(store, due)  # another 1,000 due, for the memory run of a full sweep
            present += due
            sweep_mb = peak_mb(lambda e=engine: e.run_due(NOW, limit=500))
            yield {
                "backend": backend.name,
                "n": n,
                "due": due,
                "seeded_s": seeded,
                "raw": raw_t,
                "sql": sql_t,
                "lease": lease_t,
                "ratio": ratios,
                "sweep_s": sweep_s,
                "lease_mb": lease_mb,
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
    print(f"{args.due} due timers at each size; figures in ms: median (min-max) over {repeat} repetitions\n")
    head = (
        f"{'backend':<11}{'open cases':>11}  {'raw SELECT ms':>22}  {'lease SQL ms':>22}  {'lease_due ms':>22}  "
        f"{'lease_due/raw':>13}  {'full sweep s':>12}  {'ms/firing':>9}  {'MB lease':>8}  {'MB sweep':>8}"
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
                f"{row['backend']:<11}{row['n']:>11,}  {med(row['raw']):>22}  {med(row['sql']):>22}  "
                f"{med(row['lease']):>22}  {statistics.median(row['ratio']):>12.2f}x  {row['sweep_s']:>12.3f}  "
                f"{row['sweep_s'] / row['due'] * 1000:>9.3f}  {row['lease_mb']:>8.2f}  {row['sweep_mb']:>8.2f}",
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
