"""Bad input is refused alike on every store, before anything is written (issue 12, defects 1-4).

Every text value (case fields, payloads, actor fields, case ids, idempotency keys, filters) is checked once in
the engine: NUL and other control characters are refused with :class:`InvalidInput` naming the field, the
error shows a bounded preview of the value, a replayed idempotency key is authorized like a new command, and a
different reporter under the same key is a different command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hazard_world import ORDER, REGISTER, TOWNSHIP, UNIT, People, World, new_engine, refused
from hazardflow import (
    Actor,
    CommandRefused,
    Engine,
    InvalidInput,
    NotAuthorized,
    SequentialIds,
    SimulatedClock,
)
from hazardflow.testing import snapshot_store


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """The township's world on each store."""
    if request.param == "memory":
        engine, clock = new_engine()
    else:
        url = (
            f"sqlite:///{tmp_path / 'hard.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue("fresh_postgres_url")
        )
        clock = SimulatedClock("2024-03-04T09:00:00+08:00")
        engine = Engine.from_url(url, clock=clock, ids=SequentialIds(), outbox=True)
    yield World(engine, clock)
    engine.close()


# ── defect 1: control characters ─────────────────────────────────────────────────────────────────

BAD_TEXTS = ["a\x00b", "line\x1b[31m", "\x7f", "c1\x85", "lone\ud800"]


@pytest.mark.parametrize("text", BAD_TEXTS)
@pytest.mark.parametrize("field", ["description", "location", "business_unit"])
def test_control_characters_in_case_fields_are_refused(world: World, field: str, text: str) -> None:
    data: dict[str, Any] = {**REGISTER, "grade": "general", field: text}
    actor = People.officer if field == "business_unit" else People.inspector
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.engine.open_case("hazard", actor=actor, jurisdiction=TOWNSHIP, **data),
    )
    assert err.field == field
    assert "control character" in err.rule
    assert f"U+{ord(next(c for c in text if not c.isalnum() and c not in '[' + chr(32))):04X}" in err.rule


def test_tab_and_line_breaks_are_text(world: World) -> None:
    case = world.register(description="第一行\n第二行\t缩进\r\n完")
    assert world.engine.get(case.id).fields["description"] == "第一行\n第二行\t缩进\r\n完"


@pytest.mark.parametrize(
    ("where", "call"),
    [
        ("reason", lambda w, c: w.fire(c, "void", People.officer, {"reason": "登记\x00错误"})),
        ("measures", lambda w, c: w.fire(c, "set_deadline", People.officer, {**ORDER, "measures": "\x01"})),
        ("case_id", lambda w, c: w.engine.fire(c.id + "\x00", "void", actor=People.officer, payload={})),
        (
            "idempotency_key",
            lambda w, c: w.engine.fire(
                c.id, "void", actor=People.officer, payload={"reason": "x"}, idempotency_key="k\x00"
            ),
        ),
        ("trigger", lambda w, c: w.engine.fire(c.id, "void\x00", actor=People.officer, payload={})),
        (
            "actor.name",
            lambda w, c: w.fire(c, "void", Actor("t-liu", "刘\x00", {"township_officer"}, "安办", TOWNSHIP), {}),
        ),
        (
            "actor.id",
            lambda w, c: w.fire(c, "void", Actor("t\x9b", "刘", {"township_officer"}, "安办", TOWNSHIP), {}),
        ),
        ("case_id", lambda w, c: w.engine.get(c.id + "\x00")),
        ("case_id", lambda w, c: w.engine.history("\x00")),
        ("department", lambda w, c: list(w.engine.cases(department="\x00"))),
        ("case_ids", lambda w, c: _prefetch(w.engine, [c.id, "x\x00"])),
    ],
)
def test_control_characters_anywhere_are_refused_naming_the_field(world: World, where: str, call: Any) -> None:
    case = world.register()
    err = refused(world.engine, InvalidInput, lambda: call(world, case))
    assert err.field == where
    assert "control character" in err.rule


def _prefetch(engine: Engine, ids: list[str]) -> None:
    with engine.batch():
        engine.prefetch(ids)


def test_a_batch_refuses_the_bad_command_alone(world: World) -> None:
    # On PostgreSQL a NUL used to fail the whole batch at commit, losing the good commands beside it.
    engine = world.engine
    with engine.batch():
        good = world.register(description="好的一条")
        with pytest.raises(InvalidInput) as info:
            world.register(description="坏\x00的一条")
        also = world.register(description="又一条")
    assert info.value.field == "description"
    assert [c.id for c in engine.cases()] == [good.id, also.id]
    assert engine.verify_audit().ok


# ── defect 2: bounded previews ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("size", [100_000, 10 * 1024 * 1024])
def test_errors_show_a_bounded_preview_of_huge_values(world: World, size: int) -> None:
    huge = "隐" * size
    err = refused(world.engine, InvalidInput, lambda: world.register(description=huge))
    text = str(err)
    assert len(text) < 400
    assert f"({size} characters)" in text
    assert "隐" * 60 in text


