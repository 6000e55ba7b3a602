"""A township's working-day deadlines firing under a simulated clock, across the 2026 Spring Festival.

Run: ``python examples/township_deadlines.py`` (prints the timeline; nothing is written to disk).

三星乡 (a township of 石柱县, Chongqing) writes its own rules in Python on top of the national baseline:

* the review of a submitted fix within **5 working days** (工作日), an extension answered within 3 working days;
* reminders 2 working days before each deadline;
* a local day off (a township festival) and a local make-up working day;
* the overdue ladder against the township's own departments: 函告 the day after, 通报 5 working days later,
  约谈 10 working days after that;
* its departments' monthly progress report "before the 29th of each month" (每月29日前) and annual summary
  "before 1 December" (12月1日前) [seed:000 保障(六)].

The story runs through the Spring Festival of 2026 (15-23 February off; Saturdays 14 and 28 February are
make-up working days, 调休), so every working-day count below skips the holiday and counts those Saturdays.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from hazardflow import Actor, CalendarRule, DeadlineSpec, Delay, Engine, Roll, SequentialIds, Unit
from hazardflow.policies import NationalBaseline
from hazardflow.policies.base import ReportingObligation, Rung
from hazardflow.testing import SimulatedClock

TOWNSHIP = "500240204"  # 重庆市石柱土家族自治县三星乡
UNIT = "500240204-BU-0007"
DEPARTMENT = "三星乡经济发展办公室"
DEPARTMENT_ID = "emergency_management"  # the sector a hazard case is routed to (a glossary department)


class SanxingTownship(NationalBaseline):
    """三星乡: working-day deadlines, a local holiday, and a ladder that presses its departments."""

    policy_id = "cn.cq.shizhu.sanxing"
    policy_version = "2026.1"
    jurisdiction = TOWNSHIP
    name = "三星乡安全生产隐患排查治理规则（示例）"

    deadlines: ClassVar = {
        **NationalBaseline.deadlines,
        # The township reviews a submitted fix within 5 working days [local rule, inference].
        "review": DeadlineSpec.working_days(5, source="三星乡 local rule (example)"),
        "extension_decision": DeadlineSpec.working_days(3, source="三星乡 local rule (example)"),
    }
    reminder_offsets: ClassVar = {
        "rectify": (Delay(2, Unit.WORKING_DAY),),
        "review": (Delay(2, Unit.WORKING_DAY),),
        "obligation": (Delay(2, Unit.WORKING_DAY),),
    }
    overdue_ladder = (
        Rung("formal_letter", Delay(1, Unit.WORKING_DAY), "department", "seed:000 保障(五)"),
        Rung("circular_notice", Delay(5, Unit.WORKING_DAY), "department", "seed:000 保障(五)"),
        Rung("admonitory_talk", Delay(10, Unit.WORKING_DAY), "department", "seed:000 保障(五)"),
    )
    # A township festival: Thursday 12 March off, Sunday 22 March worked instead (local 调休) [example].
    local_holidays = ("2026-03-12",)
    local_working_days = ("2026-03-22",)
    obligations = (
        ReportingObligation(
            "monthly_progress",
            "隐患排查整治月度进展",
            "monthly progress report",
            "month",
            DeadlineSpec.on(CalendarRule("day_of_month", 29), roll=Roll.NONE, source="seed:000 保障(六)"),
            "department",
            "seed:000 保障(六)",
        ),
        ReportingObligation(
            "annual_summary",
            "年度工作总结",
            "annual summary",
            "year",
            DeadlineSpec.on(CalendarRule("annual", 1, month=12), source="seed:000 保障(六)"),
            "department",
            "seed:000 保障(六)",
        ),
    )


OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
MANAGER = Actor("e-li", "李安全", {"safety_manager"}, UNIT, TOWNSHIP)
CLERK = Actor("d-wu", "吴干事", {"sector_department"}, DEPARTMENT, TOWNSHIP)
BEIJING = ZoneInfo("Asia/Shanghai")


def ends(due_at: datetime) -> str:
    """A day-based deadline ends at 24:00 of its last day (stored as 00:00 of the next day, in UTC)."""
    return f"24:00 {(due_at - timedelta(microseconds=1)).astimezone(BEIJING):%m-%d %a}"


def main(echo: bool = True) -> dict[str, Any]:
    """Run the story; return what happened (the example's test checks it)."""
    clock = SimulatedClock("2026-02-02T09:00:00+08:00")
    engine = Engine(clock=clock, policies=[SanxingTownship()], ids=SequentialIds())
    timeline: list[tuple[str, str, str]] = []

    def note(case_id: str, what: str) -> None:
        timeline.append((f"{clock.now().astimezone(BEIJING):%Y-%m-%d %a %H:%M}", case_id, what))

    def sweep() -> None:
        for case_id, seq in engine.run_due().events:
            ev = engine.history(case_id)[seq - 1]
            party = f" → {ev.payload['party_id']}" if ev.trigger == "sanction" else ""
            what = {"mark_overdue": "overdue (逾期)", "remind": "reminder (到期提醒)"}.get(ev.trigger)
            note(case_id, what or f"rung {ev.payload['rung']} {ev.payload['sanction']}{party}")

    def hazard(deadline: str, description: str) -> str:
        case = engine.open_case(
            "hazard",
            actor=OFFICER,
            jurisdiction=TOWNSHIP,
            grade="general",
            source="supervisory_inspection",
            nature="unsafe_condition",
            industry="industry_trade",
            business_unit=UNIT,
            location="二号仓库",
            description=description,
            department=DEPARTMENT_ID,
        )
        ordered = engine.fire(
            case.id,
            "set_deadline",
            actor=OFFICER,
            payload={"deadline": deadline, "measures": "限期整改", "responsible": "李安全"},
        )
        note(case.id, f"rectify by {ends(ordered.deadline.due_at)}")  # type: ignore[union-attr]
        return case.id

    # A: ordered fixed by Friday 13 February and never fixed: the ladder presses the department.
    ignored = hazard("2026-02-13", "消防通道堆放杂物")
    # B: fixed and submitted on 10 February; the township must review it within 5 working days.
    fixed = hazard("2026-02-11", "灭火器过期")
    # The department's monthly progress reports for February and March.
    reports = engine.open_obligations(
        DEPARTMENT,
        party_kind="department",
        jurisdiction=TOWNSHIP,
        start=date(2026, 2, 1),
        end=date(2026, 3, 31),
        actor=OFFICER,
        obligations=["monthly_progress"],
    )
    for r in reports:
        note(r.id, f"{r.fields['period']} progress report due by {ends(r.deadline.due_at)}")  # type: ignore[union-attr]

    clock.set("2026-02-10T15:00:00+08:00")
    payload = {"evidence": ["照片.jpg"], "rectified_by": MANAGER.id}
    review_due = engine.fire(fixed, "submit_review", actor=MANAGER, payload=payload).deadline.due_at  # type: ignore[union-attr]
    # 5 working days from 10 February: 11, 12, 13, Saturday 14 (调休), then 24 after the holiday.
    note(fixed, f"submitted; review due by {ends(review_due)}")

    # Sweep every morning at 08:00 until the end of March; people act on some days.
    while clock.now().astimezone(BEIJING).date() < date(2026, 3, 31):
        clock.set(clock.now().astimezone(BEIJING).replace(hour=8, minute=0) + timedelta(days=1))
        sweep()
        today = clock.now().astimezone(BEIJING).date()
        if today == date(2026, 2, 24):
            engine.fire(fixed, "approve", actor=OFFICER, payload={"opinion": "现场复核通过"})
            note(fixed, "reviewed on the last day: closed (销号)")
        if today == date(2026, 2, 27):
            done = engine.fire(reports[0].id, "fulfil", actor=CLERK, payload={"summary": "2月隐患整治进展"})
            note(reports[0].id, f"February report filed, on time: {done.fields['on_time']}")
    result = {
        "timeline": timeline,
        "review_due": review_due,
        "ignored": engine.get(ignored),
        "fixed": engine.get(fixed),
        "reports": [engine.get(r.id) for r in reports],
        "audit_ok": engine.verify_audit().ok,
    }
    if echo:
        for when, cid, what in timeline:
            print(f"{when}  {cid:<10} {what}")
        a = result["ignored"]
        print(f"\n{a.id}: overdue={a.overdue}, highest rung={a.sanction_rung}; audit ok={result['audit_ok']}")
    return result


if __name__ == "__main__":
    main()
