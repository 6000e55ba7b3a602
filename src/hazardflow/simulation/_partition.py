"""A region simulated as its counties in parallel, with figures equal to those of one whole-region run.

**How a partition runs.** A partition is one county: its townships' hazards, and every tier above them. Its
engine holds the whole jurisdiction tree of the scenario (the city, the province, every county) and the
scenario's policies, so a township's escalation is admitted and pooled by its county (inside the
partition) and a county's by the city — whose pool keeper, policy and admission steps are the same objects
in every partition. Nothing crosses a partition boundary at run time: there is nothing to exchange.

**Why it stays exact.** The city's decision on a county's escalation depends only on that case: the
escalation's own draws (keyed by the seed and the case's arrival key, :mod:`._dist`), the city's policy in
force (the admission procedure, ``escalation_steps``) and the case's own state. A pool has no capacity, no
queue and no ordering across cases, and no rule reads another case, so the city decides each county's
escalations exactly as it would in one run holding every county. The partition run keeps every arrival
stream's and backlog item's whole-run number and registration instant (``Simulation(townships=...)``):
each case meets the same hazards, the same people and the same draws as in the whole run.

**Why the figures add up.** Every figure is kept as counts (flows between boundaries, levels at them,
histograms of days to close) cut at the same boundaries in every partition, so the region's figures are
the sums of the partitions' — medians come from the summed histograms, rates from summed numerators and
denominators — and the campaign targets are judged on the summed levels. ``tests/unit/test_ensemble.py``
checks a partitioned run against a whole run, figure for figure. Only the audit digest differs: case ids
are numbered per partition, so the region's digest is the SHA-256 of the partitions' digests.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

import attrs

from .._exceptions import InvalidInput
from ._kpi import Levels, Segment
from ._result import Period, RunStats, SimulationResult
from ._scenario import Scenario

__all__ = ["counties", "merge_results"]


def counties(scenario: Scenario) -> tuple[tuple[str, frozenset[str]], ...]:
    """The scenario's counties (sorted by code), each with the codes of its townships."""
    out: dict[str, set[str]] = {}
    for t in scenario.townships:
        out.setdefault(t.county, set()).add(t.code)
    return tuple((code, frozenset(codes)) for code, codes in sorted(out.items()))


def _add_levels(parts: Sequence[Levels]) -> Levels:
    def add(name: str) -> dict[str, int]:
        total: Counter[str] = Counter()
        for lv in parts:
            total.update(getattr(lv, name))
        return dict(sorted(total.items()))

    months: dict[str, tuple[int, int]] = {}
    for lv in parts:
        for m, (u, p) in lv.open_majors_by_month.items():
            a, b = months.get(m, (0, 0))
            months[m] = (a + u, b + p)
    return Levels(
        parts[0].at,
        add("open"),
        add("open_by_industry"),
        sum(lv.open_majors_stock for lv in parts),
        sum(lv.open_majors_new for lv in parts),
        dict(sorted(months.items())),
        add("overdue"),
        sum(lv.under_sanction for lv in parts),
    )


def merge_results(scenario: Scenario, parts: Sequence[SimulationResult]) -> SimulationResult:
    """The figures of the whole scenario from the results of its partitions (same seed, same span)."""
    if not parts:
        raise InvalidInput("parts", (), "need the result of at least one partition")
    first = parts[0]
    for p in parts[1:]:
        if (p.seed, p.until, [q.label for q in p.periods]) != (
            first.seed,
            first.until,
            [q.label for q in first.periods],
        ):
            raise InvalidInput("parts", p.seed, "partitions must share the seed, the span and the periods")
    levels = tuple(_add_levels([p.levels[i] for p in parts]) for i in range(len(first.levels)))
    by_day = {lv.at: lv for lv in levels}
    periods = []
    for i, period in enumerate(first.periods):
        flows = Segment.merge([p.periods[i].flows for p in parts])
        flows.start, flows.end = period.start, period.end
        periods.append(Period(period.kind, period.label, period.start, period.end, flows, by_day[period.end]))
    stats = RunStats()
    for field in attrs.fields(RunStats):
        setattr(stats, field.name, sum(getattr(p.stats, field.name) for p in parts))
    digest = hashlib.sha256("".join(p.audit_digest for p in parts).encode()).hexdigest()
    return SimulationResult(
        scenario=first.scenario,
        scenario_en=first.scenario_en,
        seed=first.seed,
        start=first.start,
        until=first.until,
        store=first.store,
        policies=first.policies,
        periods=tuple(periods),
        targets=tuple(t.evaluate(by_day) for t in scenario.targets),
        stats=stats,
        audit_digest=digest,
        levels=levels,
    )
