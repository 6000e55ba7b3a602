"""A township with its people, and a builder that walks hazard cases to any stage of the lifecycle.

Shared by the unit and stateful tests (``tests/`` is on the test path: ``import hazard_world``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pytest

from hazardflow import (
    Actor,
    Case,
    Delay,
    Engine,
    GuardResult,
    HazardflowError,
    SequentialIds,
    SimulatedClock,
    Unit,
)
from hazardflow.policies import ListingRule, NationalBaseline
from hazardflow.testing import snapshot_store

TOWNSHIP = "500240204"  # 重庆市石柱县三星乡
OTHER_TOWNSHIP = "500240105"
COUNTY = "500240"  # 石柱县
OTHER_COUNTY = "500241"
CITY = "500200"
UNIT = "500240204-BU-0001"
OTHER_UNIT = "500240204-BU-0002"


class People:
    """Everyone who acts on the township's cases."""

    inspector = Actor("e-zhang", "张检查", {"inspector"}, UNIT, TOWNSHIP)
    fixer = Actor("e-chen", "陈维修", {"inspector"}, UNIT, TOWNSHIP)
    manager = Actor("e-li", "李安全", {"safety_manager"}, UNIT, TOWNSHIP)
    boss = Actor("e-wang", "王厂长", {"principal_officer"}, UNIT, TOWNSHIP)
    other_unit_manager = Actor("e-sun", "孙安全", {"safety_manager"}, OTHER_UNIT, TOWNSHIP)
    officer = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
    officer2 = Actor("t-ma", "马安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
    other_officer = Actor("t-hu", "胡安办", {"township_officer"}, "西沱镇安办", OTHER_TOWNSHIP)
    township_supervisor = Actor("t-he", "何执法", {"supervisor"}, "三星乡执法队", TOWNSHIP)
    supervisor = Actor("c-zhao", "赵执法", {"supervisor"}, "石柱县应急管理局", COUNTY)
    other_county_supervisor = Actor("c-qin", "秦执法", {"supervisor"}, "邻县应急管理局", OTHER_COUNTY)
    committee = Actor("c-qian", "钱安委办", {"safety_committee_office"}, "石柱县安委办", COUNTY)
    city_committee = Actor("s-zhou", "周安委办", {"safety_committee_office"}, "重庆市安委办", CITY)
    clerk = Actor("t-xu", "徐受理", {"complaint_officer"}, "三星乡信访办", TOWNSHIP)
    leader = Actor("t-lin", "林分管", {"leader_in_charge"}, "三星乡人民政府", TOWNSHIP)
    head = Actor("t-wu", "吴乡长", {"head"}, "三星乡人民政府", TOWNSHIP)


REGISTER = {
    "source": "enterprise_self_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": UNIT,
    "location": "一号车间",
    "description": "砂轮机防护罩缺失",
}
ORDER = {"deadline": "2024-03-20", "measures": "加装防护罩", "responsible": "李安全"}
REPORT_BODY = {
    "status_and_cause": "切断阀缺失，设计遗漏",
    "harm_and_difficulty": "泄漏无法快速隔离，需停产改造",
    "plan_summary": "加装紧急切断及SIS",
}
PLAN = {
    "goal_tasks": "消除储罐区无紧急切断隐患",
    "methods_measures": "加装紧急切断阀和独立SIS",
    "funds_materials": "专项资金",
    "funds_amount": 350000,
    "organization_people": "设备部、安全部",
    "responsible_person": "王厂长",
    "deadline": "2024-04-30",
    "safety_emergency_measures": "停用储罐、专人值守",
}


class StrictCounty(NationalBaseline):
    """A county that asks for more than the national baseline (every rule the baseline leaves optional)."""

    policy_id = "test.strict-county"
    policy_version = "1"
    jurisdiction = COUNTY
    name = "严格的县"
    confirmation_level_count = 2
    stop_every_major = True
    require_criteria_for_major = True
    listing_rule = ListingRule(required=True, level="county", source="test")
    extension_lead = Delay(5, Unit.WORKING_DAY)

    def on_the_spot_fix(self, case: Case) -> GuardResult:
        if case.industry == "chemicals":
            return GuardResult.deny("化工企业隐患不得即查即改", "a chemicals hazard may not be fixed on the spot here")
        return super().on_the_spot_fix(case)


class World:
    """Walks cases through the lifecycle with the right people, so a test starts from the stage it needs."""

    def __init__(self, engine: Engine, clock: SimulatedClock) -> None:
        self.engine = engine
        self.clock = clock
        self.p = People

    def register(self, grade: str = "general", actor: Actor | None = None, **fields: Any) -> Case:
        data: dict[str, Any] = {**REGISTER, "grade": grade}
        if grade == "major":
            data["criteria"] = ["工贸行业重大事故隐患判定标准 第四条第（一）项"]
        data.update(fields)
        return self.engine.open_case("hazard", actor=actor or People.inspector, jurisdiction=TOWNSHIP, **data)

    def fire(self, case: Case | str, trigger: str, actor: Actor, payload: dict[str, Any] | None = None) -> Case:
        cid = case if isinstance(case, str) else case.id
        return self.engine.fire(cid, trigger, actor=actor, payload=payload or {})

    # general hazards
    def ordered(self, **fields: Any) -> Case:
        return self.fire(self.register(**fields), "set_deadline", People.officer, ORDER)

    def submitted(self, rectified_by: str = People.manager.id) -> Case:
        case = self.ordered()
        payload = {"evidence": ["照片.jpg"], "rectified_by": rectified_by}
        return self.fire(case, "submit_review", People.manager, payload)

    # major hazards
    def confirmed(self, **fields: Any) -> Case:
        case = self.register("major", actor=People.supervisor, **fields)
        case = self.fire(case, "confirm_major", People.manager, {"opinion": "确认"})
        levels = self.engine.policy_for(case).confirmation_levels(case)
        if levels > 1:
            case = self.fire(case, "confirm_major", People.boss, {"opinion": "复核确认"})
        return case

    def reported(self, **fields: Any) -> Case:
        case = self.confirmed(**fields)
        for recipient in self.engine.policy_for(case).dual_report_recipients(case):
            case = self.fire(case, "report", People.boss, {"recipient": recipient, **REPORT_BODY})
        return case

    def listed(self, by: Actor = People.committee, **fields: Any) -> Case:
        case = self.reported(**fields)
        return self.fire(case, "list_for_supervision", by, {"document_no": "石安办〔2024〕3号"})

    def governed(self, listed: bool = False, **fields: Any) -> Case:
        case = self.listed(**fields) if listed else self.reported(**fields)
        return self.fire(case, "adopt_plan", People.boss, PLAN)

    def major_submitted(self, listed: bool = False, **fields: Any) -> Case:
        case = self.governed(listed=listed, **fields)
        payload = {"evidence": ["验收报告.pdf"], "rectified_by": People.manager.id, "evaluation_report": "评估：已消除"}
        return self.fire(case, "submit_review", People.boss, payload)

    def escalated(self, case: Case) -> Case:
        """Propose the hazard for the county's pool, admit it (分管领导, 主要领导) and have the county accept it."""
        esc = self.engine.open_case(
            "escalation",
            actor=People.officer,
            jurisdiction=case.owning_jurisdiction,
            hazard_id=case.id,
            reason="beyond_capacity",
            explanation="需县级统筹资金",
        )
        for who in (People.leader, People.head):
            self.fire(esc, "approve_escalation", who, {"opinion": "同意提请"})
        self.fire(esc, "accept_escalation", People.supervisor, {"opinion": "纳入县级蓄水池"})
        return self.engine.get(case.id)


def new_engine(policies: Iterable[Any] | None = None, **kwargs: Any) -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    engine = Engine(clock=clock, ids=SequentialIds(), outbox=True, policies=policies, **kwargs)
    return engine, clock


E = TypeVar("E", bound=HazardflowError)


def refused(engine: Engine, error: type[E], call: Callable[[], object]) -> E:
    """Run ``call``, expect exactly ``error``, and check the store shows no change at all."""
    before = snapshot_store(engine.store)
    with pytest.raises(error) as info:
        call()
    after = snapshot_store(engine.store)
    assert after == before, "a refused command changed the store: " + "; ".join(before.diff(after))
    assert type(info.value) is error, f"expected exactly {error.__name__}, got {type(info.value).__name__}"
    return info.value
