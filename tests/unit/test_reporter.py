"""Reading a tip-off's reporter: only roles the policy allows, each reading audited, values never echoed."""

from __future__ import annotations

from typing import ClassVar

import pytest

from hazardflow import InvalidInput, NotAuthorized
from hazardflow.policies import NationalBaseline
from hazardflow.testing import snapshot_store
from workflow_support import (
    COUNTY_DESK,
    DESK,
    OFFICER,
    OTHER_DESK,
    TOWNSHIP,
    make_engine,
    person,
    receive,
    register,
    substantiate,
)


def test_complaint_officer_reads_the_reporter_and_the_reading_is_audited() -> None:
    engine = make_engine()
    t = receive(engine)
    identity = engine.reporter(t.id, DESK, purpose="回访举报人核实细节")
    assert identity == {"reporter_name": "举报人甲", "reporter_contact": "13900001111"}
    event = engine.history(t.id)[-1]
    assert event.type == "tipoff.reporter_viewed"
    assert event.trigger == "view_reporter"
    assert event.actor_id == DESK.id
    assert event.actor_role == "complaint_officer"
    assert event.reason == "回访举报人核实细节"
    assert event.from_state == event.to_state == "received"
    assert "举报人甲" not in str(event.to_dict())
    assert engine.get(t.id).state == "received"


def test_reporter_stays_readable_after_the_tipoff_is_finished() -> None:
    engine = make_engine()
    t = receive(engine)
    substantiate(engine, t.id)
    assert engine.reporter(t.id, DESK, purpose="发放举报奖励")["reporter_name"] == "举报人甲"
    assert engine.get(t.id).state == "substantiated"
    assert engine.verify_audit().ok


def test_county_complaint_officer_may_read_a_township_tipoff() -> None:
    engine = make_engine()
    t = receive(engine)
    assert engine.reporter(t.id, COUNTY_DESK, purpose="复核")["reporter_contact"] == "13900001111"


@pytest.mark.parametrize(
    "role",
    ["township_officer", "supervisor", "sector_department", "head", "leader_in_charge", "safety_manager"],
)
def test_other_roles_are_refused_and_nothing_is_written(role: str) -> None:
    engine = make_engine()
    t = receive(engine)
    actor = person("x", role, TOWNSHIP, org="500240204-BU-0007")
    with pytest.raises(NotAuthorized) as info:
        engine.reporter(t.id, actor, purpose="想知道是谁")
    err = info.value
    assert err.trigger == "view_reporter"
    assert err.required_roles == ("complaint_officer",)
    assert "'view_reporter' (查阅举报人信息)" in str(err)
    assert "举报人甲" not in str(err)
    assert "13900001111" not in repr(err)
    assert engine.get(t.id).rev == 1
    assert len(engine.history(t.id)) == 1


def test_complaint_officer_of_another_county_is_refused() -> None:
    engine = make_engine()
    t = receive(engine)
    with pytest.raises(NotAuthorized) as info:
        engine.reporter(t.id, OTHER_DESK, purpose="查阅")
    assert "outside the actor's jurisdiction" in info.value.reason
    assert engine.get(t.id).rev == 1


def test_policy_decides_who_may_read() -> None:
    class Stricter(NationalBaseline):
        policy_id: ClassVar[str] = "test.strict"
        jurisdiction: ClassVar[str] = TOWNSHIP
        reporter_roles: ClassVar[frozenset[str]] = frozenset({"head"})

    engine = make_engine(policies=[Stricter()])
    t = receive(engine)
    with pytest.raises(NotAuthorized):
        engine.reporter(t.id, DESK, purpose="查阅")
    head = person("t-head", "head", TOWNSHIP)
    assert engine.reporter(t.id, head, purpose="奖励审批")["reporter_name"] == "举报人甲"


def test_anonymous_report_has_no_identity() -> None:
    engine = make_engine()
    t = receive(engine, reporter_name=None, reporter_contact=None)
    assert engine.reporter(t.id, DESK, purpose="查阅") == {}


def test_purpose_is_required() -> None:
    engine = make_engine()
    t = receive(engine)
    with pytest.raises(InvalidInput) as info:
        engine.reporter(t.id, DESK, purpose="  ")
    assert info.value.field == "purpose"
    assert engine.get(t.id).rev == 1


def test_only_tipoffs_have_a_reporter() -> None:
    engine = make_engine()
    hazard = register(engine)
    with pytest.raises(InvalidInput) as info:
        engine.reporter(hazard.id, DESK, purpose="查阅")
    assert info.value.field == "case_id"
    assert "only a tip-off has a confidential reporter" in str(info.value)


def test_no_reading_inside_a_batch() -> None:
    engine = make_engine()
    t = receive(engine)
    with engine.batch(), pytest.raises(InvalidInput) as info:
        engine.reporter(t.id, DESK, purpose="查阅")
    assert "outside engine.batch()" in str(info.value)
    assert engine.get(t.id).rev == 1


@pytest.mark.parametrize(
    ("value", "rule"),
    [(13900001111, "must be a non-empty string"), ("举报人" * 100, "must be at most 200 characters")],
)
def test_a_bad_confidential_value_is_never_echoed(value: object, rule: str) -> None:
    engine = make_engine()
    with pytest.raises(InvalidInput) as info:
        receive(engine, reporter_contact=value)
    err = info.value
    assert err.field == "reporter_contact"
    assert rule in str(err)
    assert "<confidential>" in str(err)
    for text in (str(err), repr(err), str(err.details()), str(err.args)):
        assert str(value) not in text
        assert "13900001111" not in text
    assert list(engine.cases()) == []


def test_idempotent_receipt_covers_the_identity_without_storing_it() -> None:
    # The stored fingerprint holds a keyed digest of the confidential values, never the values: the same retry
    # is the same receipt, a different reporter under the same key is refused (never silently dropped).
    engine = make_engine()
    first = receive(engine, idempotency_key="12350-20240304-001")
    again = receive(engine, idempotency_key="12350-20240304-001")
    assert again.id == first.id
    before = snapshot_store(engine.store)
    with pytest.raises(InvalidInput) as info:
        receive(engine, idempotency_key="12350-20240304-001", reporter_name="别人")
    assert info.value.field == "idempotency_key"
    assert "别人" not in str(info.value)
    assert "别人" not in repr(info.value.details())
    assert snapshot_store(engine.store) == before
    assert len(list(engine.cases(workflow="tipoff"))) == 1
    with pytest.raises(InvalidInput) as info:
        receive(engine, idempotency_key="12350-20240304-001", location="别处")
    assert info.value.field == "idempotency_key"


def test_officer_cannot_fire_view_reporter_directly_to_read() -> None:
    # Firing the trigger records a reading but returns the case, never the identity.
    engine = make_engine()
    t = receive(engine)
    case = engine.fire(t.id, "view_reporter", actor=DESK, payload={"purpose": "查阅"})
    assert "reporter_name" not in case.fields
    with pytest.raises(NotAuthorized):
        engine.fire(t.id, "view_reporter", actor=OFFICER, payload={"purpose": "查阅"})
