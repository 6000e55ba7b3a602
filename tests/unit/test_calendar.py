"""The working calendar, deadline specs and calendar-date rules (DOMAIN §d, §f; 民法典 §201-203)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hazardflow import (
    CalendarDataMissing,
    CalendarRule,
    ChineseWorkingCalendar,
    DeadlineSpec,
    Delay,
    InvalidInput,
    Roll,
    Unit,
)
from hazardflow._calendar import SHANGHAI, LenientCalendar, end_of_local_day, offset, resolve

CAL = ChineseWorkingCalendar()
#: Days the bundled data covers, with room for 60 working days after them.
covered_days = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 9, 30))
counts = st.integers(min_value=0, max_value=60)


def sh(text: str) -> datetime:
    """An Asia/Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# ── the calendar against the library's own answers ──────────────────────────────────────────────────
@given(covered_days)
def test_working_day_status_matches_chinese_calendar(day: date) -> None:
    assert CAL.is_working_day(day) == chinese_calendar.is_workday(day)
    assert CAL.status(day) == (chinese_calendar.is_workday(day), False)


@given(covered_days, counts)
def test_adding_working_days_lands_on_a_working_day_after_exactly_n_of_them(day: date, n: int) -> None:
    end, provisional = CAL.add_working_days(day, n)
    assert not provisional
    if n == 0:
        assert end == day
        return
    assert end > day
    assert CAL.is_working_day(end)
    assert not chinese_calendar.is_holiday(end) or chinese_calendar.is_workday(end)
    # exactly n working days in (day, end]
    span = [day + timedelta(days=i) for i in range(1, (end - day).days + 1)]
    assert sum(CAL.is_working_day(d) for d in span) == n


@given(covered_days, counts, counts)
def test_adding_working_days_is_monotonic_in_n(day: date, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert CAL.add_working_days(day, lo)[0] <= CAL.add_working_days(day, hi)[0]
    if lo < hi:
        assert CAL.add_working_days(day, lo)[0] < CAL.add_working_days(day, hi)[0]


@given(covered_days, st.integers(min_value=1, max_value=60))
def test_adding_from_a_working_day_agrees_with_find_workday(day: date, n: int) -> None:
    if not chinese_calendar.is_workday(day):
        day = chinese_calendar.find_workday(0, day)
    assert CAL.add_working_days(day, n)[0] == chinese_calendar.find_workday(n, day)


@given(st.dates(min_value=date(2004, 4, 1), max_value=date(2026, 12, 31)), st.integers(min_value=1, max_value=60))
def test_subtracting_agrees_with_find_workday_and_inverts_adding(day: date, n: int) -> None:
    back, _ = CAL.subtract_working_days(day, n)
    assert back == chinese_calendar.find_workday(-n, day)
    assert CAL.is_working_day(back)
    if CAL.is_working_day(day) and day <= date(2026, 9, 30):
        assert CAL.subtract_working_days(CAL.add_working_days(day, n)[0], n)[0] == day


@given(covered_days, counts)
def test_working_days_skip_every_statutory_holiday(day: date, n: int) -> None:
    end, _ = CAL.add_working_days(day, n)
    if n:
        assert end not in chinese_calendar.holidays


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # 2026 Spring Festival: 02-15 .. 02-23 off; Saturdays 02-14 and 02-28 are 调休 working days [S23].
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 2, 27), 1, date(2026, 2, 28)),
        (date(2026, 2, 27), 2, date(2026, 3, 2)),
        # National Day 2026: 10-01 .. 10-07 off, Saturday 10-10 a working day.
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 10, 9), 1, date(2026, 10, 10)),
        (date(2026, 10, 9), 2, date(2026, 10, 12)),
    ],
)
def test_make_up_saturdays_are_working_days(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == (expected, False)


# ── local adjustments ───────────────────────────────────────────────────────────────────────────────
@given(
    covered_days,
    st.integers(min_value=1, max_value=30),
    st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)), max_size=20),
    st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)), max_size=20),
)
def test_local_holidays_and_working_days_win_over_national_data(
    day: date, n: int, holidays: set[date], working: set[date]
) -> None:
    working -= holidays
    cal = ChineseWorkingCalendar(extra_holidays=holidays, extra_working_days=working)
    end, _ = cal.add_working_days(day, n)
    assert end not in holidays
    assert cal.is_working_day(end)
    for d in holidays:
        assert not cal.is_working_day(d)
    for d in working:
        assert cal.is_working_day(d)
    span = [day + timedelta(days=i) for i in range(1, (end - day).days + 1)]
    expected = sum(1 for d in span if d in working or (d not in holidays and chinese_calendar.is_workday(d)))
    assert expected == n


