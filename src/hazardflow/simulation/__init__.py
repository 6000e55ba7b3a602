"""Simulate a jurisdiction's campaign for years in seconds, through the real engine.

A :class:`Scenario` describes the jurisdiction (townships and their business units by industry and size),
how many hazards are found (by industry, grade and discovery channel, in campaign phases), the stock open
at the start, how people behave, the policies in force and the campaign targets. :func:`simulate` plays
it with one seed: units and officials fire commands through :meth:`hazardflow.Engine.open_case` and
:meth:`hazardflow.Engine.fire` on a :class:`hazardflow.SimulatedClock`, and the engine's own timers
(deadlines, reminders, the overdue ladder) fire through :meth:`hazardflow.Engine.run_due`. The result
holds the figures at every quarter and year end and the verdict on each target; :func:`compare` runs one
seed under two policies; :func:`ensemble` and :func:`ensemble_compare` run many seeds (in parallel, or on a
Dask cluster) and give distributions, target probabilities and paired differences::

    from hazardflow.simulation import simulate
    from examples.scenarios.sanjia_2024_2026 import scenario

    result = simulate(scenario, seed=1)
    print(result.period("2024").levels.open_majors, [t.passed for t in result.targets])
"""

from ._compare import Comparison, compare
from ._dist import Dist, Exponential, Fixed, LogNormal, Triangular, Uniform
from ._ensemble import (
    KPIS,
    Ensemble,
    EnsembleComparison,
    EnsembleSpec,
    Execution,
    Kpi,
    TargetProbability,
    ensemble,
    ensemble_compare,
    parse_seeds,
)
from ._kpi import Levels, Segment
from ._load import load_policy, load_scenario
from ._partition import counties, merge_results
from ._result import Period, RunStats, SimulationResult
from ._runner import Progress, Simulation, build_engine, simulate
from ._scenario import CHANNELS, SIZES, Area, Backlog, Behaviour, LookBack, Phase, Rates, Scenario, Township
from ._stats import Difference, Probability, Spread
from ._targets import DynamicZero, InflowCurbed, MajorsGoverned, StockCleared, Target, TargetOutcome

__all__ = [
    "CHANNELS",
    "KPIS",
    "SIZES",
    "Area",
    "Backlog",
    "Behaviour",
    "Comparison",
    "Difference",
    "Dist",
    "DynamicZero",
    "Ensemble",
    "EnsembleComparison",
    "EnsembleSpec",
    "Execution",
    "Exponential",
    "Fixed",
    "InflowCurbed",
    "Kpi",
    "Levels",
    "LogNormal",
    "LookBack",
    "MajorsGoverned",
    "Period",
    "Phase",
    "Probability",
    "Progress",
    "Rates",
    "RunStats",
    "Scenario",
    "Segment",
    "Simulation",
    "SimulationResult",
    "Spread",
    "StockCleared",
    "Target",
    "TargetOutcome",
    "TargetProbability",
    "Township",
    "Triangular",
    "Uniform",
    "build_engine",
    "compare",
    "counties",
    "ensemble",
    "ensemble_compare",
    "load_policy",
    "load_scenario",
    "merge_results",
    "parse_seeds",
    "simulate",
]
