"""The event loop: a heap of pending actions, windows that never cross a timer, working hours, random draws.

:class:`_Scheduler` is the part of :class:`Simulation` every other part builds on. It declares the state
``Simulation.__init__`` sets, and the methods the other parts define that the loop calls.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

import attrs

from ..._clock import SimulatedClock
from ..._engine import Engine
from ..._exceptions import CalendarDataMissing, InvalidInput
from ..._model import Actor
from .._dist import case_base, draw
from .._kpi import KpiCollector
from .._result import RunStats, SimulationResult
from .._scenario import Scenario, Township
from .._targets import month_ends
from ._actors import _Agent, _People, _Stream, _Unit

if TYPE_CHECKING:
    from ..._model import AuditEvent, Case

DAY = 86400.0
_LOCAL = 8 * 3600.0  # Asia/Shanghai has kept UTC+8 without daylight saving since 1991
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_WORK_START = 9 * 3600.0
_WORK_END = 17.5 * 3600.0
_INF = math.inf
_MAX_RETRIES = 3


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _local_midnight_ts(day: date) -> float:
    """00:00 Asia/Shanghai of ``day`` as a UTC timestamp."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY - _LOCAL


def _day_of(ts: float) -> date:
    return date.fromordinal(int((ts + _LOCAL) // DAY) + _EPOCH_ORDINAL)


@attrs.frozen
class Progress:
    """What the driver reports after each window (for progress bars)."""

    day: date
    start: date
    end: date
    cases: int
    open_cases: int
    commands: int
    elapsed: float

    @property
    def fraction(self) -> float:
        span = (self.end - self.start).days + 1
        return min(1.0, max(0.0, ((self.day - self.start).days) / span)) if span > 0 else 1.0

    @property
    def commands_per_second(self) -> float:
        return self.commands / self.elapsed if self.elapsed > 0 else 0.0


class _Scheduler:
    """Scheduling and the event loop of a :class:`Simulation`."""

    # The state, set by ``Simulation.__init__``.
    scenario: Scenario
    seed: int
    until: date
    engine: Engine
    clock: SimulatedClock
    people: _People
    kpi: KpiCollector
    stats: RunStats
    _only: frozenset[str] | None
    _url: str
    _batch: bool
    _audit_log: IO[str] | None
    _progress: Callable[[Progress], None] | None
    _digest: Any
    _heap: list[tuple[float, int, _Agent | _Stream | None, int, str]]
    _seq: int
    _agents: dict[str, _Agent]
    _workday: dict[int, bool]
    _now: float
    _window_end: float
    _roles_cache: dict[str, frozenset[str]]
    _mults: dict[int, tuple[float, float]]
    _top_mult: float | None
    _registrars: dict[tuple[str, str], Actor]
    _needs_criteria: dict[str, bool]
    _descriptions: dict[tuple[str, str], str]
    _office_cache: dict[tuple[str, str, frozenset[str]], tuple[Actor, ...]]
    _ladder_len: dict[tuple[str, str], int]
    _calendar: Any
    _ran: bool

    if TYPE_CHECKING:
        # What the loop and the parts call on each other, defined in the modules named.
        def _on_event(self, case: Case, event: AuditEvent) -> None: ...  # _bookkeeping
        def _result(self) -> SimulationResult: ...  # _bookkeeping
        def _adopt_open_cases(self) -> None: ...  # _arrivals
        def _start_streams(self) -> None: ...  # _arrivals
        def _start_backlog(self) -> None: ...  # _arrivals
        def _arrival(self, stream: _Stream) -> None: ...  # _arrivals
        def _register(self, agent: _Agent, discovered_at: datetime | None) -> None: ...  # _arrivals
        def _cite_criteria(self, agent: _Agent, fields: dict[str, Any]) -> None: ...  # _arrivals
        def _make_units(self, t: Township, industry: str, n: int, sizes: Mapping[str, float]) -> list[_Unit]: ...
        def _start_filings(self) -> None: ...  # _filings
        def _act(self, agent: _Agent, step: str) -> None: ...  # _hazards
        def _next(self, agent: _Agent, case: Case) -> None: ...  # _hazards
        def _plan_look_back(self, agent: _Agent) -> None: ...  # _hazards
        def _settle_escalation(self, escalation_id: str) -> None: ...  # _tipoffs_escalations

    # ── scheduling ───────────────────────────────────────────────────────────────────────────────
    def _push(self, ts: float, item: _Agent | _Stream | None, token: int, step: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (max(ts, self._now), self._seq, item, token, step))

    def _is_workday(self, day_index: int) -> bool:
        hit = self._workday.get(day_index)
        if hit is None:
            day = date.fromordinal(day_index + _EPOCH_ORDINAL)
            try:
                hit = self._calendar.is_working_day(day)
            except CalendarDataMissing:
                hit = day.weekday() < 5
            self._workday[day_index] = hit
        return hit

    def _place(self, ts: float) -> float:
        """``ts``, or the next working instant (09:00-17:30 on a working day) after it; whole seconds."""
        local = ts + _LOCAL
        day = int(local // DAY)
        sec = local - day * DAY
        if self._is_workday(day) and _WORK_START <= sec < _WORK_END:
            return float(int(ts))
        if sec < _WORK_START and self._is_workday(day):
            nxt = day
        else:
            nxt = day + 1
            while not self._is_workday(nxt):
                nxt += 1
        offset = _WORK_START + (sec % 3600.0) * 2.0  # keep a deterministic spread over 09:00-11:00
        return float(int(nxt * DAY + offset - _LOCAL))

    def _place_before(self, ts: float) -> float:
        """The last working instant at or before ``ts`` (17:00 of the previous working day at worst)."""
        local = ts + _LOCAL
        day = int(local // DAY)
        sec = local - day * DAY
        if self._is_workday(day) and _WORK_START <= sec < _WORK_END:
            return float(int(ts))
        if sec >= _WORK_END and self._is_workday(day):
            prev = day
        else:
            prev = day - 1
            while not self._is_workday(prev):
                prev -= 1
        return float(int(prev * DAY + 17 * 3600.0 - _LOCAL))

    def _later(self, agent: _Agent, days: float, step: str, *, keep: bool = False) -> None:
        at = max(self._now + 60.0, self._place(self._now + days * DAY))
        self._push(at, agent, -1 if keep else agent.token, step)

    def _u(self, agent: _Agent, purpose: str, k: int = 0) -> float:
        base = agent.base
        if base < 0:
            base = agent.base = case_base(self.seed, agent.key)
        return draw(base, purpose, k)

    def _days(self, agent: _Agent, dist_name: str, k: int = 0) -> float:
        if agent.fast:
            return 0.0
        dist = getattr(agent.beh, dist_name)
        return float(dist.quantile(self._u(agent, dist_name, k)))

    # ── running ──────────────────────────────────────────────────────────────────────────────────
    def run(self) -> SimulationResult:
        """Run the scenario to its end (or ``until``) and return the figures."""
        if self._ran:
            raise InvalidInput("simulation", self.scenario.name, "has already run; build a new Simulation")
        self._ran = True
        started = time.perf_counter()
        unsubscribe = self.engine.subscribe(self._on_event)
        try:
            self._adopt_open_cases()
            self._start_streams()
            self._start_backlog()
            self._start_filings()
            self._loop(started)
        finally:
            unsubscribe()
        self.stats.wall_seconds = time.perf_counter() - started
        return self._result()

    def _boundaries(self) -> list[date]:
        days = set(month_ends(self.scenario.start, self.until))
        for target in self.scenario.targets:
            days.update(d for d in target.checkpoints() if self.scenario.start <= d <= self.until)
        days.add(self.until)
        return sorted(days)

    def _loop(self, started: float) -> None:
        engine = self.engine
        store = engine.store
        heap = self._heap
        end_ts = _local_midnight_ts(self.until + timedelta(days=1))
        boundaries = [(_local_midnight_ts(d + timedelta(days=1)), d) for d in self._boundaries()]
        bi = 0
        now = self._now
        while True:
            nd = store.next_due()
            nd_ts = _ts(nd) if nd is not None else _INF
            passes = 0
            while nd_ts <= now and passes < _MAX_RETRIES:  # a firing may arm a timer that is due already
                passes += 1
                report = engine.run_due(_dt(now))
                self.stats.timer_failures += report.failed
                self.stats.late_timers += report.late
                nd = store.next_due()
                nd_ts = _ts(nd) if nd is not None else _INF
            while bi < len(boundaries) and boundaries[bi][0] <= now:
                self.kpi.cut(boundaries[bi][1])
                bi += 1
            if now >= end_ts:
                break
            midnight = _local_midnight_ts(_day_of(now) + timedelta(days=1))
            wend = min(midnight, boundaries[bi][0] if bi < len(boundaries) else _INF, end_ts)
            if nd_ts > now:
                wend = min(wend, nd_ts)
            self._window_end = wend
            ctx: contextlib.AbstractContextManager[Any] = engine.batch() if self._batch else contextlib.nullcontext()
            with ctx:
                while heap and heap[0][0] < self._window_end:
                    ts, _seq, item, token, step = heapq.heappop(heap)
                    self._now = ts
                    self.clock.set(_dt(ts))
                    if isinstance(item, _Stream):
                        self._arrival(item)
                    elif item is None:
                        continue
                    elif token in (-1, item.token):
                        if item.state in ("closed", "voided", "gone") and step != "look_back":
                            continue
                        self._act(item, step)
            now = self._window_end
            self._now = now
            self.clock.set(_dt(now))
            if self._progress is not None:
                self._progress(
                    Progress(
                        _day_of(now - 1),
                        self.scenario.start,
                        self.until,
                        self.stats.cases,
                        self.kpi.open_cases,
                        self.kpi.events,
                        time.perf_counter() - started,
                    )
                )

    def _note_deadline(self, case: Case) -> None:
        """A deadline armed inside the running window ends the window there, so its timer fires on time.

        A command on a case whose deadline is already past (a rejected fix back under its passed deadline) ends
        the window at once: whatever timer it armed in the past fires right after it, never at an instant that
        other cases' timers (or the partition a region runs in) would decide.
        """
        if case.deadline is not None:
            due = _ts(case.deadline.due_at)
            if due < self._window_end:
                self._window_end = max(due, self._now)
