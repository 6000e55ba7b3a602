"""What a simulation returns: periods with their figures, the targets judged, run statistics, the digest."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import attrs

from ._kpi import Levels, Segment, mean_of, median_of
from ._targets import TargetOutcome

__all__ = ["Period", "RunStats", "SimulationResult"]


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


@attrs.define
class RunStats:
    """How the run went: sizes, speed and anything the engine refused or the driver gave up on.

    ``cases`` are hazard cases opened (``tipoffs`` and ``escalations`` count their own cases), ``adopted`` the open
    hazard cases found in the store at the start (forecasting; ``adopted_tipoffs`` and ``adopted_escalations`` the
    open tip-offs and escalations carried on with them), ``commands`` every committed audit event (the people's
    commands, timer firings and follow-ups). ``refused`` commands were refused by the rules; ``stuck`` cases were
    given up after repeated refusals; ``tipoffs_skipped`` tip-offs had no tip-off workflow to run in;
    ``graded_general`` major hazards were registered as general because the jurisdiction grades a hazard major only
    on a cited criterion and no list in force covers the industry. ``provisional_deadlines`` fell beyond the working
    calendar's data. ``late_timers`` fired after their due time: a deadline already past when it was armed (a
    rejected fix back under its passed deadline) fires at once and is recorded late. ``timer_failures`` should be
    zero.
    """

    cases: int = 0
    adopted: int = 0
    commands: int = 0
    refused: int = 0
    stuck: int = 0
    tipoffs: int = 0
    escalations: int = 0
    tipoffs_skipped: int = 0
    graded_general: int = 0
    provisional_deadlines: int = 0
    late_timers: int = 0
    timer_failures: int = 0
    open_cases_at_end: int = 0
    adopted_tipoffs: int = 0
    adopted_escalations: int = 0
    wall_seconds: float = 0.0

    @property
    def commands_per_second(self) -> float:
        return self.commands / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self, *, timing: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = attrs.asdict(self)
        if timing:
            out["commands_per_second"] = round(self.commands_per_second, 1)
            out["cases_per_second"] = round(self.cases_per_second, 1)
            out["wall_seconds"] = round(self.wall_seconds, 3)
        else:
            del out["wall_seconds"]
        return out


@attrs.define
class Period:
    """A quarter, a year, a partial stretch or the whole run: what happened in it, and the levels at its end."""

    kind: str
    label: str
    start: date
    end: date
    flows: Segment
    levels: Levels

    # ── derived figures ──────────────────────────────────────────────────────────────────────────
    def opened(self, by: str) -> dict[str, int]:
        """Cases opened ``by`` ``"grade"``, ``"industry"`` or ``"channel"``."""
        idx = {"grade": 0, "industry": 1, "channel": 2}[by]
        out: Counter[str] = Counter()
        for key, n in self.flows.opened.items():
            out[key[idx]] += n
        return dict(sorted(out.items()))

    def total_opened(self) -> int:
        """Cases found (新发现) in the period: registered in it and discovered on or after the run's first day."""
        return sum(self.flows.opened.values())

    def carried_in(self) -> int:
        """Cases registered in the period but found before the run started (the stock entered on day one)."""
        return sum(self.flows.carried_in.values())

    def carried_in_by(self, by: str) -> dict[str, int]:
        """:meth:`carried_in` by ``"grade"``, ``"industry"`` or ``"channel"``."""
        idx = {"grade": 0, "industry": 1, "channel": 2}[by]
        out: Counter[str] = Counter()
        for key, n in self.flows.carried_in.items():
            out[key[idx]] += n
        return dict(sorted(out.items()))

    def closed(self, grade: str | None = None) -> int:
        return sum(n for (g, _i), n in self.flows.closed.items() if grade is None or g == grade)

    def on_time_rate(self, *, grade: str | None = None, industry: str | None = None) -> float | None:
        """Share of the cases closed in the period that met every deadline (None when none closed)."""
        closed = on_time = 0
        for (g, i), n in self.flows.closed.items():
            if (grade is None or g == grade) and (industry is None or i == industry):
                closed += n
                on_time += self.flows.on_time.get((g, i), 0)
        return _rate(on_time, closed)

    def industries_closed(self) -> list[str]:
        return sorted({i for (_g, i) in self.flows.closed})

    def days_to_close(self, grade: str | None = None, *, route: str | None = None) -> dict[str, float | int | None]:
        """Count, mean and median days from registration to closure.

        ``route="spot"`` keeps the cases fixed on the spot (即查即改), ``route="deadline"`` the others (fixed by
        a deadline or under a governance plan); ``None`` takes every closure.
        """
        if route not in (None, "spot", "deadline"):
            raise ValueError(f"route must be None, 'spot' or 'deadline', not {route!r}")
        hist: Counter[float] = Counter()
        spot: Counter[float] = Counter()
        for g, h in self.flows.close_days.items():
            if grade is None or g == grade:
                hist.update(h)
        for g, h in self.flows.spot_close_days.items():
            if grade is None or g == grade:
                spot.update(h)
        if route == "spot":
            hist = spot
        elif route == "deadline":
            hist.subtract(spot)
            hist = +hist
        return {"n": sum(hist.values()), "mean": _round(mean_of(hist)), "median": _round(median_of(hist))}

    def on_time_count(self, *, grade: str | None = None, industry: str | None = None) -> tuple[int, int]:
        """``(closed on time, closed)`` in the period: the counts behind :meth:`on_time_rate`."""
        closed = on_time = 0
        for (g, i), n in self.flows.closed.items():
            if (grade is None or g == grade) and (industry is None or i == industry):
                closed += n
                on_time += self.flows.on_time.get((g, i), 0)
        return on_time, closed

    def sanctions(self) -> dict[str, int]:
        """Ladder events by sanction (函告, 通报, ...)."""
        out: Counter[str] = Counter()
        for (_rung, name), n in self.flows.sanctions.items():
            out[name] += n
        return dict(sorted(out.items()))

    def rung_names(self) -> dict[int, str]:
        """Rung number → the sanction it applied (as seen in the period)."""
        return dict(sorted(self.flows.sanctions))

    def reached(self) -> dict[int, int]:
        return dict(sorted(self.flows.reached.items()))

    def event_count(self, workflow: str, trigger: str) -> int:
        return self.flows.events.get((workflow, trigger), 0)

    def to_json(self) -> dict[str, Any]:
        f = self.flows
        grades = sorted({g for (g, _i) in f.closed} | {g for (g, _i, _c) in f.opened})
        return {
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "opened": {
                "total": self.total_opened(),
                "by_grade": self.opened("grade"),
                "by_industry": self.opened("industry"),
                "by_channel": self.opened("channel"),
                "carried_in": self.carried_in(),
            },
            "closed": {"total": self.closed(), "by_grade": {g: self.closed(g) for g in grades}},
            "voided": dict(sorted(f.voided.items())),
            "on_time_rate": {
                "all": self.on_time_rate(),
                "by_grade": {g: self.on_time_rate(grade=g) for g in grades},
                "by_industry": {i: self.on_time_rate(industry=i) for i in self.industries_closed()},
                "by_grade_industry": {
                    f"{g}/{i}": self.on_time_rate(grade=g, industry=i) for (g, i) in sorted(f.closed)
                },
            },
            "days_to_close": {
                "all": self.days_to_close(),
                **{g: self.days_to_close(g) for g in grades},
                "on_the_spot": self.days_to_close(route="spot"),
                "by_deadline": self.days_to_close(route="deadline"),
            },
            "missed_deadlines": dict(sorted(f.missed.items())),
            "ladder": {
                "sanctions": self.sanctions(),
                "rungs": {str(k): v for k, v in self.rung_names().items()},
                "cases_reaching_rung": {str(k): v for k, v in self.reached().items()},
            },
            "extensions": {
                "requested": self.event_count("hazard", "request_extension"),
                "granted": self.event_count("hazard", "grant_extension"),
                "denied": self.event_count("hazard", "deny_extension"),
            },
            "reviews": {
                "approved": self.event_count("hazard", "approve"),
                "rejected": self.event_count("hazard", "reject"),
            },
            "listed": self.event_count("hazard", "list_for_supervision"),
            "escalations": {
                "proposed": self.event_count("escalation", "propose_escalation"),
                "accepted": self.event_count("escalation", "accept_escalation"),
                "returned": self.event_count("escalation", "return_escalation"),
                "supervision_transferred": self.event_count("hazard", "transfer_supervision"),
            },
            "tipoffs": {
                "received": self.event_count("tipoff", "receive_tipoff"),
                "substantiated": self.event_count("tipoff", "substantiate"),
                "dismissed": self.event_count("tipoff", "dismiss"),
            },
            "look_back": {"reopened": self.event_count("hazard", "reopen")},
            "filings": {
                "filed": self.event_count("report_obligation", "fulfil"),
                "overdue": self.event_count("report_obligation", "mark_overdue"),
            },
            "refused_commands": {f"{t}/{c}": n for (t, c), n in sorted(f.refused.items())},
            "events": sum(f.events.values()),
            "levels": self.levels.to_json(),
        }


