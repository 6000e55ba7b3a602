"""Reporting obligations (报送任务) on every store: due, reminded, fulfilled or overdue, with the ladder.

16号令 §14 (quarterly statistics by the 15th of the next quarter, annual by 31 January) and a township's
monthly progress "每月29日前" and annual summary "12月1日前" [seed:000 保障(六)].
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import pytest

from hazardflow import (
    Actor,
    CalendarRule,
    DeadlineSpec,
    GuardRejected,
    InvalidInput,
    NotAuthorized,
)
from hazardflow._calendar import end_of_local_day
from hazardflow.policies import NationalBaseline
from hazardflow.policies.base import ReportingObligation
from hazardflow.workflows.obligation import period_start, periods_between
from timer_support import (
    MANAGER,
    OFFICER,
    TOWNSHIP,
    UNIT,
    events_of,
    make_engine,
)

OFFICE = "三星乡农业服务中心"


class Township(NationalBaseline):
    """A township that adds its departments' monthly progress and annual summary [seed:000 保障(六)]."""

    policy_id = "test.township-obligations"
    jurisdiction = TOWNSHIP
    obligations: ClassVar = (
        *NationalBaseline.obligations,
        ReportingObligation(
            "monthly_progress",
            "隐患排查整治月度进展",
            "monthly progress",
            "month",
            DeadlineSpec.on(CalendarRule("day_of_month", 29), source="seed:000 保障(六)"),
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


@pytest.fixture
def store(any_store: Any) -> Any:
    return any_store


def open_unit(engine: Any, start: date, end: date) -> list[Any]:
    return engine.open_obligations(
        UNIT, party_kind="business_unit", jurisdiction=TOWNSHIP, start=start, end=end, actor=OFFICER
    )


# ── periods ────────────────────────────────────────────────────────────────────────────────────────
def test_periods() -> None:
    assert periods_between("month", date(2025, 11, 15), date(2026, 2, 1)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert periods_between("quarter", date(2025, 12, 31), date(2026, 4, 1)) == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert periods_between("half_year", date(2026, 6, 30), date(2026, 7, 1)) == ["2026-H1", "2026-H2"]
    assert periods_between("year", date(2025, 6, 1), date(2026, 1, 1)) == ["2025", "2026"]
    assert period_start("quarter", "2026-Q3") == date(2026, 7, 1)
    assert period_start("half_year", "2026-H2") == date(2026, 7, 1)
    assert period_start("month", "2026-02") == date(2026, 2, 1)


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        (lambda: period_start("month", "2026-2"), "period", "write it like '2026-02'"),
        (lambda: period_start("quarter", "2026-Q5"), "period", "is not a quarter period"),
        (lambda: period_start("fortnight", "2026-F1"), "period", "unknown kind of period"),  # type: ignore[arg-type]
        (lambda: periods_between("month", date(2026, 3, 1), date(2026, 2, 1)), "end", "must not be before start"),
        (lambda: periods_between("month", "2026-01-01", date(2026, 2, 1)), "start", "must be a date"),  # type: ignore[arg-type]
    ],
)
def test_bad_periods_are_refused(call: Any, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as info:
        call()
    assert info.value.field == field
    assert words in str(info.value)


# ── opening ────────────────────────────────────────────────────────────────────────────────────────
def test_a_unit_owes_quarterly_and_annual_statistics(store: Any) -> None:
    engine, _ = make_engine(store, start="2026-01-05T09:00:00+08:00")
    cases = open_unit(engine, date(2025, 10, 1), date(2026, 3, 31))
    got = [(c.fields["obligation"], c.fields["period"], c.deadline.due_at) for c in cases]
    assert got == [
        ("enterprise_quarterly_statistics", "2025-Q4", end_of_local_day(date(2026, 1, 15))),  # 下一季度15日前
        ("enterprise_quarterly_statistics", "2026-Q1", end_of_local_day(date(2026, 4, 15))),
        ("enterprise_annual_statistics", "2025", end_of_local_day(date(2026, 1, 31))),  # 次年1月31日前
        ("enterprise_annual_statistics", "2026", end_of_local_day(date(2027, 1, 31))),
    ]
    assert all(c.state == "due" for c in cases)
    assert all(c.fields["party_id"] == UNIT for c in cases)
    assert all(c.deadline.spec.source == "S1 §14" for c in cases)
    assert events_of(engine, cases[0].id)[0].type == "obligation.opened"
    assert [t.kind for t in engine.store.armed_timers(cases[0].id)] == ["reminder", "deadline"]


def test_opening_again_opens_only_what_is_new(store: Any) -> None:
    engine, _ = make_engine(store, start="2026-01-05T09:00:00+08:00")
    first = open_unit(engine, date(2026, 1, 1), date(2026, 3, 31))
    again = open_unit(engine, date(2026, 1, 1), date(2026, 6, 30))
    assert [c.id for c in again[:1]] == [first[0].id]
    assert len(list(engine.cases(workflow="report_obligation"))) == 3  # 2026-Q1, 2026-Q2, 2026
    assert all(len(engine.history(c.id)) == 1 for c in again)


def test_township_departments_report_by_the_29th_and_1_december(store: Any) -> None:
    engine, _ = make_engine(store, start="2026-01-05T09:00:00+08:00", policies=[Township()])
    cases = engine.open_obligations(
        OFFICE,
        party_kind="department",
        jurisdiction=TOWNSHIP,
        start=date(2026, 1, 1),
        end=date(2026, 3, 31),
        actor=OFFICER,
    )
    got = [(c.fields["obligation"], c.fields["period"], c.deadline.due_at) for c in cases]
    assert got == [
        ("monthly_progress", "2026-01", end_of_local_day(date(2026, 1, 29))),
        ("monthly_progress", "2026-02", end_of_local_day(date(2026, 2, 28))),  # no 29th in February 2026
        ("monthly_progress", "2026-03", end_of_local_day(date(2026, 3, 29))),
        ("annual_summary", "2026", end_of_local_day(date(2026, 12, 1))),
    ]


# ── due → reminded → fulfilled, or overdue with the ladder ──────────────────────────────────────────
def test_reminded_then_fulfilled_on_time(store: Any) -> None:
    engine, clock = make_engine(store, start="2026-01-05T09:00:00+08:00")
    q4 = open_unit(engine, date(2025, 10, 1), date(2025, 12, 31))[0]
    clock.set("2026-01-13T09:00:00+08:00")  # 3 working days before 24:00 of 01-15 is 24:00 of 01-12
    assert engine.run_due().fired == 1
    assert [e.type for e in engine.history(q4.id)] == ["obligation.opened", "case.reminded"]
    done = engine.fire(q4.id, "fulfil", actor=MANAGER, payload={"document_no": "统计表-2025Q4"})
    assert done.state == "fulfilled"
    assert done.fields["on_time"] is True
    assert done.closed_at is not None
    assert engine.store.armed_timers(q4.id) == []
    clock.set("2026-03-01T09:00:00+08:00")
    engine.run_due()
    assert [e.type for e in engine.history(q4.id)][-1] == "obligation.fulfilled"


def test_overdue_presses_the_department_that_owes_it_until_it_files(store: Any) -> None:
    engine, clock = make_engine(store, start="2026-02-02T09:00:00+08:00", policies=[Township()])
    feb = engine.open_obligations(
        OFFICE,
        party_kind="department",
        jurisdiction=TOWNSHIP,
        start=date(2026, 2, 1),
        end=date(2026, 2, 28),
        actor=OFFICER,
        obligations=["monthly_progress"],
    )[0]
    clock.set("2026-03-16T09:00:00+08:00")  # 10 working days after 02-28 (a 调休 Saturday) is 03-13
    engine.run_due()
    sanctions = events_of(engine, feb.id, "sanction")
    assert [(e.payload["sanction"], e.payload["party"], e.payload["party_id"]) for e in sanctions] == [
        ("formal_letter", "department", OFFICE),
        ("circular_notice", "department", OFFICE),
    ]
    assert engine.get(feb.id).overdue
    clerk = Actor("d-wu", "吴干事", {"sector_department"}, OFFICE, TOWNSHIP)
    late = engine.fire(feb.id, "fulfil", actor=clerk, payload={"summary": "2月进展"})
    assert late.fields["on_time"] is False
    assert late.sanction_rung == 2
    clock.set("2026-12-31T09:00:00+08:00")
    engine.run_due()
    assert len(events_of(engine, feb.id, "sanction")) == 2


# ── refusals: nothing opened, nothing filed ────────────────────────────────────────────────────────
def test_unknown_or_mismatched_obligations_are_refused(store: Any) -> None:
    engine, _ = make_engine(store, start="2026-01-05T09:00:00+08:00", policies=[Township()])
    base = {"party_kind": "business_unit", "party_id": UNIT}
    with pytest.raises(GuardRejected) as info:
        engine.open_case(
            "report_obligation",
            actor=OFFICER,
            jurisdiction=TOWNSHIP,
            obligation="weekly_ranking",
            period="2026-01",
            **base,
        )
    assert info.value.guard == "obligation_of_policy"
    assert "names no reporting obligation 'weekly_ranking'" in str(info.value)
    assert "enterprise_annual_statistics" in str(info.value)
    with pytest.raises(GuardRejected) as info:
        engine.open_case(
            "report_obligation",
            actor=OFFICER,
            jurisdiction=TOWNSHIP,
            obligation="monthly_progress",
            period="2026-01",
            **base,
        )
    assert "is owed by a department, not a business_unit" in str(info.value)
    with pytest.raises(GuardRejected) as info:
        engine.open_case(
            "report_obligation",
            actor=OFFICER,
            jurisdiction=TOWNSHIP,
            obligation="enterprise_quarterly_statistics",
            period="2026-01",
            **base,
        )
    assert info.value.guard == "period_valid"
    assert "write the period like '2026-Q1'" in str(info.value)
    with pytest.raises(InvalidInput) as bad:
        engine.open_obligations(
            UNIT,
            party_kind="business_unit",
            jurisdiction=TOWNSHIP,
            start=date(2026, 1, 1),
            end=date(2026, 3, 1),
            actor=OFFICER,
            obligations=["monthly_progress"],
        )
    assert bad.value.field == "obligations"
    assert bad.value.allowed == ("enterprise_annual_statistics", "enterprise_quarterly_statistics")
    assert list(engine.cases(workflow="report_obligation")) == []


def test_opening_is_all_or_nothing(store: Any) -> None:
    engine, _ = make_engine(store, start="2026-01-05T09:00:00+08:00")
    # A unit's safety manager may not open obligations: the whole batch is refused.
    with pytest.raises(NotAuthorized):
        engine.open_obligations(
            UNIT,
            party_kind="business_unit",
            jurisdiction=TOWNSHIP,
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            actor=MANAGER,
        )
    assert list(engine.cases(workflow="report_obligation")) == []


def test_only_the_party_or_the_receiving_office_files(store: Any) -> None:
    engine, _ = make_engine(store, start="2026-02-02T09:00:00+08:00", policies=[Township()])
    feb = engine.open_obligations(
        OFFICE,
        party_kind="department",
        jurisdiction=TOWNSHIP,
        start=date(2026, 2, 1),
        end=date(2026, 2, 1),
        actor=OFFICER,
        obligations=["monthly_progress"],
    )[0]
    stranger = Actor("d-he", "何干事", {"sector_department"}, "三星乡城建办", TOWNSHIP)
    with pytest.raises(GuardRejected) as info:
        engine.fire(feb.id, "fulfil", actor=stranger, payload={})
    assert info.value.guard == "filed_by_party"
    assert f"owed by department {OFFICE!r}" in str(info.value)
    other_unit = Actor("e-x", "外单位", {"safety_manager"}, "OTHER-BU", TOWNSHIP)
    unit_case = open_unit(engine, date(2026, 1, 1), date(2026, 1, 1))[0]
    with pytest.raises(NotAuthorized):
        engine.fire(unit_case.id, "fulfil", actor=other_unit, payload={})
    assert engine.get(feb.id).state == "due"
    assert engine.get(unit_case.id).state == "due"
    office = Actor("c-qian", "钱安委办", {"safety_committee_office"}, "三星乡安委办", TOWNSHIP)
    assert engine.fire(feb.id, "fulfil", actor=office, payload={"document_no": "收文-12"}).state == "fulfilled"
