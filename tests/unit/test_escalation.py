"""The escalation workflow: 全量库 → 蓄水池, the admission procedure, and supervision moving up (invariant 4)."""

from __future__ import annotations

from typing import ClassVar

import pytest

from hazardflow import GuardRejected, GuardResult, InvalidInput, NotAuthorized, TransitionNotAllowed
from hazardflow.policies import NationalBaseline
from hazardflow.workflows.escalation import full_register, pool
from workflow_support import (
    CITY,
    CITY_OFFICE,
    COUNTY,
    COUNTY_HEAD,
    COUNTY_LEADER,
    COUNTY_OFFICE,
    COUNTY_SUPERVISOR,
    EMERGENCY_OFFICE,
    HEAD,
    LEADER,
    OFFICER,
    OTHER_TOWNSHIP,
    PRINCIPAL,
    SAFETY_MANAGER,
    TOWNSHIP,
    admit,
    escalate,
    make_engine,
    person,
    propose,
    register,
    snapshot,
)


def _to_review(engine, hazard_id):  # type: ignore[no-untyped-def]
    engine.fire(
        hazard_id,
        "set_deadline",
        actor=OFFICER,
        payload={"deadline": "2024-06-30", "measures": "补设连墙件", "responsible": "项目经理"},
    )
    engine.fire(
        hazard_id, "submit_review", actor=SAFETY_MANAGER, payload={"evidence": ["照片.jpg"], "rectified_by": "u-worker"}
    )


# ── the whole path ─────────────────────────────────────────────────────────────────────────────────
def test_township_to_county_pool_and_supervision_moves_up() -> None:
    engine = make_engine()
    hazard = register(engine)
    assert [c.id for c in full_register(engine, TOWNSHIP)] == [hazard.id]

    esc = propose(engine, hazard.id, reason="high_risk", explanation="涉及学校，风险较大")
    assert esc.state == "proposed"
    assert esc.jurisdiction == TOWNSHIP
    assert esc.owning_jurisdiction == TOWNSHIP
    assert esc.fields["target_jurisdiction"] == COUNTY
    assert esc.fields["steps"] == ("leader_in_charge", "head")
    assert engine.get(hazard.id).fields["escalation_pending"] == esc.id
    assert engine.history(hazard.id)[-1].type == "case.escalation_recorded"

    first = engine.fire(esc.id, "approve_escalation", actor=LEADER, payload={"opinion": "同意"})
    assert first.state == "approving"
    assert engine.history(esc.id)[-1].actor_role == "leader_in_charge"
    second = engine.fire(esc.id, "approve_escalation", actor=HEAD, payload={"opinion": "同意"})
    assert second.state == "pooled"
    assert second.owning_jurisdiction == COUNTY
    assert [a["step"] for a in second.fields["approvals"]] == ["leader_in_charge", "head"]
    assert [a["by"] for a in second.fields["approvals"]] == [LEADER.id, HEAD.id]
    assert [c.id for c in pool(engine, COUNTY)] == [esc.id]
    assert list(pool(engine, TOWNSHIP)) == []
    # Pooled, not yet accepted: the township still supervises the hazard.
    assert engine.get(hazard.id).owning_jurisdiction == TOWNSHIP

    done = engine.fire(esc.id, "accept_escalation", actor=COUNTY_OFFICE, payload={"opinion": "纳入县级蓄水池"})
    assert done.state == "accepted"
    moved = engine.get(hazard.id)
    assert moved.owning_jurisdiction == COUNTY
    assert moved.fields["escalation_id"] == esc.id
    assert moved.fields["escalation_pending"] is None
    assert engine.history(hazard.id)[-1].type == "case.supervision_transferred"
    assert engine.history(hazard.id)[-1].changes["owning_jurisdiction"] == COUNTY
    assert list(full_register(engine, TOWNSHIP)) == []
    assert [c.id for c in full_register(engine, COUNTY)] == [hazard.id]
    assert list(pool(engine, COUNTY)) == []
    assert engine.verify_audit().ok


