"""The discrete-event driver: it plays the units and officials of a scenario against the real engine.

Nothing here models a rule. Every step is a command through :meth:`Engine.open_case` and
:meth:`Engine.fire` on a :class:`SimulatedClock`, and every deadline, reminder and ladder rung is a timer the
engine armed and :meth:`Engine.run_due` fires. The driver only decides *when* people act and *what* they
do: it keeps a heap of pending actions and jumps from one instant to the next — the next action, the next
armed timer (``Store.next_due``), or the next local midnight — without ever sleeping.

Time is cut into windows that never cross a timer: each window's actions run in one ``Engine.batch()``
(one commit per window on a SQL store), then the timers due at the window's end fire. An action that arms
a deadline inside the running window (an hours-long limit) shortens the window, so timers always fire on
time and a run on SQLite writes the same audit log as one in memory.

Random draws are per case and per purpose (:func:`._dist.uniform`), keyed by the arrival, never by the
order of events: the same seed under two policies meets the same hazards, found in the same units at the
same instants, by people who are as fast or slow as before (common random numbers).
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

import attrs

from .._calendar import SHANGHAI
from .._clock import SimulatedClock
from .._engine import Engine, SequentialIds
from .._exceptions import CalendarDataMissing, GuardRejected, HazardflowError, InvalidInput, NotAuthorized
from .._glossary import zh
from .._jurisdiction import JurisdictionTree, ancestors, is_within, level_of
from .._model import Actor
from ._dist import case_base, draw, uniform
from ._kpi import KpiCollector, Levels, Segment
from ._result import Period, RunStats, SimulationResult
from ._scenario import Behaviour, Scenario, Township
from ._targets import month_ends, quarter_ends

if TYPE_CHECKING:
    from .._model import AuditEvent, Case

__all__ = ["Progress", "Simulation", "build_engine", "simulate"]

DAY = 86400.0
_LOCAL = 8 * 3600.0  # Asia/Shanghai has kept UTC+8 without daylight saving since 1991
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_WORK_START = 9 * 3600.0
_WORK_END = 17.5 * 3600.0
_INF = math.inf
_NATURES = ("unsafe_condition", "unsafe_act", "management_defect")
_UNIT_ROLES = ("inspector", "safety_manager", "principal_officer")
_TOWNSHIP_ROLES = ("township_officer", "emergency_office", "leader_in_charge", "head")
_UPPER_ROLES = ("supervisor", "safety_committee_office", "sector_department", "fire_rescue", "leader_in_charge", "head")
_MAX_RETRIES = 3
_OPEN_STATES_BEFORE_PLAN = ("registered", "confirming", "reporting")


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


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _local_midnight_ts(day: date) -> float:
    """00:00 Asia/Shanghai of ``day`` as a UTC timestamp."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY - _LOCAL


def _day_of(ts: float) -> date:
    return date.fromordinal(int((ts + _LOCAL) // DAY) + _EPOCH_ORDINAL)


def _weekday_calendar_policy(policy: Any) -> Any:
    """``policy`` (class or instance) as a class that counts Monday-Friday beyond the calendar's data."""
    cls = policy if isinstance(policy, type) else type(policy)
    if getattr(cls, "calendar_missing_year", "error") != "error":
        return policy
    return type(cls.__name__, (cls,), {"calendar_missing_year": "weekdays", "__module__": cls.__module__})


def _policies_for(scenario: Scenario) -> list[Any]:
    from ..policies.base import NationalBaseline

    policies = list(scenario.policies)
    if not any(getattr(p, "jurisdiction", None) == "000000" for p in policies):
        policies.insert(0, NationalBaseline)
    if scenario.calendar_beyond_data == "weekdays":
        policies = [_weekday_calendar_policy(p) for p in policies]
    return policies


def build_engine(scenario: Scenario, *, store: Any = None, url: str | None = None) -> Engine:
    """An engine for ``scenario``: its policies, its named jurisdictions, deterministic ids, a simulated clock.

    ``store`` is a store object; ``url`` a database URL (``sqlite:///sim.db``). With neither, an in-memory
    store that forgets closed cases (``MemoryStore(retention="evict")``): the figures are kept by the
    simulation's listener, so memory tracks open cases only.
    """
    from ..persistence.memory import MemoryStore

    tree = JurisdictionTree([(a.code, a.name) for a in scenario.areas] + [(t.code, t.name) for t in scenario.townships])
    clock = SimulatedClock(datetime.combine(scenario.start, datetime.min.time(), SHANGHAI))
    kwargs: dict[str, Any] = {
        "clock": clock,
        "ids": SequentialIds(),
        "policies": _policies_for(scenario),
        "jurisdictions": tree,
    }
    if url is not None and url != "memory":
        return Engine.from_url(url, **kwargs)
    if store is None:
        # 回头看 reopens closed cases: the store must keep their snapshots (never their events).
        store = MemoryStore(retention="open" if scenario.look_back is not None else "evict")
    return Engine(store=store, **kwargs)


def _size_counts(n: int, sizes: Mapping[str, float]) -> dict[str, int]:
    """Largest-remainder split of ``n`` units by size, in a fixed order (small, medium, large)."""
    exact = {s: n * sizes.get(s, 0.0) for s in ("small", "medium", "large")}
    counts = {s: int(v) for s, v in exact.items()}
    left = n - sum(counts.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - counts[s]), s))[:left]:
        counts[s] += 1
    return counts


# ── the actors ─────────────────────────────────────────────────────────────────────────────────────
@attrs.frozen(slots=True)
class _Unit:
    """A business unit and its people."""

    id: str
    township: str
    industry: str
    size: str
    location: str
    inspector: Actor
    fixer: Actor
    safety_manager: Actor
    safety_head: Actor
    principal: Actor


class _People:
    """Actors of the scenario, made on first use and kept (units and offices are a fixed population)."""

    def __init__(self, tree: JurisdictionTree) -> None:
        self._tree = tree
        self._gov: dict[tuple[str, str], Actor] = {}
        self._units: dict[str, _Unit] = {}
        self._offices: dict[str, tuple[Actor, ...]] = {}

    def unit(self, unit_id: str, township: str, industry: str = "other", size: str = "small") -> _Unit:
        hit = self._units.get(unit_id)
        if hit is None:

            def person(suffix: str, role: str, label: str) -> Actor:
                return Actor(f"{unit_id}/{suffix}", f"{unit_id} {label}", frozenset((role,)), unit_id, township)

            hit = _Unit(
                unit_id,
                township,
                industry,
                size,
                f"{self._tree.name(township)} {unit_id}",
                person("inspector", "inspector", zh("role", "inspector")),
                person("fixer", "inspector", zh("role", "inspector") + "2"),
                person("safety", "safety_manager", zh("role", "safety_manager")),
                person("safety-head", "safety_manager", zh("role", "safety_manager") + "2"),
                person("principal", "principal_officer", zh("role", "principal_officer")),
            )
            self._units[unit_id] = hit
        return hit

    def gov(self, code: str, role: str) -> Actor:
        key = (code, role)
        hit = self._gov.get(key)
        if hit is None:
            name = self._tree.name(code)
            hit = Actor(
                f"{code}/{role}", f"{name}{zh('role', role)}", frozenset((role,)), f"{name}{zh('role', role)}", code
            )
            self._gov[key] = hit
        return hit

    def at_level(self, township: str, level: str, role: str) -> Actor | None:
        for code in ancestors(township):
            if level_of(code) == level:
                return self.gov(code, role)
        return None

    def offices(self, township: str) -> tuple[Actor, ...]:
        """Government actors from the township up to the city, nearest first, one per role."""
        hit = self._offices.get(township)
        if hit is None:
            out = [self.gov(township, r) for r in _TOWNSHIP_ROLES]
            for code in ancestors(township)[1:]:
                if level_of(code) in ("national", "province"):
                    break
                out.extend(self.gov(code, r) for r in _UPPER_ROLES)
            hit = self._offices[township] = tuple(out)
        return hit


