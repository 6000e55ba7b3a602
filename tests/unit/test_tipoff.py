"""The tip-off workflow: receipt, verification deadline, substantiation into a hazard, dismissal, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import pytest

from hazardflow import GuardRejected, InvalidInput, NotAuthorized, TransitionNotAllowed
from hazardflow.policies import NationalBaseline
from workflow_support import (
    COUNTY,
    COUNTY_DESK,
    DESK,
    OFFICER,
    OTHER_DESK,
    OTHER_TOWNSHIP,
    SAFETY_MANAGER,
    TOWNSHIP,
    UNIT,
    make_engine,
    receive,
    register,
    snapshot,
    substantiate,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# ── receipt and the verification deadline ──────────────────────────────────────────────────────────
def test_receipt_keeps_the_reporter_out_of_the_case() -> None:
    engine = make_engine()
    t = receive(engine)
    assert t.state == "received"
    assert t.workflow == "tipoff"
    assert t.id.startswith("TO-")
    assert "reporter_name" not in t.fields
    assert "reporter_contact" not in t.fields
    assert t.fields["anonymous"] is False
    assert t.fields["received_by"] == DESK.id
    (event,) = engine.history(t.id)
    assert event.type == "tipoff.received"
    assert "reporter_name" not in event.payload
    assert "举报人甲" not in str(event.to_dict())


def test_anonymous_report_is_flagged() -> None:
    engine = make_engine()
    t = receive(engine, reporter_name=None, reporter_contact=None)
    assert t.fields["anonymous"] is True


def test_blocked_fire_exit_must_be_verified_within_24_hours() -> None:
    engine = make_engine()
    t = receive(engine, category="blocked_fire_exit")
    assert t.deadline is not None
    assert t.deadline.key == "verify"
    assert t.deadline.due_at == utc("2024-03-05T09:00:00+08:00")
    timers = engine.store.armed_timers(t.id)
    assert [(x.kind, x.key, x.due_at) for x in timers] == [("deadline", "verify", t.deadline.due_at)]


def test_disabled_fire_system_is_also_24_hours() -> None:
    t = receive(make_engine(), category="fire_system_disabled")
    assert t.deadline is not None
    assert t.deadline.due_at == utc("2024-03-05T09:00:00+08:00")


def test_other_reports_get_three_working_days() -> None:
    # Monday 09:00 → the end of Thursday.
    t = receive(make_engine(), category="other")
    assert t.deadline is not None
    assert t.deadline.due_at == utc("2024-03-08T00:00:00+08:00")


def test_three_working_days_skip_the_national_day_holiday() -> None:
    # Friday 27 Sep 2024: Sunday 29 Sep is a make-up working day, 1-7 Oct are off: due at the end of 8 Oct.
    engine = make_engine()
    engine.clock.set("2024-09-27T16:00:00+08:00")  # type: ignore[attr-defined]
    t = receive(engine, category="other")
    assert t.deadline is not None
    assert t.deadline.due_at == utc("2024-10-09T00:00:00+08:00")


def test_the_verification_clock_runs_from_receipt() -> None:
    engine = make_engine()
    t = receive(engine)
    engine.clock.advance(hours=5)  # type: ignore[attr-defined]
    v = engine.fire(t.id, "start_verification", actor=OFFICER, payload={"plan": "现场检查"})
    assert v.state == "verifying"
    assert v.deadline == t.deadline
    assert v.fields["verifier"] == OFFICER.id
    assert [x.due_at for x in engine.store.armed_timers(t.id)] == [t.deadline.due_at]  # type: ignore[union-attr]


def test_missed_verification_deadline_flags_the_tipoff_overdue() -> None:
    engine = make_engine()
    t = receive(engine)
    engine.fire(t.id, "start_verification", actor=OFFICER)
    engine.clock.advance(hours=25)  # type: ignore[attr-defined]
    report = engine.run_due()
    assert report.fired == 1
    late = engine.get(t.id)
    assert late.state == "verifying"
    assert late.overdue is True
    assert engine.history(t.id)[-1].type == "case.overdue"
    # Still possible to finish the check late.
    hazard = engine.get(
        engine.fire(
            t.id,
            "substantiate",
            actor=OFFICER,
            payload={"findings": "属实", "grade": "general", "nature": "unsafe_act"},
        ).fields["hazard_id"]
    )
    assert hazard.state == "registered"
    assert engine.store.armed_timers(t.id) == []


def test_policy_may_shorten_the_verification_deadline() -> None:
    from hazardflow import DeadlineSpec

    class FastTown(NationalBaseline):
        policy_id: ClassVar[str] = "test.fast"
        jurisdiction: ClassVar[str] = TOWNSHIP

        def deadline(self, key, case):  # type: ignore[no-untyped-def]
            if key == "verify":
                return DeadlineSpec.hours(4, source="test")
            return super().deadline(key, case)

    engine = make_engine(policies=[FastTown()])
    t = receive(engine, category="other")
    assert t.policy_id == "test.fast"
    assert t.deadline is not None
    assert t.deadline.due_at == utc("2024-03-04T13:00:00+08:00")


# ── substantiation opens the hazard ────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("channel", "source"),
    [("public", "public_report_verified"), ("internal_whistleblower", "internal_whistleblower")],
)
def test_substantiation_opens_a_linked_hazard(channel: str, source: str) -> None:
    engine = make_engine()
    t = receive(engine, channel=channel)
    hazard = substantiate(engine, t.id, grade="general", nature="unsafe_condition")
    tipoff = engine.get(t.id)
    assert tipoff.state == "substantiated"
    assert tipoff.closed_at is not None
    assert tipoff.fields["hazard_id"] == hazard.id
    assert hazard.workflow == "hazard"
    assert hazard.state == "registered"
    assert hazard.source == source
    assert hazard.fields["tipoff_id"] == t.id
    # Facts come from the tip-off where the command does not restate them.
    assert hazard.business_unit == UNIT
    assert hazard.fields["location"] == t.fields["location"]
    assert hazard.fields["description"] == t.fields["description"]
    assert hazard.industry == "fire_safety"
    assert hazard.jurisdiction == TOWNSHIP
    # One transaction: both cases' events carry the same instant; the hazard's opener is the verifier.
    (opened,) = engine.history(hazard.id)
    assert opened.type == "case.registered"
    assert opened.actor_id == OFFICER.id
    assert engine.history(t.id)[-1].type == "tipoff.substantiated"
    assert engine.verify_audit().ok


def test_command_facts_override_the_tipoff() -> None:
    engine = make_engine()
    t = receive(engine)
    hazard = substantiate(
        engine, t.id, location="仓库二号门", industry="industry_trade", criteria=["GB 35181 4.1"], title="安全出口堵塞"
    )
    assert hazard.fields["location"] == "仓库二号门"
    assert hazard.industry == "industry_trade"
    assert hazard.department == "emergency_management"
    assert hazard.fields["criteria"] == ("GB 35181 4.1",)
    assert hazard.fields["title"] == "安全出口堵塞"


def test_reward_flag_follows_the_policy() -> None:
    class NoPublicReward(NationalBaseline):
        policy_id: ClassVar[str] = "test.reward"
        jurisdiction: ClassVar[str] = TOWNSHIP
        reward_channels: ClassVar[frozenset[str]] = frozenset({"internal_whistleblower"})

    engine = make_engine(policies=[NoPublicReward()])
    public = receive(engine, channel="public")
    insider = receive(engine, channel="internal_whistleblower")
    substantiate(engine, public.id)
    substantiate(engine, insider.id)
    assert engine.get(public.id).fields["reward_eligible"] is False
    assert engine.get(insider.id).fields["reward_eligible"] is True
    # The baseline rewards every substantiated report [S3 §73 verify].
    base = make_engine()
    t = receive(base)
    substantiate(base, t.id)
    assert base.get(t.id).fields["reward_eligible"] is True


def test_dismissed_and_merged_reports_carry_no_reward_flag() -> None:
    engine = make_engine()
    t = receive(engine)
    engine.fire(t.id, "start_verification", actor=OFFICER)
    engine.fire(t.id, "dismiss", actor=OFFICER, payload={"reason": "现场无此情况"})
    assert "reward_eligible" not in engine.get(t.id).fields


def test_county_tipoff_opens_the_hazard_in_the_township_register() -> None:
    engine = make_engine()
    t = receive(engine, actor=COUNTY_DESK, jurisdiction=COUNTY)
    engine.fire(t.id, "start_verification", actor=COUNTY_DESK)
    tipoff = engine.fire(
        t.id,
        "substantiate",
        actor=COUNTY_DESK,
        payload={"findings": "属实", "grade": "general", "nature": "unsafe_condition", "jurisdiction": TOWNSHIP},
    )
    hazard = engine.get(tipoff.fields["hazard_id"])
    assert hazard.jurisdiction == TOWNSHIP
    assert hazard.owning_jurisdiction == TOWNSHIP


def test_hazard_jurisdiction_outside_the_tipoff_is_refused() -> None:
    engine = make_engine()
    t = receive(engine)
    engine.fire(t.id, "start_verification", actor=OFFICER)
    before = snapshot(engine, t.id)
    with pytest.raises(GuardRejected) as info:
        engine.fire(
            t.id,
            "substantiate",
            actor=OFFICER,
            payload={"findings": "属实", "grade": "general", "nature": "unsafe_act", "jurisdiction": OTHER_TOWNSHIP},
        )
    err = info.value
    assert err.guard == "hazard_jurisdiction_within"
    assert err.trigger == "substantiate"
    assert OTHER_TOWNSHIP in str(err)
    assert "outside the tip-off's jurisdiction" in str(err)
    assert snapshot(engine, t.id) == before
    assert list(engine.cases(workflow="hazard")) == []


def test_missing_hazard_facts_are_named() -> None:
    engine = make_engine()
    t = receive(engine, business_unit=None, industry=None)
    engine.fire(t.id, "start_verification", actor=OFFICER)
    with pytest.raises(GuardRejected) as info:
        engine.fire(
            t.id,
            "substantiate",
            actor=OFFICER,
            payload={"findings": "属实", "grade": "general", "nature": "unsafe_act"},
        )
    assert info.value.guard == "hazard_facts_complete"
    assert "business_unit, industry" in str(info.value)
    assert "business_unit、industry" in info.value.reason_zh
    hazard = substantiate_again(engine, t.id)
    assert hazard.business_unit == "某物流公司"


def substantiate_again(engine, tipoff_id):  # type: ignore[no-untyped-def]
    tipoff = engine.fire(
        tipoff_id,
        "substantiate",
        actor=OFFICER,
        payload={
            "findings": "属实",
            "grade": "general",
            "nature": "unsafe_act",
            "business_unit": "某物流公司",
            "industry": "road_transport",
        },
    )
    return engine.get(tipoff.fields["hazard_id"])


def test_substantiation_needs_verification_first() -> None:
    engine = make_engine()
    t = receive(engine)
    before = snapshot(engine, t.id)
    with pytest.raises(TransitionNotAllowed) as info:
        engine.fire(
            t.id, "substantiate", actor=OFFICER, payload={"findings": "x", "grade": "general", "nature": "unsafe_act"}
        )
    err = info.value
    assert err.state == "received"
    # What the officer may do now (engine.allowed): reading the reporter's identity is for other roles.
    assert err.allowed == tuple(engine.allowed(t.id, OFFICER)) == ("merge_duplicate", "start_verification")
    assert "'substantiate' (举报查实)" in str(err)
    assert "'received' (已受理)" in str(err)
    assert snapshot(engine, t.id) == before


def test_dismissal_needs_a_reason_and_opens_nothing() -> None:
    engine = make_engine()
    t = receive(engine)
    engine.fire(t.id, "start_verification", actor=OFFICER)
    with pytest.raises(InvalidInput) as info:
        engine.fire(t.id, "dismiss", actor=OFFICER, payload={})
    assert info.value.field == "reason"
    assert "is required" in str(info.value)
    done = engine.fire(t.id, "dismiss", actor=OFFICER, payload={"reason": "现场核查无此情况"})
    assert done.state == "unfounded"
    assert done.fields["dismissed_by"] == OFFICER.id
    assert engine.history(t.id)[-1].reason == "现场核查无此情况"
    assert list(engine.cases(workflow="hazard")) == []
    assert engine.store.armed_timers(t.id) == []


def test_internal_report_must_name_the_unit() -> None:
    engine = make_engine()
    with pytest.raises(GuardRejected) as info:
        receive(engine, channel="internal_whistleblower", business_unit=None)
    assert info.value.guard == "internal_names_unit"
    assert "must name the business unit" in str(info.value)
    assert list(engine.cases()) == []


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("channel", "wechat", "is not one of the allowed values"),
        ("category", "gas_leak", "is not one of the allowed values"),
        ("description", "", "must be a non-empty string"),
        ("industry", "mining", "is not one of the allowed values"),
    ],
)
def test_bad_receipt_fields_are_refused(field: str, value: object, rule: str) -> None:
    engine = make_engine()
    with pytest.raises(InvalidInput) as info:
        receive(engine, **{field: value})
    assert info.value.field == field
    assert rule in str(info.value)
    assert list(engine.cases()) == []


def test_only_handlers_receive_tipoffs() -> None:
    engine = make_engine()
    with pytest.raises(NotAuthorized) as info:
        receive(engine, actor=SAFETY_MANAGER)
    assert info.value.trigger == "receive_tipoff"
    assert "complaint_officer" in info.value.required_roles
    assert list(engine.cases()) == []


def test_tipoff_outside_the_actors_jurisdiction_is_refused() -> None:
    engine = make_engine()
    with pytest.raises(NotAuthorized) as info:
        receive(engine, actor=OTHER_DESK, jurisdiction=TOWNSHIP)
    assert "outside the actor's jurisdiction" in info.value.reason


# ── a verified source only through a tip-off (invariant 6) ─────────────────────────────────────────
@pytest.mark.parametrize("source", ["public_report_verified", "internal_whistleblower"])
def test_reported_sources_cannot_be_registered_directly(source: str) -> None:
    engine = make_engine()
    with pytest.raises(GuardRejected) as info:
        register(engine, source=source)
    err = info.value
    assert err.guard == "source_needs_verification"
    assert err.trigger == "register"
    assert "only by substantiating its tip-off" in str(err)
    assert "举报线索须经核查属实" in str(err)
    assert list(engine.cases()) == []


def test_tipoff_link_cannot_be_forged_at_registration() -> None:
    engine = make_engine()
    t = receive(engine)
    with pytest.raises(GuardRejected) as info:
        register(engine, tipoff_id=t.id)
    assert info.value.guard == "source_needs_verification"
    assert "set by the tip-off workflow" in str(info.value)


# ── duplicates ─────────────────────────────────────────────────────────────────────────────────────
def test_duplicate_report_is_linked_instead_of_opening_a_second_case() -> None:
    engine = make_engine()
    first = receive(engine)
    hazard = substantiate(engine, first.id)
    second = receive(engine, reporter_name="举报人乙", reporter_contact="13900002222")
    merged = engine.fire(second.id, "merge_duplicate", actor=DESK, payload={"hazard_id": hazard.id, "note": "同一仓库"})
    assert merged.state == "merged"
    assert merged.fields["hazard_id"] == hazard.id
    linked = engine.get(hazard.id)
    assert linked.fields["linked_tipoffs"] == (second.id,)
    assert engine.history(hazard.id)[-1].type == "case.tipoff_linked"
    assert engine.history(hazard.id)[-1].actor_id == "system"
    assert [c.id for c in engine.cases(workflow="hazard")] == [hazard.id]
    assert "reward_eligible" not in merged.fields
    assert engine.store.armed_timers(second.id) == []


def test_duplicate_of_a_directly_registered_hazard_during_verification() -> None:
    engine = make_engine()
    hazard = register(engine)
    t = receive(engine)
    engine.fire(t.id, "start_verification", actor=OFFICER)
    engine.fire(t.id, "merge_duplicate", actor=OFFICER, payload={"hazard_id": hazard.id})
    assert engine.get(hazard.id).fields["linked_tipoffs"] == (t.id,)


@pytest.mark.parametrize("target", ["missing", "closed", "tipoff", "elsewhere"])
def test_merge_refusals(target: str) -> None:
    engine = make_engine()
    t = receive(engine)
    if target == "missing":
        hazard_id, words = "HZ-999999", "there is no hazard case 'HZ-999999'"
    elif target == "tipoff":
        hazard_id, words = receive(engine).id, "there is no hazard case"
    elif target == "closed":
        h = register(engine)
        engine.fire(h.id, "fix_on_spot", actor=OFFICER, payload={"fixed_by": "u-worker", "measures": "清理"})
        hazard_id, words = h.id, "is finished (closed)"
    else:
        h = register(engine, jurisdiction=OTHER_TOWNSHIP, actor=person_in(OTHER_TOWNSHIP))
        hazard_id, words = h.id, "outside the actor's jurisdiction"
    before = snapshot(engine, t.id, hazard_id) if target != "missing" else snapshot(engine, t.id)
    with pytest.raises(GuardRejected) as info:
        engine.fire(t.id, "merge_duplicate", actor=DESK, payload={"hazard_id": hazard_id})
    assert info.value.guard == "duplicate_target_open"
    assert words in str(info.value)
    after = snapshot(engine, t.id, hazard_id) if target != "missing" else snapshot(engine, t.id)
    assert after == before


def person_in(where: str):  # type: ignore[no-untyped-def]
    from workflow_support import person

    return person("x-officer", "township_officer", where)


def test_the_hazard_side_link_is_system_only() -> None:
    engine = make_engine()
    hazard = register(engine)
    with pytest.raises(NotAuthorized) as info:
        engine.fire(hazard.id, "link_tipoff", actor=OFFICER, payload={"tipoff_id": "TO-1"})
    assert "only the engine fires this trigger" in str(info.value)
    assert engine.get(hazard.id).rev == 1


def test_allowed_lists_what_a_handler_may_do() -> None:
    engine = make_engine()
    t = receive(engine)
    assert engine.allowed(t.id, OFFICER) == ["merge_duplicate", "start_verification"]
    assert engine.allowed(t.id, DESK) == ["merge_duplicate", "start_verification", "view_reporter"]
    assert engine.allowed(t.id, SAFETY_MANAGER) == []
