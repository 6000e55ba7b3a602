"""Routing: each case goes to the sector department that leads its industry (三管三必须, 谁主管谁牵头)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pytest

from hazardflow import GuardRejected, InvalidInput, NotAuthorized
from hazardflow.policies import NationalBaseline
from workflow_support import (
    COUNTY,
    COUNTY_OFFICE,
    EMERGENCY_OFFICE,
    OFFICER,
    OTHER_TOWNSHIP,
    PRINCIPAL,
    SAFETY_MANAGER,
    TOWNSHIP,
    escalate,
    make_engine,
    person,
    receive,
    register,
    snapshot,
    substantiate,
)


@pytest.mark.parametrize(
    ("industry", "department"),
    [
        ("construction", "housing_construction"),
        ("gas", "housing_construction"),
        ("chemicals", "emergency_management"),
        ("coal_mine", "mine_safety"),
        ("fire_safety", "fire_department"),
        ("road_transport", "transport"),
        ("civil_explosives", "industry_information"),
    ],
)
def test_registration_routes_to_the_lead_department(industry: str, department: str) -> None:
    engine = make_engine()
    hazard = register(engine, industry=industry)
    assert hazard.department == department
    assert engine.history(hazard.id)[0].changes["fields"]["department"] == department


def test_the_policy_decides_the_lead_department() -> None:
    class LocalSplit(NationalBaseline):
        policy_id: ClassVar[str] = "test.split"
        jurisdiction: ClassVar[str] = TOWNSHIP
        lead_departments: ClassVar[Mapping[str, str]] = {
            **NationalBaseline.lead_departments,
            "gas": "market_regulation",
        }

    engine = make_engine(policies=[LocalSplit()])
    assert register(engine, industry="gas").department == "market_regulation"
    # Other jurisdictions keep the national answer.
    assert register(
        engine, industry="gas", jurisdiction=OTHER_TOWNSHIP, actor=person("o", "township_officer", OTHER_TOWNSHIP)
    ).department == ("housing_construction")


def test_explicit_department_at_registration_wins() -> None:
    engine = make_engine()
    assert register(engine, industry="construction", department="transport").department == "transport"


def test_tipoffs_and_their_hazards_are_routed() -> None:
    engine = make_engine()
    t = receive(engine, industry="fire_safety")
    assert t.department == "fire_department"
    hazard = substantiate(engine, t.id)
    assert hazard.department == "fire_department"
    assert receive(engine, industry=None).department is None


def test_reassignment_is_an_audited_command() -> None:
    engine = make_engine()
    hazard = register(engine, industry="construction")
    moved = engine.fire(
        hazard.id,
        "assign_department",
        actor=EMERGENCY_OFFICE,
        payload={"department": "transport", "reason": "属公路桥梁工程，由交通部门牵头"},
    )
    assert moved.department == "transport"
    event = engine.history(hazard.id)[-1]
    assert event.type == "case.department_assigned"
    assert event.actor_id == EMERGENCY_OFFICE.id
    assert event.actor_role == "emergency_office"
    assert event.reason == "属公路桥梁工程，由交通部门牵头"
    assert event.changes["fields"] == {"department": "transport"}
    assert event.from_state == event.to_state == "registered"
    assert engine.verify_audit().ok


def test_reassignment_refusals() -> None:
    engine = make_engine()
    hazard = register(engine, industry="construction")
    before = snapshot(engine, hazard.id)
    with pytest.raises(GuardRejected) as info:
        engine.fire(hazard.id, "assign_department", actor=OFFICER, payload={"department": "housing_construction"})
    assert info.value.guard == "department_changes"
    assert "already with 'housing_construction'" in str(info.value)
    with pytest.raises(InvalidInput) as bad:
        engine.fire(hazard.id, "assign_department", actor=OFFICER, payload={"department": "education_bureau"})
    assert bad.value.field == "department"
    assert "housing_construction" in bad.value.allowed
    for actor in (SAFETY_MANAGER, PRINCIPAL, person("s", "sector_department", TOWNSHIP)):
        with pytest.raises(NotAuthorized):
            engine.fire(hazard.id, "assign_department", actor=actor, payload={"department": "transport"})
    assert snapshot(engine, hazard.id) == before


def test_after_escalation_only_the_upper_tier_reassigns() -> None:
    engine = make_engine()
    hazard = register(engine, industry="construction")
    escalate(engine, hazard.id)
    with pytest.raises(NotAuthorized):
        engine.fire(hazard.id, "assign_department", actor=EMERGENCY_OFFICE, payload={"department": "transport"})
    moved = engine.fire(
        hazard.id, "assign_department", actor=COUNTY_OFFICE, payload={"department": "transport", "reason": "县级交办"}
    )
    assert moved.department == "transport"


def test_a_department_sees_the_cases_routed_to_it() -> None:
    engine = make_engine()
    school = register(engine, industry="construction")
    plant = register(engine, industry="chemicals")
    gas = register(
        engine, industry="gas", jurisdiction=OTHER_TOWNSHIP, actor=person("o", "township_officer", OTHER_TOWNSHIP)
    )
    fixed = register(engine, industry="construction")
    engine.fire(fixed.id, "fix_on_spot", actor=OFFICER, payload={"fixed_by": "u-worker", "measures": "已整改"})

    def ids(**kw: object) -> list[str]:
        return sorted(c.id for c in engine.cases(workflow="hazard", **kw))  # type: ignore[arg-type]

    assert ids(department="housing_construction", jurisdiction=COUNTY, open_only=True) == sorted([school.id, gas.id])
    assert ids(department="housing_construction", jurisdiction=TOWNSHIP, open_only=True) == [school.id]
    assert ids(department="housing_construction", jurisdiction=COUNTY) == sorted([school.id, gas.id, fixed.id])
    assert ids(department="emergency_management") == [plant.id]
    engine.fire(school.id, "assign_department", actor=OFFICER, payload={"department": "emergency_management"})
    assert ids(department="housing_construction", jurisdiction=TOWNSHIP, open_only=True) == []
    assert ids(department="emergency_management") == sorted([plant.id, school.id])


def test_listeners_see_routing_events_after_commit() -> None:
    engine = make_engine()
    seen: list[tuple[str, str | None]] = []
    engine.subscribe(lambda case, event: seen.append((event.type, case.department)))
    hazard = register(engine, industry="construction")
    engine.fire(hazard.id, "assign_department", actor=OFFICER, payload={"department": "transport"})
    assert seen == [("case.registered", "housing_construction"), ("case.department_assigned", "transport")]
