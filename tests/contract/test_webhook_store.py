"""The webhook store contract: subscriptions, fan-out of the outbox, claims, outcomes, on every store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hazard_world import COUNTY, OTHER_COUNTY, People, World, new_engine
from hazardflow import InvalidInput, WebhookNotFoundError
from hazardflow.webhooks import Delivery, fan_out, new_secret, webhook_store


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    from hazardflow.persistence.sql import SqlStore

    kwargs: dict[str, Any] = {}
    if request.param == "sqlite":
        kwargs["store"] = SqlStore(f"sqlite:///{tmp_path / 'hooks.db'}")
    elif request.param == "postgres":
        kwargs["store"] = SqlStore(request.getfixturevalue("fresh_postgres_url"))
    engine, clock = new_engine(**kwargs)
    yield World(engine, clock)
    engine.store.close()


def test_subscriptions_are_added_listed_found_and_removed(world: World) -> None:
    hooks = webhook_store(world.engine.store)
    assert webhook_store(world.engine.store) is hooks
    now = world.clock.now()
    a = hooks.add_subscription("http://127.0.0.1:9/a", now=now)
    b = hooks.add_subscription(
        "https://oa.example/hooks", now=now, event_types=["todo.updated", "hazard.*"], jurisdiction=COUNTY
    )
    assert a.secret.startswith("whsec_")
    assert a.secret != b.secret
    assert b.event_types == ("hazard.*", "todo.updated")
    assert {s.id for s in hooks.list_subscriptions()} == {a.id, b.id}
    assert hooks.get_subscription(b.id) == b
    assert "secret" not in b.to_json()
    assert b.to_json(show_secret=True)["secret"] == b.secret
    hooks.disable_subscription(a.id, "test")
    assert hooks.get_subscription(a.id).active is False
    hooks.remove_subscription(a.id)
    assert [s.id for s in hooks.list_subscriptions()] == [b.id]
    with pytest.raises(WebhookNotFoundError) as err:
        hooks.get_subscription(a.id)
    assert err.value.known == (b.id,)
    assert a.id in str(err.value)
    with pytest.raises(WebhookNotFoundError):
        hooks.remove_subscription("sub_nope")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "ftp://x/y"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": "http://user:pw@host/x"}, "url"),
        ({"url": "http://host/a b"}, "url"),
        ({"event_types": ["hazard..x"]}, "event_types"),
        ({"event_types": "hazard.*"}, "event_types"),
        ({"event_types": ["ha-zard"]}, "event_types"),
        ({"jurisdiction": "12"}, "jurisdiction"),
        ({"secret": "plain"}, "secret"),
        ({"secret": "whsec_!!!"}, "secret"),
        ({"secret": "whsec_" + "QUJD"}, "secret"),  # 3 bytes: too short
    ],
)
def test_a_bad_subscription_is_refused_and_nothing_is_stored(world: World, kwargs: dict[str, Any], field: str) -> None:
    hooks = webhook_store(world.engine.store)
    args = {"url": "http://127.0.0.1:9/a", **kwargs}
    with pytest.raises(InvalidInput) as err:
        hooks.add_subscription(args.pop("url"), now=world.clock.now(), **args)
    assert err.value.field == field
    if field == "secret":
        # the refused secret itself is never echoed
        assert kwargs["secret"].removeprefix("whsec_") not in str(err.value)
    assert hooks.list_subscriptions() == []


def _bodies(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    return [json.loads(d.body) for d in deliveries]


def test_fan_out_queues_one_message_per_event_and_subscription_with_filters(world: World) -> None:
    store = world.engine.store
    hooks = webhook_store(store)
    now = world.clock.now()
    every = hooks.add_subscription("http://127.0.0.1:9/all", now=now, event_types=["hazard.*"])
    todo = hooks.add_subscription("http://127.0.0.1:9/todo", now=now, event_types=["todo.updated"])
    elsewhere = hooks.add_subscription("http://127.0.0.1:9/else", now=now, jurisdiction=OTHER_COUNTY)
    case = world.submitted()
    rows, queued = fan_out(store, now=now)
    assert rows == case.rev == 3
    assert hooks.list_deliveries(subscription_id=elsewhere.id) == []
    events = [json.loads(d.body) for d in hooks.list_deliveries(subscription_id=every.id)]
    assert [e["type"] for e in events] == ["hazard.register", "hazard.set_deadline", "hazard.submit_review"]
    assert events[-1]["data"] == {
        "case_id": case.id,
        "workflow": "hazard",
        "seq": 3,
        "trigger": "submit_review",
        "event": "case.submitted",
        "from_state": "rectifying",
        "state": "under_review",
        "jurisdiction": case.jurisdiction,
        "owning_jurisdiction": case.owning_jurisdiction,
    }
    todos = _bodies(hooks.list_deliveries(subscription_id=todo.id, limit=1000))
    assert todos
    assert {t["type"] for t in todos} == {"todo.updated"}
    assert queued == 3 + len(todos)
    # fanned out once: a second round (or a second worker) queues nothing more
    assert fan_out(store, now=now) == (0, 0)
    assert hooks.pending_outbox() == []
    assert hooks.counts() == {"pending": queued, "delivered": 0, "dead": 0}


def test_enqueue_twice_queues_once(world: World) -> None:
    store = world.engine.store
    hooks = webhook_store(store)
    now = world.clock.now()
    sub = hooks.add_subscription("http://127.0.0.1:9/a", now=now)
    world.register()
    ((pos, cid, _seq, _t),) = hooks.pending_outbox()
    d = Delivery(
        id=f"msg_{pos}_{sub.id}_0",
        subscription_id=sub.id,
        outbox_id=pos,
        case_id=cid,
        event_type="hazard.register",
        body="{}",
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    assert hooks.enqueue(pos, [d], now) == 1
    assert hooks.enqueue(pos, [d], now) == 0
    assert len(hooks.list_deliveries()) == 1


def test_claims_are_exclusive_until_the_lease_runs_out(world: World) -> None:
    store = world.engine.store
    hooks = webhook_store(store)
    now = world.clock.now()
    hooks.add_subscription("http://127.0.0.1:9/a", now=now, event_types=["hazard.*"])
    for _ in range(3):
        world.register()
    fan_out(store, now=now)
    first = hooks.claim("w1", now, limit=2, lease=timedelta(seconds=30))
    second = hooks.claim("w2", now, limit=10, lease=timedelta(seconds=30))
    assert len(first) == 2
    assert len(second) == 1
    assert {d.id for d in first}.isdisjoint(d.id for d in second)
    assert all(d.lease_owner == "w1" for d in first)
    assert hooks.claim("w3", now + timedelta(seconds=29), limit=10) == []
    # w1 died: its claims come back after the lease, with the same ids
    again = hooks.claim("w3", now + timedelta(seconds=31), limit=10)
    assert {d.id for d in again} == {d.id for d in first} | {d.id for d in second}


def test_outcomes_delivered_retry_dead_and_redeliver(world: World) -> None:
    store = world.engine.store
    hooks = webhook_store(store)
    now = world.clock.now()
    hooks.add_subscription("http://127.0.0.1:9/a", now=now, event_types=["hazard.*"])
    world.register()
    world.register()
    fan_out(store, now=now)
    a, b = hooks.claim("w", now, limit=10)
    hooks.mark_delivered(a.id, now, status_code=204)
    later = now + timedelta(minutes=5)
    hooks.mark_failed(b.id, now, retry_at=later, status_code=500, error="HTTP 500")
    got_a, got_b = hooks.get_delivery(a.id), hooks.get_delivery(b.id)
    assert (got_a.status, got_a.attempts, got_a.last_status, got_a.delivered_at) == ("delivered", 1, 204, now)
    assert (got_b.status, got_b.attempts, got_b.next_attempt_at, got_b.last_error) == ("pending", 1, later, "HTTP 500")
    assert got_b.first_attempt_at == now
    assert got_b.lease_owner is None
    assert hooks.claim("w", now + timedelta(minutes=4), limit=10) == []
    (b2,) = hooks.claim("w", later, limit=10)
    assert b2.id == b.id
    hooks.mark_failed(b.id, later, retry_at=None, error="gave up")
    assert hooks.get_delivery(b.id).status == "dead"
    assert hooks.counts() == {"pending": 0, "delivered": 1, "dead": 1}
    # a delivered message is not re-marked
    hooks.mark_failed(a.id, later, retry_at=None)
    assert hooks.get_delivery(a.id).status == "delivered"
    hooks.redeliver(b.id, later)
    assert hooks.get_delivery(b.id).status == "pending"
    assert [d.status for d in hooks.list_deliveries(status="pending")] == ["pending"]
    with pytest.raises(WebhookNotFoundError):
        hooks.mark_delivered("msg_nope", now)
    with pytest.raises(InvalidInput):
        hooks.list_deliveries(status="lost")


@pytest.mark.parametrize(
    ("owner", "kwargs", "field"),
    [
        ("", {}, "owner"),
        ("w", {"limit": 0}, "limit"),
        ("w", {"lease": timedelta(0)}, "lease"),
    ],
)
def test_bad_claims_are_refused(world: World, owner: str, kwargs: dict[str, Any], field: str) -> None:
    hooks = webhook_store(world.engine.store)
    with pytest.raises(InvalidInput) as err:
        hooks.claim(owner, world.clock.now(), **kwargs)
    assert err.value.field == field


def test_naive_instants_are_refused(world: World) -> None:
    hooks = webhook_store(world.engine.store)
    with pytest.raises(InvalidInput) as err:
        hooks.add_subscription("http://127.0.0.1:9/a", now=world.clock.now().replace(tzinfo=None))
    assert err.value.field == "now"


def test_a_tipoff_reporter_never_reaches_a_message(world: World) -> None:
    store = world.engine.store
    hooks = webhook_store(store)
    hooks.add_subscription("http://127.0.0.1:9/a", now=world.clock.now())
    reporter = "举报人王秘密"
    world.engine.open_case(
        "tipoff",
        actor=People.clerk,
        jurisdiction=People.clerk.jurisdiction,
        channel="public",
        category="blocked_fire_exit",
        description="某厂安全出口被堵",
        location="一号车间",
        reporter_name=reporter,
        reporter_contact="13800000000",
    )
    fan_out(store, now=world.clock.now())
    bodies = [d.body for d in hooks.list_deliveries(limit=1000)]
    assert bodies
    assert not any(reporter in b or "13800000000" in b for b in bodies)


def test_other_stores_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        webhook_store(object())
    assert err.value.field == "store"


def test_new_secret_bounds() -> None:
    assert len(new_secret(24)) > 6
    with pytest.raises(InvalidInput):
        new_secret(8)


def test_a_round_of_outcomes_is_recorded_at_once(world: World) -> None:
    from hazardflow.webhooks import Outcome

    store = world.engine.store
    hooks = webhook_store(store)
    now = world.clock.now()
    hooks.add_subscription("http://127.0.0.1:9/a", now=now, event_types=["hazard.*"])
    for _ in range(3):
        world.register()
    fan_out(store, now=now)
    a, b, c = hooks.claim("w", now, limit=10)
    later = now + timedelta(seconds=5)
    hooks.record(
        [
            Outcome(a.id, now, delivered=True, status_code=200),
            Outcome(b.id, now, delivered=False, status_code=503, retry_at=later, error="HTTP 503"),
            Outcome(c.id, now, delivered=False, error="ConnectError"),
            Outcome("msg_unknown", now, delivered=True),
        ]
    )
    assert [hooks.get_delivery(x.id).status for x in (a, b, c)] == ["delivered", "pending", "dead"]
    assert hooks.get_delivery(b.id).next_attempt_at == later
    assert hooks.get_delivery(c.id).last_error == "ConnectError"
    # recording again changes nothing: finished deliveries stay as they are
    hooks.record([Outcome(a.id, later, delivered=False, error="late")])
    assert hooks.get_delivery(a.id).status == "delivered"
    assert hooks.get_delivery(a.id).attempts == 1