@attrs.define
class SimulationResult:
    """The figures of one run. ``audit_digest`` is a SHA-256 over every committed event's hash, in commit
    order: the same scenario and seed give the same digest, whatever the machine or store. ``levels`` are
    the levels at every month end, quarter end, target checkpoint and the last day."""

    scenario: str
    scenario_en: str
    seed: int
    start: date
    until: date
    store: str
    policies: tuple[str, ...]
    periods: tuple[Period, ...]
    targets: tuple[TargetOutcome, ...]
    stats: RunStats
    audit_digest: str
    levels: tuple[Levels, ...] = ()

    def period(self, label: str) -> Period:
        """The period with this label (``"2024Q3"``, ``"2025"``, ``"total"``)."""
        for p in self.periods:
            if p.label == label:
                return p
        raise KeyError(label)

    def of_kind(self, *kinds: str) -> list[Period]:
        return [p for p in self.periods if p.kind in kinds]

    @property
    def total(self) -> Period:
        return self.period("total")

    def to_json(self, *, timing: bool = True) -> dict[str, Any]:
        """Every figure as JSON-ready data (``timing=False`` leaves out wall-clock figures)."""
        return {
            "scenario": self.scenario,
            "scenario_en": self.scenario_en,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "until": self.until.isoformat(),
            "store": self.store,
            "policies": list(self.policies),
            "audit_digest": self.audit_digest,
            "targets": [t.to_json() for t in self.targets],
            "stats": self.stats.to_json(timing=timing),
            "periods": [p.to_json() for p in self.periods],
            "levels": [lv.to_json() for lv in self.levels],
        }
