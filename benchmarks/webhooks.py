"""Webhook delivery: deliveries/s to a local receiver, and nothing lost when the receiver or a worker fails.

Run: ``.venv/bin/python benchmarks/webhooks.py`` (``--messages 300 --rounds 5``; ``--quick`` for a smoke run).
PostgreSQL is measured too when ``HAZARDFLOW_TEST_POSTGRES_URL`` names a server (a scratch database is made
and dropped).

What is measured, per database (SQLite file, PostgreSQL):

* **throughput**: in each round, ``--messages`` hazard registrations are committed (untimed, engine with
  ``outbox=True``), then a :class:`~hazardflow.webhooks.WebhookDeliverer` (``--concurrency`` requests in flight)
  drains them: fan-out, claims, signed POSTs to a receiver on 127.0.0.1 that verifies every signature with the
  ``standardwebhooks`` package, and the outcome recorded per message. **Baseline, in the same round**: the same
  signed bodies POSTed by a plain ``httpx`` client with the same concurrency and no database (the receiver and
  the signing are the same). The two run in turn, order alternating by round; figures are medians over
  rounds with the range, the ratio is taken per round.
* **receiver down**: messages are queued while the receiver is down for ``--down`` seconds (every attempt is
  refused and rescheduled with back-off); then it comes up. Lost = messages never accepted (must be 0).
* **SIGKILL**: a ``hazardflow deliver`` process is killed with SIGKILL mid-way; a second worker finishes after
  the first one's leases expire. Lost must be 0; messages received twice (at-least-once) are counted.

The receiver is Python's threaded ``http.server``: on this machine it, not the store, bounds the rate; the
ratio to the baseline is the result.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hazard_world import People, World, new_engine  # noqa: E402
from hazardflow.persistence.sql import SqlStore  # noqa: E402
from hazardflow.webhooks import RetryPolicy, WebhookDeliverer, new_secret, sign, webhook_store  # noqa: E402
from webhook_support import Receiver  # noqa: E402

FAST = RetryPolicy(schedule=(timedelta(milliseconds=100), timedelta(milliseconds=300)), jitter=0.2)


def _register(world: World, n: int) -> None:
    with world.engine.batch():
        for _ in range(n):
            world.register(actor=People.inspector)


def _drain(deliverer: WebhookDeliverer, total: int, limit: float = 300.0) -> None:
    hooks = deliverer.webhooks
    end = time.monotonic() + limit
    while hooks.counts()["delivered"] < total:
        if time.monotonic() > end:
            raise RuntimeError("deliveries did not finish")
        if deliverer.run_once().claimed == 0:
            time.sleep(0.005)


def _baseline(bodies: list[tuple[str, bytes]], rx: Receiver, secret: str, concurrency: int) -> float:
    import httpx

    with httpx.Client(timeout=15.0) as client:

        def post(item: tuple[str, bytes]) -> None:
            mid, body = item
            ts = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": mid,
                "webhook-timestamp": str(ts),
                "webhook-signature": sign(secret, mid, ts, body),
            }
            client.post(rx.url, content=body, headers=headers).raise_for_status()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(post, bodies))
        return time.perf_counter() - t0


def throughput(url: str, messages: int, rounds: int, concurrency: int) -> dict[str, Any]:
    engine, clock = new_engine(store=SqlStore(url))
    world = World(engine, clock)
    secret = new_secret()
    hooks = webhook_store(engine.store)
    ours: list[float] = []
    base: list[float] = []
    ratios: list[float] = []
    with Receiver(secret) as rx:
        hooks.add_subscription(rx.url, now=clock.now(), secret=secret, event_types=["hazard.*"])
        with WebhookDeliverer(engine.store, concurrency=concurrency, batch=100, retry=FAST) as d:
            delivered = 0
            for r in range(rounds):
                _register(world, messages)
                pending_bodies: list[tuple[str, bytes]] = []

                def run_ours() -> float:
                    nonlocal delivered
                    t0 = time.perf_counter()
                    _drain(d, delivered + messages)
                    delivered += messages
                    return time.perf_counter() - t0

                def run_base(bodies: list[tuple[str, bytes]] = pending_bodies) -> float:
                    if not bodies:
                        recent = hooks.list_deliveries(status="delivered", limit=10**9)[-messages:]
                        bodies.extend((f"base_{uuid.uuid4().hex}", m.body.encode()) for m in recent)
                    return _baseline(bodies, rx, secret, concurrency)

                if r % 2 == 0:
                    t_ours = run_ours()
                    t_base = run_base()
                else:
                    # the baseline needs bodies: take the previous round's (same shape, same size)
                    t_base = run_base()
                    t_ours = run_ours()
                ours.append(messages / t_ours)
                base.append(messages / t_base)
                ratios.append(t_base / t_ours)
        lost = len({m.id for m in hooks.list_deliveries(limit=10**9)} - set(rx.accepted))
        bad = rx.bad_signatures
    engine.store.close()
    return {"ours": ours, "base": base, "ratio": ratios, "lost": lost, "bad_signatures": bad}


def receiver_down(url: str, messages: int, down: float) -> dict[str, Any]:
    engine, clock = new_engine(store=SqlStore(url))
    world = World(engine, clock)
    secret = new_secret()
    hooks = webhook_store(engine.store)
    rx = Receiver(secret)
    hooks.add_subscription(rx.url, now=clock.now(), secret=secret, event_types=["hazard.*"])
    _register(world, messages)
    with WebhookDeliverer(engine.store, retry=FAST, timeout=1.0, lease=timedelta(seconds=5), batch=100) as d:
        end = time.monotonic() + down
        attempts_while_down = 0
        while time.monotonic() < end:
            attempts_while_down += d.run_once().claimed
            time.sleep(0.01)
        t0 = time.perf_counter()
        with rx:
            _drain(d, messages)
            recovery = time.perf_counter() - t0
            lost = len({m.id for m in hooks.list_deliveries(limit=10**9)} - set(rx.accepted))
    engine.store.close()
    return {"attempts_while_down": attempts_while_down, "recovery_s": recovery, "lost": lost}


def sigkill(url: str, messages: int) -> dict[str, Any]:
    engine, clock = new_engine(store=SqlStore(url))
    world = World(engine, clock)
    secret = new_secret()
    hooks = webhook_store(engine.store)
    with Receiver(secret, delay=0.01) as rx:
        hooks.add_subscription(rx.url, now=clock.now(), secret=secret, event_types=["hazard.*"])
        _register(world, messages)
        cmd = [sys.executable, "-c", "from hazardflow.cli import main; main()", "deliver", "--url", url]
        cmd += ["--lease", "2", "--timeout", "1", "--interval", "0.05", "--batch", "20", "--concurrency", "4"]
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while sum(rx.accepted.values()) < messages // 3:
            if child.poll() is not None:
                raise RuntimeError("the delivery worker exited early")
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        at_kill = hooks.counts()["delivered"]
        with WebhookDeliverer(engine.store, retry=FAST, lease=timedelta(seconds=2), timeout=1.0, batch=100) as d:
            _drain(d, messages)
        lost = len({m.id for m in hooks.list_deliveries(limit=10**9)} - set(rx.accepted))
        twice = sum(1 for n in rx.accepted.values() if n > 1)
    engine.store.close()
    return {"delivered_at_kill": at_kill, "lost": lost, "received_twice": twice}


def _fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):8.1f}  ({min(xs):.1f}-{max(xs):.1f})"


def _postgres() -> tuple[Any, Any] | None:
    """A factory of scratch PostgreSQL databases (one per scenario) and a function dropping them all."""
    base = os.environ.get("HAZARDFLOW_TEST_POSTGRES_URL")
    if not base:
        return None
    import psycopg
    import sqlalchemy as sa

    u = sa.make_url(base)
    admin = u.set(drivername="postgresql").render_as_string(hide_password=False)
    made: list[str] = []

    def new() -> str:
        name = f"hf_bench_hooks_{os.getpid()}_{len(made)}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        url = u.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
        SqlStore(url).close()
        return url

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return new, drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--down", type=float, default=3.0, help="Seconds the receiver is down.")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.messages, args.rounds, args.down = 40, 2, 1.0
    with tempfile.TemporaryDirectory() as tmp:
        files = iter(range(1000))

        def new_sqlite() -> str:
            url = f"sqlite:///{Path(tmp) / f'hooks{next(files)}.db'}"
            SqlStore(url).close()
            return url

        dbs: list[tuple[str, Any]] = [("SQLite", new_sqlite)]
        pg = _postgres()
        if pg is not None:
            dbs.append(("PostgreSQL", pg[0]))
        else:
            print("PostgreSQL: skipped (HAZARDFLOW_TEST_POSTGRES_URL is not set)")
        try:
            print(f"messages per round {args.messages}, rounds {args.rounds}, concurrency {args.concurrency}")
            for label, new in dbs:
                t = throughput(new(), args.messages, args.rounds, args.concurrency)
                print(f"\n{label}")
                print(f"  deliveries/s (outbox → signed POST → recorded)  {_fmt(t['ours'])}")
                print(f"  baseline signed POSTs/s, no database          {_fmt(t['base'])}")
                print(f"  ratio deliveries / baseline                    {_fmt(t['ratio'])}")
                print(f"  lost {t['lost']}, bad signatures {t['bad_signatures']}")
                d = receiver_down(new(), args.messages, args.down)
                print(
                    f"  receiver down {args.down:g} s: {d['attempts_while_down']} refused attempts, "
                    f"drained {d['recovery_s']:.2f} s after it came back, lost {d['lost']}"
                )
                k = sigkill(new(), args.messages)
                print(
                    f"  worker SIGKILLed after {k['delivered_at_kill']} of {args.messages} recorded: "
                    f"lost {k['lost']}, received twice {k['received_twice']} (at least once)"
                )
        finally:
            if pg is not None:
                pg[1]()


if __name__ == "__main__":
    main()