def test_after_acceptance_the_lower_tier_can_no_longer_approve_or_void() -> None:
    engine = make_engine()
    hazard = register(engine)
    escalate(engine, hazard.id)
    _to_review(engine, hazard.id)
    before = snapshot(engine, hazard.id)
    for actor, trigger, payload in [
        (OFFICER, "approve", {"opinion": "同意销号"}),
        (OFFICER, "void", {"reason": "误报"}),
        (OFFICER, "reject", {"reason": "不合格"}),
        (SAFETY_MANAGER, "approve", {"opinion": "同意"}),
    ]:
        with pytest.raises(NotAuthorized) as info:
            engine.fire(hazard.id, trigger, actor=actor, payload=payload)
        assert info.value.trigger == trigger
        assert COUNTY in info.value.reason or "supervision of the case moved" in info.value.reason
    assert snapshot(engine, hazard.id) == before
    assert "approve" not in engine.allowed(hazard.id, OFFICER)
    assert "void" not in engine.allowed(hazard.id, OFFICER)
    # The township still does the daily work on the case.
    assert "order_stop" in engine.allowed(hazard.id, OFFICER)
    # The county closes it.
    closed = engine.fire(hazard.id, "approve", actor=COUNTY_SUPERVISOR, payload={"opinion": "复核通过"})
    assert closed.state == "closed"


def test_upper_tier_may_list_assign_and_void_after_acceptance() -> None:
    engine = make_engine()
    hazard = register(engine, grade="major")
    escalate(engine, hazard.id)
    assigned = engine.fire(
        hazard.id,
        "assign_department",
        actor=COUNTY_OFFICE,
        payload={"department": "emergency_management", "reason": "县安委办交办应急局"},
    )
    assert assigned.department == "emergency_management"
    with pytest.raises(NotAuthorized):
        engine.fire(hazard.id, "assign_department", actor=OFFICER, payload={"department": "transport"})
    voided = engine.fire(hazard.id, "void", actor=COUNTY_SUPERVISOR, payload={"reason": "与HZ-1重复登记"})
    assert voided.state == "voided"


def test_upper_tier_lists_an_escalated_major_hazard() -> None:
    engine = make_engine()
    hazard = register(engine, grade="major")
    engine.fire(hazard.id, "confirm_major", actor=SAFETY_MANAGER, payload={"opinion": "确认"})
    for r in ("supervising_department", "workers_congress"):
        engine.fire(
            hazard.id,
            "report",
            actor=PRINCIPAL,
            payload={"recipient": r, "status_and_cause": "x", "harm_and_difficulty": "y", "plan_summary": "z"},
        )
    escalate(engine, hazard.id)
    listed = engine.fire(
        hazard.id, "list_for_supervision", actor=COUNTY_OFFICE, payload={"document_no": "石安办〔2024〕5号"}
    )
    assert listed.listed is True
    assert listed.fields["listing"]["jurisdiction"] == COUNTY


# ── the admission procedure ────────────────────────────────────────────────────────────────────────
def test_steps_run_in_the_policy_order() -> None:
    engine = make_engine()
    esc = propose(engine, register(engine).id)
    before = snapshot(engine, esc.id)
    with pytest.raises(NotAuthorized) as info:
        engine.fire(esc.id, "approve_escalation", actor=HEAD, payload={"opinion": "同意"})
    err = info.value
    assert err.required_roles == ("leader_in_charge",)
    assert "'leader_in_charge' (分管领导)" in str(err)
    assert snapshot(engine, esc.id) == before
    assert engine.allowed(esc.id, HEAD) == ["withdraw_escalation"]
    assert "approve_escalation" in engine.allowed(esc.id, LEADER)


def test_each_step_is_signed_by_a_different_person() -> None:
    engine = make_engine()
    both = person("t-both", ("leader_in_charge", "head"), TOWNSHIP)
    esc = propose(engine, register(engine).id)
    engine.fire(esc.id, "approve_escalation", actor=both, payload={"opinion": "同意"})
    with pytest.raises(GuardRejected) as info:
        engine.fire(esc.id, "approve_escalation", actor=both, payload={"opinion": "同意"})
    assert info.value.guard == "distinct_approver"
    assert "different person" in str(info.value)
    assert "approve_escalation" not in engine.allowed(esc.id, both)
    assert engine.get(esc.id).state == "approving"