def test_a_local_make_up_sunday_counts() -> None:
    sunday = date(2025, 6, 8)
    cal = ChineseWorkingCalendar(extra_working_days=[sunday])
    assert cal.add_working_days(date(2025, 6, 6), 1) == (sunday, False)
    assert CAL.add_working_days(date(2025, 6, 6), 1) == (date(2025, 6, 9), False)


# ── years the data does not cover ───────────────────────────────────────────────────────────────────
def test_2027_is_refused_by_default_with_a_clear_error() -> None:
    with pytest.raises(CalendarDataMissing) as info:
        CAL.add_working_days(date(2026, 12, 28), 5)
    err = info.value
    assert err.code == "hazardflow.calendar_data_missing"
    assert err.year == 2027
    assert err.covered == (2004, 2026)
    text = str(err)
    assert "no holiday data for year 2027" in text
    assert "缺少节假日数据" in text
    assert "2004-2026" in text
    assert "missing_year='weekdays'" in text


def test_weekday_fallback_marks_answers_provisional() -> None:
    cal = ChineseWorkingCalendar(missing_year="weekdays")
    assert cal.status(date(2027, 1, 1)) == (True, True)  # a Friday; the real 2027 New Year is unknown here
    assert cal.status(date(2027, 1, 2)) == (False, True)
    end, provisional = cal.add_working_days(date(2026, 12, 30), 3)
    assert (end, provisional) == (date(2027, 1, 4), True)
    # Entirely inside covered years: never provisional.
    assert cal.add_working_days(date(2026, 12, 1), 3) == (date(2026, 12, 4), False)


def test_added_years_extend_the_data() -> None:
    new_year = date(2027, 1, 1)
    makeup = date(2027, 1, 2)
    cal = ChineseWorkingCalendar(years={2027: ([new_year], [makeup])})
    assert cal.covered_years == (2004, 2027)
    assert cal.covers(new_year)
    assert cal.status(new_year) == (False, False)
    assert cal.status(makeup) == (True, False)
    assert cal.add_working_days(date(2026, 12, 31), 1) == (makeup, False)
    with pytest.raises(CalendarDataMissing):
        cal.status(date(2028, 1, 3))


def test_lenient_view_never_refuses() -> None:
    lenient = LenientCalendar(CAL)
    assert lenient.add_working_days(date(2026, 12, 30), 3) == (date(2027, 1, 4), True)
    assert lenient.add_working_days(date(2026, 12, 1), 3) == (date(2026, 12, 4), False)
    assert lenient.subtract_working_days(date(2027, 1, 4), 1) == (date(2027, 1, 1), True)
    assert lenient.roll_forward(date(2027, 1, 2)) == (date(2027, 1, 4), True)


# ── resolving deadline specs (民法典 §201-203) ──────────────────────────────────────────────────────
def test_natural_days_skip_the_first_day_and_end_at_24_00() -> None:
    r = resolve(DeadlineSpec.natural_days(10), sh("2024-03-01T10:00"), CAL)
    assert r.due_at == sh("2024-03-12T00:00").astimezone(UTC)
    assert r.due_at.tzinfo is UTC
    assert not r.provisional


def test_a_period_ending_on_a_holiday_rolls_to_the_next_working_day() -> None:
    spec = DeadlineSpec.natural_days(10, roll=Roll.NEXT_WORKING_DAY)
    # 2024-09-21 + 10 日 = 10-01, National Day; the holiday ends 10-07, so the period ends 24:00 of 10-08.
    assert resolve(spec, sh("2024-09-21T15:00"), CAL).due_at == end_of_local_day(date(2024, 10, 8))
    no_roll = DeadlineSpec.natural_days(10)
    assert resolve(no_roll, sh("2024-09-21T15:00"), CAL).due_at == end_of_local_day(date(2024, 10, 1))
    # A 调休 Saturday is a working day: no roll.
    assert resolve(spec, sh("2026-02-04T09:00"), CAL).due_at == end_of_local_day(date(2026, 2, 14))


