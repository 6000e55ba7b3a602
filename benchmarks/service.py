"""Requests/s for ``fire`` over HTTP (``hazardflow serve``, 1 and 4 uvicorn workers) beside ``Engine.fire``
in-process, on SQLite and PostgreSQL, in the same run.

Run: ``.venv/bin/python benchmarks/service.py`` (``--fires 200 --rounds 3 --concurrency 16``; ``--quick`` for a
smoke run; ``--postgres URL`` names the server, default ``$HAZARDFLOW_TEST_POSTGRES_URL``; a database of its own
is created there and dropped afterwards).

What is timed: the same command each time, ``set_deadline`` (限期整改) with its payload, on a registered general
hazard of its own (opened beforehand, untimed, in one batch), so every fire is a full accepted command: load,
authorize, validate, guards, the hash-chained audit event, a deadline and a reminder armed, the commit.

* **in-process**: ``Engine.fire`` in a loop, one thread, on an engine over the same database.
* **http x1 / http x4**: ``POST /v1/cases/{id}/fire`` with a JWT bearer token, to ``hazardflow serve`` with 1
  or 4 uvicorn worker processes, from ``--concurrency`` concurrent keep-alive connections (httpx, asyncio) in
  this process. Both services run for the whole run; only one contender is driven at a time.

Each round times a slice of ``--fires`` for every contender in turn (in-process, x1, x4), so machine drift hits
them alike; figures are medians over rounds (range min-max), ratios are taken per round. Latency p50/p99 is over
every HTTP request of the contender. The load generator shares the machine with the service and the database:
on a 2-core machine it takes a good part of one core, which holds the HTTP figures down.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import jwt

from hazardflow import Actor, Engine
from hazardflow.persistence.sql import SqlStore

TOWNSHIP = "500240204"
UNIT = "500240204-BU-0001"
INSPECTOR = Actor("e-zhang", "张检查", {"inspector"}, UNIT, TOWNSHIP)
MANAGER = Actor("e-li", "李安全", {"safety_manager"}, UNIT, TOWNSHIP)
REGISTER = {
    "grade": "general",
    "source": "enterprise_self_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": UNIT,
    "location": "一号车间",
    "description": "砂轮机防护罩缺失",
}
PAYLOAD = {
    "deadline": (date.today() + timedelta(days=30)).isoformat(),
    "measures": "加装防护罩",
    "responsible": "李安全",
}
SECRET = "benchmark-secret-0123456789-abcdefghijklmnop"
CLI = str(Path(sys.executable).with_name("hazardflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bearer(actor: Actor) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": actor.id,
        "name": actor.name,
        "roles": sorted(actor.roles),
        "org": actor.org,
        "jurisdiction": actor.jurisdiction,
        "exp": int((now + timedelta(hours=2)).timestamp()),
    }
    return "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")


class Server:
    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                CLI,
                "serve",
                "--url",
                url,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--jwt-secret-env",
                "HF_BENCH_SECRET",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env={**os.environ, "HF_BENCH_SECRET": SECRET},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            self.stop()
            raise SystemExit(f"hazardflow serve ({workers} workers) did not start")
        time.sleep(1.5 if workers > 1 else 0.2)  # every worker process up

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)


def open_cases(engine: Engine, n: int) -> list[str]:
    ids = []
    with engine.batch():
        for _ in range(n):
            ids.append(engine.open_case("hazard", actor=INSPECTOR, jurisdiction=TOWNSHIP, **REGISTER).id)
    return ids


def in_process(engine: Engine, ids: list[str]) -> float:
    start = time.perf_counter()
    for cid in ids:
        engine.fire(cid, "set_deadline", actor=MANAGER, payload=PAYLOAD)
    return time.perf_counter() - start


async def over_http(base: str, ids: list[str], concurrency: int, latencies: list[float]) -> float:
    headers = {"Authorization": bearer(MANAGER)}
    queue = list(reversed(ids))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while queue:
                cid = queue.pop()
                t0 = time.perf_counter()
                r = await client.post(f"/v1/cases/{cid}/fire", json={"trigger": "set_deadline", "payload": PAYLOAD})
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"fire over HTTP failed: {r.status_code} {r.text[:300]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    SqlStore(url).close()
    engine = Engine.from_url(url, create=False)
    servers = {1: Server(url, 1), 4: Server(url, 4)}
    try:
        rates: dict[str, list[float]] = {"in-process": [], "http x1": [], "http x4": []}
        lat: dict[str, list[float]] = {"http x1": [], "http x4": []}
        ratios: dict[str, list[float]] = {"http x1": [], "http x4": []}
        for _ in range(args.rounds):
            ids = open_cases(engine, 3 * args.fires)
            slices = {
                "in-process": ids[: args.fires],
                "http x1": ids[args.fires : 2 * args.fires],
                "http x4": ids[2 * args.fires :],
            }
            rate_in = args.fires / in_process(engine, slices["in-process"])
            rates["in-process"].append(rate_in)
            for workers, label in ((1, "http x1"), (4, "http x4")):
                took = asyncio.run(over_http(servers[workers].base, slices[label], args.concurrency, lat[label]))
                rates[label].append(args.fires / took)
                ratios[label].append(rates[label][-1] / rate_in)
        print(f"\n{name}: set_deadline fires, {args.rounds} rounds x {args.fires}, concurrency {args.concurrency}")
        print(f"  {'contender':<12} {'fires/s median (min-max)':>28} {'vs in-process':>16} {'p50 ms':>8} {'p99 ms':>8}")
        for label, values in rates.items():
            med = statistics.median(values)
            line = f"  {label:<12} {med:>12.0f} ({min(values):.0f}-{max(values):.0f}){'':>6}"
            if label in ratios:
                r = ratios[label]
                line += f" {statistics.median(r):>8.0%} ({min(r):.0%}-{max(r):.0%})"
                line += f" {pct(lat[label], 0.5) * 1000:>8.1f} {pct(lat[label], 0.99) * 1000:>8.1f}"
            print(line)
    finally:
        for s in servers.values():
            s.stop()
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fires", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--postgres", default=os.environ.get("HAZARDFLOW_TEST_POSTGRES_URL"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.fires, args.rounds = 30, 1
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if not args.postgres:
        print("\nPostgreSQL: skipped (give --postgres URL or set HAZARDFLOW_TEST_POSTGRES_URL)")
        return
    import psycopg
    import sqlalchemy as sa

    base = sa.make_url(args.postgres)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"hf_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        run_backend(
            "PostgreSQL",
            base.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False),
            args,
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