def test_proposer_may_not_approve() -> None:
    engine = make_engine()
    drafter = person("t-drafter", ("emergency_office", "leader_in_charge"), TOWNSHIP)
    esc = propose(engine, register(engine).id, actor=drafter)
    with pytest.raises(GuardRejected) as info:
        engine.fire(esc.id, "approve_escalation", actor=drafter, payload={"opinion": "同意"})
    assert info.value.guard == "distinct_approver"
    assert "proposed the escalation" in str(info.value)


def test_admission_is_signed_at_the_proposing_tier() -> None:
    engine = make_engine()
    esc = propose(engine, register(engine).id)
    with pytest.raises(GuardRejected) as info:
        engine.fire(esc.id, "approve_escalation", actor=COUNTY_LEADER, payload={"opinion": "同意"})
    assert info.value.guard == "approver_at_proposing_tier"
    assert TOWNSHIP in str(info.value)
    other = person("x-leader", "leader_in_charge", OTHER_TOWNSHIP)
    with pytest.raises(NotAuthorized):
        engine.fire(esc.id, "approve_escalation", actor=other, payload={"opinion": "同意"})


def test_single_step_procedure_pools_on_the_first_approval() -> None:
    class HeadOnly(NationalBaseline):
        policy_id: ClassVar[str] = "test.head_only"
        jurisdiction: ClassVar[str] = TOWNSHIP
        escalation_procedure: ClassVar[tuple[str, ...]] = ("head",)

    engine = make_engine(policies=[HeadOnly()])
    esc = propose(engine, register(engine).id)
    with pytest.raises(NotAuthorized):
        engine.fire(esc.id, "approve_escalation", actor=LEADER, payload={"opinion": "同意"})
    assert engine.fire(esc.id, "approve_escalation", actor=HEAD, payload={"opinion": "同意"}).state == "pooled"


def test_three_step_procedure() -> None:
    class ThreeSteps(NationalBaseline):
        policy_id: ClassVar[str] = "test.three"
        jurisdiction: ClassVar[str] = TOWNSHIP
        escalation_procedure: ClassVar[tuple[str, ...]] = ("emergency_office", "leader_in_charge", "head")

    engine = make_engine(policies=[ThreeSteps()])
    esc = propose(engine, register(engine).id, actor=OFFICER)
    assert admit(engine, esc.id, EMERGENCY_OFFICE, LEADER).state == "approving"
    assert admit(engine, esc.id, HEAD).state == "pooled"


def test_a_policy_without_a_procedure_cannot_escalate() -> None:
    class NoPool(NationalBaseline):
        policy_id: ClassVar[str] = "test.nopool"
        jurisdiction: ClassVar[str] = TOWNSHIP
        escalation_procedure: ClassVar[tuple[str, ...]] = ()

    engine = make_engine(policies=[NoPool()])
    hazard = register(engine)
    with pytest.raises(GuardRejected) as info:
        propose(engine, hazard.id)
    assert info.value.guard == "procedure_defined"
    assert list(engine.cases(workflow="escalation")) == []
    assert engine.get(hazard.id).rev == 1


def test_policy_eligibility_is_asked() -> None:
    class MajorOnly(NationalBaseline):
        policy_id: ClassVar[str] = "test.major_only"
        jurisdiction: ClassVar[str] = TOWNSHIP

        def escalation_eligible(self, hazard):  # type: ignore[no-untyped-def]
            if not self.is_major(hazard):
                return GuardResult.deny("一般隐患由乡镇自行整改销号", "a general hazard is fixed by the township")
            return GuardResult.allow()

    engine = make_engine(policies=[MajorOnly()])
    general = register(engine)
    with pytest.raises(GuardRejected) as info:
        propose(engine, general.id)
    assert info.value.guard == "policy_eligible"
    assert "fixed by the township" in str(info.value)
    assert propose(engine, register(engine, grade="major").id).state == "proposed"


