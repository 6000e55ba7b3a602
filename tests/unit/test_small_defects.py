"""Smaller defects of issue 12: case-insensitive did-you-mean, a public way to resolve a DeadlineSpec from an
instant, and wrong-typed triggers refused with a typed error."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hazard_world import ORDER, TOWNSHIP, People, World, new_engine, refused
from hazardflow import (
    CalendarDataMissing,
    DeadlineSpec,
    Engine,
    InvalidInput,
    TransitionNotAllowed,
    UnknownJurisdictionError,
)
from hazardflow._calendar import SHANGHAI, end_of_local_day
from hazardflow.policies import NationalBaseline


@pytest.fixture
def world() -> World:
    return World(*new_engine())


@pytest.mark.parametrize(("typed", "meant"), [("SET_DEADLINE", "set_deadline"), ("Set_Deadlin", "set_deadline")])
def test_did_you_mean_ignores_case_for_triggers(world: World, typed: str, meant: str) -> None:
    case = world.register()
    err = refused(world.engine, TransitionNotAllowed, lambda: world.fire(case, typed, People.officer, ORDER))
    assert f"did you mean {meant!r}?" in err.hint


def test_did_you_mean_ignores_case_for_workflows(world: World) -> None:
    with pytest.raises(InvalidInput) as info:
        world.engine.lifecycle("HAZARD")
    assert info.value.hint == "did you mean 'hazard'?"


def test_did_you_mean_ignores_case_for_payload_fields(world: World) -> None:
    case = world.register()
    err = refused(
        world.engine, InvalidInput, lambda: world.fire(case, "set_deadline", People.officer, {**ORDER, "Measure": "x"})
    )
    assert "did you mean 'measures'?" in err.rule


@pytest.mark.parametrize("trigger", [["void"], None, 3, {"a": 1}])
def test_a_trigger_that_is_not_a_string_is_refused(world: World, trigger: object) -> None:
    case = world.register()
    err = refused(world.engine, InvalidInput, lambda: world.engine.fire(case.id, trigger, actor=People.officer))  # type: ignore[arg-type]
    assert err.field == "trigger"


# ── resolving a DeadlineSpec from an instant ────────────────────────────────────────────────────────


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_a_spec_resolves_from_an_instant_with_the_holidays() -> None:
    # Friday 2024-09-27 + 3 working days: Sunday 09-29 is a make-up working day, 10-01..07 the National Day break.
    d = DeadlineSpec.working_days(3).resolve(at("2024-09-27T09:00:00"), key="rectify")
    assert d.due_at == end_of_local_day(date(2024, 10, 8))
    assert (d.key, d.start, d.provisional) == ("rectify", datetime(2024, 9, 27, 1, 0, tzinfo=UTC), False)


def test_the_engine_resolves_as_a_case_would(world: World) -> None:
    engine = world.engine
    case = world.register()
    spec = engine.policy_for(case).deadline("review", case)
    assert spec is not None
    submitted = world.submitted()
    assert submitted.deadline is not None
    mine = engine.resolve_deadline(spec, submitted.deadline.start, jurisdiction=TOWNSHIP, key="review")
    assert mine == submitted.deadline


def test_resolving_follows_the_policys_missing_year_mode() -> None:
    class Weekdays(NationalBaseline):
        policy_id = "test.weekdays"
        jurisdiction = TOWNSHIP
        calendar_missing_year = "weekdays"

    spec = DeadlineSpec.working_days(10)
    start = at("2026-12-24T09:00:00")
    with pytest.raises(CalendarDataMissing):
        Engine().resolve_deadline(spec, start, jurisdiction=TOWNSHIP)
    with pytest.raises(CalendarDataMissing):
        spec.resolve(start)
    provisional = Engine(policies=[Weekdays()]).resolve_deadline(spec, start, jurisdiction=TOWNSHIP)
    assert provisional.provisional
    assert provisional.due_at == end_of_local_day(date(2027, 1, 7))


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (
            lambda e: e.resolve_deadline(DeadlineSpec.hours(1), datetime(2024, 3, 4, 9), jurisdiction=TOWNSHIP),
            InvalidInput,
            "start",
        ),
        (
            lambda e: e.resolve_deadline("10 days", at("2024-03-04T09:00:00"), jurisdiction=TOWNSHIP),
            InvalidInput,
            "spec",
        ),
        (
            lambda e: e.resolve_deadline(DeadlineSpec.hours(1), at("2024-03-04T09:00:00"), jurisdiction="999"),
            UnknownJurisdictionError,
            "jurisdiction",
        ),
        (lambda e: DeadlineSpec.hours(1).resolve(datetime(2024, 3, 4, 9)), InvalidInput, "start"),
        (lambda e: DeadlineSpec.hours(1).resolve(at("2024-03-04T09:00:00"), key=3), InvalidInput, "key"),
    ],
)
def test_resolving_refuses_bad_arguments(call: object, error: type[Exception], field: str) -> None:
    with pytest.raises(error) as info:
        call(Engine())  # type: ignore[operator]
    assert type(info.value) is error
    assert info.value.field == field  # type: ignore[attr-defined]


@pytest.mark.parametrize("listener", [None, "print", 3])
def test_subscribe_refuses_what_cannot_be_called(world: World, listener: object) -> None:
    with pytest.raises(InvalidInput) as info:
        world.engine.subscribe(listener)  # type: ignore[arg-type]
    assert info.value.field == "listener"
    world.register()  # commands still run: nothing was subscribed
