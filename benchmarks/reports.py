"""Report figures over a large register, the 台账 export and import, each beside a baseline of the same run.

Run: ``.venv/bin/python benchmarks/reports.py`` (SQLite, 1,000,000 hazards); ``--cases N`` for another size,
``--quick`` for a smoke run (20,000), ``--postgres URL`` (or ``$HAZARDFLOW_TEST_POSTGRES_URL``) to add
PostgreSQL (a scratch database ``hf_bench_reports_<pid>`` is created there and dropped at the end).

**Building the register.** A million hazards through ``Engine.batch`` would take most of an hour on a shared
two-core machine, so the register is written with bulk SQL inserts (``executemany`` in transactions of
20,000 rows) into a schema made by the store's own migrations: one ``hf_case`` row per hazard and its audit
events (``register``; for 60 % a closure some days later; for 12 % of the open ones a ``mark_overdue``), with
the columns and the JSON change records the engine writes. The events are not hash-chained (no figure reads
the hashes): ``hazardflow audit verify`` would refuse this database, which is only for measuring.

**Figures** (``figures_by(store, "jurisdiction", ...)`` for a county with 20 townships, a quarter):

* *as of the end of the last quarter*, when every case is unchanged since (each case's own row is read), and
* *as of a past instant*, mid-way, when a third of the cases changed after it (their state then comes from
  their last event before the instant),

each beside **the same query written by hand** (the ``GROUP BY`` text below, run on the raw driver
connection, rows fetched, nothing derived): the ratio is hazardflow's own overhead (building the SQL,
mapping rows, deriving the figures). Beside them, for scale, the **naive current-state query** a person might
write first (``SELECT township, grade, state, overdue, count(*) FROM hf_case GROUP BY ...``), which cannot
answer "as of" at all. Interleaved: every round runs each contender once, in turn; median [min-max] of rounds.

**Ledger export**: ``export_ledger`` of 100,000 and of all rows to ``.xlsx``, each in a child process whose
peak resident memory (``ru_maxrss``) is reported with rows/s.

**Import**: a 100,000-row ledger (registered general hazards) imported into an empty SQLite database, beside
``Engine.batch`` of the same ``open_case`` commands (no workbook): rows/s of each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hazardflow import Actor, Engine, SequentialIds, SimulatedClock
from hazardflow.persistence.sql import SqlStore
from hazardflow.reports import CaseFilter, export_ledger, figures_by, import_ledger

COUNTY = "140581"
TOWNSHIPS = [f"140581{100 + i:03d}" for i in range(20)]
INDUSTRIES = ("industry_trade", "construction", "chemicals", "fire_safety", "road_transport")
SOURCES = ("enterprise_self_inspection", "supervisory_inspection", "enforcement", "public_report_verified")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 540
QUARTER = (datetime(2025, 4, 1, tzinfo=UTC) - timedelta(hours=8), datetime(2025, 7, 1, tzinfo=UTC) - timedelta(hours=8))
PAST = (datetime(2024, 7, 1, tzinfo=UTC) - timedelta(hours=8), datetime(2024, 10, 1, tzinfo=UTC) - timedelta(hours=8))
IMPORTER = Actor("t-import", "导入员", {"township_officer"}, "三甲镇安办", "140581102")


def _ts(dialect: str, value: datetime) -> Any:
    return value.isoformat(" ", "microseconds") if dialect == "sqlite" else value


def build(store: SqlStore, n: int, seed: int = 1) -> float:
    """Bulk-insert ``n`` hazards and their events; returns the seconds it took."""
    rng = random.Random(seed)
    d = store.dialect
    mark = "?" if d == "sqlite" else "%s"
    case_sql = (
        "INSERT INTO hf_case (id, workflow, state, rev, jurisdiction, owning_jurisdiction, policy_id, policy_version, "
        "grade, industry, source, department, business_unit, deadline_at, deadline, overdue, sanction_rung, "
        "opened_at, updated_at, closed_at, fields, last_hash, pins) VALUES (" + ", ".join([mark] * 23) + ")"
    )
    event_sql = (
        "INSERT INTO hf_event (case_id, seq, workflow, type, trigger, from_state, to_state, actor_id, actor_name, "
        "actor_role, actor_org, actor_jurisdiction, occurred_at, policy_id, policy_version, reason, "
        "idempotency_key, late_seconds, prev_hash, hash, body) VALUES (" + ", ".join([mark] * 21) + ")"
    )
    started = time.perf_counter()
    conn = store._get()
    db = conn.dbapi
    cases: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    zero = "0" * 64

    def flush() -> None:
        if d == "postgresql":
            with db.transaction(), db.cursor() as cur:
                cur.executemany(case_sql, cases)
                cur.executemany(event_sql, events)
        else:
            db.execute("BEGIN")
            db.executemany(case_sql, cases)
            db.executemany(event_sql, events)
            db.execute("COMMIT")
        cases.clear()
        events.clear()

    try:
        for i in range(n):
            cid = f"HZ-B-{i:07d}"
            town = TOWNSHIPS[i % len(TOWNSHIPS)]
            major = rng.random() < 0.05
            grade = "major" if major else "general"
            industry = INDUSTRIES[rng.randrange(len(INDUSTRIES))]
            source = SOURCES[rng.randrange(len(SOURCES))]
            opened = T0 + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
            fields: dict[str, Any] = {
                "grade": grade,
                "source": source,
                "nature": "unsafe_condition",
                "industry": industry,
                "business_unit": f"{town}-BU-{i % 500:04d}",
                "location": "一号车间",
                "description": f"隐患描述{i}",
                "department": "emergency_management",
            }
            if major and rng.random() < 0.5:
                fields["listed"] = True
                fields["listing"] = {"level": "county", "document_no": f"高安办〔2024〕{i}号", "org": "高平市安委办"}
            ev = [("case.registered", "register", None, "registered", opened, {"fields": fields, "overdue": False})]
            state, overdue, closed_at, rung = "registered", False, None, 0
            if rng.random() < 0.6:
                closed_at = opened + timedelta(days=rng.randrange(1, 120), seconds=rng.randrange(86400))
                if rng.random() < 0.15:
                    late = opened + (closed_at - opened) / 2
                    ev.append(("case.overdue", "mark_overdue", "registered", "registered", late, {"overdue": True}))
                    ev.append(("case.closed", "approve", "registered", "closed", closed_at, {"overdue": False}))
                else:
                    ev.append(("case.closed", "approve", "registered", "closed", closed_at, {}))
                state = "closed"
            elif rng.random() < 0.12:
                late = opened + timedelta(days=rng.randrange(5, 60))
                ev.append(
                    (
                        "case.overdue",
                        "mark_overdue",
                        "registered",
                        "registered",
                        late,
                        {"overdue": True, "sanction_rung": 1},
                    )
                )
                overdue, rung = True, 1
            updated = ev[-1][4]
            cases.append(
                (
                    cid, "hazard", state, len(ev), town, town, "bench", "1", grade, industry, source,
                    "emergency_management", fields["business_unit"], None, None, overdue, rung,
                    _ts(d, opened), _ts(d, updated), _ts(d, closed_at) if closed_at else None,
                    json.dumps(fields, ensure_ascii=False), zero, None,
                )
            )  # fmt: skip
            for seq, (typ, trig, frm, to, at, changes) in enumerate(ev, start=1):
                body = json.dumps({"changes": changes}, ensure_ascii=False)
                events.append(
                    (
                        cid, seq, "hazard", typ, trig, frm, to, "bench", "bench", "township_officer", "bench",
                        town, _ts(d, at), "bench", "1", None, None, None, zero, zero, body,
                    )
                )  # fmt: skip
            if len(cases) >= 20_000:
                flush()
        if cases:
            flush()
        if d == "postgresql":
            db.execute("ANALYZE hf_case")
            db.execute("ANALYZE hf_event")
        else:
            db.execute("ANALYZE")
    finally:
        store._put(conn)
    return time.perf_counter() - started


# ── the hand-written queries ─────────────────────────────────────────────────────────────────────
def hand_written(dialect: str) -> str:
    """The case cube for a county's townships, written out: state, overdue, listed, rung at the end and at the
    start of the period, found before the cutoff, registered in the period, grouped by township."""
    if dialect == "sqlite":
        at = "json_extract(e.body, '$.changes.{k}')"
        listed_now = "COALESCE(json_extract(c.fields, '$.listed') = 1, 0) = 1"
        found = "julianday(COALESCE(json_extract(c.fields, '$.discovered_at'), c.opened_at)) < julianday(?)"
        level = "json_extract(c.fields, '$.listing.level')"
        b, i = "CAST({x} AS INTEGER)", "CAST({x} AS INTEGER)"
        false = "0"
    else:
        at = "(e.body::jsonb #>> '{{changes,{k}}}')"
        listed_now = "COALESCE((c.fields -> 'listed') = 'true'::jsonb, false)"
        found = "COALESCE((c.fields ->> 'discovered_at')::timestamptz, c.opened_at) < ?"
        level = "(c.fields #>> '{listing,level}')"
        b, i = "({x})::boolean", "({x})::int"
        false = "false"

    def last(key: str, cast: str) -> str:
        x = at.format(k=key.replace(".", "," if dialect != "sqlite" else "."))
        return (
            f"(SELECT {cast.format(x=x)} FROM hf_event e WHERE e.case_id = c.id AND e.occurred_at < ? "
            f"AND {x} IS NOT NULL ORDER BY e.seq DESC LIMIT 1)"
        )

    sql = f"""
