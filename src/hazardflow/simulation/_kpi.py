"""The simulation's figures: computed by :mod:`hazardflow.reports` over the simulated store.

There is one definition of each figure (the glossary's ``figure`` rows; :func:`hazardflow.reports.figures`):
at every boundary (each quarter end, each target checkpoint, the end of the run) the collector asks
``figures_by`` for the segment since the previous boundary, grouped by grade, industry, source channel and
month found, and keeps the flows (registered, closed and on time, voided, days to close, ladder rungs
reached) and the levels at the boundary (open by grade and industry, open majors 存量/增量 and without a
plan, overdue, under sanction). Quarters, years and the whole run are sums of segments.

From the event stream the collector keeps only counts of events (commands by trigger, refusals, missed
deadlines by stage, ladder events by sanction) and the set of open hazards (for progress).

Definitions (the glossary's ``figure`` rows, shown in docs/reference/glossary.md):

* **open majors, stock / new**: open major hazards found before / on or after the scenario's stock cutoff
  (the campaign start; 存量 / 增量 [S16; seed:000 item 22]). "Found" is the registered ``discovered_at``,
  else the registration time.
* **on time**: a closure of a case that had not been marked overdue on any stage before it closed.
* **days to close**: registration to closure, in tenths of a day (cut down). Most general hazards are fixed on
  the spot (即查即改, closed within hours), so the median of all closures is a fraction of a day; the closures
  on the spot (``fix_on_spot``) are also kept apart.
* **found (新发现)** in a period: hazard cases registered in the period whose discovery day is on or after the
  run's first day. A case found before the run started and registered during it (the stock entered on day
  one, 存量录入) is *carried in*: counted apart, never as found in the period it was registered in [inference].
* **ladder rung reached**: hazards whose highest rung of the overdue ladder rose to *n* or above in the period.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from .._calendar import SHANGHAI

if TYPE_CHECKING:
    from .._model import AuditEvent, Case
    from ..abc import Store

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


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), SHANGHAI).astimezone(UTC)


class KpiCollector:
    """Cuts the run into segments and asks :mod:`hazardflow.reports` for their figures.

    ``store`` is the simulated store (the engine's); subscribe :meth:`on_event` to the engine for the
    event counts and the set of open hazards.
    """

    def __init__(self, stock_before: date, start: date, store: Store | None = None) -> None:
        self.stock_before = stock_before
        self.start = start
        self.store = store
        self._open: set[str] = set()
        self._segment = Segment(start, start)
        self._since = _midnight(start)
        self.segments: list[Segment] = []
        self.levels: list[Levels] = []
        self.events = 0
        #: cases an evicting memory store dropped since the last boundary, with their events
        self._departed: list[tuple[Case, list[AuditEvent]]] = []
        if store is not None and getattr(store, "retention", "full") != "full":
            chained = getattr(store, "on_evict", None)

            def keep(case: Case, events: list[AuditEvent]) -> None:
                self._departed.append((case, list(events)))
                if chained is not None:
                    chained(case, events)

            store.on_evict = keep  # type: ignore[attr-defined]

    @property
    def open_cases(self) -> int:
        return len(self._open)

    def adopt(self, cases: Iterable[Case]) -> int:
        """Count hazard cases already open in the store (forecasting from a database)."""
        n = 0
        for case in cases:
            if case.workflow == "hazard" and case.closed_at is None and case.id not in self._open:
                self._open.add(case.id)
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
        if case.closed_at is None:
            self._open.add(case.id)
        else:
            self._open.discard(case.id)
        if trig == "mark_overdue":
            seg.missed[str(event.payload.get("key", ""))] += 1
        elif trig == "sanction":
            seg.sanctions[(int(event.payload.get("rung", 0)), str(event.payload.get("sanction", "")))] += 1

    def cut(self, at: date) -> tuple[Segment, Levels]:
        """Close the running segment at the end of day ``at`` (a boundary); take its figures and the levels."""
        seg = self._segment
        seg.end = at
        until = _midnight(at + timedelta(days=1))
        levels = self._figures(seg, self._since, until, at)
        self._departed = []  # counted in this segment; nothing of theirs can fall in a later one
        self.segments.append(seg)
        self.levels.append(levels)
        self._segment = Segment(at, at)
        self._since = until
        return seg, levels

    def snapshot(self, at: date) -> Levels:
        """The levels at the end of day ``at`` (figures of an empty segment ending then)."""
        return self._figures(Segment(at, at), _midnight(at + timedelta(days=1)), _midnight(at + timedelta(days=1)), at)

    def _figures(self, seg: Segment, since: datetime, until: datetime, at: date) -> Levels:
        from ..reports import CaseFilter, figures_by

        if self.store is None:
            raise ValueError("the collector needs the simulated store to compute figures")
        dims: tuple[Any, ...] = ("grade", "industry", "source", "found_month")
        common: dict[str, Any] = {"start": since, "end": until, "scope": CaseFilter(), "departed": self._departed}
        cube = figures_by(self.store, dims, stock_before=self.stock_before, **common)
        # 新发现 vs carried in: registered in the segment and found before the run's first day.
        if self.stock_before == self.start:
            carried = {k: f.registered_stock for k, f in cube.items()}
        else:
            by_start = figures_by(self.store, dims, stock_before=self.start, **common)
            carried = {k: f.registered_stock for k, f in by_start.items()}
        open_: Counter[str] = Counter()
        by_ind: Counter[str] = Counter()
        overdue: Counter[str] = Counter()
        months: dict[str, list[int]] = {}
        stock = new = sanctioned = 0
        for key, f in cube.items():
            grade, industry, source, month = key
            g = str(grade or "general")
            i = str(industry or "other")
            fresh = f.registered - carried.get(key, 0)
            if fresh:
                seg.opened[(g, i, str(source or ""))] += fresh
            if carried.get(key):
                seg.carried_in[(g, i, str(source or ""))] += carried[key]
            if f.closed:
                seg.closed[(g, i)] += f.closed
            if f.closed_on_time:
                seg.on_time[(g, i)] += f.closed_on_time
            if f.voided:
                seg.voided[g] += f.voided
            if f.close_days:
                hist = seg.close_days.setdefault(g, Counter())
                for days, n in f.close_days.items():
                    hist[float(days)] += n
            if f.close_days_on_spot:
                hist = seg.spot_close_days.setdefault(g, Counter())
                for days, n in f.close_days_on_spot.items():
                    hist[float(days)] += n
            for rung, n in f.rungs_reached.items():
                seg.reached[rung] += n
            if f.open:
                open_[g] += f.open
                by_ind[i] += f.open
            if f.overdue_open:
                overdue[g] += f.overdue_open
            sanctioned += f.open_under_sanction
            stock += f.open_majors_stock
            new += f.open_majors_new
            if f.open_majors and month is not None:
                slot = months.setdefault(str(month), [0, 0])
                slot[0] += f.open_majors_unplanned
                slot[1] += f.open_majors - f.open_majors_unplanned
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
