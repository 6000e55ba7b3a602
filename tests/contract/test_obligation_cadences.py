"""Weekly and half-monthly reporting (衡阳: 每周一统计、每半月一调度 [seed:003 item 6]) as obligations with timers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hazardflow_seed_policies import HengyangCity, HunanProvince, jurisdiction_tree

from hazardflow import Actor, InvalidInput
from hazardflow._calendar import end_of_local_day
from hazardflow.workflows.obligation import period_start, periods_between
from timer_support import make_engine

HENGYANG = "430400"
OFFICE = Actor("c-office", "市安委办", {"safety_committee_office"}, "衡阳市安委办", HENGYANG)
DEPARTMENT = "衡阳市应急管理局"


@pytest.fixture
def store(any_store: Any) -> Any:
    return any_store


def test_week_and_half_month_periods() -> None:
    assert periods_between("week", date(2025, 12, 27), date(2026, 1, 12)) == [
        "2025-W52",
        "2026-W01",
        "2026-W02",
        "2026-W03",
    ]
    assert period_start("week", "2026-W01") == date(2025, 12, 29)  # ISO weeks start on Monday
    assert periods_between("half_month", date(2026, 1, 20), date(2026, 2, 16)) == [
        "2026-01-H2",
        "2026-02-H1",
        "2026-02-H2",
    ]
    assert period_start("half_month", "2026-02-H2") == date(2026, 2, 16)


@pytest.mark.parametrize(
    ("period", "label", "words"),
    [
        ("week", "2026-W1", "write it like '2026-W07'"),
        ("week", "2025-W53", "ISO year 2025 has no week 53"),
        ("half_month", "2026-02-H3", "write it like '2026-02-H1'"),
        ("half_month", "2026-02", "is not a half_month period"),
    ],
)
def test_bad_week_and_half_month_labels_are_refused(period: Any, label: str, words: str) -> None:
    with pytest.raises(InvalidInput) as info:
        period_start(period, label)
    assert info.value.field == "period"
    assert words in str(info.value)


def test_hengyang_departments_owe_weekly_statistics_and_half_monthly_scheduling(store: Any) -> None:
    engine, clock = make_engine(
        store,
        start="2026-03-02T09:00:00+08:00",
        policies=[HunanProvince, HengyangCity],
        jurisdictions=jurisdiction_tree(),
    )
    cases = engine.open_obligations(
        DEPARTMENT,
        party_kind="department",
        jurisdiction=HENGYANG,
        start=date(2026, 3, 2),
        end=date(2026, 3, 16),
        actor=OFFICE,
        obligations=["weekly_enforcement_statistics", "half_monthly_scheduling"],
    )
    got = [(c.fields["obligation"], c.fields["period"], c.deadline.due_at) for c in cases]
    assert got == [
        # Monday + 7 days: the next Monday.
        ("weekly_enforcement_statistics", "2026-W10", end_of_local_day(date(2026, 3, 9))),
        ("weekly_enforcement_statistics", "2026-W11", end_of_local_day(date(2026, 3, 16))),
        ("weekly_enforcement_statistics", "2026-W12", end_of_local_day(date(2026, 3, 23))),
        # 1st + 15 days, 16th + 15 days.
        ("half_monthly_scheduling", "2026-03-H1", end_of_local_day(date(2026, 3, 16))),
        ("half_monthly_scheduling", "2026-03-H2", end_of_local_day(date(2026, 3, 31))),
    ]
    week = cases[0]
    assert {t.kind for t in engine.store.armed_timers(week.id)} >= {"deadline"}
    # Unfiled past its day: overdue, then Hengyang's ladder (通报 first) against the department.
    clock.set("2026-03-10T09:00:00+08:00")
    engine.run_due()
    late = engine.get(week.id)
    assert late.overdue
    assert late.sanction_rung == 1
    history = engine.history(week.id)
    assert [e.type for e in history] == ["obligation.opened", "case.overdue", "case.sanctioned"]
    assert history[-1].payload["sanction"] == "circular_notice"
    assert (history[-1].payload["party"], history[-1].payload["party_id"]) == ("department", DEPARTMENT)