SELECT g0, workflow, grade, st, od, ls, lvl, stock, fresh, r0, r1, count(*) FROM (
  SELECT substr(c.jurisdiction, 1, 9) AS g0, c.workflow AS workflow, c.grade AS grade,
    CASE WHEN c.updated_at < ? THEN c.state
         ELSE (SELECT e.to_state FROM hf_event e WHERE e.case_id = c.id AND e.occurred_at < ?
               ORDER BY e.seq DESC LIMIT 1) END AS st,
    CASE WHEN c.updated_at < ? THEN c.overdue ELSE COALESCE({last("overdue", b)}, {false}) END AS od,
    CASE WHEN c.updated_at < ? THEN {listed_now} ELSE COALESCE({last("fields.listed", b)}, {false}) END AS ls,
    {level} AS lvl,
    {found} AS stock,
    c.opened_at >= ? AS fresh,
    CASE WHEN c.updated_at < ? THEN c.sanction_rung ELSE COALESCE({last("sanction_rung", i)}, 0) END AS r0,
    CASE WHEN c.updated_at < ? THEN c.sanction_rung ELSE COALESCE({last("sanction_rung", i)}, 0) END AS r1
  FROM hf_case c WHERE c.jurisdiction >= ? AND c.jurisdiction < ? AND c.opened_at < ?
) x GROUP BY g0, workflow, grade, st, od, ls, lvl, stock, fresh, r0, r1"""
    return sql if dialect == "sqlite" else sql.replace("?", "%s")


def hand_params(dialect: str, t0: datetime, t1: datetime) -> list[Any]:
    s0, s1 = _ts(dialect, t0), _ts(dialect, t1)
    return [s1, s1, s1, s1, s1, s1, s0, s0, s0, s0, s1, s1, COUNTY, "140582", s1]


def hand_events(dialect: str) -> str:
    if dialect == "sqlite":
        days = "(CAST(strftime('%s', e.occurred_at) AS INTEGER) - CAST(strftime('%s', c.opened_at) AS INTEGER)) / 8640"
    else:
        days = (
            "((floor(extract(epoch FROM e.occurred_at))::bigint - floor(extract(epoch FROM c.opened_at))::bigint)"
            " / 8640)"
        )
    sql = f"""
