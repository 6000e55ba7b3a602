"""Working calendar and deadline specs.

Time limits in this domain come in five units (DOMAIN §f): natural days (16号令 says "日"), working days
(消防监督检查规定 §19-22 says 工作日), hours, months, and calendar-date rules ("每月29日前", "下一季度15日前",
"1月31日前"). A :class:`DeadlineSpec` carries its unit and its roll-forward rule; :func:`resolve` turns it
into an instant with a :class:`WorkingCalendar`.

Counting follows 民法典 §201-203 [S22 verify]: the day the period starts is not counted; a period ends at
24:00 of its last day (so the resolved instant is 00:00 Asia/Shanghai of the following day); a period whose
last day is a statutory holiday moves to the next working day when the spec says ``roll=next_working_day``.
Hour periods run from the exact start instant. "X日前" is read as *on or before day X* (DOMAIN §h Q2); a
rule can say ``inclusive=False`` for *before day X*.

Working days come from ``chinese_calendar`` [S23]: statutory holidays and 调休 make-up working days. Its data
covers a fixed span of years (2004-2026 in 1.11.0) and needs a new release after each year's State Council
notice. For a year it does not cover, a :class:`ChineseWorkingCalendar` either refuses with
:class:`~hazardflow.CalendarDataMissing` (``missing_year="error"``, the default) or falls back to
Monday-Friday and marks every deadline that touched such a day *provisional* (``missing_year="weekdays"``).
"""

from __future__ import annotations

import calendar as _stdcal
import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import attrs

from ._exceptions import CalendarDataMissing, InvalidInput

if TYPE_CHECKING:
    from .abc import WorkingCalendar

