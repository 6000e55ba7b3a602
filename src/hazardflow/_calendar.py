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
from collections.abc import Callable, Iterable, Mapping
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
    "LenientCalendar",
    "Resolved",
    "Roll",
    "Unit",
    "end_of_local_day",
    "local_date",
    "offset",
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


def _as_unit(value: Unit | str) -> Unit:
    try:
        return Unit(value)
    except ValueError:
        raise InvalidInput("unit", value, "unknown unit of time", allowed=tuple(u.value for u in Unit)) from None


def _as_roll(value: Roll | str) -> Roll:
    try:
        return Roll(value)
    except ValueError:
        raise InvalidInput("roll", value, "unknown roll-forward rule", allowed=tuple(r.value for r in Roll)) from None


def _check_amount(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("amount", value, "a time limit is a whole number")
    if value < 0:
        raise InvalidInput("amount", value, "a time limit cannot be negative")


def local_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant."""
    return instant.astimezone(SHANGHAI).date()


def local_repr(value: object) -> str:
    """``repr`` of a value, with an aware instant shown in Asia/Shanghai (the same instant, read locally)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return repr(value.astimezone(SHANGHAI))
    return repr(value)


def format_local(instant: datetime, *, end_of_day: bool = False) -> str:
    """``2024-03-04 09:00 (Asia/Shanghai)``: an instant as a person in the jurisdiction reads it.

    ``end_of_day``: an instant at local midnight is shown as 24:00 of the day before, the way a period's end
    is written in law (``2024-03-20 24:00``, not ``2024-03-21 00:00``).
    """
    local = instant.astimezone(SHANGHAI)
    if end_of_day and local.time() == time(0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00 (Asia/Shanghai)"
    seconds = f":{local:%S}" if local.second else ""
    return f"{local:%Y-%m-%d %H:%M}{seconds} (Asia/Shanghai)"


def end_of_local_day(day: date) -> datetime:
    """24:00 of ``day`` in Asia/Shanghai, as an aware UTC instant."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), SHANGHAI).astimezone(UTC)


_RULE_KINDS = ("annual", "day_of_month", "next_quarter_day")


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
        if self.kind not in _RULE_KINDS:
            raise InvalidInput("kind", self.kind, "unknown calendar rule", allowed=_RULE_KINDS)
        if isinstance(self.day, bool) or not isinstance(self.day, int) or not 1 <= self.day <= 31:
            raise InvalidInput("day", self.day, "a calendar rule's day must be an integer 1-31")
        if self.kind == "annual":
            if isinstance(self.month, bool) or not isinstance(self.month, int) or not 1 <= self.month <= 12:
                raise InvalidInput("month", self.month, "an annual rule needs a month 1-12")
            if self.day > _stdcal.monthrange(2024, self.month)[1]:
                raise InvalidInput(
                    "day", self.day, f"month {self.month} never has a day {self.day}", hint="use the month's last day"
                )
        elif self.month != 0:
            raise InvalidInput("month", self.month, f"a {self.kind!r} rule takes no month (leave it 0)")
        if self.fallback not in ("month_end", "next_month_first"):
            raise InvalidInput(
                "fallback",
                self.fallback,
                "unknown fallback for a missing day",
                allowed=("month_end", "next_month_first"),
            )

    def _clamp(self, year: int, month: int) -> date:
        last = _stdcal.monthrange(year, month)[1]
        if self.day <= last:
            return date(year, month, self.day)
        if self.fallback == "month_end":
            return date(year, month, last)
        y, m = (year + 1, 1) if month == 12 else (year, month + 1)
        return date(y, m, 1)

    def _last(self, year: int, month: int) -> date:
        d = self._clamp(year, month)
        return d if self.inclusive else d - timedelta(days=1)

    def last_day(self, start: date) -> date:
        """The last allowed day (inclusive) for a period starting on ``start``; never before ``start``.

        ``day_of_month``: this month's day, else next month's. ``next_quarter_day``: the day in the first
        month of the next quarter. ``annual``: this year's date (next year's with ``next_year``), else the
        following year's.
        """
        if self.kind == "day_of_month":
            d = self._last(start.year, start.month)
            if d < start:
                y, m = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
                d = self._last(y, m)
            return d
        if self.kind == "next_quarter_day":
            q = (start.month - 1) // 3
            y, m = (start.year + 1, 1) if q == 3 else (start.year, q * 3 + 4)
            return self._last(y, m)
        year = start.year + 1 if self.next_year else start.year
        d = self._last(year, self.month)
        if d < start:
            d = self._last(year + 1, self.month)
        return d

    def to_json(self) -> dict[str, Any]:
        """The rule as a JSON-ready dict."""
        return attrs.asdict(self)


@attrs.frozen
class DeadlineSpec:
    """A time limit with its unit and roll-forward rule, tagged with its source.

    Build one with the constructors: ``DeadlineSpec.natural_days(10, roll=Roll.NEXT_WORKING_DAY,
    source="S1 §23")``, ``DeadlineSpec.working_days(3, source="S10 §20")``, ``DeadlineSpec.hours(24)``,
    ``DeadlineSpec.months(6)``, ``DeadlineSpec.on(CalendarRule("day_of_month", 29))``,
    ``DeadlineSpec.fixed(date(2024, 6, 30))``.
    """

    unit: Unit = attrs.field(converter=_as_unit)
    amount: int = 0
    roll: Roll = attrs.field(default=Roll.NONE, converter=_as_roll)
    rule: CalendarRule | None = None
    at: date | None = None
    source: str = ""

    def __attrs_post_init__(self) -> None:
        _check_amount(self.amount)
        if self.unit is Unit.CALENDAR_DATE and not isinstance(self.rule, CalendarRule):
            raise InvalidInput("rule", self.rule, "a calendar-date deadline needs a CalendarRule")
        if self.unit is Unit.FIXED and (not isinstance(self.at, date) or isinstance(self.at, datetime)):
            raise InvalidInput("at", self.at, "a fixed deadline needs a date (not a datetime)")

    @classmethod
    def natural_days(cls, n: int, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        """Natural days (日), the day of the start not counted [民法典 §201]."""
        return cls(Unit.NATURAL_DAY, n, roll, source=source)

    @classmethod
    def working_days(cls, n: int, *, source: str = "") -> DeadlineSpec:
        """Working days (工作日): statutory holidays off, 调休 make-up days on."""
        return cls(Unit.WORKING_DAY, n, Roll.NONE, source=source)

    @classmethod
    def hours(cls, n: int, *, source: str = "") -> DeadlineSpec:
        """Hours from the exact start instant [民法典 §201]."""
        return cls(Unit.HOUR, n, source=source)

    @classmethod
    def months(cls, n: int, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        """Calendar months; a missing day is the month's last day [民法典 §202]."""
        return cls(Unit.MONTH, n, roll, source=source)

    @classmethod
    def on(cls, rule: CalendarRule, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        """A calendar-date rule (每月29日前, 下一季度15日前, 1月31日前)."""
        return cls(Unit.CALENDAR_DATE, 0, roll, rule=rule, source=source)

    @classmethod
    def fixed(cls, day: date, *, roll: Roll = Roll.NONE, source: str = "") -> DeadlineSpec:
        """A fixed last day (an order's or a plan's date)."""
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
        """The spec as a JSON-ready dict (stored on the case beside the resolved instant)."""
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
        """Rebuild a spec from :meth:`to_json` output (refusing unknown units and rules)."""
        rule = data.get("rule")
        at = data.get("at")
        return cls(
            data["unit"],
            data.get("amount", 0),
            data.get("roll", "none"),
            rule=CalendarRule(**rule) if rule else None,
            at=date.fromisoformat(at) if at else None,
            source=str(data.get("source", "")),
        )


@attrs.frozen
class Delay:
    """An offset used by reminders (before a deadline) and ladder rungs (after it)."""

    amount: int
    unit: Unit = attrs.field(default=Unit.NATURAL_DAY, converter=_as_unit)

    def __attrs_post_init__(self) -> None:
        if self.unit not in (Unit.NATURAL_DAY, Unit.WORKING_DAY, Unit.HOUR):
            raise InvalidInput(
                "unit",
                self.unit.value,
                "a delay is counted in natural days, working days or hours",
                allowed=("hour", "natural_day", "working_day"),
            )
        _check_amount(self.amount)

    def describe(self, lang: str = "zh") -> str:
        """``3个工作日`` / ``3 working days``."""
        return DeadlineSpec(self.unit, self.amount).describe(lang)


@attrs.frozen
class Resolved:
    """A resolved deadline instant (UTC) and whether a missing calendar year made it provisional."""

    due_at: datetime
    provisional: bool = False


@attrs.frozen
class Deadline:
    """The deadline a case is working to: the spec, when it started, and the resolved instant (UTC).

    Its ``repr`` shows the instants in Asia/Shanghai and ``str`` reads ``2024-03-20 24:00 (Asia/Shanghai)``;
    :attr:`local_due_at` is the due instant on the local clock.
    """

    key: str
    due_at: datetime = attrs.field(repr=local_repr)
    spec: DeadlineSpec = attrs.field()
    start: datetime = attrs.field(repr=local_repr)
    provisional: bool = False

    @property
    def local_due_at(self) -> datetime:
        """The due instant in Asia/Shanghai (a deadline at 24:00 reads as 00:00 of the next day)."""
        return self.due_at.astimezone(SHANGHAI)

    def __str__(self) -> str:
        return format_local(self.due_at, end_of_day=True) + (" (provisional)" if self.provisional else "")

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored with the case and in audit events."""
        return {
            "key": self.key,
            "due_at": self.due_at.isoformat(),
            "start": self.start.isoformat(),
            "spec": self.spec.to_json(),
            "provisional": self.provisional,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deadline:
        """Inverse of :meth:`to_json`."""
        return cls(
            key=str(data["key"]),
            due_at=datetime.fromisoformat(data["due_at"]),
            spec=DeadlineSpec.from_json(data["spec"]),
            start=datetime.fromisoformat(data["start"]),
            provisional=bool(data.get("provisional", False)),
        )


#: A calendar with no working day in this many consecutive days is broken; stop instead of looping forever.
_MAX_IDLE_DAYS = 400


def _step(status: Callable[[date], tuple[bool, bool]], day: date, n: int, direction: int) -> tuple[date, bool]:
    """The ``n``-th working day after (``direction=1``) or before (``-1``) ``day``, and provisional."""
    provisional = False
    d = day
    count = idle = 0
    one = timedelta(days=direction)
    while count < n:
        d += one
        ok, prov = status(d)
        provisional = provisional or prov
        if ok:
            count += 1
            idle = 0
        else:
            idle += 1
            if idle > _MAX_IDLE_DAYS:
                raise InvalidInput("calendar", day.isoformat(), f"has no working day within {_MAX_IDLE_DAYS} days")
    return d, provisional


def _roll(status: Callable[[date], tuple[bool, bool]], day: date) -> tuple[date, bool]:
    """``day`` itself when it is a working day, else the next working day, and provisional."""
    provisional = False
    d = day
    for _ in range(_MAX_IDLE_DAYS):
        ok, prov = status(d)
        provisional = provisional or prov
        if ok:
            return d, provisional
        d += timedelta(days=1)
    raise InvalidInput("calendar", day.isoformat(), f"has no working day within {_MAX_IDLE_DAYS} days")


def _day_set(name: str, days: Iterable[date]) -> frozenset[date]:
    out = set()
    for d in days:
        if not isinstance(d, date) or isinstance(d, datetime):
            raise InvalidInput(name, d, "must list dates (datetime.date), not datetimes or strings")
        out.add(d)
    return frozenset(out)


class ChineseWorkingCalendar:
    """Working days of mainland China from ``chinese_calendar``, plus local adjustments.

    A day is a working day when it is a 调休 make-up working day (e.g. Saturday 2026-02-14), or a Monday to
    Friday that is not a statutory holiday. ``extra_holidays`` are local days off (a county's own holiday);
    ``extra_working_days`` are local make-up working days; both win over the national data. ``years`` adds
    whole years of data the package does not have yet, as ``{2027: (holidays, working_weekend_days)}``,
    copied from the State Council's notice (国务院办公厅关于某年部分节假日安排的通知).

    ``missing_year`` says what happens for a day of a year nobody has data for:

    * ``"error"`` (the default) - refuse with :class:`~hazardflow.CalendarDataMissing`; the command that
      needed the day changes nothing.
    * ``"weekdays"`` - count Monday-Friday as working days and report the answer as *provisional*; the
      deadline a case stores then carries ``provisional=True`` until it is recomputed with real data.
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
        self.missing_year: Literal["error", "weekdays"] = missing_year
        self._holidays: frozenset[date] = frozenset(chinese_calendar.holidays)
        self._workdays: frozenset[date] = frozenset(chinese_calendar.workdays)
        lo = min(d.year for d in self._holidays)
        hi = max(d.year for d in self._holidays)
        self._package_years = (lo, hi)
        self._extra_years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        for year, data in (years or {}).items():
            if isinstance(year, bool) or not isinstance(year, int):
                raise InvalidInput("years", year, "keys must be years (int)")
            try:
                hol_raw, work_raw = data
            except (TypeError, ValueError):
                raise InvalidInput("years", year, "each year maps to a pair (holidays, working weekend days)") from None
            hol = _day_set("years", hol_raw)
            work = _day_set("years", work_raw)
            stray = sorted(d for d in hol | work if d.year != year)
            if stray:
                raise InvalidInput("years", stray[0].isoformat(), f"is listed under year {year}")
            both = sorted(hol & work)
            if both:
                raise InvalidInput("years", both[0].isoformat(), "a day cannot be both a holiday and a working day")
            self._extra_years[year] = (hol, work)
        self.extra_holidays = _day_set("extra_holidays", extra_holidays)
        self.extra_working_days = _day_set("extra_working_days", extra_working_days)
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
        """The contiguous span of years with data (the package's years, extended by added years)."""
        lo, hi = self._package_years
        while hi + 1 in self._extra_years:
            hi += 1
        while lo - 1 in self._extra_years:
            lo -= 1
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
        return _step(self.status, day, n, 1)

    def subtract_working_days(self, day: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day before ``day`` (``day`` itself not counted), and provisional."""
        return _step(self.status, day, n, -1)

    def roll_forward(self, day: date) -> tuple[date, bool]:
        """``day`` itself when it is a working day, else the next working day, and provisional."""
        return _roll(self.status, day)

    def __repr__(self) -> str:
        return (
            f"ChineseWorkingCalendar(name={self.name!r}, years={self.covered_years}, "
            f"missing_year={self.missing_year!r}, local_holidays={len(self.extra_holidays)}, "
            f"local_working_days={len(self.extra_working_days)})"
        )


class LenientCalendar:
    """A view of a calendar that never refuses: days of years without data count Monday-Friday, provisional.

    The engine uses it for what it computes on its own while firing timers (reminders before a deadline,
    the delays between rungs of the overdue ladder), so a missing year of holiday data can never stop a
    deadline from being marked overdue. Commands a person fires use the policy's calendar as configured.
    """

    def __init__(self, inner: WorkingCalendar) -> None:
        self.inner = inner

    def status(self, day: date) -> tuple[bool, bool]:
        try:
            return self.inner.status(day)
        except CalendarDataMissing:
            return (day.weekday() < 5, True)

    def is_working_day(self, day: date) -> bool:
        return self.status(day)[0]

    def covers(self, day: date) -> bool:
        return self.inner.covers(day)

    def add_working_days(self, day: date, n: int) -> tuple[date, bool]:
        return _step(self.status, day, n, 1)

    def subtract_working_days(self, day: date, n: int) -> tuple[date, bool]:
        return _step(self.status, day, n, -1)

    def roll_forward(self, day: date) -> tuple[date, bool]:
        return _roll(self.status, day)

    def __repr__(self) -> str:
        return f"LenientCalendar({self.inner!r})"


def _add_months(day: date, n: int) -> date:
    month0 = day.month - 1 + n
    year = day.year + month0 // 12
    month = month0 % 12 + 1
    return date(year, month, min(day.day, _stdcal.monthrange(year, month)[1]))


def _aware(name: str, instant: datetime) -> datetime:
    if not isinstance(instant, datetime):
        raise InvalidInput(name, instant, "must be a timezone-aware datetime")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(name, instant.isoformat(), "must be timezone-aware (e.g. +08:00 or UTC)")
    return instant.astimezone(UTC)


def resolve(spec: DeadlineSpec, start: datetime, calendar: WorkingCalendar, *, lenient: bool = False) -> Resolved:
    """Resolve ``spec`` from the aware instant ``start`` to the instant the period ends (UTC).

    Day-based units end at 24:00 Asia/Shanghai of their last day (stored as 00:00 of the next day, in UTC);
    the day of ``start`` is not counted. ``lenient`` counts days of years without data Monday-Friday
    (provisional) instead of refusing.
    """
    start = _aware("start", start)
    if spec.unit is Unit.HOUR:
        return Resolved(start + timedelta(hours=spec.amount))
    cal: WorkingCalendar = LenientCalendar(calendar) if lenient else calendar
    d0 = local_date(start)
    provisional = False
    if spec.unit is Unit.NATURAL_DAY:
        last = d0 + timedelta(days=spec.amount)
    elif spec.unit is Unit.WORKING_DAY:
        last, provisional = cal.add_working_days(d0, spec.amount)
    elif spec.unit is Unit.MONTH:
        last = _add_months(d0, spec.amount)
    elif spec.unit is Unit.CALENDAR_DATE:
        assert spec.rule is not None
        last = spec.rule.last_day(d0)
    else:
        assert spec.at is not None
        last = spec.at
    if spec.roll is Roll.NEXT_WORKING_DAY:
        last, prov = cal.roll_forward(last)
        provisional = provisional or prov
    return Resolved(end_of_local_day(last), provisional)


def offset(
    instant: datetime, delay: Delay, calendar: WorkingCalendar, *, before: bool, lenient: bool = False
) -> Resolved:
    """``instant`` moved by ``delay`` (backwards when ``before``), as an aware UTC instant.

    Hours and natural days are exact (Asia/Shanghai keeps no daylight-saving time, so a day is 24 hours).
    Working days keep the local time of day, except that a deadline at 24:00 (00:00 local of the next day)
    counts from its last day and stays at 24:00: "10 working days after a deadline ending on Friday"
    ends at 24:00 of the 10th working day after that Friday.
    """
    instant = _aware("instant", instant)
    sign = -1 if before else 1
    if delay.unit is Unit.HOUR:
        return Resolved(instant + sign * timedelta(hours=delay.amount))
    if delay.unit is Unit.NATURAL_DAY:
        return Resolved(instant + sign * timedelta(days=delay.amount))
    cal: WorkingCalendar = LenientCalendar(calendar) if lenient else calendar
    local = instant.astimezone(SHANGHAI)
    step = cal.subtract_working_days if before else cal.add_working_days
    if local.time() == time(0, 0):
        day, prov = step(local.date() - timedelta(days=1), delay.amount)
        return Resolved(end_of_local_day(day), prov)
    day, prov = step(local.date(), delay.amount)
    return Resolved(datetime.combine(day, local.time(), SHANGHAI).astimezone(UTC), prov)