def test_working_days_hours_and_months() -> None:
    assert resolve(DeadlineSpec.working_days(3), sh("2026-02-13T09:00"), CAL).due_at == end_of_local_day(
        date(2026, 2, 25)
    )
    assert resolve(DeadlineSpec.hours(24), sh("2024-03-01T10:00"), CAL).due_at == datetime(2024, 3, 2, 2, tzinfo=UTC)
    assert resolve(DeadlineSpec.months(1), sh("2024-01-31T10:00"), CAL).due_at == end_of_local_day(date(2024, 2, 29))
    assert resolve(DeadlineSpec.months(1), sh("2025-01-31T10:00"), CAL).due_at == end_of_local_day(date(2025, 2, 28))
    assert resolve(DeadlineSpec.months(6), sh("2025-08-31T10:00"), CAL).due_at == end_of_local_day(date(2026, 2, 28))


def test_a_working_day_deadline_into_2027_is_refused_or_provisional() -> None:
    spec = DeadlineSpec.working_days(5)
    with pytest.raises(CalendarDataMissing):
        resolve(spec, sh("2026-12-28T09:00"), CAL)
    r = resolve(spec, sh("2026-12-28T09:00"), ChineseWorkingCalendar(missing_year="weekdays"))
    assert r.provisional
    assert r.due_at == end_of_local_day(date(2027, 1, 4))
    lenient = resolve(spec, sh("2026-12-28T09:00"), CAL, lenient=True)
    assert lenient == r
    # A fixed date needs no calendar unless it rolls.
    assert not resolve(DeadlineSpec.fixed(date(2027, 3, 1)), sh("2026-12-28T09:00"), CAL).provisional


@given(st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2026, 9, 30)), counts)
def test_working_day_deadlines_end_at_24_00_of_a_working_day(start: datetime, n: int) -> None:
    r = resolve(DeadlineSpec.working_days(n), start.replace(tzinfo=SHANGHAI), CAL)
    local = r.due_at.astimezone(SHANGHAI)
    assert local.time().hour == 0
    assert local.minute == 0
    if n:
        assert CAL.is_working_day(local.date() - timedelta(days=1))


# ── offsets for reminders and ladder rungs ──────────────────────────────────────────────────────────
def test_working_day_offset_from_24_00_counts_from_the_last_day() -> None:
    friday_end = end_of_local_day(date(2024, 3, 15))  # 24:00 Friday 2024-03-15
    after = offset(friday_end, Delay(10, Unit.WORKING_DAY), CAL, before=False)
    assert after.due_at == end_of_local_day(date(2024, 3, 29))  # the 10th working day after that Friday
    before = offset(friday_end, Delay(2, Unit.WORKING_DAY), CAL, before=True)
    assert before.due_at == end_of_local_day(date(2024, 3, 13))  # two working days (Thu, Fri) still left
    assert offset(friday_end, Delay(3), CAL, before=True).due_at == end_of_local_day(date(2024, 3, 12))
    assert offset(friday_end, Delay(5, Unit.HOUR), CAL, before=False).due_at == friday_end + timedelta(hours=5)


def test_working_day_offset_keeps_the_time_of_day() -> None:
    start = sh("2026-02-13T15:30")
    r = offset(start, Delay(1, Unit.WORKING_DAY), CAL, before=False)
    assert r.due_at == sh("2026-02-14T15:30").astimezone(UTC)
    assert r.due_at.tzinfo is UTC


@given(st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2026, 6, 30)), st.integers(0, 30))
def test_offsets_move_the_right_way(start: datetime, n: int) -> None:
    instant = start.replace(tzinfo=SHANGHAI)
    for unit in (Unit.NATURAL_DAY, Unit.WORKING_DAY, Unit.HOUR):
        after = offset(instant, Delay(n, unit), CAL, before=False).due_at
        before = offset(instant, Delay(n, unit), CAL, before=True).due_at
        assert before <= instant <= after
        if n:
            assert before < instant < after


# ── calendar-date rules ("每月29日前", "下一季度15日前", "1月31日前", "12月1日前") ────────────────────
MONTHLY_29 = CalendarRule("day_of_month", 29)
NEXT_QUARTER_15 = CalendarRule("next_quarter_day", 15)
JAN_31_NEXT_YEAR = CalendarRule("annual", 31, month=1, next_year=True)
DEC_1 = CalendarRule("annual", 1, month=12)