__all__ = [
    "SHANGHAI",
    "CalendarRule",
    "ChineseWorkingCalendar",
    "Deadline",
    "DeadlineSpec",
    "Delay",
    "Resolved",
    "Roll",
    "Unit",
    "end_of_local_day",
    "local_date",
    "resolve",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Unit(enum.StrEnum):
    """The unit of a time limit."""

    NATURAL_DAY = "natural_day"
    WORKING_DAY = "working_day"
    HOUR = "hour"
    MONTH = "month"
    CALENDAR_DATE = "calendar_date"
    FIXED = "fixed"


class Roll(enum.StrEnum):
    """What happens when the last day of a period is not a working day."""

    NONE = "none"
    NEXT_WORKING_DAY = "next_working_day"


def local_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant."""
    return instant.astimezone(SHANGHAI).date()


def end_of_local_day(day: date) -> datetime:
    """24:00 of ``day`` in Asia/Shanghai, as an aware UTC instant."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), SHANGHAI).astimezone(UTC)


@attrs.frozen
class CalendarRule:
    """A calendar-date rule: the next date on or after a start date that satisfies it.

    ``kind``:

    * ``"day_of_month"`` - day ``day`` of the start's month, or of the next month when already past
      ("每月29日前"); in a month without that day, ``fallback="month_end"`` uses the last day of the month.
    * ``"next_quarter_day"`` - day ``day`` of the first month of the quarter after the start's quarter
      ("下一季度15日前", 16号令 §14).
    * ``"annual"`` - ``month``/``day`` of the start's year, or of the next year when already past
      ("1月31日前" for the previous year's statistics when the start is in that year: use
      ``next_year=True``; "12月1日前").
    """

    kind: Literal["day_of_month", "next_quarter_day", "annual"]
    day: int
    month: int = 0
    next_year: bool = False
    fallback: Literal["month_end", "next_month_first"] = "month_end"
    inclusive: bool = True

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.day <= 31:
            raise InvalidInput("day", self.day, "a calendar rule's day must be 1-31")
        if self.kind == "annual" and not 1 <= self.month <= 12:
            raise InvalidInput("month", self.month, "an annual rule needs a month 1-12")

    def _clamp(self, year: int, month: int) -> date:
        last = _stdcal.monthrange(year, month)[1]
        if self.day <= last:
            return date(year, month, self.day)
        if self.fallback == "month_end":
            return date(year, month, last)
        y, m = (year + 1, 1) if month == 12 else (year, month + 1)
        return date(y, m, 1)

    def last_day(self, start: date) -> date:
        """The last allowed day (inclusive) for a period starting on ``start``."""
        if self.kind == "day_of_month":
            d = self._clamp(start.year, start.month)
            if d < start:
                y, m = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
                d = self._clamp(y, m)
        elif self.kind == "next_quarter_day":
            q = (start.month - 1) // 3
            y, m = (start.year + 1, 1) if q == 3 else (start.year, q * 3 + 4)
            d = self._clamp(y, m)
        else:
            year = start.year + 1 if self.next_year else start.year
            d = self._clamp(year, self.month)
            if d < start:
                d = self._clamp(year + 1, self.month)
        return d if self.inclusive else d - timedelta(days=1)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class DeadlineSpec:
    """A time limit with its unit and roll-forward rule, tagged with its source.

    Build one with the constructors: ``DeadlineSpec.natural_days(10, roll=Roll.NEXT_WORKING_DAY,
    source="S1 §23")``, ``DeadlineSpec.working_days(3, source="S10 §20")``, ``DeadlineSpec.hours(24)``,
    ``DeadlineSpec.months(6)``, ``DeadlineSpec.on(CalendarRule("day_of_month", 29))``,
    ``DeadlineSpec.fixed(date(2024, 6, 30))``.
    """

    unit: Unit
    amount: int = 0
    roll: Roll = Roll.NONE
    rule: CalendarRule | None = None
    at: date | None = None
    source: str = ""

    def __attrs_post_init__(self) -> None:
        if self.unit in (Unit.NATURAL_DAY, Unit.WORKING_DAY, Unit.HOUR, Unit.MONTH) and self.amount < 0:
            raise InvalidInput("amount", self.amount, "a time limit cannot be negative")
        if self.unit is Unit.CALENDAR_DATE and self.rule is None:
            raise InvalidInput("rule", None, "a calendar-date deadline needs a CalendarRule")
        if self.unit is Unit.FIXED and self.at is None:
            raise InvalidInput("at", None, "a fixed deadline needs a date")

    @classmethod
    def natural_days(cls, n: int, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        return cls(Unit.NATURAL_DAY, n, roll, source=source)

    @classmethod
    def working_days(cls, n: int, *, source: str = "") -> DeadlineSpec:
        return cls(Unit.WORKING_DAY, n, Roll.NONE, source=source)

    @classmethod
    def hours(cls, n: int, *, source: str = "") -> DeadlineSpec:
        return cls(Unit.HOUR, n, source=source)

    @classmethod
    def months(cls, n: int, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        return cls(Unit.MONTH, n, roll, source=source)

    @classmethod
    def on(cls, rule: CalendarRule, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        return cls(Unit.CALENDAR_DATE, 0, roll, rule=rule, source=source)

    @classmethod
    def fixed(cls, day: date, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        return cls(Unit.FIXED, 0, roll, at=day, source=source)

    def describe(self, lang: str = "zh") -> str:
        """A short human description: ``10日（遇节假日顺延）`` / ``10 natural days (rolls to a working day)``."""
        zh = lang == "zh"
        if self.unit is Unit.NATURAL_DAY:
            s = f"{self.amount}日" if zh else f"{self.amount} natural days"
        elif self.unit is Unit.WORKING_DAY:
            s = f"{self.amount}个工作日" if zh else f"{self.amount} working days"
        elif self.unit is Unit.HOUR:
            s = f"{self.amount}小时" if zh else f"{self.amount} hours"
        elif self.unit is Unit.MONTH:
            s = f"{self.amount}个月" if zh else f"{self.amount} months"
        elif self.unit is Unit.FIXED:
            s = f"{self.at}前" if zh else f"by {self.at}"
        else:
            assert self.rule is not None
            r = self.rule
            if r.kind == "day_of_month":
                s = f"每月{r.day}日前" if zh else f"by day {r.day} of each month"
            elif r.kind == "next_quarter_day":
                s = f"下一季度首月{r.day}日前" if zh else f"by day {r.day} of the next quarter"
            else:
                nxt = "次年" if r.next_year else ""
                s = (
                    f"{nxt}{r.month}月{r.day}日前"
                    if zh
                    else f"by {r.month}/{r.day}" + (" of the next year" if r.next_year else "")
                )
        if self.roll is Roll.NEXT_WORKING_DAY:
            s += "（遇节假日顺延）" if zh else " (rolls to the next working day)"
        return s

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit": self.unit.value, "amount": self.amount, "roll": self.roll.value}
        if self.rule is not None:
            out["rule"] = self.rule.to_json()
        if self.at is not None:
            out["at"] = self.at.isoformat()
        if self.source:
            out["source"] = self.source
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeadlineSpec:
        rule = data.get("rule")
        at = data.get("at")
        return cls(
            Unit(data["unit"]),
            int(data.get("amount", 0)),
            Roll(data.get("roll", "none")),
            rule=CalendarRule(**rule) if rule else None,
            at=date.fromisoformat(at) if at else None,
            source=str(data.get("source", "")),
        )


@attrs.frozen
class Delay:
    """An offset used by reminders (before a deadline) and ladder rungs (after it)."""

    amount: int
    unit: Unit = Unit.NATURAL_DAY

    def __attrs_post_init__(self) -> None:
        if self.unit not in (Unit.NATURAL_DAY, Unit.WORKING_DAY, Unit.HOUR):
            raise InvalidInput(
                "unit",
                self.unit.value,
                "a delay is counted in natural days, working days or hours",
                allowed=("natural_day", "working_day", "hour"),
            )
        if self.amount < 0:
            raise InvalidInput("amount", self.amount, "a delay cannot be negative")

    def describe(self, lang: str = "zh") -> str:
        return DeadlineSpec(self.unit, self.amount).describe(lang)


@attrs.frozen
class Resolved:
    """A resolved deadline instant (UTC) and whether a missing calendar year made it provisional."""

    due_at: datetime
    provisional: bool = False


@attrs.frozen
class Deadline:
    """The deadline a case is working to: the spec, when it started, and the resolved instant (UTC)."""

    key: str
    due_at: datetime
    spec: DeadlineSpec
    start: datetime
    provisional: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "due_at": self.due_at.isoformat(),
            "start": self.start.isoformat(),
            "spec": self.spec.to_json(),
            "provisional": self.provisional,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deadline:
        return cls(
            key=str(data["key"]),
            due_at=datetime.fromisoformat(data["due_at"]),
            spec=DeadlineSpec.from_json(data["spec"]),
            start=datetime.fromisoformat(data["start"]),
            provisional=bool(data.get("provisional", False)),
        )


class ChineseWorkingCalendar:
    """Working days of mainland China from ``chinese_calendar``, plus local adjustments.

    ``extra_holidays`` are local days off (a county's own holiday); ``extra_working_days`` are local
    make-up working days. ``years`` adds whole years of data the package does not have yet, as
    ``{2027: (holidays, working_weekend_days)}``. ``missing_year`` is ``"error"`` (refuse with
    :class:`~hazardflow.CalendarDataMissing`) or ``"weekdays"`` (Monday-Friday, provisional).
    """

    def __init__(
        self,
        *,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        years: Mapping[int, tuple[Iterable[date], Iterable[date]]] | None = None,
        missing_year: Literal["error", "weekdays"] = "error",
        name: str = "cn",
    ) -> None:
        import chinese_calendar

        if missing_year not in ("error", "weekdays"):
            raise InvalidInput(
                "missing_year", missing_year, "unknown behaviour for years without data", allowed=("error", "weekdays")
            )
        self.name = name
        self.missing_year = missing_year
        self._holidays: frozenset[date] = frozenset(chinese_calendar.holidays)
        self._workdays: frozenset[date] = frozenset(chinese_calendar.workdays)
        lo = min(d.year for d in self._holidays)
        hi = max(d.year for d in self._holidays)
        self._package_years = (lo, hi)
        self._extra_years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        for year, (hol, work) in (years or {}).items():
            self._extra_years[int(year)] = (frozenset(hol), frozenset(work))
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working_days = frozenset(extra_working_days)
        clash = self.extra_holidays & self.extra_working_days
        if clash:
            raise InvalidInput(
                "extra_working_days",
                sorted(clash)[0].isoformat(),
                "a day cannot be both a local holiday and a local working day",
            )
        self._cache: dict[date, tuple[bool, bool]] = {}

    @property
    def covered_years(self) -> tuple[int, int]:
        """The span of years with full data (package years, extended by contiguous added years)."""
        lo, hi = self._package_years
        while hi + 1 in self._extra_years:
            hi += 1
        return lo, hi

    def covers(self, day: date) -> bool:
        """True when the calendar has holiday data for the year of ``day``."""
        lo, hi = self._package_years
        return lo <= day.year <= hi or day.year in self._extra_years

    def status(self, day: date) -> tuple[bool, bool]:
        """``(is_working_day, provisional)`` for ``day``."""
        hit = self._cache.get(day)
        if hit is not None:
            return hit
        if day in self.extra_holidays:
            result = (False, False)
        elif day in self.extra_working_days:
            result = (True, False)
        elif day.year in self._extra_years:
            hol, work = self._extra_years[day.year]
            result = (day in work or (day.weekday() < 5 and day not in hol), False)
        elif self._package_years[0] <= day.year <= self._package_years[1]:
            result = (day in self._workdays or (day.weekday() < 5 and day not in self._holidays), False)
        elif self.missing_year == "weekdays":
            result = (day.weekday() < 5, True)
        else:
            raise CalendarDataMissing(day.year, self.covered_years)
        self._cache[day] = result
        return result

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a working day (holidays off, 调休 weekend days on)."""
        return self.status(day)[0]

    def add_working_days(self, day: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day after ``day`` (``day`` itself not counted), and provisional."""
        provisional = False
        d = day
        count = 0
        while count < n:
            d += timedelta(days=1)
            ok, prov = self.status(d)
            provisional = provisional or prov
            if ok:
                count += 1
        return d, provisional

    def subtract_working_days(self, day: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day before ``day``, and provisional."""
        provisional = False
        d = day
        count = 0
        while count < n:
            d -= timedelta(days=1)
            ok, prov = self.status(d)
            provisional = provisional or prov
            if ok:
                count += 1
        return d, provisional

    def roll_forward(self, day: date) -> tuple[date, bool]:
        """``day`` itself when it is a working day, else the next working day."""
        provisional = False
        d = day
        while True:
            ok, prov = self.status(d)
            provisional = provisional or prov
            if ok:
                return d, provisional
            d += timedelta(days=1)

    def __repr__(self) -> str:
        return (
            f"ChineseWorkingCalendar(name={self.name!r}, years={self.covered_years}, "
            f"missing_year={self.missing_year!r}, local_holidays={len(self.extra_holidays)}, "
            f"local_working_days={len(self.extra_working_days)})"
        )


def _add_months(day: date, n: int) -> date:
    month0 = day.month - 1 + n
    year = day.year + month0 // 12
    month = month0 % 12 + 1
    return date(year, month, min(day.day, _stdcal.monthrange(year, month)[1]))


def resolve(spec: DeadlineSpec, start: datetime, calendar: WorkingCalendar) -> Resolved:
    """Resolve ``spec`` from the aware instant ``start`` to the instant the period ends (UTC)."""
    if start.tzinfo is None:
        raise InvalidInput("start", start.isoformat(), "deadline starts must be timezone-aware")
    if spec.unit is Unit.HOUR:
        return Resolved((start + timedelta(hours=spec.amount)).astimezone(UTC))
    d0 = local_date(start)
    provisional = False
    if spec.unit is Unit.NATURAL_DAY:
        last = d0 + timedelta(days=spec.amount)
    elif spec.unit is Unit.WORKING_DAY:
        last, provisional = calendar.add_working_days(d0, spec.amount)
    elif spec.unit is Unit.MONTH:
        last = _add_months(d0, spec.amount)
    elif spec.unit is Unit.CALENDAR_DATE:
        assert spec.rule is not None
        last = spec.rule.last_day(d0)
    else:
        assert spec.at is not None
        last = spec.at
    if spec.roll is Roll.NEXT_WORKING_DAY:
        last, prov = calendar.roll_forward(last)
        provisional = provisional or prov
    return Resolved(end_of_local_day(last), provisional)


def offset(instant: datetime, delay: Delay, calendar: WorkingCalendar, *, before: bool) -> Resolved:
    """``instant`` moved by ``delay`` (backwards when ``before``), keeping the local time of day."""
    sign = -1 if before else 1
    if delay.unit is Unit.HOUR:
        return Resolved(instant + sign * timedelta(hours=delay.amount))
    if delay.unit is Unit.NATURAL_DAY:
        return Resolved(instant + sign * timedelta(days=delay.amount))
    local = instant.astimezone(SHANGHAI)
    if before:
        day, prov = calendar.subtract_working_days(local.date(), delay.amount)
    else:
        day, prov = calendar.add_working_days(local.date(), delay.amount)
    return Resolved(datetime.combine(day, local.timetz()).astimezone(UTC), prov)
