"""The board of a county with 100,000 cases, rendered server-side on PostgreSQL (and SQLite), beside the
report queries it is made of.

Run: ``.venv/bin/python benchmarks/dashboard.py`` (PostgreSQL from ``--postgres`` or
``$HAZARDFLOW_TEST_POSTGRES_URL``; a scratch database ``hf_board_<pid>`` is created there and dropped at
the end; ``--sqlite`` adds the same data in a SQLite file; ``--quick`` for a smoke run with 10,000 cases).

The data: the README's simulated campaign (三甲镇 2024—2026, ~3,000 cases and ~11,000 audit events, run
through the real engine) copied into ``--townships`` townships of the county 140581 with fresh case ids, by
bulk inserts (``COPY`` on PostgreSQL, ``executemany`` on SQLite): realistic cases and events at scale without
running the engine for hours. The board is drawn as of the campaign's last day.

Contenders, interleaved round by round so machine drift hits all alike:

* **report queries**: the ``hazardflow.reports`` calls one board makes (``count_cases``, ``count_cases_by``,
  ``find_cases``, ``figures``, ``figures_by``), recorded from one build and replayed: the floor;
* **build_board**: the figures assembled into the board (the queries plus assembly);
* **page**: ``build_board`` + ``render_board`` (the HTML the service sends), the figure the target (< 1 s) is
  about;
* **HTTP GET**: ``GET /dashboard/140581`` through ``create_app`` (ASGI, in process: routing, the authenticator,
  the version stamp, the page).

Figures: median [min-max] seconds over rounds; ratios to the report queries are per round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "examples" / "scenarios" / "sanjia_2024_2026.py"
COUNTY = "140581"
AS_OF = datetime.fromisoformat("2026-12-31T18:00:00+08:00")


def simulate(folder: Path) -> Path:
    """The README's campaign into a SQLite file (the template rows)."""
    db = folder / "template.db"
    cli = Path(sys.executable).with_name("hazardflow")
    subprocess.run(
        [
            str(cli),
            "simulate",
            str(SCENARIO),
            "--seed",
            "1",
            "--store",
            f"sqlite:///{db}",
            "--replace",
            "--out",
            str(folder / "out"),
            "--no-charts",
            "--json",
        ],
        check=True,
        capture_output=True,
    )
    return db


def template_rows(db: Path) -> tuple[list[str], list[tuple[Any, ...]], list[str], list[tuple[Any, ...]]]:
    con = sqlite3.connect(db)
    case_cols = [r[1] for r in con.execute("PRAGMA table_info(hf_case)")]
    event_cols = [r[1] for r in con.execute("PRAGMA table_info(hf_event)") if r[1] != "id"]
    cases = con.execute(f"SELECT {', '.join(case_cols)} FROM hf_case").fetchall()
    events = con.execute(f"SELECT {', '.join(event_cols)} FROM hf_event ORDER BY id").fetchall()
    con.close()
    return case_cols, cases, event_cols, events