SELECT g0, workflow, st, late, days, spot, count(*) FROM (
  SELECT substr(c.jurisdiction, 1, 9) AS g0, c.workflow AS workflow, e.to_state AS st,
    e.trigger = 'fix_on_spot' AS spot,
    EXISTS (SELECT 1 FROM hf_event m WHERE m.case_id = e.case_id AND m.trigger = 'mark_overdue' AND m.seq < e.seq)
      AS late, {days} AS days
  FROM hf_event e JOIN hf_case c ON c.id = e.case_id
  WHERE e.occurred_at >= ? AND e.occurred_at < ?
    AND e.to_state IN ('closed', 'voided', 'substantiated', 'pooled', 'accepted', 'returned', 'fulfilled')
    AND e.from_state IS NOT NULL AND e.from_state <> e.to_state
    AND c.jurisdiction >= ? AND c.jurisdiction < ?
) x GROUP BY g0, workflow, st, late, days, spot"""
    return sql if dialect == "sqlite" else sql.replace("?", "%s")


NAIVE = (
    "SELECT substr(jurisdiction, 1, 9), grade, state, overdue, count(*) FROM hf_case "
    "WHERE jurisdiction >= {m} AND jurisdiction < {m} GROUP BY substr(jurisdiction, 1, 9), grade, state, overdue"
)


def run_raw(store: SqlStore, sql: str, params: list[Any]) -> int:
    conn = store._get()
    try:
        return len(conn.dbapi.execute(sql, params).fetchall())
    finally:
        store._put(conn)


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_figures(store: SqlStore, rounds: int, label: str) -> None:
    d = store.dialect
    m = "?" if d == "sqlite" else "%s"
    scope = CaseFilter(jurisdiction=COUNTY)
    for name, (t0, t1) in (("as of the last quarter's end", QUARTER), ("as of a past quarter's end", PAST)):
        results: dict[str, list[float]] = {"figures_by": [], "hand-written GROUP BY": [], "naive current state": []}
        ratios: list[float] = []
        for _ in range(rounds):
            a = timed(lambda t0=t0, t1=t1: figures_by(store, "jurisdiction", start=t0, end=t1, scope=scope))
            b = timed(
                lambda t0=t0, t1=t1: (
                    run_raw(store, hand_written(d), hand_params(d, t0, t1)),
                    run_raw(store, hand_events(d), [_ts(d, t0), _ts(d, t1), COUNTY, "140582"]),
                )
            )
            c = timed(lambda: run_raw(store, NAIVE.format(m=m), [COUNTY, "140582"]))
            results["figures_by"].append(a)
            results["hand-written GROUP BY"].append(b)
            results["naive current state"].append(c)
            ratios.append(a / b)
        print(f"  [{label}] figures {name}:")
        for k, v in results.items():
            print(f"    {k:24s} {statistics.median(v):8.3f} s  [{min(v):.3f}-{max(v):.3f}]")
        print(
            f"    ratio figures_by / hand-written: median {statistics.median(ratios):.2f}  "
            f"[{min(ratios):.2f}-{max(ratios):.2f}]  (target <= 1.5)"
        )


def _child(code: str) -> tuple[float, float]:
    """Run ``code`` in a child process; returns (seconds, peak RSS in MB)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    elapsed = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kb / 1024


