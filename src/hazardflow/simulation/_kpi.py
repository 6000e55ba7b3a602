"""Figures kept incrementally from the engine's committed events (``Engine.subscribe``).

The collector holds one small record per *open* hazard case and a handful of counters, so its memory tracks
open cases, never closed ones. The driver cuts the counters into *segments* at every boundary (each quarter
end, each target checkpoint, the end of the run); quarters, years and the whole run are sums of segments.

Definitions (documented in docs/how-to/simulation.md):

* **open majors, stock / new**: open major hazards found before / on or after the scenario's stock cutoff
  (the campaign start; 存量 / 增量 [S16; seed:000 item 22]). "Found" is the registered ``discovered_at``,
  else the registration time.
* **on time**: a case closed without ever missing a deadline of any stage (rectification, review, extension
  decision, ...): its ``missed_deadlines`` field is empty when it closes [inference].
* **days to close**: registration to closure, in days. Most general hazards are fixed on the spot (即查即改,
  closed within hours), so the median of all closures is a fraction of a day; the closures by a deadline
  (限期整改 and governance plans: every closure but ``fix_on_spot``) are also kept apart.
* **found (新发现)** in a period: hazard cases registered in the period whose discovery day (as for stock /
  new) is on or after the run's first day. A case found before the run started and registered during it (the
  stock entered on day one, 存量录入) is *carried in*: counted apart, never as found in the period it was
  registered in [inference].
* **ladder rung reached**: the first time a case gets rung *n* of the overdue ladder (函告 → 通报 → 约谈 → 曝光
  → 移送).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .._model import AuditEvent, Case

__all__ = ["KpiCollector", "Levels", "Segment"]

_LOCAL = timedelta(hours=8)


def _local_day(instant: datetime) -> date:
    return (instant.astimezone(UTC) + _LOCAL).date()


def _found_day(case: Case) -> date:
    raw = case.fields.get("discovered_at")
    if isinstance(raw, str):
        try:
            return _local_day(datetime.fromisoformat(raw))
        except ValueError:
            pass
    return _local_day(case.opened_at)


class _Open:
    __slots__ = ("grade", "industry", "major", "month", "opened", "overdue", "planned", "rung", "stock")

    def __init__(self, case: Case, stock_before: date) -> None:
        self.grade = str(case.fields.get("grade") or "general")
        self.major = self.grade == "major"
        self.industry = str(case.fields.get("industry") or "other")
        found = _found_day(case)
        self.month = f"{found.year:04d}-{found.month:02d}"
        self.stock = found < stock_before
        self.opened = case.opened_at
        self.overdue = case.overdue
        self.planned = case.state not in ("registered", "confirming", "reporting")
        self.rung = case.sanction_rung


@attrs.define
class Segment:
    """What happened between two boundaries (counters keyed by grade, industry, channel, rung, ...)."""

    start: date
    end: date
    opened: Counter[tuple[str, str, str]] = attrs.field(factory=Counter)
    carried_in: Counter[tuple[str, str, str]] = attrs.field(factory=Counter)
    closed: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    on_time: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    voided: Counter[str] = attrs.field(factory=Counter)
    close_days: dict[str, Counter[float]] = attrs.field(factory=dict)
    spot_close_days: dict[str, Counter[float]] = attrs.field(factory=dict)
    missed: Counter[str] = attrs.field(factory=Counter)
    sanctions: Counter[tuple[int, str]] = attrs.field(factory=Counter)
    reached: Counter[int] = attrs.field(factory=Counter)
    events: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    refused: Counter[tuple[str, str]] = attrs.field(factory=Counter)

    def add(self, other: Segment) -> None:
        """Add ``other``'s counts into this segment (and stretch its span)."""
        self.start = min(self.start, other.start)
        self.end = max(self.end, other.end)
        for name in (
            "opened",
            "carried_in",
            "closed",
            "on_time",
            "voided",
            "missed",
            "sanctions",
            "reached",
            "events",
            "refused",
        ):
            getattr(self, name).update(getattr(other, name))
        for grade, hist in other.close_days.items():
            self.close_days.setdefault(grade, Counter()).update(hist)
        for grade, hist in other.spot_close_days.items():
            self.spot_close_days.setdefault(grade, Counter()).update(hist)

    @classmethod
    def merge(cls, parts: Iterable[Segment]) -> Segment:
        parts = list(parts)
        out = cls(parts[0].start, parts[0].end)
        for p in parts:
            out.add(p)
        return out


@attrs.define
class Levels:
    """The state of the jurisdiction at one instant (a boundary)."""

    at: date
    open: dict[str, int]
    open_by_industry: dict[str, int]
    open_majors_stock: int
    open_majors_new: int
    open_majors_by_month: dict[str, tuple[int, int]]
    overdue: dict[str, int]
    under_sanction: int

    @property
    def open_majors(self) -> int:
        return self.open_majors_stock + self.open_majors_new

    def majors_unplanned_found_by(self, day: date) -> int:
        """Open majors found on or before ``day`` (by month) that have no adopted plan yet."""
        limit = f"{day.year:04d}-{day.month:02d}"
        return sum(u for m, (u, _p) in self.open_majors_by_month.items() if m <= limit)

    def majors_open_found_between(self, first: date | None, last: date | None) -> int:
        """Open majors whose month of discovery lies in ``[first, last]`` (months, inclusive)."""
        lo = f"{first.year:04d}-{first.month:02d}" if first else ""
        hi = f"{last.year:04d}-{last.month:02d}" if last else "9999-99"
        return sum(u + p for m, (u, p) in self.open_majors_by_month.items() if lo <= m <= hi)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "open": dict(sorted(self.open.items())),
            "open_by_industry": dict(sorted(self.open_by_industry.items())),
            "open_majors": self.open_majors,
            "open_majors_stock": self.open_majors_stock,
            "open_majors_new": self.open_majors_new,
            "open_majors_by_month": {
                m: {"unplanned": u, "planned": p} for m, (u, p) in sorted(self.open_majors_by_month.items())
            },
            "overdue": dict(sorted(self.overdue.items())),
            "under_sanction": self.under_sanction,
        }


