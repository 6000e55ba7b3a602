""":class:`Simulation` (the parts composed, its inputs checked), :func:`build_engine` and :func:`simulate`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from typing import IO, Any

from ..._calendar import SHANGHAI
from ..._clock import SimulatedClock
from ..._engine import Engine, SequentialIds
from ..._exceptions import InvalidInput
from ..._jurisdiction import JurisdictionTree
from ..._model import Actor
from .._kpi import KpiCollector
from .._result import RunStats, SimulationResult
from .._scenario import Scenario
from ._actors import _Agent, _People, _Stream
from ._arrivals import _Arrivals
from ._filings import _Filings
from ._hazards import _HazardSteps
from ._scheduler import _INF, Progress, _ts
from ._tipoffs_escalations import _TipoffsEscalations

__all__ = ["Simulation", "build_engine", "simulate"]


def _weekday_calendar_policy(policy: Any) -> Any:
    """``policy`` (class or instance) as a class that counts Monday-Friday beyond the calendar's data."""
    cls = policy if isinstance(policy, type) else type(policy)
    if getattr(cls, "calendar_missing_year", "error") != "error":
        return policy
    return type(cls.__name__, (cls,), {"calendar_missing_year": "weekdays", "__module__": cls.__module__})


def _policies_for(scenario: Scenario) -> list[Any]:
    from ...policies.base import NationalBaseline

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
    from ...persistence.memory import MemoryStore

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


class Simulation(_HazardSteps, _TipoffsEscalations, _Filings, _Arrivals):
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