# ── proposal refusals ──────────────────────────────────────────────────────────────────────────────
def test_propose_refusals_name_the_problem() -> None:
    engine = make_engine()
    hazard = register(engine)
    fixed = register(engine)
    engine.fire(fixed.id, "fix_on_spot", actor=OFFICER, payload={"fixed_by": "u-worker", "measures": "加固"})
    cases = [
        ({"hazard_id": "HZ-404"}, "hazard_escalable", "there is no hazard case 'HZ-404'"),
        ({"hazard_id": fixed.id}, "hazard_escalable", "is finished (closed)"),
        ({"hazard_id": hazard.id, "target_jurisdiction": TOWNSHIP}, "target_above", "must be above"),
        ({"hazard_id": hazard.id, "target_jurisdiction": "500241"}, "target_above", "must be above"),
    ]
    for over, guard, words in cases:
        before = snapshot(engine, hazard.id, fixed.id)
        with pytest.raises(GuardRejected) as info:
            propose(engine, **over)
        assert info.value.guard == guard
        assert info.value.trigger == "propose_escalation"
        assert words in str(info.value)
        assert snapshot(engine, hazard.id, fixed.id) == before
    assert list(engine.cases(workflow="escalation")) == []


def test_propose_bad_input() -> None:
    engine = make_engine()
    hazard = register(engine)
    with pytest.raises(InvalidInput) as info:
        propose(engine, hazard.id, reason="too_hard")
    assert info.value.field == "reason"
    assert info.value.allowed == ("beyond_capacity", "high_risk")
    with pytest.raises(InvalidInput) as info:
        propose(engine, hazard.id, target_jurisdiction="5002")
    assert info.value.field == "target_jurisdiction"
    with pytest.raises(InvalidInput) as info:
        propose(engine, hazard.id, explanation="")
    assert info.value.field == "explanation"
    assert list(engine.cases(workflow="escalation")) == []


def test_one_escalation_at_a_time() -> None:
    engine = make_engine()
    hazard = register(engine)
    first = propose(engine, hazard.id)
    with pytest.raises(GuardRejected) as info:
        propose(engine, hazard.id)
    assert f"already has escalation {first.id!r} under way" in str(info.value)


def test_only_the_owning_tier_proposes() -> None:
    engine = make_engine()
    hazard = register(engine)
    with pytest.raises(GuardRejected) as info:
        propose(engine, hazard.id, actor=COUNTY_OFFICE, jurisdiction=COUNTY)
    assert info.value.guard == "hazard_escalable"
    assert f"supervised by {TOWNSHIP!r}" in str(info.value)


def test_unit_roles_cannot_propose() -> None:
    engine = make_engine()
    with pytest.raises(NotAuthorized):
        propose(engine, register(engine).id, actor=PRINCIPAL)


# ── the pool's decision ────────────────────────────────────────────────────────────────────────────
def test_returned_with_reason_stays_in_the_township() -> None:
    engine = make_engine()
    hazard = register(engine)
    esc = propose(engine, hazard.id)
    admit(engine, esc.id)
    with pytest.raises(InvalidInput):
        engine.fire(esc.id, "return_escalation", actor=COUNTY_OFFICE, payload={})
    back = engine.fire(esc.id, "return_escalation", actor=COUNTY_OFFICE, payload={"reason": "乡镇可自行整改"})
    assert back.state == "returned"
    assert engine.history(esc.id)[-1].reason == "乡镇可自行整改"
    h = engine.get(hazard.id)
    assert h.owning_jurisdiction == TOWNSHIP
    assert h.fields["escalation_pending"] is None
    assert [c.id for c in full_register(engine, TOWNSHIP)] == [hazard.id]
    # The township fixes and closes it itself, as before.
    _to_review(engine, hazard.id)
    assert engine.fire(hazard.id, "approve", actor=OFFICER, payload={"opinion": "验收通过"}).state == "closed"
    # And it could have proposed again.
    assert engine.verify_audit().ok


def test_proposal_again_after_return() -> None:
    engine = make_engine()
    hazard = register(engine)
    esc = propose(engine, hazard.id)
    admit(engine, esc.id)
    engine.fire(esc.id, "return_escalation", actor=COUNTY_OFFICE, payload={"reason": "材料不全"})
    again = propose(engine, hazard.id, explanation="补充材料后再次提请")
    assert again.state == "proposed"