# ── the simulated cases ────────────────────────────────────────────────────────────────────────────
class _Agent:
    """The driver's memory of one open case: who acts on it and what they have decided."""

    __slots__ = (
        "asked_extension",
        "base",
        "beh",
        "case",
        "case_id",
        "channel",
        "complied",
        "done_at",
        "escalation_decided",
        "escalations",
        "fast",
        "found",
        "grade",
        "industry",
        "key",
        "lister",
        "listing_tried",
        "parent",
        "refuser",
        "registrar",
        "retries",
        "reviews",
        "rework",
        "state",
        "token",
        "township",
        "unit",
        "workflow",
    )

    def __init__(
        self,
        key: str,
        unit: _Unit,
        grade: str,
        channel: str,
        beh: Behaviour,
        registrar: Actor,
        workflow: str = "hazard",
    ) -> None:
        self.key = key
        self.base = -1
        self.case_id = ""
        self.case: Case | None = None
        self.workflow = workflow
        self.unit = unit
        self.township = unit.township
        self.industry = unit.industry
        self.grade = grade
        self.channel = channel
        self.beh = beh
        self.registrar = registrar
        self.state = ""
        self.token = 0
        self.done_at: float | None = None
        self.asked_extension = False
        self.refuser = False
        self.complied = False
        self.rework = 0
        self.reviews = 0
        self.retries = 0
        self.fast = False
        self.lister: Actor | None = None
        self.listing_tried = False
        self.escalation_decided = False
        self.escalations = 0
        self.found: datetime | None = None
        self.parent: _Agent | None = None


@attrs.define
class _Stream:
    """One arrival process: hazards of one grade and channel in one township's industry."""

    index: int
    township: Township
    industry: str
    grade: str
    channel: str
    rate_per_day: float
    units: list[_Unit]
    cum_weights: list[float]
    rng: random.Random
    n: int = 0
    last: float = 0.0


