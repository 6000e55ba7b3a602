"""The seed jurisdictions' policies drive the tip-off, escalation and routing workflows (重庆 → 石柱县 → 三星乡).

三星乡's policy (examples/policies) names the admission procedure (分管领导 then 主要领导), keeps small problems in
the township (only major hazards and stuck general ones go up), makes the county safety committee office keeper of
the county pool, rewards both report channels, applies the fire rules to fire cases and owes a half-yearly
progress notice [seed:002].
"""

from __future__ import annotations

from datetime import date

import pytest
from hazardflow_seed_policies import ChongqingMunicipality, SanxingTownship, ShizhuCounty, jurisdiction_tree

from hazardflow import Engine, GuardRejected, NotAuthorized, SequentialIds, SimulatedClock
from workflow_support import (
    COUNTY,
    COUNTY_OFFICE,
    COUNTY_SUPERVISOR,
    EMERGENCY_OFFICE,
    HEAD,
    LEADER,
    OFFICER,
    TOWNSHIP,
    admit,
    propose,
    receive,
    register,
)

SANXING = "cn.cq.shizhu.sanxing"
MAJOR_FIRE = {"grade": "major", "industry": "fire_safety", "criteria": ["fire_gb35181_2017.4"]}


@pytest.fixture
def engine() -> Engine:
    return Engine(
        clock=SimulatedClock("2024-03-04T09:00:00+08:00"),
        ids=SequentialIds(),
        jurisdictions=jurisdiction_tree(),
        policies=[ChongqingMunicipality, ShizhuCounty, SanxingTownship],
    )


def test_every_case_of_the_township_runs_under_its_policy(engine: Engine) -> None:
    hazard = register(engine, **MAJOR_FIRE)
    t = receive(engine)
    esc = propose(engine, hazard.id)
    assert {hazard.policy_id, t.policy_id, esc.policy_id} == {SANXING}
    assert esc.fields["steps"] == ("leader_in_charge", "head")
    assert esc.fields["target_jurisdiction"] == COUNTY


def test_admission_by_the_leader_in_charge_then_the_head(engine: Engine) -> None:
    esc = propose(engine, register(engine, **MAJOR_FIRE).id)
    with pytest.raises(NotAuthorized) as info:
        engine.fire(esc.id, "approve_escalation", actor=HEAD, payload={"opinion": "同意"})
    assert info.value.required_roles == ("leader_in_charge",)
    assert admit(engine, esc.id, LEADER, HEAD).state == "pooled"


def test_small_problems_are_fixed_in_the_township(engine: Engine) -> None:
    hazard = register(engine)
    engine.fire(
        hazard.id,
        "set_deadline",
        actor=OFFICER,
        payload={"deadline": "2024-03-15", "measures": "补设连墙件", "responsible": "项目经理"},
    )
    with pytest.raises(GuardRejected) as info:
        propose(engine, hazard.id)
    assert info.value.guard == "policy_eligible"
    assert "一般事故隐患应由本级立行立改" in info.value.reason_zh
    assert list(engine.cases(workflow="escalation")) == []
    # Once its fix proves hard (the deadline passed), it may go up.
    engine.clock.set("2024-03-20T09:00:00+08:00")  # type: ignore[attr-defined]
    engine.run_due()
    assert engine.get(hazard.id).overdue
    assert propose(engine, hazard.id, actor=EMERGENCY_OFFICE).state == "proposed"


def test_the_county_safety_committee_office_keeps_the_pool(engine: Engine) -> None:
    hazard = register(engine, **MAJOR_FIRE)
    esc = propose(engine, hazard.id, reason="high_risk")
    admit(engine, esc.id)
    with pytest.raises(NotAuthorized) as info:
        engine.fire(esc.id, "accept_escalation", actor=COUNTY_SUPERVISOR, payload={})
    assert info.value.required_roles == ("safety_committee_office",)
    engine.fire(esc.id, "accept_escalation", actor=COUNTY_OFFICE, payload={"opinion": "纳入县级蓄水池"})
    assert engine.get(hazard.id).owning_jurisdiction == COUNTY


def test_tipoffs_under_the_township_policy(engine: Engine) -> None:
    t = receive(engine, category="blocked_fire_exit")
    assert t.deadline is not None
    assert t.deadline.spec.amount == 24  # the fire rules keep the 24-hour check
    assert t.department == "fire_department"
    engine.fire(t.id, "start_verification", actor=OFFICER)
    payload = {"findings": "属实", "grade": "major", "nature": "unsafe_condition"}
    # 三星乡 requires a major grading to cite the criteria (一行业一清单) [seed:002 四(一)].
    with pytest.raises(GuardRejected) as info:
        engine.fire(t.id, "substantiate", actor=OFFICER, payload=payload)
    assert info.value.guard == "criteria_cited"
    done = engine.fire(t.id, "substantiate", actor=OFFICER, payload={**payload, "criteria": ["fire_gb35181_2017.3"]})
    assert done.fields["reward_eligible"] is True  # 有奖举报 [seed:002 (一)3]
    hazard = engine.get(done.fields["hazard_id"])
    assert hazard.grade == "major"
    assert hazard.department == "fire_department"
    assert hazard.policy_id == SANXING


def test_the_township_owes_a_half_yearly_progress_notice(engine: Engine) -> None:
    opened = engine.open_obligations(
        TOWNSHIP,
        party_kind="township",
        jurisdiction=TOWNSHIP,
        start=date(2024, 1, 1),
        end=date(2024, 12, 31),
        actor=COUNTY_OFFICE,
        obligations=["major_hazard_progress_notice"],
    )
    assert sorted(c.fields["period"] for c in opened) == ["2024-H1", "2024-H2"]
    assert {c.policy_id for c in opened} == {SANXING}