def test_only_the_pool_tier_decides() -> None:
    engine = make_engine()
    esc = propose(engine, register(engine).id)
    admit(engine, esc.id)
    lower = person("t-office", "safety_committee_office", TOWNSHIP)
    with pytest.raises(NotAuthorized) as info:
        engine.fire(esc.id, "accept_escalation", actor=lower, payload={})
    assert COUNTY in info.value.reason
    with pytest.raises(GuardRejected) as g:
        engine.fire(esc.id, "accept_escalation", actor=CITY_OFFICE, payload={})
    assert g.value.guard == "at_pool_tier"
    assert "the pool belongs to '500240'" in str(g.value)
    assert engine.get(esc.id).state == "pooled"


def test_withdraw_before_admission_only() -> None:
    engine = make_engine()
    hazard = register(engine)
    esc = propose(engine, hazard.id)
    engine.fire(esc.id, "approve_escalation", actor=LEADER, payload={"opinion": "同意"})
    w = engine.fire(esc.id, "withdraw_escalation", actor=EMERGENCY_OFFICE, payload={"reason": "企业已筹得资金"})
    assert w.state == "withdrawn"
    assert engine.get(hazard.id).fields["escalation_pending"] is None
    esc2 = propose(engine, hazard.id)
    admit(engine, esc2.id)
    with pytest.raises(TransitionNotAllowed) as info:
        engine.fire(esc2.id, "withdraw_escalation", actor=EMERGENCY_OFFICE, payload={"reason": "x"})
    # Once admitted, only the pool's keeper acts on it: nothing is open to the township's office.
    assert info.value.allowed == tuple(engine.allowed(esc2.id, EMERGENCY_OFFICE)) == ()
    assert "allowed here: none for this actor now" in str(info.value)
    assert engine.allowed(esc2.id, COUNTY_OFFICE) == ["accept_escalation", "return_escalation"]


def test_hazard_closed_while_pooled_cannot_be_accepted() -> None:
    engine = make_engine()
    hazard = register(engine)
    esc = propose(engine, hazard.id)
    admit(engine, esc.id)
    engine.fire(hazard.id, "fix_on_spot", actor=OFFICER, payload={"fixed_by": "u-worker", "measures": "已整改"})
    with pytest.raises(GuardRejected) as info:
        engine.fire(esc.id, "accept_escalation", actor=COUNTY_OFFICE, payload={})
    assert info.value.guard == "hazard_still_open"
    assert "return or withdraw" in str(info.value)
    assert engine.fire(esc.id, "return_escalation", actor=COUNTY_OFFICE, payload={"reason": "已整改销号"}).state == (
        "returned"
    )
    assert engine.get(hazard.id).fields["escalation_pending"] is None


def test_supervision_transfer_is_system_only() -> None:
    engine = make_engine()
    hazard = register(engine)
    for actor in (OFFICER, COUNTY_OFFICE):
        with pytest.raises(NotAuthorized) as info:
            engine.fire(
                hazard.id,
                "transfer_supervision",
                actor=actor,
                payload={"owning_jurisdiction": COUNTY, "escalation_id": "ES-1"},
            )
        assert "only the engine fires this trigger" in str(info.value)
    assert engine.get(hazard.id).owning_jurisdiction == TOWNSHIP


# ── multi-level ────────────────────────────────────────────────────────────────────────────────────
def test_county_to_city_works_the_same_way() -> None:
    engine = make_engine()
    hazard = register(engine, grade="major")
    escalate(engine, hazard.id)
    # The county now proposes under its own admission procedure; the municipality is the named tier above.
    up = propose(engine, hazard.id, actor=COUNTY_OFFICE, jurisdiction=COUNTY, reason="high_risk")
    assert up.fields["target_jurisdiction"] == CITY
    with pytest.raises(NotAuthorized):  # the township's leader is not the county's
        engine.fire(up.id, "approve_escalation", actor=LEADER, payload={"opinion": "同意"})
    admit(engine, up.id, COUNTY_LEADER, COUNTY_HEAD)
    assert [c.id for c in pool(engine, CITY)] == [up.id]
    with pytest.raises(NotAuthorized):  # the pool is the city's now
        engine.fire(up.id, "accept_escalation", actor=COUNTY_OFFICE, payload={})
    engine.fire(up.id, "accept_escalation", actor=CITY_OFFICE, payload={"opinion": "市级督办"})
    h = engine.get(hazard.id)
    assert h.owning_jurisdiction == CITY
    assert [
        e.changes["owning_jurisdiction"] for e in engine.history(hazard.id) if e.trigger == "transfer_supervision"
    ] == [
        COUNTY,
        CITY,
    ]
    # Now the county, too, is below the owner.
    with pytest.raises(NotAuthorized):
        engine.fire(hazard.id, "void", actor=COUNTY_SUPERVISOR, payload={"reason": "误报"})
    assert [c.id for c in full_register(engine, CITY)] == [hazard.id]
    assert engine.verify_audit().ok