class Simulation:
    """Runs a :class:`Scenario` for one seed through the real engine; :meth:`run` returns the figures.

    ``engine`` (optional) must run on a :class:`SimulatedClock` not later than the scenario's start; with it
    the simulation *forecasts*: open hazard cases already in its store are adopted and carried on by the
    simulated people. ``url`` builds the engine on a database instead (``sqlite:///sim.db``). ``until``
    stops early (inclusive day). ``audit_log`` receives every committed event as one JSON line.
    ``progress`` is called after each simulated window. ``townships`` (a partition: township codes of the
    scenario) simulates only the hazards of those townships; every other township keeps its place in the
    numbering of arrival streams and of the backlog, so each simulated case meets exactly the draws it meets
    in a run of the whole scenario (see :mod:`hazardflow.simulation._partition`).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int,
        engine: Engine | None = None,
        url: str | None = None,
        until: date | None = None,
        audit_log: IO[str] | None = None,
        progress: Callable[[Progress], None] | None = None,
        batch: bool | None = None,
        townships: frozenset[str] | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidInput("seed", seed, "must be an integer")
        if not isinstance(scenario, Scenario):
            raise InvalidInput("scenario", type(scenario).__name__, "must be a hazardflow.simulation.Scenario")
        self.scenario = scenario
        self.seed = seed
        last = scenario.end if until is None else until
        if last < scenario.start:
            raise InvalidInput("until", last.isoformat(), f"must not be before the scenario's start ({scenario.start})")
        if last > scenario.end:
            raise InvalidInput("until", last.isoformat(), f"must not be after the scenario's end ({scenario.end})")
        self.until = last
        if townships is not None:
            unknown = sorted(set(townships) - {t.code for t in scenario.townships})
            if unknown or not townships:
                raise InvalidInput(
                    "townships",
                    ", ".join(unknown) or "(none)",
                    "a partition names one or more townships of the scenario",
                    tuple(sorted(t.code for t in scenario.townships)),
                )
        self._only = townships
        self.engine = engine if engine is not None else build_engine(scenario, url=url)
        if not isinstance(self.engine.clock, SimulatedClock):
            raise InvalidInput("engine", repr(self.engine.clock), "a simulation needs an engine on a SimulatedClock")
        self.clock: SimulatedClock = self.engine.clock
        start_dt = datetime.combine(scenario.start, datetime.min.time(), SHANGHAI)
        if self.clock.now() > start_dt:
            raise InvalidInput(
                "engine",
                self.clock.now().isoformat(),
                f"the engine's clock is past the scenario's start ({start_dt.isoformat()})",
            )
        self.clock.set(start_dt)
        self._url = url or ("memory" if engine is None else type(self.engine.store).__name__)
        self._batch = batch if batch is not None else type(self.engine.store).__name__ != "MemoryStore"
        self._audit_log = audit_log
        self._progress = progress
        self.people = _People(self.engine.jurisdictions)
        self.kpi = KpiCollector(scenario.stock_cutoff, scenario.start, self.engine.store)
        self._digest = hashlib.sha256()
        self._heap: list[tuple[float, int, _Agent | _Stream | None, int, str]] = []
        self._seq = 0
        self._agents: dict[str, _Agent] = {}
        self._workday: dict[int, bool] = {}
        self._now = _ts(start_dt)
        self._window_end = _INF
        self._roles_cache: dict[str, frozenset[str]] = {}
        self._mults: dict[int, tuple[float, float]] = {}
        self._top_mult: float | None = None
        self._registrars: dict[tuple[str, str], Actor] = {}
        self._needs_criteria: dict[str, bool] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._office_cache: dict[tuple[str, str, frozenset[str]], tuple[Actor, ...]] = {}
        self._ladder_len: dict[tuple[str, str], int] = {}
        self._calendar = self.engine.policies.resolve(scenario.townships[0].code).calendar
        self.stats = RunStats()
        self._ran = False

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

    # ── the engine's events ──────────────────────────────────────────────────────────────────────
    def _on_event(self, case: Case, event: AuditEvent) -> None:
        self._digest.update(event.hash.encode())
        if self._audit_log is not None:
            self._audit_log.write(json.dumps(event.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        self.kpi.on_event(case, event)
        known = self._agents.get(case.id)
        if known is not None and (known.case is None or known.case.rev < case.rev):
            known.case = case
        if case.deadline is not None and case.deadline.provisional and event.changes.get("deadline") is not None:
            self.stats.provisional_deadlines += 1
        if event.trigger == "sanction":
            agent = self._agents.get(case.id)
            if agent is not None and agent.refuser and not agent.complied:
                rung = int(event.payload.get("rung", 0))
                if rung >= self._comply_rung(agent, case):
                    agent.complied = True
                    agent.done_at = self._place(
                        self._now + agent.beh.comply_days.quantile(self._u(agent, "comply")) * DAY
                    )
                    if case.state == "rectifying":
                        self._push(max(agent.done_at, self._now + 60.0), agent, agent.token, "submit")

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

    def _comply_rung(self, agent: _Agent, case: Case) -> int:
        key = (case.policy_id, case.policy_version)
        n = self._ladder_len.get(key)
        if n is None:
            n = len(self.engine.policy_for(case).ladder("rectify", case))
            self._ladder_len[key] = n
        return min(agent.beh.comply_at_rung, n) if n else 1 << 30

    # ── arrivals ─────────────────────────────────────────────────────────────────────────────────
    def _start_streams(self) -> None:
        sc = self.scenario
        rates = sc.rates
        max_mult = self._max_mult()
        index = 0
        for t in sc.townships:
            sizes = t.sizes or sc.size_mix
            for industry, n_units in sorted(t.units.items()):
                per_unit = rates.per_unit_per_year.get(industry, 0.0)
                if n_units <= 0 or per_unit <= 0:
                    continue
                cum: list[float] = []
                acc = 0.0
                units: list[_Unit] = []
                if self._only is None or t.code in self._only:
                    units = self._make_units(t, industry, n_units, sizes)
                    for u in units:
                        acc += rates.size_weight[u.size]
                        cum.append(acc)
                else:
                    # Outside the partition: no units, only the same stream numbering as a whole run.
                    acc = float(any(rates.size_weight[s] > 0 for s, k in _size_counts(n_units, sizes).items() if k))
                major = rates.major(industry)
                for grade, share in (("general", 1.0 - major), ("major", major)):
                    channels = rates.major_channels if grade == "major" and rates.major_channels else rates.channels
                    for channel, cshare in sorted(channels.items()):
                        rate = per_unit * acc * share * cshare / 365.0
                        if rate <= 0:
                            continue
                        index += 1
                        if not units:
                            continue
                        key = f"{t.code}/{industry}/{grade}/{channel}"
                        stream = _Stream(
                            index,
                            t,
                            industry,
                            grade,
                            channel,
                            rate * max_mult,
                            units,
                            cum,
                            random.Random(f"{self.seed}|arrivals|{key}"),
                        )
                        self._schedule_arrival(stream, self._now)

    def _make_units(self, t: Township, industry: str, n: int, sizes: Mapping[str, float]) -> list[_Unit]:
        counts = _size_counts(n, sizes)
        out = []
        k = 0
        for size in ("small", "medium", "large"):
            for _ in range(counts[size]):
                k += 1
                out.append(self.people.unit(f"{t.code}-{industry}-{k:03d}", t.code, industry, size))
        return out

    def _schedule_arrival(self, stream: _Stream, after: float) -> None:
        """Next arrival of an inhomogeneous Poisson process, by thinning against the phase multipliers."""
        end = _local_midnight_ts(self.until + timedelta(days=1))
        rng = stream.rng
        t = after
        top = stream.rate_per_day
        if top <= 0:
            return
        while True:
            t += rng.expovariate(top) * DAY
            if t >= end:
                return
            day = int((t + _LOCAL) // DAY)
            mults = self._mults.get(day)
            if mults is None:
                mults = self._mults[day] = self.scenario.phase_multipliers(_day_of(t))
            disc, major = mults
            mult = disc * (major if stream.grade == "major" else 1.0)
            if rng.random() * self._max_mult() < mult:
                stream.last = t
                self._push(self._place(t), stream, 0, "arrive")
                return

    def _max_mult(self) -> float:
        if self._top_mult is None:
            self._top_mult = max([1.0] + [p.discovery * max(1.0, p.major) for p in self.scenario.phases])
        return self._top_mult

    def _arrival(self, stream: _Stream) -> None:
        stream.n += 1
        rng = stream.rng
        unit = stream.units[bisect_right(stream.cum_weights, rng.random() * stream.cum_weights[-1])]
        key = f"{stream.index}.{stream.n}"
        self._schedule_arrival(stream, stream.last)
        beh = self.scenario.behaviour_for(stream.industry)
        if stream.channel == "tipoff":
            self._tipoff(key, unit, stream.grade, beh)
            return
        registrar = self._registrar(unit, stream.channel)
        agent = _Agent(key, unit, stream.grade, stream.channel, beh, registrar)
        self._register(agent, None)

    def _registrar(self, unit: _Unit, channel: str) -> Actor:
        if channel in ("enterprise_self_inspection", "monitoring_alarm"):
            return unit.inspector
        key = (unit.township, channel)
        hit = self._registrars.get(key)
        if hit is None:
            if channel == "enforcement":
                hit = self.people.at_level(unit.township, "county", "supervisor") or self.people.gov(
                    unit.township, "township_officer"
                )
            else:
                hit = self.people.gov(unit.township, "township_officer")
            self._registrars[key] = hit
        return hit

    def _register(self, agent: _Agent, discovered_at: datetime | None) -> None:
        what = (agent.industry, agent.grade)
        description = self._descriptions.get(what)
        if description is None:
            description = self._descriptions[what] = f"{zh('industry', what[0])}{zh('grade', what[1])}（模拟）"
        fields: dict[str, Any] = {
            "grade": agent.grade,
            "source": agent.channel,
            "nature": _NATURES[int(self._u(agent, "nature") * len(_NATURES))],
            "industry": agent.industry,
            "business_unit": agent.unit.id,
            "location": agent.unit.location,
            "description": description,
        }
        if discovered_at is not None:
            fields["discovered_at"] = discovered_at
        if agent.grade == "major" and self._needs_criteria.get(agent.township):
            self._cite_criteria(agent, fields)
        try:
            case = self.engine.open_case("hazard", actor=agent.registrar, jurisdiction=agent.township, **fields)
        except GuardRejected as exc:
            if exc.guard != "criteria_cited" or "criteria" in fields or agent.grade != "major":
                self._refused("register", exc)
                return
            # 一行业一清单: this jurisdiction grades a hazard major only on a cited criterion; cite one from now on.
            self._needs_criteria[agent.township] = True
            self._cite_criteria(agent, fields)
            try:
                case = self.engine.open_case("hazard", actor=agent.registrar, jurisdiction=agent.township, **fields)
            except HazardflowError as again:
                self._refused("register", again)
                return
        except HazardflowError as exc:
            self._refused("register", exc)
            return
        self.stats.cases += 1
        self._note_deadline(case)
        agent.case_id = case.id
        agent.state = case.state
        agent.case = case
        self._agents[case.id] = agent
        self._next(agent, case)

    def _cite_criteria(self, agent: _Agent, fields: dict[str, Any]) -> None:
        """Cite a criterion of the hazard's industry list in force, or grade it general when there is none."""
        policy = self.engine.policies.resolve(agent.township, self.clock.now())
        catalog = getattr(policy, "criteria_catalog", None)
        # The list must be in force on the day the hazard was found.
        day = _day_of(_ts(agent.found)) if agent.found is not None else _day_of(self._now)
        items = [i.id for cs in catalog.in_force(agent.industry, day) for i in cs.items] if catalog is not None else []
        if items:
            fields["criteria"] = [items[int(self._u(agent, "criterion") * len(items))]]
        else:
            # No list names such a hazard for this industry: the inspector cannot grade it major [seed:000 item 20].
            agent.grade = "general"
            fields["grade"] = "general"
            self.stats.graded_general += 1

    def _tipoff(self, key: str, unit: _Unit, grade: str, beh: Behaviour) -> None:
        """A public report: received at the county desk, verified by the township, then a hazard or nothing."""
        if "tipoff" not in self.engine.workflows:
            self.stats.tipoffs_skipped += 1
            return
        desk = self.people.at_level(unit.township, "county", "complaint_officer") or self.people.gov(
            unit.township, "township_officer"
        )
        agent = _Agent(key, unit, grade, "tipoff", beh, desk, workflow="tipoff")
        category = "other"
        if unit.industry == "fire_safety" and self._u(agent, "category") < 0.5:
            category = "blocked_fire_exit"
        try:
            case = self.engine.open_case(
                "tipoff",
                actor=desk,
                jurisdiction=unit.township,
                channel="public",
                category=category,
                description=f"群众举报{zh('industry', unit.industry)}安全隐患（模拟）",
                location=unit.location,
                business_unit=unit.id,
                industry=unit.industry,
            )
        except HazardflowError as exc:
            self._refused("receive_tipoff", exc)
            return
        self.stats.tipoffs += 1
        self._note_deadline(case)
        agent.case_id = case.id
        agent.state = case.state
        agent.case = case
        self._agents[case.id] = agent
        self._later(agent, self._days(agent, "verify_start_days"), "start_verification")

    def _do_start_verification(self, agent: _Agent) -> None:
        verifier = self.people.gov(agent.township, "township_officer")
        case = self._fire(agent, "start_verification", (verifier,), {"verifier": verifier.id})
        if case is None:
            self._retry(agent, "start_verification")
        else:
            self._later(agent, self._days(agent, "verify_days"), "verify")

    def _do_verify(self, agent: _Agent) -> None:
        verifier = self.people.gov(agent.township, "township_officer")
        if self._u(agent, "true") >= agent.beh.tipoff_true_share:
            case = self._fire(agent, "dismiss", (verifier,), {"reason": "经现场核查，举报情况不属实"})
            if case is None:
                self._retry(agent, "verify")
            return
        payload: dict[str, Any] = {
            "findings": "经现场核查，举报情况属实",
            "grade": agent.grade,
            "nature": _NATURES[int(self._u(agent, "nature") * 3)],
        }
        if agent.grade == "major" and self._needs_criteria.get(agent.township):
            self._cite_criteria(agent, payload)
        case = self._fire(agent, "substantiate", (verifier,), payload)
        if case is None:
            self._retry(agent, "verify")
            return
        hazard_id = str(case.fields.get("hazard_id") or "")
        try:
            hazard = self.engine.get(hazard_id)
        except HazardflowError:
            return
        child = _Agent(f"{agent.key}.h", agent.unit, agent.grade, str(hazard.source or ""), agent.beh, verifier)
        child.case_id = hazard.id
        child.state = hazard.state
        child.case = hazard
        self.stats.cases += 1
        self._agents[hazard.id] = child
        self._next(child, hazard)

    # ── escalation to the upper tier's pool (全量库 → 蓄水池) ──────────────────────────────────────
    def _do_propose_escalation(self, agent: _Agent) -> None:
        case = self._case(agent)
        if case is None or case.closed_at is not None:
            return
        owner = case.owning_jurisdiction
        proposer = self.people.gov(
            owner, "emergency_office" if level_of(owner) == "township" else "safety_committee_office"
        )
        reason = "high_risk" if self._u(agent, "escalation_reason", agent.escalations) < 0.5 else "beyond_capacity"
        # The first escalation keeps its historical key; an onward one (county → city) gets its own draws.
        key = f"{agent.key}.e" if not agent.escalations else f"{agent.key}.e{agent.escalations + 1}"
        agent.escalations += 1
        e = _Agent(key, agent.unit, agent.grade, "escalation", agent.beh, proposer, workflow="escalation")
        e.parent = agent
        try:
            esc = self.engine.open_case(
                "escalation",
                actor=proposer,
                jurisdiction=owner,
                hazard_id=case.id,
                reason=reason,
                explanation="风险较大、整改存在困难，提请纳入上级蓄水池",
            )
        except HazardflowError as exc:
            self._refused("propose_escalation", exc)
            return
        self.stats.escalations += 1
        self._note_deadline(esc)
        e.case_id = esc.id
        e.state = esc.state
        e.case = esc
        self._agents[esc.id] = e
        self._later(e, self._days(e, "admission_days"), "approve_escalation")

    def _do_approve_escalation(self, e: _Agent) -> None:
        case = self._case(e)
        if case is None:
            return
        if e.parent is not None and e.parent.state in ("closed", "voided", "gone"):
            self._fire(e, "withdraw_escalation", (e.registrar,), {"reason": "隐患已整改销号，撤回提级"})
            return
        steps = list(self.engine.policy_for(case).escalation_steps(case))
        done = len(case.fields.get("approvals", ()))
        if done >= len(steps):
            return
        actor = self.people.gov(case.jurisdiction, steps[done])
        case2 = self._fire(e, "approve_escalation", (actor,), {"opinion": "同意纳入"})
        if case2 is None:
            self._retry(e, "approve_escalation")
        elif case2.state == "pooled":
            self._later(e, self._days(e, "pool_days"), "pool_decision")
        else:
            self._later(e, self._days(e, "admission_days", done + 1), "approve_escalation")

    def _settle_escalation(self, escalation_id: str) -> None:
        """The hazard is about to close: withdraw its pending escalation, or have the pool return it."""
        e = self._agents.get(escalation_id)
        if e is None or e.case is None:
            return
        if e.case.state in ("proposed", "approving"):
            self._fire(e, "withdraw_escalation", (e.registrar,), {"reason": "隐患已整改到位，撤回提级"})
        elif e.case.state == "pooled":
            keeper = self.people.gov(e.case.owning_jurisdiction, "safety_committee_office")
            self._fire(e, "return_escalation", (keeper,), {"reason": "隐患已整改到位，无需上级督办"})

    def _do_pool_decision(self, e: _Agent) -> None:
        case = self._case(e)
        if case is None:
            return
        keeper = self.people.gov(case.owning_jurisdiction, "safety_committee_office")
        hazard = e.parent
        if hazard is None or hazard.state in ("closed", "voided", "gone"):
            self._fire(e, "return_escalation", (keeper,), {"reason": "隐患已办结"})
            return
        if self._u(e, "accept") >= e.beh.escalation_accept_share:
            self._fire(e, "return_escalation", (keeper,), {"reason": "属地可自行整改，退回"})
            return
        if self._fire(e, "accept_escalation", (keeper,), {"opinion": "接收，上级统筹督办"}) is None:
            self._retry(e, "pool_decision")
            return
        # The upper tier brings departments and funds: the remaining work shrinks [inference].
        if hazard.state == "rectifying" and hazard.done_at is not None and hazard.done_at < _INF:
            remaining = max(0.0, hazard.done_at - self._now) * e.beh.escalated_rectify_factor
            hazard.done_at = self._place(self._now + remaining)
            hazard.token += 1
            self._push(hazard.done_at, hazard, hazard.token, "submit")
        # A county may push what it accepted on to the city's pool (县 → 市).
        onward = e.beh.escalation_onward_share
        if onward > 0 and hazard.escalations == 1 and self._u(e, "onward") < onward:
            self._later(hazard, self._days(hazard, "admission_days", 1), "propose_escalation", keep=True)

    def _start_backlog(self) -> None:
        b = self.scenario.backlog
        if b is None:
            return
        span = (b.found_to - b.found_from).days
        first = self._place(self._now)
        seq = 0.0
        for grade, table in (("major", b.majors), ("general", b.generals)):
            for industry, n in sorted(table.items()):
                made: dict[str, list[_Unit]] = {}
                places = [
                    (t, t.units.get(industry, 0)) for t in self.scenario.townships if t.units.get(industry, 0) > 0
                ]
                ends: list[int] = []
                total = 0
                for _t, count in places:
                    total += count
                    ends.append(total)
                for k in range(1, n + 1):
                    key = f"b.{grade}.{industry}.{k}"
                    u_unit = uniform(self.seed, key, "unit")
                    # The unit at this index of the scenario's units of the industry, township by township.
                    at = int(u_unit * total)
                    j = bisect_right(ends, at)
                    township, _count = places[j]
                    if self._only is not None and township.code not in self._only:
                        seq += 1.0  # keep every later registration at its whole-run instant
                        continue
                    local = made.get(township.code)
                    if local is None:
                        sizes = township.sizes or self.scenario.size_mix
                        local = made[township.code] = self._make_units(township, industry, _count, sizes)
                    unit = local[at - (ends[j - 1] if j else 0)]
                    beh = self.scenario.behaviour_for(industry)
                    registrar = self._registrar(unit, "supervisory_inspection")
                    agent = _Agent(key, unit, grade, "supervisory_inspection", beh, registrar)
                    agent.fast = grade == "major" and uniform(self.seed, key, "planned") < b.planned_share
                    day = b.found_from + timedelta(days=int(uniform(self.seed, key, "found") * (span + 1)))
                    agent.found = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=10)
                    # Registered into the ledger on the first working morning, one after another.
                    self._push(first + seq, agent, 0, "register")
                    seq += 1.0

    def _adopt_open_cases(self) -> None:
        open_cases = list(self.engine.cases(workflow="hazard", open_only=True))
        if open_cases:
            self._adopt_hazards(open_cases)
        if "tipoff" in self.engine.workflows:
            self._adopt_tipoffs()
        if "escalation" in self.engine.workflows:
            self._adopt_escalations()

    def _adopt_hazards(self, open_cases: list[Case]) -> None:
        self.kpi.adopt(open_cases)
        for case in sorted(open_cases, key=lambda c: c.id):
            unit_id = str(case.fields.get("business_unit") or case.jurisdiction)
            industry = str(case.fields.get("industry") or "other")
            unit = self.people.unit(unit_id, case.jurisdiction, industry)
            grade = str(case.fields.get("grade") or "general")
            channel = str(case.fields.get("source") or "supervisory_inspection")
            registrar = self._registrar(unit, channel)
            agent = _Agent(f"adopted.{case.id}", unit, grade, channel, self.scenario.behaviour_for(industry), registrar)
            agent.case_id = case.id
            agent.state = case.state
            agent.case = case
            self._agents[case.id] = agent
            self.stats.adopted += 1
            self._next(agent, case)

    def _adopt_tipoffs(self) -> None:
        """Open tip-offs of the forecast database: verified by the township and carried on like new ones."""
        for case in sorted(self.engine.cases(workflow="tipoff", open_only=True), key=lambda c: c.id):
            unit_id = str(case.fields.get("business_unit") or case.jurisdiction)
            industry = str(case.fields.get("industry") or "other")
            unit = self.people.unit(unit_id, case.jurisdiction, industry)
            beh = self.scenario.behaviour_for(industry)
            agent = _Agent(f"adopted.{case.id}", unit, "general", "tipoff", beh, unit.inspector, workflow="tipoff")
            if self._u(agent, "grade") < self.scenario.rates.major(industry):
                agent.grade = "major"
            agent.case_id = case.id
            agent.state = case.state
            agent.case = case
            self._agents[case.id] = agent
            self.stats.adopted_tipoffs += 1
            if case.state == "received":
                self._later(agent, self._days(agent, "verify_start_days"), "start_verification")
            else:
                self._later(agent, self._days(agent, "verify_days"), "verify")

    def _adopt_escalations(self) -> None:
        """Open escalations of the forecast database: approved, pooled and decided like new ones."""
        for case in sorted(self.engine.cases(workflow="escalation", open_only=True), key=lambda c: c.id):
            parent = self._agents.get(str(case.fields.get("hazard_id") or ""))
            owner = case.jurisdiction
            proposer = self.people.gov(
                owner, "emergency_office" if level_of(owner) == "township" else "safety_committee_office"
            )
            unit = parent.unit if parent is not None else self.people.unit(f"{owner}-office", owner)
            beh = parent.beh if parent is not None else self.scenario.behaviour
            e = _Agent(f"adopted.{case.id}", unit, "major", "escalation", beh, proposer, workflow="escalation")
            e.parent = parent
            if parent is not None:
                parent.escalation_decided = True
                parent.escalations = max(parent.escalations, 1)
            e.case_id = case.id
            e.state = case.state
            e.case = case
            self._agents[case.id] = e
            self.stats.adopted_escalations += 1
            if case.state == "pooled":
                self._later(e, self._days(e, "pool_days"), "pool_decision")
            else:
                self._later(e, self._days(e, "admission_days"), "approve_escalation")

    # ── reporting obligations (报送任务) ──────────────────────────────────────────────────────────
    def _start_filings(self) -> None:
        """Plan the reports units, townships and township emergency offices owe: opened month by month."""
        if not self.scenario.filings or "report_obligation" not in self.engine.workflows:
            return
        self._filers: list[tuple[str, str, str, _Unit, Actor, Actor]] = []
        self._filings_seen: set[str] = set()
        for t in self.scenario.townships:
            if self._only is not None and t.code not in self._only:
                continue
            office = self.people.gov(t.code, "emergency_office")
            desk = self.people.unit(f"{t.code}-office", t.code)
            self._filers.append((t.code, "township", t.code, desk, self.people.gov(t.code, "township_officer"), office))
            self._filers.append((t.code, "department", office.org, desk, office, office))
            for industry, n in sorted(t.units.items()):
                if n > 0:
                    for unit in self._make_units(t, industry, n, t.sizes or self.scenario.size_mix):
                        self._filers.append((t.code, "business_unit", unit.id, unit, unit.safety_manager, office))
        # One planning step at the start and on the 1st of every month: the reports of the periods the month
        # touches, under the policies in force that day (a rule taking effect mid-run adds its reports then).
        planner = _Agent(
            "filings", self._filers[0][3], "general", "filing", self.scenario.behaviour, self._filers[0][5]
        )
        day = self.scenario.start
        while day <= self.until:
            self._push(_local_midnight_ts(day), planner, -1, "open_filings")
            day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)

    def _do_open_filings(self, _planner: _Agent) -> None:
        first = _day_of(self._now)
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        last = min(self.until, nxt - timedelta(days=1))
        at_start = first == self.scenario.start
        # Periods beginning this month (at the start: every period the month touches); the others are open. A
        # week that began last month is open already: weekly reports are opened from the month's first Monday.
        begins = {
            "week": True,
            "half_month": True,
            "month": True,
            "quarter": first.month % 3 == 1,
            "half_year": first.month in (1, 7),
            "year": first.month == 1,
        }
        monday = first if at_start else first + timedelta(days=(7 - first.weekday()) % 7)
        owed: dict[tuple[str, str], list[tuple[list[str], date]]] = {}
        for township, kind, party, unit, filer, office in self._filers:
            plan = owed.get((township, kind))
            if plan is None:
                obligations = self.engine.policies.resolve(township, self.clock.now()).reporting_obligations()
                due = [o for o in obligations if o.party == kind and (at_start or begins.get(o.period, False))]
                plan = owed[(township, kind)] = [
                    (ids, since)
                    for ids, since in (
                        ([o.id for o in due if o.period != "week"], first),
                        ([o.id for o in due if o.period == "week"], monday),
                    )
                    if ids and since <= last
                ]
            cases = []
            for ids, since in plan:
                try:
                    cases.extend(
                        self.engine.open_obligations(
                            party,
                            party_kind=kind,  # type: ignore[arg-type]
                            jurisdiction=township,
                            start=since,
                            end=last,
                            actor=office,
                            obligations=ids,
                        )
                    )
                except HazardflowError as exc:
                    self._refused("open_obligation", exc)
            for case in cases:
                if case.id in self._filings_seen:
                    continue
                self._filings_seen.add(case.id)
                self._note_deadline(case)
                f = case.fields
                key = f"o.{kind}.{party}.{f.get('obligation')}.{f.get('period')}"
                beh = self.scenario.behaviour_for(unit.industry)
                agent = _Agent(key, unit, "general", "filing", beh, filer, workflow="report_obligation")
                agent.case_id = case.id
                agent.state = case.state
                agent.case = case
                self._agents[case.id] = agent
                self._schedule_filing(agent, case)

    def _schedule_filing(self, agent: _Agent, case: Case) -> None:
        if case.deadline is None:
            return
        due = _ts(case.deadline.due_at)
        beh = agent.beh
        if self._u(agent, "late_filing") < beh.late_filing_share:
            at = self._place(due + beh.late_filing_days.quantile(self._u(agent, "late_filing_days")) * DAY)
        else:
            start = str(case.fields.get("period_start") or "")
            first = _local_midnight_ts(date.fromisoformat(start)) if start else self._now
            lead = beh.filing_lead_days.quantile(self._u(agent, "filing_lead_days"))
            at = max(first, self._place_before(due - 60.0 - lead * DAY))
        self._push(max(at, self._now + 60.0), agent, agent.token, "fulfil")

    def _do_fulfil(self, agent: _Agent) -> None:
        payload = {"document_no": f"报〔{_day_of(self._now).year}〕{agent.key}号", "summary": "按要求报送（模拟）"}
        if self._fire(agent, "fulfil", (agent.registrar,), payload) is None:
            self._retry(agent, "fulfil")

    # ── 回头看 ───────────────────────────────────────────────────────────────────────────────────
    def _plan_look_back(self, agent: _Agent) -> None:
        lb = self.scenario.look_back
        assert lb is not None
        k = agent.rework
        if (lb.majors_only and agent.grade != "major") or self._u(agent, "look_back", k) >= lb.check_share:
            return
        if self._u(agent, "look_back_fails", k) >= lb.fail_share:
            return  # re-checked and found sound: nothing to record on the case
        self._later(agent, lb.after_days.quantile(self._u(agent, "look_back_days", k)), "look_back", keep=True)

    def _do_look_back(self, agent: _Agent) -> None:
        lb = self.scenario.look_back
        case = agent.case
        if lb is None or case is None or case.state != "closed":
            return
        days = lb.deadline_days.quantile(self._u(agent, "look_back_deadline", agent.rework))
        payload = {
            "finding": "recurrence" if self._u(agent, "look_back_finding", agent.rework) < 0.5 else "fake_fix",
            "reason": "回头看发现问题，重新整改（模拟）",
            "deadline": (_day_of(self._now) + timedelta(days=max(1, round(days)))).isoformat(),
        }
        self._agents[case.id] = agent
        case2 = self._fire(agent, "reopen", self._deciders(agent, case, "reopen"), payload)
        if case2 is None:
            self._agents.pop(case.id, None)
            return
        agent.rework += 1
        agent.done_at = None
        self._next(agent, case2)

    # ── commands ─────────────────────────────────────────────────────────────────────────────────
    def _refused(self, trigger: str, exc: HazardflowError) -> None:
        self.stats.refused += 1
        self.kpi.refused(trigger, exc.code)

    def _roles(self, case: Case, trigger: str) -> frozenset[str]:
        perm = self.engine.policy_for(case).permission("hazard", trigger, case)
        if perm is not None:
            return perm.roles
        hit = self._roles_cache.get(trigger)
        if hit is None:
            hit = frozenset().union(*(r.roles for r in self.engine.lifecycle("hazard").by_trigger[trigger]))
            self._roles_cache[trigger] = hit
        return hit

    def _fire(self, agent: _Agent, trigger: str, actors: Sequence[Actor], payload: Mapping[str, Any]) -> Case | None:
        """Fire ``trigger`` as the first of ``actors`` the rules accept; None (counted) when refused."""
        last: HazardflowError | None = None
        for actor in actors:
            try:
                case = self.engine.fire(agent.case_id, trigger, actor=actor, payload=payload)
            except NotAuthorized as exc:
                last = exc
                continue
            except HazardflowError as exc:
                last = exc
                break
            self._accepted(agent, case)
            return case
        if last is not None:
            self._refused(trigger, last)
        return None

    def _accepted(self, agent: _Agent, case: Case) -> None:
        """Book-keeping after the engine accepted a command on the agent's case."""
        agent.retries = 0
        agent.case = case
        self._note_deadline(case)
        if case.state != agent.state:
            agent.state = case.state
            agent.token += 1
        if case.closed_at is not None:
            self._agents.pop(case.id, None)
            if case.state == "closed" and agent.workflow == "hazard" and self.scenario.look_back is not None:
                self._plan_look_back(agent)

    def _deciders(self, agent: _Agent, case: Case, trigger: str) -> list[Actor]:
        """Who may review, approve or decide on the case: unit first for its own general hazards."""
        roles = self._roles(case, trigger)
        owner = case.owning_jurisdiction
        first: Actor | None = None
        if agent.grade == "general":
            first = agent.unit.safety_head if agent.registrar.org == agent.unit.id else agent.registrar
        picked: list[Actor] = []
        if first is not None and first.roles & roles:
            if first.org == agent.unit.id:
                if owner == case.jurisdiction:
                    picked.append(first)
            elif is_within(owner, first.jurisdiction):
                picked.append(first)
        key = (agent.township, owner, roles)
        offices = self._office_cache.get(key)
        if offices is None:
            offices = tuple(
                a for a in self.people.offices(agent.township) if a.roles & roles and is_within(owner, a.jurisdiction)
            )
            self._office_cache[key] = offices
        picked.extend(a for a in offices if first is None or a.id != first.id)
        return picked

    def _retry(self, agent: _Agent, step: str) -> None:
        agent.retries += 1
        if agent.retries > _MAX_RETRIES:
            self.stats.stuck += 1
            agent.state = "gone"
            self._agents.pop(agent.case_id, None)
            return
        self._later(agent, 7.0, step)

    def _case(self, agent: _Agent) -> Case | None:
        """The newest snapshot the driver has seen of the agent's case (its own commands and the listener's)."""
        if agent.case is not None:
            return agent.case
        try:
            agent.case = self.engine.get(agent.case_id)
            return agent.case
        except HazardflowError:
            agent.state = "gone"
            self._agents.pop(agent.case_id, None)
            return None

    def _days(self, agent: _Agent, dist_name: str, k: int = 0) -> float:
        if agent.fast:
            return 0.0
        dist = getattr(agent.beh, dist_name)
        return float(dist.quantile(self._u(agent, dist_name, k)))

    def _next(self, agent: _Agent, case: Case) -> None:
        """Schedule what the people do next, from the case's state."""
        state = case.state
        if state == "registered":
            if agent.grade == "general":
                if self._u(agent, "spot") < agent.beh.spot_fix_share and agent.retries == 0:
                    self._later(agent, self._days(agent, "spot_fix_days"), "fix_on_spot")
                else:
                    self._later(agent, self._days(agent, "order_days"), "set_deadline")
            else:
                self._later(agent, self._days(agent, "confirm_days"), "confirm_major")
        elif state == "confirming":
            policy = self.engine.policy_for(case)
            if len(case.fields.get("confirmed_by", ())) < policy.confirmation_levels(case):
                self._later(agent, self._days(agent, "confirm_days", 1), "confirm_major")
            else:
                self._later(agent, self._days(agent, "report_days"), "report")
        elif state == "reporting":
            self._after_report(agent, case)
        elif state == "rectifying":
            self._rectify(agent, case)
        elif state == "extension_requested":
            self._later(agent, self._days(agent, "extension_decision_days"), "decide_extension")
        elif state == "under_review":
            self._schedule_review(agent, case)
        elif state == "awaiting_delisting":
            self._later(agent, self._days(agent, "delist_days"), "delist")

    def _after_report(self, agent: _Agent, case: Case) -> None:
        policy = self.engine.policy_for(case)
        reported = case.fields.get("reported_to", ())
        pending = [r for r in policy.dual_report_recipients(case) if r not in reported]
        if pending:
            self._later(agent, self._days(agent, "report_days", len(reported)), "report")
            return
        rule = policy.listing(case)
        if not case.listed and not agent.listing_tried:
            if rule.required:
                self._later(agent, self._days(agent, "listing_days"), "list")
                return
            agent.listing_tried = True
            if self._u(agent, "list") < agent.beh.list_share:
                self._later(agent, self._days(agent, "listing_days"), "list", keep=True)
        self._later(agent, self._days(agent, "plan_days"), "adopt_plan")

    def _rectify(self, agent: _Agent, case: Case) -> None:
        beh = agent.beh
        agent.fast = False
        if agent.grade == "major" and not agent.escalation_decided:
            agent.escalation_decided = True
            if "escalation" in self.engine.workflows and self._u(agent, "escalate") < beh.escalation_share:
                self._later(agent, self._days(agent, "admission_days"), "propose_escalation", keep=True)
        if agent.done_at is None:
            if agent.refuser or (agent.rework == 0 and self._u(agent, "refuse") < beh.refusal_share):
                agent.refuser = True
                if not agent.complied:
                    agent.done_at = _INF
            if agent.done_at is None:
                if agent.rework:
                    need = beh.rework_days.quantile(self._u(agent, "rework", agent.rework))
                elif agent.grade == "major":
                    need = beh.major_rectify_days.quantile(self._u(agent, "rectify"))
                else:
                    need = beh.rectify_days.quantile(self._u(agent, "rectify"))
                agent.done_at = max(self._now + 60.0, self._place(self._now + need * DAY))
        done = agent.done_at
        deadline = case.deadline
        if (
            deadline is not None
            and not agent.asked_extension
            and not agent.refuser
            and self._now < _ts(deadline.due_at) < done
            and self._u(agent, "extension") < beh.extension_share
        ):
            agent.asked_extension = True
            lead = beh.extension_lead_days.quantile(self._u(agent, "extension_lead"))
            ask = max(self._now + 60.0, self._place_before(_ts(deadline.due_at) - lead * DAY))
            if ask < done:
                self._push(ask, agent, agent.token, "request_extension")
        if done < _INF:
            self._push(done, agent, agent.token, "submit")

    def _schedule_review(self, agent: _Agent, case: Case) -> None:
        beh = agent.beh
        days = beh.review_days.quantile(self._u(agent, "review_days", agent.reviews))
        at = max(self._now + 60.0, self._place(self._now + days * DAY))
        deadline = case.deadline
        if deadline is not None and self._u(agent, "late_review", agent.reviews) >= beh.late_review_share:
            latest = self._place_before(_ts(deadline.due_at) - 60.0)
            if latest > self._now:
                at = min(at, latest)
        self._push(at, agent, agent.token, "review")

    def _act(self, agent: _Agent, step: str) -> None:
        getattr(self, "_do_" + step)(agent)

    def _do_register(self, agent: _Agent) -> None:
        self._register(agent, agent.found)

    # ── the steps ────────────────────────────────────────────────────────────────────────────────
    def _do_fix_on_spot(self, agent: _Agent) -> None:
        unit = agent.unit
        checker = agent.registrar if agent.registrar.id != unit.fixer.id else unit.inspector
        case = self._fire(agent, "fix_on_spot", (checker,), {"fixed_by": unit.fixer.id, "measures": "现场立即整改"})
        if case is None:
            agent.retries = 1  # the policy refuses a spot fix: order a deadline instead
            self._later(agent, 0.1, "set_deadline")

    def _do_set_deadline(self, agent: _Agent) -> None:
        days = agent.beh.order_deadline_days.quantile(self._u(agent, "order_deadline"))
        due = _day_of(self._now) + timedelta(days=max(0, round(days)))
        actor = agent.registrar if agent.registrar.org != agent.unit.id else agent.unit.safety_manager
        case = self._fire(
            agent,
            "set_deadline",
            (actor, agent.unit.safety_manager),
            {"deadline": due.isoformat(), "measures": "限期整改", "responsible": agent.unit.principal.name},
        )
        if case is None:
            self._retry(agent, "set_deadline")
        else:
            self._next(agent, case)

    def _do_confirm_major(self, agent: _Agent) -> None:
        case = self._case(agent)
        if case is None:
            return
        n = len(case.fields.get("confirmed_by", ()))
        unit = agent.unit
        candidates = [unit.safety_manager, unit.principal, *self.people.offices(agent.township)][n:]
        case2 = self._fire(agent, "confirm_major", candidates, {"opinion": "经核实，确认为重大事故隐患"})
        if case2 is None:
            self._retry(agent, "confirm_major")
        else:
            self._next(agent, case2)

    def _do_report(self, agent: _Agent) -> None:
        case = self._case(agent)
        if case is None:
            return
        policy = self.engine.policy_for(case)
        reported = case.fields.get("reported_to", ())
        pending = [r for r in policy.dual_report_recipients(case) if r not in reported]
        if not pending:
            self._next(agent, case)
            return
        case2 = self._fire(
            agent,
            "report",
            (agent.unit.principal, agent.unit.safety_manager),
            {
                "recipient": pending[0],
                "status_and_cause": "隐患现状及成因已查明",
                "harm_and_difficulty": "危害较大，需停产治理",
                "plan_summary": "制定治理方案，落实五落实",
            },
        )
        if case2 is None:
            self._retry(agent, "report")
        else:
            self._next(agent, case2)

    def _do_list(self, agent: _Agent) -> None:
        case = self._case(agent)
        if (
            case is None
            or case.listed
            or case.state not in ("reporting", "rectifying", "extension_requested", "under_review")
        ):
            return
        rule = self.engine.policy_for(case).listing(case)
        roles = sorted(rule.authority_roles, key=lambda r: (r != "safety_committee_office", r))
        actors = [a for r in roles if (a := self.people.at_level(agent.township, rule.level, r)) is not None]
        payload = {"document_no": f"督办〔{_day_of(self._now).year}〕{agent.key}号"}
        before = agent.token
        case2 = self._fire(agent, "list_for_supervision", actors, payload)
        if case2 is None:
            if rule.required:
                self._retry(agent, "list")
            return
        agent.lister = next((a for a in actors if a.id == case2.fields.get("listing", {}).get("by")), actors[0])
        if rule.required and case2.state == "reporting" and agent.token == before:
            self._next(agent, case2)

    def _do_adopt_plan(self, agent: _Agent) -> None:
        length = agent.beh.plan_deadline_days.quantile(self._u(agent, "plan_deadline_days"))
        today = _day_of(self._now)
        payload: dict[str, Any] = {
            "goal_tasks": "消除重大事故隐患",
            "methods_measures": "按治理方案实施工程和管理措施",
            "funds_materials": "企业安全生产费用",
            "funds_amount": 100000,
            "organization_people": "主要负责人牵头，安全管理部门实施",
            "responsible_person": agent.unit.principal.name,
            "safety_emergency_measures": "停产停用、设置警戒、专人监护",
        }
        # A plan whose deadline a rule refuses (a listing's date, a campaign target) is redrawn shorter.
        for days in (length, length / 2, length / 4, 7.0):
            payload["deadline"] = (today + timedelta(days=max(1, round(days)))).isoformat()
            try:
                case = self.engine.fire(agent.case_id, "adopt_plan", actor=agent.unit.principal, payload=payload)
            except GuardRejected as exc:
                last: HazardflowError = exc
                continue
            except HazardflowError as exc:
                last = exc
                break
            self._accepted(agent, case)
            self._next(agent, case)
            return
        self._refused("adopt_plan", last)
        self._retry(agent, "adopt_plan")

    def _do_request_extension(self, agent: _Agent) -> None:
        case = self._case(agent)
        if case is None or case.state != "rectifying" or case.deadline is None:
            return
        assert agent.done_at is not None
        current_last = _day_of(_ts(case.deadline.due_at) - 1.0)
        wanted = max(_day_of(agent.done_at) + timedelta(days=3), current_last + timedelta(days=1))
        case2 = self._fire(
            agent,
            "request_extension",
            (agent.unit.principal,),
            {
                "reason": "工程量大，需延期完成",
                "requested_deadline": wanted.isoformat(),
                "interim_measures": ["设置警示标志", "专人监护"],
            },
        )
        if case2 is not None:
            self._next(agent, case2)

    def _do_decide_extension(self, agent: _Agent) -> None:
        case = self._case(agent)
        if case is None:
            return
        grant = self._u(agent, "grant") < agent.beh.extension_grant_share
        trigger = "grant_extension" if grant else "deny_extension"
        payload = {"opinion": "同意延期，落实临时管控措施"} if grant else {"reason": "理由不充分，不予延期"}
        case2 = self._fire(agent, trigger, self._deciders(agent, case, trigger), payload)
        if case2 is None:
            self._retry(agent, "decide_extension")
        else:
            self._next(agent, case2)

    def _do_submit(self, agent: _Agent) -> None:
        payload: dict[str, Any] = {"evidence": ["整改后照片", "验收记录"], "rectified_by": agent.unit.fixer.id}
        if agent.grade == "major":
            payload["evaluation_report"] = "治理效果评估：隐患已消除"
        case = self._fire(agent, "submit_review", (agent.unit.safety_manager, agent.unit.principal), payload)
        if case is None:
            self._retry(agent, "submit")
        else:
            self._next(agent, case)

    def _do_review(self, agent: _Agent) -> None:
        case = self._case(agent)
        if case is None:
            return
        beh = agent.beh
        rate = beh.major_review_pass_rate if agent.grade == "major" else beh.review_pass_rate
        passed = self._u(agent, "review", agent.reviews) < rate
        agent.reviews += 1
        trigger = "approve" if passed else "reject"
        payload = {"opinion": "经现场复核，整改到位"} if passed else {"reason": "整改不到位，退回重新整改"}
        if passed and case.fields.get("escalation_pending"):
            self._settle_escalation(str(case.fields["escalation_pending"]))
        case2 = self._fire(agent, trigger, self._deciders(agent, case, trigger), payload)
        if case2 is None:
            agent.reviews -= 1
            self._retry(agent, "review")
            return
        if not passed:
            agent.rework += 1
            agent.done_at = None
        self._next(agent, case2)

    def _do_delist(self, agent: _Agent) -> None:
        case = self._case(agent)
        if case is None:
            return
        listing = case.fields.get("listing") or {}
        where = str(listing.get("jurisdiction") or agent.township)
        actors = [agent.lister] if agent.lister is not None else []
        rule = self.engine.policy_for(case).listing(case)
        actors.extend(self.people.gov(where, r) for r in sorted(rule.authority_roles))
        case2 = self._fire(agent, "delist", actors, {"notice": "隐患已整改销号，予以摘牌"})
        if case2 is None:
            self._retry(agent, "delist")

    # ── result ───────────────────────────────────────────────────────────────────────────────────
    def _result(self) -> SimulationResult:
        levels_by_day = {lv.at: lv for lv in self.kpi.levels}
        outcomes = tuple(t.evaluate(levels_by_day) for t in self.scenario.targets)
        periods = _periods(self.kpi.segments, self.kpi.levels, self.scenario.start, self.until)
        st = self.stats
        st.commands = self.kpi.events
        st.open_cases_at_end = self.kpi.open_cases
        return SimulationResult(
            scenario=self.scenario.name,
            scenario_en=self.scenario.name_en,
            seed=self.seed,
            start=self.scenario.start,
            until=self.until,
            store=self._url,
            policies=tuple(sorted({f"{p.policy_id}@{p.policy_version}" for p in self.engine.policies})),
            periods=periods,
            targets=outcomes,
            stats=st,
            audit_digest=self._digest.hexdigest(),
            levels=tuple(self.kpi.levels),
        )