@pytest.mark.parametrize(
    ("rule", "start", "expected"),
    [
        (MONTHLY_29, date(2026, 2, 1), date(2026, 2, 28)),  # common year: no 29th, the month's last day
        (MONTHLY_29, date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        (MONTHLY_29, date(2026, 1, 30), date(2026, 2, 28)),  # past this month's 29th: next month
        (MONTHLY_29, date(2026, 3, 29), date(2026, 3, 29)),  # on the day itself
        (MONTHLY_29, date(2026, 12, 30), date(2027, 1, 29)),  # across the year end
        (CalendarRule("day_of_month", 29, fallback="next_month_first"), date(2026, 2, 1), date(2026, 3, 1)),
        (NEXT_QUARTER_15, date(2026, 1, 1), date(2026, 4, 15)),
        (NEXT_QUARTER_15, date(2026, 3, 31), date(2026, 4, 15)),  # quarter end
        (NEXT_QUARTER_15, date(2026, 9, 30), date(2026, 10, 15)),
        (NEXT_QUARTER_15, date(2025, 10, 1), date(2026, 1, 15)),  # Q4: next year
        (NEXT_QUARTER_15, date(2025, 12, 31), date(2026, 1, 15)),  # year end
        (JAN_31_NEXT_YEAR, date(2025, 1, 1), date(2026, 1, 31)),
        (JAN_31_NEXT_YEAR, date(2025, 12, 31), date(2026, 1, 31)),
        (DEC_1, date(2026, 1, 1), date(2026, 12, 1)),
        (DEC_1, date(2026, 12, 1), date(2026, 12, 1)),
        (DEC_1, date(2026, 12, 2), date(2027, 12, 1)),
        (CalendarRule("annual", 29, month=2), date(2025, 1, 1), date(2025, 2, 28)),
        (CalendarRule("day_of_month", 29, inclusive=False), date(2026, 3, 1), date(2026, 3, 28)),
        (CalendarRule("day_of_month", 29, inclusive=False), date(2026, 3, 29), date(2026, 4, 28)),
    ],
)
def test_calendar_rules(rule: CalendarRule, start: date, expected: date) -> None:
    assert rule.last_day(start) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31)))
def test_calendar_rules_never_end_before_they_start(start: date) -> None:
    monthly = MONTHLY_29.last_day(start)
    assert start <= monthly <= start + timedelta(days=31)
    assert monthly.day == min(29, calendar.monthrange(monthly.year, monthly.month)[1])
    quarterly = NEXT_QUARTER_15.last_day(start)
    assert quarterly.day == 15
    assert quarterly.month in (1, 4, 7, 10)
    assert start < quarterly <= start + timedelta(days=107)
    assert (quarterly.month - 1) // 3 == ((start.month - 1) // 3 + 1) % 4
    annual = JAN_31_NEXT_YEAR.last_day(start)
    assert annual == date(start.year + 1, 1, 31)
    dec = DEC_1.last_day(start)
    assert start <= dec < start + timedelta(days=366)


def test_calendar_date_deadline_resolves_at_24_00_and_can_roll() -> None:
    spec = DeadlineSpec.on(NEXT_QUARTER_15)
    assert resolve(spec, sh("2025-10-01T00:00"), CAL).due_at == end_of_local_day(date(2026, 1, 15))
    # 2026-02-28 is a 调休 Saturday, so a "29th" that falls back to it does not roll.
    rolled = DeadlineSpec.on(MONTHLY_29, roll=Roll.NEXT_WORKING_DAY)
    assert resolve(rolled, sh("2026-02-01T00:00"), CAL).due_at == end_of_local_day(date(2026, 2, 28))
    # 2025-03-29 is a Saturday: rolls to Monday 03-31.
    assert resolve(rolled, sh("2025-03-01T00:00"), CAL).due_at == end_of_local_day(date(2025, 3, 31))


# ── JSON round trips and descriptions ───────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    "spec",
    [
        DeadlineSpec.natural_days(10, roll=Roll.NEXT_WORKING_DAY, source="S1 §23"),
        DeadlineSpec.working_days(3, source="S10 §20"),
        DeadlineSpec.hours(24),
        DeadlineSpec.months(6),
        DeadlineSpec.on(MONTHLY_29),
        DeadlineSpec.on(JAN_31_NEXT_YEAR, roll=Roll.NEXT_WORKING_DAY),
        DeadlineSpec.fixed(date(2024, 6, 30)),
    ],
)
def test_specs_round_trip_through_json(spec: DeadlineSpec) -> None:
    assert DeadlineSpec.from_json(spec.to_json()) == spec


def test_descriptions() -> None:
    assert DeadlineSpec.natural_days(10, roll=Roll.NEXT_WORKING_DAY).describe() == "10日（遇节假日顺延）"
    assert DeadlineSpec.working_days(3).describe("en") == "3 working days"
    assert DeadlineSpec.on(MONTHLY_29).describe() == "每月29日前"
    assert DeadlineSpec.on(NEXT_QUARTER_15).describe() == "下一季度首月15日前"
    assert DeadlineSpec.on(JAN_31_NEXT_YEAR).describe() == "次年1月31日前"
    assert Delay(2, Unit.WORKING_DAY).describe("en") == "2 working days"