def test_huge_ids_and_triggers_are_previewed(world: World) -> None:
    case = world.register()
    huge = "x" * 1_000_000
    for call in (
        lambda: world.engine.get(huge),
        lambda: world.engine.fire(case.id, huge, actor=People.officer),
        lambda: world.engine.fire(case.id, "void", actor=People.officer, payload={huge: 1}),
        lambda: world.engine.open_case("hazard", actor=People.inspector, jurisdiction=huge, **REGISTER),
    ):
        before = snapshot_store(world.engine.store)
        with pytest.raises(Exception) as info:
            call()
        assert len(str(info.value)) < 1000, str(info.value)[:200]
        assert snapshot_store(world.engine.store) == before


# ── defect 3: replays are re-authorized ──────────────────────────────────────────────────────────

STRANGER = Actor("x-qin", "秦外人", {"township_officer"}, "西沱镇安办", "500240105")
OTHER_UNIT_MANAGER = People.other_unit_manager


def _refusal(engine: Engine, call: Any) -> CommandRefused:
    before = snapshot_store(engine.store)
    with pytest.raises(CommandRefused) as info:
        call()
    assert snapshot_store(engine.store) == before
    return info.value


def test_a_replay_by_an_actor_who_may_not_fire_is_refused_like_a_new_command(world: World) -> None:
    engine = world.engine
    case = world.ordered()
    stop = {"level": "partial", "reason": "防护罩缺失"}
    first = engine.fire(case.id, "order_stop", actor=People.officer, payload=stop, idempotency_key="stop-1")
    assert engine.fire(case.id, "order_stop", actor=People.officer, payload=stop, idempotency_key="stop-1") == first
    replayed = _refusal(
        engine, lambda: engine.fire(case.id, "order_stop", actor=STRANGER, payload=stop, idempotency_key="stop-1")
    )
    assert isinstance(replayed, NotAuthorized)
    # Exactly what a never-used key gets: the key's existence is not revealed.
    fresh = _refusal(
        engine, lambda: engine.fire(case.id, "order_stop", actor=STRANGER, payload=stop, idempotency_key="new")
    )
    assert (type(replayed), str(replayed)) == (type(fresh), str(fresh))


def test_a_replay_after_the_case_moved_on_answers_as_a_new_command_would(world: World) -> None:
    engine = world.engine
    case = world.register()
    engine.fire(case.id, "set_deadline", actor=People.officer, payload=ORDER, idempotency_key="order-1")
    replayed = _refusal(
        engine, lambda: engine.fire(case.id, "set_deadline", actor=STRANGER, payload=ORDER, idempotency_key="order-1")
    )
    fresh = _refusal(
        engine, lambda: engine.fire(case.id, "set_deadline", actor=STRANGER, payload=ORDER, idempotency_key="new")
    )
    assert (type(replayed), str(replayed)) == (type(fresh), str(fresh))
    # The actor who fired it still gets the first result back.
    assert engine.fire(case.id, "set_deadline", actor=People.officer, payload=ORDER, idempotency_key="order-1")


def test_a_replayed_opening_by_another_unit_is_refused(world: World) -> None:
    engine = world.engine
    data = {**REGISTER, "grade": "general"}
    engine.open_case("hazard", actor=People.inspector, jurisdiction=TOWNSHIP, idempotency_key="reg-1", **data)
    err = refused(
        engine,
        NotAuthorized,
        lambda: engine.open_case(
            "hazard", actor=OTHER_UNIT_MANAGER, jurisdiction=TOWNSHIP, idempotency_key="reg-1", **data
        ),
    )
    assert UNIT in str(err)
    err2 = refused(
        engine,
        NotAuthorized,
        lambda: engine.open_case("hazard", actor=STRANGER, jurisdiction=TOWNSHIP, idempotency_key="reg-1", **data),
    )
    assert err2.actor_id == STRANGER.id


# ── defect 4: confidential fields in the fingerprint ─────────────────────────────────────────────


def test_a_different_reporter_under_the_same_key_is_refused(world: World) -> None:
    engine = world.engine
    tip = {
        "channel": "public",
        "category": "blocked_fire_exit",
        "description": "仓库安全出口被货物堵死",
        "location": "三星乡场镇某仓库",
        "business_unit": UNIT,
        "industry": "fire_safety",
        "reporter_name": "举报人甲",
        "reporter_contact": "13900001111",
    }
    first = engine.open_case("tipoff", actor=People.clerk, jurisdiction=TOWNSHIP, idempotency_key="12350-1", **tip)
    again = engine.open_case("tipoff", actor=People.clerk, jurisdiction=TOWNSHIP, idempotency_key="12350-1", **tip)
    assert again.id == first.id
    other = {**tip, "reporter_name": "举报人乙"}
    err = refused(
        engine,
        InvalidInput,
        lambda: engine.open_case(
            "tipoff", actor=People.clerk, jurisdiction=TOWNSHIP, idempotency_key="12350-1", **other
        ),
    )
    assert err.field == "idempotency_key"
    assert "举报人乙" not in str(err)
    assert "举报人甲" not in str(err)
