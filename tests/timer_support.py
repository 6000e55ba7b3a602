"""Shared set-up for the timer tests: a township, its people, and a general hazard under a deadline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hazardflow import Actor, Case, Engine, SequentialIds, SimulatedClock

TOWNSHIP = "500240204"  # 重庆市石柱县三星乡
COUNTY = "500240"
UNIT = "500240204-BU-0001"

INSPECTOR = Actor("e-zhang", "张检查", {"inspector"}, UNIT, TOWNSHIP)
MANAGER = Actor("e-li", "李安全", {"safety_manager"}, UNIT, TOWNSHIP)
BOSS = Actor("e-wang", "王厂长", {"principal_officer"}, UNIT, TOWNSHIP)
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
SUPERVISOR = Actor("c-zhao", "赵执法", {"supervisor"}, "石柱县应急管理局", COUNTY)
COMMITTEE = Actor("c-qian", "钱安委办", {"safety_committee_office"}, "石柱县安委办", COUNTY)

HAZARD_FIELDS: dict[str, Any] = {
    "grade": "general",
    "source": "supervisory_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": UNIT,
    "location": "仓库",
    "description": "消防通道堆放杂物",
}

StoreFactory = Callable[[], Any]


def make_engine(store: Any, start: str = "2024-03-04T09:00:00+08:00", **kwargs: Any) -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock(start)
    return Engine(store=store, clock=clock, ids=SequentialIds(), **kwargs), clock


def open_general(engine: Engine, deadline: str, **fields: Any) -> Case:
    """A general hazard ordered fixed by ``deadline`` (限期整改)."""
    case = engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **{**HAZARD_FIELDS, **fields})
    return engine.fire(
        case.id,
        "set_deadline",
        actor=OFFICER,
        payload={"deadline": deadline, "measures": "清理通道", "responsible": "李安全"},
    )


def submit(engine: Engine, case_id: str) -> Case:
    return engine.fire(
        case_id, "submit_review", actor=MANAGER, payload={"evidence": ["照片.jpg"], "rectified_by": MANAGER.id}
    )


def events_of(engine: Engine, case_id: str, trigger: str | None = None) -> list[Any]:
    return [e for e in engine.history(case_id) if trigger is None or e.trigger == trigger]


def seed_overdue(store: Any, n: int, *, batch: int = 500) -> Any:
    """``n`` general hazards whose deadline (yesterday, 24:00) and first ladder rung are due now in real time.

    Seeded through the engine on a simulated clock three days back; the next rung is ten working days away,
    so a sweep now fires exactly ``2 * n`` timers. Returns ``store``.
    """
    from datetime import timedelta

    from hazardflow import SystemClock
    from hazardflow._calendar import local_date

    today = local_date(SystemClock().now())
    seeder = Engine(store=store, clock=SimulatedClock(f"{today - timedelta(days=3)}T09:00:00+08:00"))
    payload = {"deadline": str(today - timedelta(days=1)), "measures": "清理", "responsible": "李安全"}
    for start in range(0, n, batch):
        with seeder.batch():
            for _ in range(start, min(n, start + batch)):
                case = seeder.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **HAZARD_FIELDS)
                seeder.fire(case.id, "set_deadline", actor=OFFICER, payload=payload)
    return store
