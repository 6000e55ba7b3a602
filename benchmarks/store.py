"""Persisted commands per second on SQLite (and PostgreSQL), beside the raw driver doing the same writes.

Run: ``.venv/bin/python benchmarks/store.py`` (SQLite; ``--quick`` for a smoke run). Add PostgreSQL with
``--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test`` (or ``$HAZARDFLOW_TEST_POSTGRES_URL``):
the benchmark creates a scratch database ``hf_bench_<pid>`` there and drops it at the end.

The command: ``assign_department`` (推送行业部门) on a registered general hazard, alternating between two
departments. Each accepted command writes one case row (state, ``rev``, fields, indexed columns) and one
hash-chained audit event, nothing else: the same work as the raw baseline.

Contenders, one commit per command, in interleaved slices of 50 commands so that machine drift hits all
of them alike (each on its own database file / database, rebuilt every round):

* **raw driver**: ``sqlite3`` (or ``psycopg``) on the same schema: ``UPDATE hf_case SET state, rev,
  updated_at, last_hash WHERE id = ? AND rev = ?`` + ``INSERT INTO hf_event`` (every column, the same
  event rows) + ``COMMIT``; WAL + ``synchronous=NORMAL`` like the store (PostgreSQL: server defaults).
* **store commit**: ``SqlStore.commit([write])`` with the write sets the engine produced for the same
  commands (recorded once on a memory engine): the store's own cost, which the target is about.
* **engine fire**: ``Engine.fire(...)`` on a ``SqlStore`` (load the case, the whole command path, commit).
* **engine fire (memory)**: the same on a ``MemoryStore``: the engine's own share of the time.

Bulk, one commit per 1,000 commands: raw ``executemany``, ``SqlStore.commit`` of 1,000 write sets, and
``Engine.batch()`` around 1,000 ``fire`` calls (target on SQLite: at least 20,000 commands/s), the same with
``Engine.prefetch(ids)`` first (the batch reads its 1,000 cases in two queries, not one by one), plus the time
the store spends building its statements' parameters (``plan``) before it touches the database.

Figures: median [min-max] over rounds of commands/s; ratios are per round (same interleaved slices).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hazardflow import Actor, Engine, SequentialIds, SimulatedClock
from hazardflow._model import Write
from hazardflow.persistence.memory import MemoryStore
from hazardflow.persistence.sql import SqlStore

TOWNSHIP = "500240204"
UNIT = "500240204-BU-0001"
INSPECTOR = Actor("e-zhang", "张检查", {"inspector"}, UNIT, TOWNSHIP)
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
REGISTER = {
    "grade": "general",
    "source": "enterprise_self_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": UNIT,
    "location": "一号车间",
    "description": "砂轮机防护罩缺失",
}
DEPARTMENTS = ("fire_department", "emergency_management")
START = "2024-03-04T09:00:00+08:00"
CHUNK = 50
BULK = 1000

RAW_UPDATE = "UPDATE hf_case SET state = ?, rev = ?, updated_at = ?, last_hash = ? WHERE id = ? AND rev = ?"
RAW_INSERT = (
    "INSERT INTO hf_event (case_id, seq, workflow, type, trigger, from_state, to_state, actor_id, actor_name, "
    "actor_role, actor_org, actor_jurisdiction, occurred_at, policy_id, policy_version, reason, "
    "idempotency_key, late_seconds, prev_hash, hash, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def payload(i: int) -> dict[str, str]:
    return {"department": DEPARTMENTS[i % 2]}


# ── the workload, recorded once ──────────────────────────────────────────────────────────────────────
class Workload:
    """``cases`` registered hazards (set-up writes) and ``per_case`` commands on each (the timed writes)."""

    def __init__(self, cases: int, per_case: int) -> None:
        self.case_ids: list[str] = []
        self.setup: list[Write] = []
        self.commands: list[tuple[str, int]] = []  # (case id, command number on that case)
        self.writes: list[Write] = []
        engine = Engine(store=MemoryStore(), clock=SimulatedClock(START), ids=SequentialIds(8))
        store = engine.store
        recorded: list[Write] = []
        original = store.commit

        def record(writes: Sequence[Write]) -> None:
            recorded.extend(writes)
            original(writes)

        store.commit = record  # type: ignore[method-assign]
        for _ in range(cases):
            self.case_ids.append(engine.open_case("hazard", actor=INSPECTOR, jurisdiction=TOWNSHIP, **REGISTER).id)
        self.setup = list(recorded)
        recorded.clear()
        # Command k of every case in turn, so that consecutive commands touch different cases.
        for k in range(per_case):
            for cid in self.case_ids:
                engine.fire(cid, "assign_department", actor=OFFICER, payload=payload(k))
                self.commands.append((cid, k))
        self.writes = list(recorded)
        assert len(self.writes) == len(self.commands)
        assert all(not w.arm and not w.cancel_timers for w in self.writes)


# ── SQLite contenders ────────────────────────────────────────────────────────────────────────────────
class SqliteBench:
    def __init__(self, workload: Workload, folder: Path, synchronous: str) -> None:
        self.w = workload
        self.folder = folder
        self.synchronous = synchronous
        self.template = folder / "template.db"
        with SqlStore(self._url(self.template), synchronous=synchronous) as store:  # type: ignore[arg-type]
            store.commit(workload.setup)
            self.plan = store._plan
            self.event_rows = [store._plan([w]).events[0] for w in workload.writes]
        ts = "_sqlite_ts"
        from hazardflow.persistence.sql import _rows as sql_module

        fmt = getattr(sql_module, ts)
        self.update_rows = [
            (w.case.state, w.case.rev, fmt(w.case.updated_at), w.case.last_hash, w.case.id, w.expected_rev)
            for w in workload.writes
        ]
        self.n = 0

    def _url(self, path: Path) -> str:
        return f"sqlite:///{path}"

    def fresh(self, name: str) -> Path:
        self.n += 1
        path = self.folder / f"{name}-{self.n}.db"
        shutil.copyfile(self.template, path)
        return path

    def raw(self) -> Contender:
        path = self.fresh("raw")
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys = ON")
        ups, evs = self.update_rows, self.event_rows

        def run(lo: int, hi: int) -> None:
            for i in range(lo, hi):
                if conn.execute(RAW_UPDATE, ups[i]).rowcount != 1:
                    raise AssertionError("raw update lost its row")
                conn.execute(RAW_INSERT, evs[i])
                conn.commit()

        def bulk(lo: int, hi: int) -> None:
            conn.executemany(RAW_UPDATE, ups[lo:hi])
            conn.executemany(RAW_INSERT, evs[lo:hi])
            conn.commit()

        return Contender(run, bulk, conn.close)

    def store(self) -> Contender:
        store = SqlStore(self._url(self.fresh("store")), synchronous=self.synchronous)  # type: ignore[arg-type]
        writes = self.w.writes
        commit = store.commit

        def run(lo: int, hi: int) -> None:
            for w in writes[lo:hi]:
                commit([w])

        def bulk(lo: int, hi: int) -> None:
            commit(writes[lo:hi])

        return Contender(run, bulk, store.close)

    def engine(self) -> Contender:
        store = SqlStore(self._url(self.fresh("engine")), synchronous=self.synchronous)  # type: ignore[arg-type]
        return engine_contender(Engine(store=store, clock=SimulatedClock(START), ids=SequentialIds(8)), self.w)

    def engine_prefetch(self) -> Contender:
        store = SqlStore(self._url(self.fresh("engine")), synchronous=self.synchronous)  # type: ignore[arg-type]
        engine = Engine(store=store, clock=SimulatedClock(START), ids=SequentialIds(8))
        return engine_contender(engine, self.w, prefetch=True)

    def memory_engine(self) -> Contender:
        store = MemoryStore()
        store.commit(self.w.setup)
        return engine_contender(Engine(store=store, clock=SimulatedClock(START), ids=SequentialIds(8)), self.w)


class Contender:
    def __init__(self, run: Callable[[int, int], None], bulk: Callable[[int, int], None], close: Callable[[], Any]):
        self.run = run
        self.bulk = bulk
        self.close = close


def engine_contender(engine: Engine, w: Workload, *, prefetch: bool = False) -> Contender:
    fire = engine.fire
    commands = w.commands

    def run(lo: int, hi: int) -> None:
        for cid, k in commands[lo:hi]:
            fire(cid, "assign_department", actor=OFFICER, payload=payload(k))

    def bulk(lo: int, hi: int) -> None:
        with engine.batch():
            if prefetch:
                engine.prefetch(cid for cid, _ in commands[lo:hi])
            for cid, k in commands[lo:hi]:
                fire(cid, "assign_department", actor=OFFICER, payload=payload(k))

    return Contender(run, bulk, engine.close)


# ── PostgreSQL contenders ────────────────────────────────────────────────────────────────────────────
class PostgresBench:
    def __init__(self, workload: Workload, base_url: str) -> None:
        import psycopg

        self.w = workload
        url = sa.make_url(base_url)
        self.admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.names = {k: f"hf_bench_{os.getpid()}_{k}" for k in ("raw", "store", "engine", "prefetch")}
        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in self.names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        self.urls = {
            k: url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
            for k, name in self.names.items()
        }
        for u in self.urls.values():
            SqlStore(u).close()
        with SqlStore(self.urls["raw"]) as store:
            self.event_rows = [store._plan([w]).events[0] for w in workload.writes]
        self.update_rows = [
            (w.case.state, w.case.rev, w.case.updated_at, w.case.last_hash, w.case.id, w.expected_rev)
            for w in workload.writes
        ]

    def reset(self, key: str) -> str:
        import psycopg

        plain = sa.make_url(self.urls[key]).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(
                "TRUNCATE hf_outbox, hf_confidential, hf_idempotency, hf_timer, hf_event, hf_case RESTART IDENTITY"
            )
        with SqlStore(self.urls[key]) as store:
            store.commit(self.w.setup)
        return self.urls[key]

    def raw(self) -> Contender:
        import psycopg

        url = self.reset("raw")
        conn = psycopg.connect(sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        up_sql = RAW_UPDATE.replace("?", "%s")
        ins_sql = RAW_INSERT.replace("?", "%s")
        ups, evs = self.update_rows, self.event_rows
        cur = conn.cursor()

        def run(lo: int, hi: int) -> None:
            for i in range(lo, hi):
                cur.execute(up_sql, ups[i])
                if cur.rowcount != 1:
                    raise AssertionError("raw update lost its row")
                cur.execute(ins_sql, evs[i])
                conn.commit()

        def bulk(lo: int, hi: int) -> None:
            cur.executemany(up_sql, ups[lo:hi])
            cur.executemany(ins_sql, evs[lo:hi])
            conn.commit()

        return Contender(run, bulk, conn.close)

    def store(self) -> Contender:
        store = SqlStore(self.reset("store"))
        writes = self.w.writes

        def run(lo: int, hi: int) -> None:
            for w in writes[lo:hi]:
                store.commit([w])

        def bulk(lo: int, hi: int) -> None:
            store.commit(writes[lo:hi])

        return Contender(run, bulk, store.close)

    def engine(self) -> Contender:
        store = SqlStore(self.reset("engine"))
        return engine_contender(Engine(store=store, clock=SimulatedClock(START), ids=SequentialIds(8)), self.w)

    def engine_prefetch(self) -> Contender:
        store = SqlStore(self.reset("prefetch"))
        engine = Engine(store=store, clock=SimulatedClock(START), ids=SequentialIds(8))
        return engine_contender(engine, self.w, prefetch=True)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in self.names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ── timing ───────────────────────────────────────────────────────────────────────────────────────────
def one_round(makers: dict[str, Callable[[], Contender]], n: int, *, bulk: bool) -> dict[str, float]:
    """Commands per second of each contender over one round (slices interleaved)."""
    prepared = {name: make() for name, make in makers.items()}
    spent = dict.fromkeys(prepared, 0.0)
    step = BULK if bulk else CHUNK
    clock = time.perf_counter
    try:
        for lo in range(0, n, step):
            hi = min(lo + step, n)
            for name, c in prepared.items():
                fn = c.bulk if bulk else c.run
                t0 = clock()
                fn(lo, hi)
                spent[name] += clock() - t0
    finally:
        for c in prepared.values():
            c.close()
    return {name: n / total for name, total in spent.items()}


def measure(makers: dict[str, Callable[[], Contender]], n: int, rounds: int, *, bulk: bool) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in makers}
    for _ in range(rounds):
        gc.collect()
        got = one_round(makers, n, bulk=bulk)
        for k, v in got.items():
            out[k].append(v)
    return out


def rate(values: list[float]) -> str:
    return f"{statistics.median(values):>9,.0f}/s  [{min(values):,.0f}-{max(values):,.0f}]"


def ratio(a: list[float], b: list[float]) -> str:
    rs = [x / y for x, y in zip(a, b, strict=True)]
    return f"{statistics.median(rs):5.2f}  [{min(rs):.2f}-{max(rs):.2f}]"


def report(title: str, results: dict[str, list[float]], base: str, notes: Sequence[str] = ()) -> None:
    print(title)
    for name, values in results.items():
        line = f"  {name:<26} {rate(values)}"
        if name != base:
            line += f"   x {base}: {ratio(values, results[base])}"
        print(line)
    for note in notes:
        print(f"  {note}")
    print()


def plan_cost(bench: SqliteBench, rounds: int) -> tuple[float, float]:
    """µs per write set the store spends in Python building statement parameters (one at a time, in bulk)."""
    writes = bench.w.writes
    plan = bench.plan
    one: list[float] = []
    many: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for w in writes:
            plan([w])
        one.append((time.perf_counter() - t0) / len(writes))
        t0 = time.perf_counter()
        for lo in range(0, len(writes), BULK):
            plan(writes[lo : lo + BULK])
        many.append((time.perf_counter() - t0) / len(writes))
    return statistics.median(one) * 1e6, statistics.median(many) * 1e6


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hf-store-bench-", dir=os.environ.get("HF_BENCH_DIR")))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per contender (default 1000)")
    parser.add_argument("--per-case", type=int, default=2, help="commands per case (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--synchronous", choices=("normal", "full"), default="normal", help="SQLite durability")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HAZARDFLOW_TEST_POSTGRES_URL"),
        help="PostgreSQL server URL (a scratch database is created there); default $HAZARDFLOW_TEST_POSTGRES_URL",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 cases, 2 rounds")
    args = parser.parse_args(argv)
    cases, rounds = (200, 2) if args.quick else (args.cases, args.rounds)
    workload = Workload(cases, args.per_case)
    n = len(workload.writes)
    print(
        f"hazardflow store benchmark: {n:,} commands per contender per round ({cases:,} cases x {args.per_case}), "
        f"{rounds} rounds; Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sa.__version__}"
    )
    print()
    with scratch() as folder:
        bench = SqliteBench(workload, folder, args.synchronous)
        sync = f"WAL + synchronous={args.synchronous.upper()}"
        one = measure(
            {
                "raw sqlite3": bench.raw,
                "store commit": bench.store,
                "engine fire (SQLite)": bench.engine,
                "engine fire (memory)": bench.memory_engine,
            },
            n,
            rounds,
            bulk=False,
        )
        report(
            f"SQLite, {sync}, one commit per command",
            one,
            "raw sqlite3",
            ["target: store commit ≥ 0.50 x raw sqlite3"],
        )
        many = measure(
            {
                "raw sqlite3": bench.raw,
                "store commit": bench.store,
                "engine batch (SQLite)": bench.engine,
                "engine batch + prefetch (SQLite)": bench.engine_prefetch,
                "engine batch (memory)": bench.memory_engine,
            },
            n,
            rounds,
            bulk=True,
        )
        p1, pn = plan_cost(bench, rounds)
        report(
            f"SQLite, {sync}, bulk: {BULK:,} commands per commit",
            many,
            "raw sqlite3",
            [
                "target: ≥ 20,000 commands/s on SQLite by the documented bulk path, engine batch + prefetch",
                "engine batch + prefetch: Engine.batch() with Engine.prefetch(ids) first, so the 1,000 cases are "
                "read in 2 queries instead of one by one (docs: Choosing a database, bulk writes)",
                f"store's Python share (plan: parameters of every statement): {p1:.1f} µs per write set one "
                f"at a time, {pn:.1f} µs in bulk",
            ],
        )
        eng = statistics.median(many["engine batch (SQLite)"])
        mem = statistics.median(many["engine batch (memory)"])
        st = statistics.median(many["store commit"])
        print(
            f"where a bulk command's time goes (medians): {1e6 / eng:.1f} µs in all = engine "
            f"{1e6 / mem:.1f} µs (same batch on the memory store) + store {1e6 / eng - 1e6 / mem:.1f} µs "
            f"(its commit alone, pre-built writes: {1e6 / st:.1f} µs)"
        )
        print()
    if args.postgres and not args.no_postgres:
        pg = PostgresBench(workload, args.postgres)
        try:
            with contextlib.closing(__import__("psycopg").connect(pg.admin)) as c:
                version = c.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            one = measure(
                {"raw psycopg": pg.raw, "store commit": pg.store, "engine fire": pg.engine}, n, rounds, bulk=False
            )
            report(
                f"PostgreSQL {version} (psycopg {__import__('psycopg').__version__}), one commit per command",
                one,
                "raw psycopg",
                [
                    "target: store commit ≥ 0.50 x raw psycopg (raw: UPDATE, INSERT, COMMIT = 3 round trips;"
                    " store: pipelined statements + COMMIT = 2)"
                ],
            )
            many = measure(
                {
                    "raw psycopg": pg.raw,
                    "store commit": pg.store,
                    "engine batch": pg.engine,
                    "engine batch + prefetch": pg.engine_prefetch,
                },
                n,
                rounds,
                bulk=True,
            )
            report(f"PostgreSQL, bulk: {BULK:,} commands per commit", many, "raw psycopg")
        finally:
            pg.drop()


if __name__ == "__main__":
    main()
