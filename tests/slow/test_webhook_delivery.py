"""Webhook delivery for real: a receiver on 127.0.0.1 verifies every message with ``standardwebhooks``.

SQLite and PostgreSQL both; retries keep the ``webhook-id``; a receiver that is down for a while, or a delivery
worker killed with SIGKILL, loses nothing; several workers on PostgreSQL deliver each message once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hazard_world import People, World, new_engine
from hazardflow.persistence.sql import SqlStore
from hazardflow.webhooks import RetryPolicy, WebhookDeliverer, new_secret, webhook_store
from webhook_support import Receiver

pytestmark = pytest.mark.slow

FAST = RetryPolicy(schedule=(timedelta(milliseconds=50), timedelta(milliseconds=100)), jitter=0.2)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        u = f"sqlite:///{tmp_path / 'hooks.db'}"
        SqlStore(u).close()
        return u
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def world(url: str) -> Iterator[World]:
    engine, clock = new_engine(store=SqlStore(url))
    yield World(engine, clock)
    engine.store.close()


def _drive(deliverer: WebhookDeliverer, done: Callable[[], bool], *, seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < end, "deliveries did not finish in time"
        if deliverer.run_once().claimed == 0:
            time.sleep(0.02)


def _walk(world: World, n: int = 2) -> None:
    for _ in range(n):
        case = world.submitted()
        world.fire(case, "approve", People.officer, {"opinion": "同意销号"})


def test_every_message_is_signed_verified_and_delivered(world: World) -> None:
    secret = new_secret()
    hooks = webhook_store(world.engine.store)
    with Receiver(secret) as rx:
        sub = hooks.add_subscription(rx.url, now=world.clock.now(), secret=secret)
        _walk(world)
        with WebhookDeliverer(world.engine.store, retry=FAST, concurrency=4) as d:
            _drive(d, lambda: hooks.counts()["delivered"] > 0 and hooks.counts()["pending"] == 0)
        assert rx.bad_signatures == 0
        sent = hooks.list_deliveries(limit=10_000)
        assert {m.id for m in sent} == set(rx.accepted)
        assert all(m.status == "delivered" and m.subscription_id == sub.id for m in sent)
        types = {msg["type"] for msg in rx.messages.values()}
        assert {"hazard.register", "hazard.approve", "todo.updated"} <= types
        # To-do items: the same id comes again when the step ends (待办 → 办结), so an OA updates in place.
        items: dict[str, list[str]] = {}
        for mid in sorted(rx.messages, key=lambda m: [int(p) for p in m.split("_")[1:2]] + [m]):
            msg = rx.messages[mid]
            if msg["type"] == "todo.updated":
                items.setdefault(msg["data"]["id"], []).append(msg["data"]["status"])
        assert any(statuses == ["pending", "closed"] for statuses in items.values())


def test_a_forged_or_replayed_message_fails_verification(world: World) -> None:
    """The receiver's check is real: a wrong secret and a changed body are refused."""
    import httpx

    from hazardflow.webhooks import sign

    secret = new_secret()
    with Receiver(secret) as rx:
        ts = int(time.time())
        body = b'{"type":"hazard.register","data":{}}'
        good = {
            "webhook-id": "msg_x",
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret, "msg_x", ts, body),
        }
        assert httpx.post(rx.url, content=body, headers=good).status_code == 204
        assert httpx.post(rx.url, content=body + b" ", headers=good).status_code == 400
        forged = {**good, "webhook-signature": sign(new_secret(), "msg_x", ts, body)}
        assert httpx.post(rx.url, content=body, headers=forged).status_code == 400
        old = ts - 3600
        stale = {**good, "webhook-timestamp": str(old), "webhook-signature": sign(secret, "msg_x", old, body)}
        assert httpx.post(rx.url, content=body, headers=stale).status_code == 400
        assert rx.bad_signatures == 3


def test_retries_keep_the_webhook_id(world: World) -> None:
    secret = new_secret()
    hooks = webhook_store(world.engine.store)
    with Receiver(secret, fail_first=2) as rx:
        hooks.add_subscription(rx.url, now=world.clock.now(), secret=secret, event_types=["hazard.*"])
        world.register()
        world.register()
        with WebhookDeliverer(world.engine.store, retry=FAST) as d:
            _drive(d, lambda: hooks.counts()["delivered"] == 2)
        assert set(rx.ids.values()) == {3}  # two refusals, then accepted: three requests with one id each
        assert all(m.attempts == 3 and m.last_status == 204 for m in hooks.list_deliveries())


