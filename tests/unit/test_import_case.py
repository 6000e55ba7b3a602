"""``Engine.import_case``: a case registered from an existing record in the state the record gives it.

Each refusal leaves the store exactly as it was (state, audit log, timers); an accepted import is one
``case.imported`` event that replays to the stored case and verifies like any other.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from hazard_world import REGISTER, People
from hazardflow import CaseNotFoundError, InvalidInput, NotAuthorized, TransitionNotAllowed
from hazardflow.testing import snapshot_store
from reports_support import new_engine

ORIGIN = {"file": "三星乡台账.xlsx", "row": 7}
GENERAL = {**REGISTER, "grade": "general"}


def _import(engine: Any, state: str, **kw: Any) -> Any:
    args: dict[str, Any] = {"actor": People.officer, "jurisdiction": "500240204", "state": state, "origin": ORIGIN}
    args.update(kw)
    fields = args.pop("fields", GENERAL)
    return engine.import_case("hazard", **args, **fields)


def test_a_closed_record_is_one_audited_event_that_replays() -> None:
    engine, _ = new_engine()
    case = _import(
        engine,
        "closed",
        closed_on=date(2024, 1, 20),
        registered_on=date(2024, 1, 5),
        facts={"review_opinion": "整改到位，同意销号"},
        idempotency_key="ledger:abc",
    )
    assert case.state == "closed"
    assert case.closed_at == engine.now()
    assert case.fields["review_opinion"] == "整改到位，同意销号"
    assert case.fields["imported"] == {
        "file": "三星乡台账.xlsx",
        "row": 7,
        "state": "closed",
        "registered_on": "2024-01-05",
        "closed_on": "2024-01-20",
    }
    (event,) = engine.history(case.id)
    assert (event.trigger, event.type, event.from_state, event.to_state) == ("import", "case.imported", None, "closed")
    assert event.actor_id == People.officer.id
    assert event.payload["imported_from"] == {"file": "三星乡台账.xlsx", "row": 7}
    assert engine.verify_audit().ok
    assert not engine.store.due_timers(engine.now() + timedelta(days=400), limit=10)
    # A closed case stays closed: nothing but a look-back reopens it.
    with pytest.raises(TransitionNotAllowed):
        engine.fire(case.id, "approve", actor=People.officer2, payload={"opinion": "再审"})


def test_an_imported_running_stage_arms_its_deadline_and_the_case_carries_on() -> None:
    engine, clock = new_engine()
    case = _import(engine, "rectifying", pins={"rectify": date(2024, 3, 29)})
    assert case.deadline is not None
    assert case.deadline.key == "rectify"
    assert case.pins["rectify"] == case.deadline
    due = engine.store.due_timers(case.deadline.due_at, limit=10)
    assert sorted(t.kind for t in due if t.case_id == case.id) == ["deadline", "reminder"]
    done = engine.fire(
        case.id,
        "submit_review",
        actor=People.manager,
        payload={"evidence": ["photo.jpg"], "rectified_by": "陈维修"},
    )
    assert done.state == "under_review"
    clock.advance(timedelta(days=40))
    engine.run_due()
    # The imported rectify deadline was cancelled when the case moved on; only the review's own one ran out.
    overdue = [e.payload["key"] for e in engine.history(case.id) if e.trigger == "mark_overdue"]
    assert overdue == ["review"]


def test_a_stage_without_a_pinned_deadline_is_counted_by_the_policy_from_now() -> None:
    engine, _ = new_engine()
    case = _import(engine, "under_review", pins={"rectify": date(2023, 12, 31)})
    assert case.deadline is not None
    assert case.deadline.key == "review"
    assert case.deadline.start == engine.now()
    assert case.pins["rectify"].due_at < engine.now()  # a historical pin, not the running deadline


def test_owning_jurisdiction_moves_supervision_up() -> None:
    engine, _ = new_engine()
    case = _import(engine, "registered", owning_jurisdiction="500240")
    assert case.owning_jurisdiction == "500240"
    assert engine.history(case.id)[0].changes["owning_jurisdiction"] == "500240"


def test_reimporting_with_the_same_key_returns_the_first_case() -> None:
    engine, _ = new_engine()
    first = _import(engine, "closed", closed_on=date(2024, 1, 20), idempotency_key="ledger:1")
    before = snapshot_store(engine.store)
    again = _import(engine, "closed", closed_on=date(2024, 1, 20), idempotency_key="ledger:1")
    assert again == first
    assert snapshot_store(engine.store) == before
    with pytest.raises(InvalidInput, match="idempotency_key"):
        _import(engine, "closed", closed_on=date(2024, 1, 21), idempotency_key="ledger:1")
    assert snapshot_store(engine.store) == before


@pytest.mark.parametrize(
    ("kw", "field", "rule"),
    [
        ({"state": "finished"}, "state", "is not a state of workflow"),
        ({"state": "registered", "closed_on": date(2024, 1, 1)}, "closed_on", "only for a terminal state"),
        ({"state": "closed", "closed_on": "2024-01-01"}, "closed_on", "datetime.date"),
        (
            {"state": "closed", "closed_on": date(2024, 1, 1), "registered_on": date(2024, 2, 1)},
            "closed_on",
            "before registered_on",
        ),
        ({"state": "registered", "origin": {"row": 3}}, "origin.file", "is required"),
        ({"state": "registered", "origin": {"file": "a.xlsx", "row": 0}}, "origin.row", "row number"),
        ({"state": "registered", "origin": {"file": "a.xlsx", "row": 1, "by": "x"}}, "origin", "not a key"),
        ({"state": "registered", "origin": {"file": "a\x00.xlsx", "row": 1}}, "origin.file", "control character"),
        ({"state": "registered", "facts": {"grade": "major"}}, "facts.grade", "registration field"),
        ({"state": "registered", "facts": {"imported": {}}}, "facts.imported", "kept by the engine"),
        ({"state": "registered", "facts": {"plan": {1: "x"}}}, "facts.plan", "keys must be strings"),
        ({"state": "registered", "facts": {"when": date(2024, 1, 1)}}, "facts.when", "only strings"),
        ({"state": "registered", "facts": {"x": float("nan")}}, "facts.x", "finite"),
        ({"state": "registered", "pins": {"someday": date(2030, 1, 1)}}, "pins", "not a deadline key"),
        ({"state": "rectifying", "pins": {"rectify": "2030-01-01"}}, "pins.rectify", "datetime.date"),
        ({"state": "rectifying", "pins": {"rectify": date(2024, 3, 1)}}, "pins.rectify", "already past"),
        ({"state": "registered", "owning_jurisdiction": "500241"}, "owning_jurisdiction", ""),
        ({"state": "registered", "owning_jurisdiction": "500240105"}, "owning_jurisdiction", "division above it"),
        ({"state": "registered", "fields": {**GENERAL, "grade": "tiny"}}, "grade", ""),
        ({"state": "registered", "case_id": ""}, "case_id", "non-empty"),
    ],
)
def test_bad_imports_are_refused_naming_the_value_and_write_nothing(kw: dict[str, Any], field: str, rule: str) -> None:
    engine, _ = new_engine()
    _import(engine, "registered", case_id="HZ-OLD-1")
    before = snapshot_store(engine.store)
    state = kw.pop("state")
    with pytest.raises(InvalidInput) as err:
        _import(engine, state, **kw)
    assert err.value.field == field
    assert rule in str(err.value)
    assert snapshot_store(engine.store) == before


def test_only_who_may_close_a_case_may_import_it_closed() -> None:
    engine, _ = new_engine()
    before = snapshot_store(engine.store)
    # An inspector may register, but not void (作废): a voided record needs who may void.
    with pytest.raises(NotAuthorized) as err:
        _import(engine, "voided", actor=People.inspector, closed_on=date(2024, 1, 20))
    assert err.value.trigger == "import"
    assert "needs a role that may bring a case there" in str(err.value)
    # An officer of another township may not record a case here at all.
    with pytest.raises(NotAuthorized):
        _import(engine, "registered", actor=People.other_officer)
    assert snapshot_store(engine.store) == before
    # The inspector may import open hazards, in any open state (they carry on through the lifecycle) ...
    assert _import(engine, "registered", actor=People.inspector).state == "registered"
    assert _import(engine, "under_review", actor=People.inspector).state == "under_review"
    # ... and the safety manager, who may void, a voided one.
    voided = _import(engine, "voided", actor=People.manager, closed_on=date(2024, 1, 20), facts={"void_reason": "重复"})
    assert voided.state == "voided"


def test_an_existing_id_is_refused_and_unknown_cases_stay_unknown() -> None:
    engine, _ = new_engine()
    _import(engine, "registered", case_id="HZ-OLD-1")
    before = snapshot_store(engine.store)
    with pytest.raises(InvalidInput, match="already exists"):
        _import(engine, "closed", case_id="HZ-OLD-1", closed_on=date(2024, 1, 2))
    assert snapshot_store(engine.store) == before
    with pytest.raises(CaseNotFoundError):
        engine.get("HZ-OLD-2")


def test_an_import_inside_a_batch_is_refused_alone() -> None:
    engine, _ = new_engine()
    with engine.batch():
        ok = _import(engine, "registered")
        with pytest.raises(InvalidInput):
            _import(engine, "finished")
    assert engine.get(ok.id).state == "registered"
    assert len(list(engine.cases())) == 1