def _periods(segments: list[Segment], levels: list[Levels], start: date, until: date) -> tuple[Period, ...]:
    """Quarters, years and the whole run, each the sum of its segments, with the levels at its end."""
    at = {lv.at: lv for lv in levels}
    out: list[Period] = []

    def period(kind: str, label: str, first: date, last: date) -> None:
        parts = [s for s in segments if first <= s.end <= last]
        if not parts or last not in at:
            return
        merged = Segment.merge(parts)
        merged.start, merged.end = first, last
        out.append(Period(kind, label, first, last, merged, at[last]))

    qs = quarter_ends(start, until)
    prev = start
    for q in qs:
        first = max(start, date(q.year, q.month - 2, 1))
        period("quarter", f"{q.year}Q{(q.month - 1) // 3 + 1}", first, q)
        prev = q + timedelta(days=1)
    if until not in qs and prev <= until:
        period("partial", f"{prev}..{until}", prev, until)
    for year in range(start.year, until.year + 1):
        first = max(start, date(year, 1, 1))
        last = min(until, date(year, 12, 31))
        period("year", str(year), first, last)
    period("total", "total", start, until)
    return tuple(out)


def simulate(
    scenario: Scenario,
    *,
    seed: int,
    url: str | None = None,
    until: date | None = None,
    progress: Callable[[Progress], None] | None = None,
    audit_log: IO[str] | None = None,
) -> SimulationResult:
    """Run ``scenario`` with ``seed`` (in memory, or on the database ``url``) and return its figures."""
    sim = Simulation(scenario, seed=seed, url=url, until=until, progress=progress, audit_log=audit_log)
    try:
        return sim.run()
    finally:
        if url is not None:
            sim.engine.close()
