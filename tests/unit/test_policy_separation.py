"""A jurisdiction's own separation of duty becomes a policy guard with a bilingual reason."""

from __future__ import annotations

from typing import ClassVar

import pytest

from hazardflow import Actor, Engine, GuardRejected, SimulatedClock
from hazardflow.policies import NationalBaseline, Separation

TOWN = "500240204"
UNIT = "BU-1"


class Strict(NationalBaseline):
    policy_id: ClassVar[str] = "test.separation"
    policy_version: ClassVar[str] = "1"
    jurisdiction: ClassVar[str] = TOWN
    separations: ClassVar[tuple[Separation, ...]] = (
        Separation("hazard", "approve", "registered_by", "登记人不得审核销号", "the registrar may not approve", "test"),
    )


def test_the_registrar_may_not_close_what_they_registered() -> None:
    engine = Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"), policies=[Strict()])
    officer = Actor("t-1", "乡安办", {"township_officer"}, "三星乡安办", TOWN)
    other = Actor("t-2", "乡安办二", {"township_officer"}, "三星乡安办", TOWN)
    manager = Actor("e-1", "安全员", {"safety_manager"}, UNIT, TOWN)
    case = engine.open_case(
        "hazard",
        actor=officer,
        jurisdiction=TOWN,
        grade="general",
        source="supervisory_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=UNIT,
        location="仓库",
        description="灭火器过期",
    )
    engine.fire(
        case.id,
        "set_deadline",
        actor=officer,
        payload={"deadline": "2024-03-20", "measures": "更换", "responsible": "张三"},
    )
    engine.fire(case.id, "submit_review", actor=manager, payload={"evidence": ["照片"], "rectified_by": "w-1"})
    assert "approve" not in engine.allowed(case.id, officer)
    rev = engine.get(case.id).rev
    with pytest.raises(GuardRejected) as info:
        engine.fire(case.id, "approve", actor=officer, payload={"opinion": "同意"})
    assert info.value.guard == "separation:approve"
    assert info.value.reason_zh == "登记人不得审核销号"
    assert "the registrar may not approve" in str(info.value)
    assert engine.get(case.id).rev == rev
    assert engine.fire(case.id, "approve", actor=other, payload={"opinion": "同意"}).state == "closed"