class KpiCollector:
    """Keeps the figures from ``(case, event)`` pairs; subscribe :meth:`on_event` to an engine."""

    def __init__(self, stock_before: date, start: date) -> None:
        self.stock_before = stock_before
        self.start = start
        self._open: dict[str, _Open] = {}
        self._segment = Segment(start, start)
        self.segments: list[Segment] = []
        self.levels: list[Levels] = []
        self.events = 0

    @property
    def open_cases(self) -> int:
        return len(self._open)

    def adopt(self, cases: Iterable[Case]) -> int:
        """Start tracking hazard cases already open in the store (forecasting from a database)."""
        n = 0
        for case in cases:
            if case.workflow == "hazard" and case.closed_at is None and case.id not in self._open:
                self._open[case.id] = _Open(case, self.stock_before)
                n += 1
        return n

    def refused(self, trigger: str, code: str) -> None:
        """Count a command the engine refused (the driver calls this)."""
        self._segment.refused[(trigger, code)] += 1

    def on_event(self, case: Case, event: AuditEvent) -> None:
        seg = self._segment
        self.events += 1
        trig = event.trigger
        seg.events[(event.workflow, trig)] += 1
        if case.workflow != "hazard":
            return
        info = self._open.get(case.id)
        if info is None:
            if trig == "reopen":  # 回头看: a closed hazard is open again (not counted as found again)
                self._open[case.id] = _Open(case, self.stock_before)
                return
            if event.from_state is not None:
                return
            info = _Open(case, self.stock_before)
            self._open[case.id] = info
            key3 = (info.grade, info.industry, str(case.fields.get("source") or ""))
            if _found_day(case) < self.start:
                seg.carried_in[key3] += 1  # found before the run, registered during it: not 新发现
            else:
                seg.opened[key3] += 1
            if case.closed_at is None:
                return
        if trig == "mark_overdue":
            seg.missed[str(event.payload.get("key", ""))] += 1
        elif trig == "sanction":
            rung = int(event.payload.get("rung", 0))
            seg.sanctions[(rung, str(event.payload.get("sanction", "")))] += 1
            if rung > info.rung:
                for r in range(info.rung + 1, rung + 1):
                    seg.reached[r] += 1
                info.rung = rung
        info.overdue = case.overdue
        if not info.planned and case.state not in ("registered", "confirming", "reporting"):
            info.planned = True
        if case.closed_at is not None:
            del self._open[case.id]
            if case.state == "voided":
                seg.voided[info.grade] += 1
                return
            key = (info.grade, info.industry)
            seg.closed[key] += 1
            if not case.fields.get("missed_deadlines"):
                seg.on_time[key] += 1
            days = (case.closed_at - info.opened).total_seconds() / 86400.0
            seg.close_days.setdefault(info.grade, Counter())[round(days, 1)] += 1
            if trig == "fix_on_spot":
                seg.spot_close_days.setdefault(info.grade, Counter())[round(days, 1)] += 1

    def cut(self, at: date) -> tuple[Segment, Levels]:
        """Close the running segment at ``at`` (a boundary) and take the levels there."""
        seg = self._segment
        seg.end = at
        self.segments.append(seg)
        self._segment = Segment(at, at)
        levels = self.snapshot(at)
        self.levels.append(levels)
        return seg, levels

    def snapshot(self, at: date) -> Levels:
        open_: Counter[str] = Counter()
        by_ind: Counter[str] = Counter()
        overdue: Counter[str] = Counter()
        months: dict[str, list[int]] = {}
        stock = new = sanctioned = 0
        for info in self._open.values():
            open_[info.grade] += 1
            by_ind[info.industry] += 1
            if info.overdue:
                overdue[info.grade] += 1
            if info.rung:
                sanctioned += 1
            if info.major:
                if info.stock:
                    stock += 1
                else:
                    new += 1
                slot = months.setdefault(info.month, [0, 0])
                slot[1 if info.planned else 0] += 1
        return Levels(
            at,
            dict(open_),
            dict(by_ind),
            stock,
            new,
            {m: (u, p) for m, (u, p) in months.items()},
            dict(overdue),
            sanctioned,
        )


def median_of(hist: Mapping[float, int]) -> float | None:
    """The median of a histogram {value: count} (None when empty)."""
    total = sum(hist.values())
    if not total:
        return None
    items = sorted(hist.items())
    lo_rank, hi_rank = (total - 1) // 2, total // 2
    seen = 0
    lo = hi = None
    for value, count in items:
        if lo is None and seen + count > lo_rank:
            lo = value
        if seen + count > hi_rank:
            hi = value
            break
        seen += count
    assert lo is not None
    assert hi is not None
    return (lo + hi) / 2


def mean_of(hist: Mapping[float, int]) -> float | None:
    """The mean of a histogram {value: count} (None when empty)."""
    total = sum(hist.values())
    if not total:
        return None
    # Exactly rounded, so the order the histogram was filled in (one run, or counties summed) cannot show.
    return math.fsum(v * c for v, c in hist.items()) / total
