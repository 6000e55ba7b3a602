"""People, places and short-cuts shared by the tip-off, escalation and routing tests.

三星乡 (``500240204``) lies in 石柱县 (``500240``), a county of 重庆市 (``500000``); 西沱镇 (``500240101``)
is a neighbouring township of the same county. Every actor is a real :class:`~hazardflow.Actor` acting through
the real engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hazardflow import Actor, Case, Engine, JurisdictionTree, SequentialIds, SimulatedClock
from hazardflow.abc import Store

CITY = "500000"
COUNTY = "500240"
TOWNSHIP = "500240204"
OTHER_TOWNSHIP = "500240101"
OTHER_COUNTY = "500241"
UNIT = "500240204-BU-0007"
START = "2024-03-04T09:00:00+08:00"  # a Monday

TREE = JurisdictionTree(
    [
        (CITY, "重庆市"),
        (COUNTY, "石柱土家族自治县"),
        (TOWNSHIP, "三星乡"),
        (OTHER_TOWNSHIP, "西沱镇"),
        (OTHER_COUNTY, "秀山土家族苗族自治县"),
    ]
)


def person(id: str, roles: Iterable[str] | str, where: str, org: str | None = None) -> Actor:
    """A person with ``roles`` acting in ``where``."""
    return Actor(id, f"姓名{id}", roles, org or f"org@{where}", where)


# The township
DESK = person("t-desk", "complaint_officer", TOWNSHIP, "三星乡应急办")
OFFICER = person("t-officer", "township_officer", TOWNSHIP, "三星乡安办")
EMERGENCY_OFFICE = person("t-eo", "emergency_office", TOWNSHIP, "三星乡应急办")
LEADER = person("t-leader", "leader_in_charge", TOWNSHIP, "三星乡人民政府")
HEAD = person("t-head", "head", TOWNSHIP, "三星乡人民政府")
# The county
COUNTY_DESK = person("c-desk", "complaint_officer", COUNTY, "石柱县应急管理局")
COUNTY_OFFICE = person("c-office", "safety_committee_office", COUNTY, "石柱县安委办")
COUNTY_SUPERVISOR = person("c-sup", "supervisor", COUNTY, "石柱县应急管理局")
COUNTY_LEADER = person("c-leader", "leader_in_charge", COUNTY, "石柱县人民政府")
COUNTY_HEAD = person("c-head", "head", COUNTY, "石柱县人民政府")
# The city
CITY_OFFICE = person("m-office", "safety_committee_office", CITY, "重庆市安委办")
# Elsewhere
OTHER_DESK = person("o-desk", "complaint_officer", OTHER_COUNTY, "秀山县应急管理局")
# The business unit
SAFETY_MANAGER = person("u-manager", "safety_manager", TOWNSHIP, UNIT)
PRINCIPAL = person("u-boss", "principal_officer", TOWNSHIP, UNIT)


def make_engine(store: Store | None = None, *, policies: Any = None, tree: bool = True) -> Engine:
    """An engine on a simulated clock at :data:`START`, deterministic ids, the named jurisdiction tree."""
    return Engine(
        store=store,
        clock=SimulatedClock(START),
        ids=SequentialIds(),
        policies=policies,
        jurisdictions=TREE if tree else None,
    )


def receive(engine: Engine, actor: Actor = DESK, jurisdiction: str = TOWNSHIP, **over: Any) -> Case:
    """Receive a public tip-off about a blocked fire exit at the unit (override any field)."""
    fields: dict[str, Any] = {
        "channel": "public",
        "category": "blocked_fire_exit",
        "description": "仓库安全出口被货物堵死",
        "location": "三星乡场镇某仓库",
        "business_unit": UNIT,
        "industry": "fire_safety",
        "reporter_name": "举报人甲",
        "reporter_contact": "13900001111",
    }
    fields.update(over)
    return engine.open_case("tipoff", actor=actor, jurisdiction=jurisdiction, **fields)


def substantiate(engine: Engine, tipoff_id: str, actor: Actor = OFFICER, **over: Any) -> Case:
    """Start verification and substantiate; return the hazard case it opened."""
    engine.fire(tipoff_id, "start_verification", actor=actor)
    payload: dict[str, Any] = {"findings": "现场核实属实", "grade": "general", "nature": "unsafe_condition"}
    payload.update(over)
    tipoff = engine.fire(tipoff_id, "substantiate", actor=actor, payload=payload)
    return engine.get(tipoff.fields["hazard_id"])


def register(engine: Engine, actor: Actor = OFFICER, jurisdiction: str = TOWNSHIP, **over: Any) -> Case:
    """Register a general hazard found by a supervisory inspection."""
    fields: dict[str, Any] = {
        "grade": "general",
        "source": "supervisory_inspection",
        "nature": "unsafe_condition",
        "industry": "construction",
        "business_unit": UNIT,
        "location": "三星乡小学教学楼工地",
        "description": "脚手架连墙件缺失",
    }
    fields.update(over)
    return engine.open_case("hazard", actor=actor, jurisdiction=jurisdiction, **fields)


def propose(
    engine: Engine,
    hazard_id: str,
    actor: Actor = EMERGENCY_OFFICE,
    jurisdiction: str = TOWNSHIP,
    **over: Any,
) -> Case:
    """Propose a hazard for the upper tier's pool (reason: beyond the township's capacity)."""
    fields: dict[str, Any] = {"hazard_id": hazard_id, "reason": "beyond_capacity", "explanation": "需县级统筹资金"}
    fields.update(over)
    return engine.open_case("escalation", actor=actor, jurisdiction=jurisdiction, **fields)


def admit(engine: Engine, escalation_id: str, *approvers: Actor) -> Case:
    """Run the admission procedure with ``approvers`` (default: 分管领导 then 主要领导 of the township)."""
    case = engine.get(escalation_id)
    for who in approvers or (LEADER, HEAD):
        case = engine.fire(escalation_id, "approve_escalation", actor=who, payload={"opinion": "同意提请"})
    return case


def escalate(engine: Engine, hazard_id: str, decider: Actor = COUNTY_OFFICE) -> Case:
    """Propose, admit and have the county accept: supervision of the hazard moves to the county."""
    esc = propose(engine, hazard_id)
    admit(engine, esc.id)
    return engine.fire(esc.id, "accept_escalation", actor=decider, payload={"opinion": "纳入县级蓄水池"})


def snapshot(engine: Engine, *case_ids: str) -> list[Any]:
    """Everything a refused command must leave unchanged: cases, their events and armed timers."""
    return [(engine.get(cid), engine.history(cid), engine.store.armed_timers(cid)) for cid in case_ids]
