"""Arrivals: new hazards and tip-offs from the arrival streams, the backlog, and adopted open cases.

Each stream is an inhomogeneous Poisson process (thinned against the campaign phases' multipliers) with a
random generator of its own, so a partition of the scenario meets the same arrivals as the whole run.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..._calendar import SHANGHAI
from ..._exceptions import GuardRejected, HazardflowError
from ..._glossary import zh
from ..._jurisdiction import level_of
from ..._model import Actor
from .._dist import uniform
from .._scenario import Behaviour, Township
from ._actors import _NATURES, _Agent, _size_counts, _Stream, _Unit
from ._commands import _Commands
from ._scheduler import _LOCAL, DAY, _day_of, _local_midnight_ts, _ts

if TYPE_CHECKING:
    from ..._model import Case


class _Arrivals(_Commands):
    """Where the cases of a :class:`Simulation` come from."""

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