def bench_export(url: str, n_total: int, out: Path) -> None:
    for rows in sorted({min(100_000, n_total), n_total}):
        # The first `rows` hazards of the county, oldest first, by their registration time.
        if rows < n_total:
            until = "None"
            code = (
                "from hazardflow.persistence.sql import SqlStore\n"
                "from hazardflow.reports import CaseFilter, find_cases\n"
                "from hazardflow.reports._ledger import _write_xlsx, COLUMNS, _cell\n"
                "import itertools, datetime\n"
                f"s = SqlStore({url!r}, create=False)\n"
                "from hazardflow.reports._ledger import ledger_rows\n"
                f"rows = itertools.islice(ledger_rows(s, CaseFilter(jurisdiction='{COUNTY}')), {rows})\n"
                f"n = _write_xlsx({str(out / 'ledger.xlsx')!r}, rows, '台账', {until})\n"
                f"assert n == {rows}, n\n"
            )
        else:
            code = (
                "from hazardflow.persistence.sql import SqlStore\n"
                "from hazardflow.reports import CaseFilter, export_ledger\n"
                f"s = SqlStore({url!r}, create=False)\n"
                f"n = export_ledger(s, {str(out / 'ledger.xlsx')!r}, scope=CaseFilter(jurisdiction='{COUNTY}'))\n"
                f"assert n == {rows}, n\n"
            )
        secs, peak = _child(code)
        size = (out / "ledger.xlsx").stat().st_size / 1e6
        print(
            f"  ledger export {rows:>9,} rows: {secs:7.1f} s  {rows / secs:8,.0f} rows/s  "
            f"peak RSS {peak:6.0f} MB  file {size:.0f} MB"
        )