def test_a_receiver_that_keeps_failing_ends_in_the_dead_letters(world: World) -> None:
    secret = new_secret()
    hooks = webhook_store(world.engine.store)
    retry = RetryPolicy(schedule=(timedelta(milliseconds=30),), jitter=0, dead_after=timedelta(milliseconds=300))
    with Receiver(secret, status=500) as rx:
        hooks.add_subscription(rx.url, now=world.clock.now(), secret=secret, event_types=["hazard.*"])
        world.register()
        with WebhookDeliverer(world.engine.store, retry=retry) as d:
            _drive(d, lambda: hooks.counts()["dead"] == 1)
        (dead,) = hooks.list_deliveries(status="dead")
        assert dead.attempts == rx.ids[dead.id] >= 2
        assert dead.last_error == "HTTP 500"
        # a manual replay sends it again with the same id
        rx.status = 204
        hooks.redeliver(dead.id, world.clock.now())
        with WebhookDeliverer(world.engine.store, retry=retry) as d:
            _drive(d, lambda: hooks.counts()["delivered"] == 1)
        assert rx.accepted[dead.id] == 1


def test_410_gone_disables_the_subscription(world: World) -> None:
    secret = new_secret()
    hooks = webhook_store(world.engine.store)
    with Receiver(secret, status=410) as rx:
        sub = hooks.add_subscription(rx.url, now=world.clock.now(), secret=secret, event_types=["hazard.*"])
        world.register()
        world.register()
        with WebhookDeliverer(world.engine.store, retry=FAST, concurrency=1) as d:
            _drive(d, lambda: hooks.counts()["dead"] == 2)
        assert hooks.get_subscription(sub.id).active is False
        assert sum(rx.ids.values()) == 1  # the second message was not sent to a gone endpoint


def test_a_receiver_down_for_a_while_loses_nothing(world: World) -> None:
    secret = new_secret()
    hooks = webhook_store(world.engine.store)
    rx = Receiver(secret)
    hooks.add_subscription(rx.url, now=world.clock.now(), secret=secret)
    _walk(world, 1)
    total = 0
    with WebhookDeliverer(world.engine.store, retry=FAST, timeout=1.0, lease=timedelta(seconds=5)) as d:
        end = time.monotonic() + 1.0
        while time.monotonic() < end:  # the receiver is down: every attempt is refused
            d.run_once()
            time.sleep(0.02)
        assert hooks.counts()["delivered"] == 0
        total = hooks.counts()["pending"]
        assert total > 0
        with rx:
            _drive(d, lambda: hooks.counts()["delivered"] == total)
    assert set(rx.accepted) == {m.id for m in hooks.list_deliveries(limit=10_000)}
    assert hooks.counts()["dead"] == 0


def test_a_sigkilled_delivery_worker_loses_nothing(world: World, url: str) -> None:
    secret = new_secret()
    hooks = webhook_store(world.engine.store)
    with Receiver(secret, delay=0.05) as rx:
        hooks.add_subscription(rx.url, now=world.clock.now(), secret=secret)
        _walk(world, 3)
        cmd = [sys.executable, "-c", "from hazardflow.cli import main; main()", "deliver", "--url", url]
        cmd += ["--lease", "2", "--timeout", "1", "--interval", "0.05", "--batch", "4", "--concurrency", "2"]
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
        try:
            end = time.monotonic() + 60
            while sum(rx.accepted.values()) < 5:
                assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
                assert time.monotonic() < end, "the worker delivered nothing"
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(10)
            if child.stderr:
                child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        total = len(hooks.list_deliveries(limit=10_000))
        assert hooks.counts()["delivered"] < total  # killed mid-way
        with WebhookDeliverer(world.engine.store, retry=FAST, lease=timedelta(seconds=2), timeout=1.0) as d:
            _drive(d, lambda: hooks.counts()["delivered"] == total)
        assert set(rx.accepted) == {m.id for m in hooks.list_deliveries(limit=10_000)}


@pytest.mark.postgres
def test_several_workers_on_postgres_deliver_each_message_once(fresh_postgres_url: str) -> None:
    engine, clock = new_engine(store=SqlStore(fresh_postgres_url))
    world = World(engine, clock)
    secret = new_secret()
    hooks = webhook_store(engine.store)
    with Receiver(secret) as rx:
        hooks.add_subscription(rx.url, now=clock.now(), secret=secret)
        _walk(world, 4)
        stores = [SqlStore(fresh_postgres_url) for _ in range(3)]
        errors: list[BaseException] = []

        def work(store: Any) -> None:
            try:
                with WebhookDeliverer(store, retry=FAST, batch=3, concurrency=2) as d:
                    mine = webhook_store(store)
                    _drive(d, lambda: mine.pending_outbox() == [] and mine.counts()["pending"] == 0)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for s in stores:
            s.close()
        assert not errors
        sent = {m.id for m in hooks.list_deliveries(limit=10_000)}
        assert set(rx.accepted) == sent
        assert set(rx.ids.values()) == {1}, "a message was sent twice"
    engine.store.close()