def test_without_names_the_parent_code_is_the_pool() -> None:
    engine = make_engine(tree=False)
    hazard = register(engine)
    escalate(engine, hazard.id)
    up = propose(engine, hazard.id, actor=COUNTY_OFFICE, jurisdiction=COUNTY)
    assert up.fields["target_jurisdiction"] == "500200"
    explicit = engine.fire(up.id, "withdraw_escalation", actor=COUNTY_OFFICE, payload={"reason": "改报市级"})
    assert explicit.state == "withdrawn"
    again = propose(engine, hazard.id, actor=COUNTY_OFFICE, jurisdiction=COUNTY, target_jurisdiction=CITY)
    assert again.fields["target_jurisdiction"] == CITY


def test_admission_deadline_from_the_policy() -> None:
    from hazardflow import DeadlineSpec

    class Timed(NationalBaseline):
        policy_id: ClassVar[str] = "test.timed"
        jurisdiction: ClassVar[str] = TOWNSHIP
        deadlines: ClassVar = {
            **NationalBaseline.deadlines,
            "admission": DeadlineSpec.working_days(5, source="test"),
            "pool_decision": DeadlineSpec.working_days(10, source="test"),
        }

    engine = make_engine(policies=[Timed()])
    esc = propose(engine, register(engine).id)
    assert esc.deadline is not None
    assert esc.deadline.key == "admission"
    first = engine.fire(esc.id, "approve_escalation", actor=LEADER, payload={"opinion": "同意"})
    assert first.deadline == esc.deadline  # the admission clock runs from the proposal
    pooled = engine.fire(esc.id, "approve_escalation", actor=HEAD, payload={"opinion": "同意"})
    assert pooled.deadline is not None
    assert pooled.deadline.key == "pool_decision"
    engine.clock.advance(days=30)  # type: ignore[attr-defined]
    engine.run_due()
    assert engine.get(esc.id).overdue is True
    engine.fire(esc.id, "accept_escalation", actor=COUNTY_OFFICE, payload={})
    assert engine.store.armed_timers(esc.id) == []


def test_no_closing_on_the_spot_below_the_owning_tier() -> None:
    engine = make_engine()
    hazard = register(engine)
    escalate(engine, hazard.id)
    inspector = person("u-inspector", "inspector", TOWNSHIP, org=hazard.business_unit)
    before = snapshot(engine, hazard.id)
    for actor in (OFFICER, inspector):
        with pytest.raises(NotAuthorized) as info:
            engine.fire(hazard.id, "fix_on_spot", actor=actor, payload={"fixed_by": "u-worker", "measures": "加固"})
        assert info.value.trigger == "fix_on_spot"
    assert snapshot(engine, hazard.id) == before
    done = engine.fire(
        hazard.id, "fix_on_spot", actor=COUNTY_SUPERVISOR, payload={"fixed_by": "u-worker", "measures": "加固"}
    )
    assert done.state == "closed"


def test_only_the_proposing_tier_withdraws() -> None:
    engine = make_engine()
    esc = propose(engine, register(engine).id)
    with pytest.raises(GuardRejected) as info:
        engine.fire(esc.id, "withdraw_escalation", actor=COUNTY_OFFICE, payload={"reason": "县里撤回"})
    assert info.value.guard == "at_proposing_tier"
    assert "only the proposing tier" in str(info.value)
    assert engine.get(esc.id).state == "proposed"