def bench_import(n_rows: int, work: Path) -> None:
    # The source: n_rows registered general hazards in a SQLite file, exported to a ledger.
    src = SqlStore(f"sqlite:///{work / 'src.db'}")
    clock = SimulatedClock("2025-06-02T09:00:00+08:00")
    eng = Engine(store=src, clock=clock, ids=SequentialIds())
    commands = []
    rng = random.Random(3)
    for i in range(n_rows):
        town = TOWNSHIPS[i % len(TOWNSHIPS)]
        commands.append(
            (
                town,
                {
                    "grade": "general",
                    "source": SOURCES[rng.randrange(3)],  # not a tip-off's channel: those open by substantiation
                    "nature": "unsafe_condition",
                    "industry": INDUSTRIES[rng.randrange(len(INDUSTRIES))],
                    "business_unit": f"{town}-BU-{i % 500:04d}",
                    "location": f"车间{i % 40}",
                    "description": f"隐患描述{i}",
                },
            )
        )
    actor = Actor("t-src", "登记员", {"township_officer"}, "高平市安办", COUNTY)
    with eng.batch():
        for town, fields in commands:
            eng.open_case("hazard", actor=actor, jurisdiction=town, **fields)
    path = work / "ledger-import.xlsx"
    export_ledger(eng, path)
    src.close()
    # Interleaved once each (each run is long): import, then the same open_case commands in Engine.batch.
    dst = SqlStore(f"sqlite:///{work / 'dst.db'}")
    e1 = Engine(store=dst, clock=SimulatedClock("2025-06-02T09:00:00+08:00"), ids=SequentialIds())
    importer = Actor("t-import", "导入员", {"township_officer"}, "高平市安办", COUNTY)
    t = time.perf_counter()
    result = import_ledger(e1, path, actor=importer, max_rows=n_rows)
    imp = time.perf_counter() - t
    assert result.imported == n_rows, result
    dst.close()
    base = SqlStore(f"sqlite:///{work / 'base.db'}")
    e2 = Engine(store=base, clock=SimulatedClock("2025-06-02T09:00:00+08:00"), ids=SequentialIds())
    t = time.perf_counter()
    with e2.batch():
        for town, fields in commands:
            e2.open_case("hazard", actor=importer, jurisdiction=town, **fields)
    batch = time.perf_counter() - t
    base.close()
    print(f"  ledger import {n_rows:,} rows: {imp:6.1f} s  {n_rows / imp:7,.0f} rows/s")
    print(f"  Engine.batch of the same {n_rows:,} open_case: {batch:6.1f} s  {n_rows / batch:7,.0f} commands/s")
    print(f"  ratio import / batch: {imp / batch:.2f}")


def _postgres(url: str) -> Iterator[str]:
    name = f"hf_bench_reports_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(sa.make_url(url).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--postgres", default=os.environ.get("HAZARDFLOW_TEST_POSTGRES_URL"))
    ap.add_argument("--import-rows", type=int, default=100_000)
    ap.add_argument("--skip", default="", help="comma list of parts to skip: figures,export,import,postgres")
    ap.add_argument("--sqlite-register", help="a SQLite register this script built before (skips building it)")
    args = ap.parse_args()
    n = 20_000 if args.quick else args.cases
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory(prefix="hf-bench-reports-") as tmp:
        work = Path(tmp)
        if args.sqlite_register:
            url = f"sqlite:///{args.sqlite_register}"
            store = SqlStore(url)
            n = store.count()["cases"]
            print(f"SQLite: the register built before, {store.count()}", flush=True)
        else:
            url = f"sqlite:///{work / 'register.db'}"
            store = SqlStore(url)
            print(f"SQLite: building {n:,} hazards by bulk insert ...", flush=True)
            print(f"  built in {build(store, n):.0f} s; {store.count()}", flush=True)
        if "figures" not in skip:
            bench_figures(store, args.rounds, "SQLite")
        store.close()
        if "export" not in skip:
            bench_export(url, n, work)
        if args.postgres and "postgres" not in skip:
            for pg in _postgres(args.postgres):
                pstore = SqlStore(pg)
                print(f"PostgreSQL: building {n:,} hazards by bulk insert ...", flush=True)
                print(f"  built in {build(pstore, n):.0f} s; {pstore.count()}", flush=True)
                if "figures" not in skip:
                    bench_figures(pstore, args.rounds, "PostgreSQL")
                pstore.close()
        if "import" not in skip:
            bench_import(min(args.import_rows, 5_000) if args.quick else args.import_rows, work)


if __name__ == "__main__":
    main()