# ── every rejection path: type, fields, wording ─────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("build", "field", "words"),
    [
        (lambda: DeadlineSpec("fortnight", 1), "unit", "unknown unit of time"),
        (lambda: DeadlineSpec(Unit.NATURAL_DAY, -1), "amount", "cannot be negative"),
        (lambda: DeadlineSpec(Unit.NATURAL_DAY, 1.5), "amount", "whole number"),
        (lambda: DeadlineSpec(Unit.NATURAL_DAY, True), "amount", "whole number"),
        (lambda: DeadlineSpec(Unit.NATURAL_DAY, 1, "sometimes"), "roll", "unknown roll-forward rule"),
        (lambda: DeadlineSpec(Unit.CALENDAR_DATE), "rule", "needs a CalendarRule"),
        (lambda: DeadlineSpec(Unit.FIXED), "at", "needs a date"),
        (lambda: DeadlineSpec(Unit.FIXED, at=datetime(2024, 1, 1, tzinfo=UTC)), "at", "not a datetime"),
        (lambda: Delay(1, Unit.MONTH), "unit", "natural days, working days or hours"),
        (lambda: Delay(-2), "amount", "cannot be negative"),
        (lambda: CalendarRule("weekly", 1), "kind", "unknown calendar rule"),  # type: ignore[arg-type]
        (lambda: CalendarRule("day_of_month", 0), "day", "integer 1-31"),
        (lambda: CalendarRule("day_of_month", 32), "day", "integer 1-31"),
        (lambda: CalendarRule("annual", 1), "month", "needs a month 1-12"),
        (lambda: CalendarRule("annual", 31, month=4), "day", "never has a day 31"),
        (lambda: CalendarRule("day_of_month", 29, month=2), "month", "takes no month"),
        (lambda: CalendarRule("day_of_month", 29, fallback="skip"), "fallback", "unknown fallback"),  # type: ignore[arg-type]
        (lambda: ChineseWorkingCalendar(missing_year="guess"), "missing_year", "unknown behaviour"),  # type: ignore[arg-type]
        (
            lambda: ChineseWorkingCalendar(extra_holidays=[date(2025, 1, 2)], extra_working_days=[date(2025, 1, 2)]),
            "extra_working_days",
            "both a local holiday and a local working day",
        ),
        (lambda: ChineseWorkingCalendar(extra_holidays=["2025-01-02"]), "extra_holidays", "must list dates"),  # type: ignore[list-item]
        (lambda: ChineseWorkingCalendar(years={2027: ([date(2028, 1, 1)], [])}), "years", "listed under year 2027"),
        (lambda: ChineseWorkingCalendar(years={2027: [date(2027, 1, 1)]}), "years", "pair (holidays"),  # type: ignore[dict-item]
        (lambda: resolve(DeadlineSpec.hours(1), datetime(2024, 1, 1), CAL), "start", "timezone-aware"),
        (
            lambda: offset(datetime(2024, 1, 1), Delay(1), CAL, before=False),
            "instant",
            "timezone-aware",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(build: object, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field
    assert info.value.code == "hazardflow.invalid_input"
    assert words in str(info.value)
    assert f"invalid value for {field!r}" in str(info.value)


def test_a_calendar_without_working_days_stops_instead_of_looping() -> None:
    class Never:
        def status(self, day: date) -> tuple[bool, bool]:
            return (False, False)

        def covers(self, day: date) -> bool:
            return True

    with pytest.raises(InvalidInput) as info:
        LenientCalendar(Never()).add_working_days(date(2024, 1, 1), 1)  # type: ignore[arg-type]
    assert "has no working day within 400 days" in str(info.value)


def test_a_policy_can_carry_a_year_the_package_lacks() -> None:
    from hazardflow.policies import NationalBaseline

    class WithNextYear(NationalBaseline):
        policy_id = "test.calendar-years"
        calendar_years: ClassVar = {2027: (("2027-01-01",), ("2027-01-02",))}

    cal = WithNextYear().calendar
    assert cal.covers(date(2027, 6, 1))
    assert cal.status(date(2027, 1, 1)) == (False, False)
    assert cal.status(date(2027, 1, 2)) == (True, False)
    assert cal.add_working_days(date(2026, 12, 31), 1) == (date(2027, 1, 2), False)
    assert not NationalBaseline().calendar.covers(date(2027, 6, 1))