def copies(
    template: tuple[list[str], list[tuple[Any, ...]], list[str], list[tuple[Any, ...]]], n_cases: int
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Case and event rows of township copies until ``n_cases`` cases: ids suffixed, township code replaced."""
    case_cols, cases, event_cols, events = template
    ci = {c: i for i, c in enumerate(case_cols)}
    ei = {c: i for i, c in enumerate(event_cols)}
    made = 0
    k = 0
    while made < n_cases:
        k += 1
        town = f"{COUNTY}{100 + k:03d}"
        take = cases[: n_cases - made]
        keep = {r[ci["id"]] for r in take}
        out_cases = []
        for r in take:
            row = list(r)
            row[ci["id"]] = f"{r[ci['id']]}-{k}"
            for col in ("jurisdiction", "owning_jurisdiction"):
                row[ci[col]] = str(r[ci[col]]).replace("140581102", town, 1)
            out_cases.append(tuple(row))
        out_events = []
        for r in events:
            if r[ei["case_id"]] not in keep:
                continue
            row = list(r)
            row[ei["case_id"]] = f"{r[ei['case_id']]}-{k}"
            row[ei["actor_jurisdiction"]] = str(r[ei["actor_jurisdiction"]]).replace("140581102", town, 1)
            out_events.append(tuple(row))
        made += len(take)
        yield out_cases, out_events


def load_postgres(url: str, template: Any, n_cases: int) -> None:
    import psycopg

    from hazardflow.persistence.sql import SqlStore

    SqlStore(url).close()  # creates the schema
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    case_cols, _, event_cols, _ = template
    with psycopg.connect(raw) as conn, conn.cursor() as cur:
        for cases, events in copies(template, n_cases):
            with cur.copy(f"COPY hf_case ({', '.join(case_cols)}) FROM STDIN") as cp:
                for row in cases:
                    cp.write_row(row)
            with cur.copy(f"COPY hf_event ({', '.join(event_cols)}) FROM STDIN") as cp:
                for row in events:
                    cp.write_row(row)
        conn.commit()
        cur.execute("ANALYZE")
        conn.commit()


def load_sqlite(path: Path, template: Any, n_cases: int) -> None:
    from hazardflow.persistence.sql import SqlStore

    SqlStore(f"sqlite:///{path}").close()
    case_cols, _, event_cols, _ = template
    con = sqlite3.connect(path)
    for cases, events in copies(template, n_cases):
        con.executemany(
            f"INSERT INTO hf_case ({', '.join(case_cols)}) VALUES ({', '.join('?' * len(case_cols))})", cases
        )
        con.executemany(
            f"INSERT INTO hf_event ({', '.join(event_cols)}) VALUES ({', '.join('?' * len(event_cols))})", events
        )
    con.commit()
    con.execute("ANALYZE")
    con.close()


@contextlib.contextmanager
def scratch_postgres(base_url: str) -> Iterator[str]:
    import psycopg

    name = f"hf_board_{os.getpid()}"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    head, _, _ = base_url.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def recorded_report_calls(engine: Any) -> Callable[[], None]:
    """The hazardflow.reports calls one board makes, recorded, as a function that replays them."""
    from hazardflow.dashboard import _data, build_board

    calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
    names = ("count_cases", "count_cases_by", "find_cases")
    originals = {n: getattr(_data, n) for n in names}

    def recorder(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            calls.append((fn, args, kwargs))
            return fn(*args, **kwargs)

        return wrapped

    for n, fn in originals.items():
        setattr(_data, n, recorder(fn))
    try:
        build_board(engine, COUNTY, now=AS_OF)
    finally:
        for n, fn in originals.items():
            setattr(_data, n, fn)

    def replay() -> None:
        for fn, args, kwargs in calls:
            fn(*args, **kwargs)

    replay.calls = len(calls)  # type: ignore[attr-defined]
    return replay


def contenders(engine: Any) -> dict[str, Callable[[], Any]]:
    import httpx

    from hazardflow import Actor
    from hazardflow.dashboard import build_board, render_board
    from hazardflow.server import create_app

    viewer = Actor("bench", "查看人", {"safety_committee_office"}, "安委办", COUNTY)

    class Fixed:
        def authenticate(self, request: Any) -> Actor:
            return viewer

    app = create_app(engine, authenticator=Fixed())
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")

    def http_get() -> None:
        r = loop.run_until_complete(client.get(f"/dashboard/{COUNTY}"))
        assert r.status_code == 200, r.text[:300]

    return {
        "report queries": recorded_report_calls(engine),
        "build_board": lambda: build_board(engine, COUNTY, now=AS_OF),
        "page": lambda: render_board(build_board(engine, COUNTY, now=AS_OF), base=f"/dashboard/{COUNTY}"),
        "HTTP GET": http_get,
    }


def measure(label: str, url: str, rounds: int) -> None:
    from hazardflow import Engine, SimulatedClock
    from hazardflow.persistence.sql import SqlStore
    from hazardflow.policies.registry import PolicyRegistry
    from hazardflow.reports import CaseFilter, count_cases

    # The engine's clock stands at the campaign's last day: the board (and the served page) are drawn then.
    engine = Engine(store=SqlStore(url, create=False), policies=PolicyRegistry.installed(), clock=SimulatedClock(AS_OF))
    n = count_cases(engine, CaseFilter(jurisdiction=COUNTY))
    runs = contenders(engine)
    for fn in runs.values():  # warm caches, templates, connection pools
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    base = times["report queries"]
    calls = runs["report queries"].calls  # type: ignore[attr-defined]
    print(f"\n{label}: {n:,} cases in county {COUNTY}, {rounds} rounds; the board makes {calls} report calls")
    print(f"{'contender':<16} {'median s':>9} {'min':>7} {'max':>7} {'x report queries':>17}")
    for name, ts in times.items():
        ratio = statistics.median(t / b for t, b in zip(ts, base, strict=True))
        print(f"{name:<16} {statistics.median(ts):>9.3f} {min(ts):>7.3f} {max(ts):>7.3f} {ratio:>17.2f}")
    engine.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", default=os.environ.get("HAZARDFLOW_TEST_POSTGRES_URL"))
    ap.add_argument("--sqlite", action="store_true", help="also measure the same data in a SQLite file")
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="10,000 cases, 3 rounds")
    args = ap.parse_args()
    if args.quick:
        args.cases, args.rounds = 10_000, 3
    with tempfile.TemporaryDirectory(prefix="hf-board-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        template = template_rows(simulate(folder))
        print(f"template: {len(template[1]):,} cases, {len(template[3]):,} events ({time.perf_counter() - t0:.1f} s)")
        if args.postgres:
            with scratch_postgres(args.postgres) as url:
                t0 = time.perf_counter()
                load_postgres(url, template, args.cases)
                print(f"PostgreSQL loaded in {time.perf_counter() - t0:.1f} s")
                measure("PostgreSQL", url, args.rounds)
        else:
            print("PostgreSQL skipped: give --postgres or set HAZARDFLOW_TEST_POSTGRES_URL")
        if args.sqlite:
            path = folder / "board.db"
            t0 = time.perf_counter()
            load_sqlite(path, template, args.cases)
            print(f"SQLite loaded in {time.perf_counter() - t0:.1f} s")
            measure("SQLite", f"sqlite:///{path}", args.rounds)


if __name__ == "__main__":
    main()
