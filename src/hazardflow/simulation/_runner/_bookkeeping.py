"""Book-keeping: the engine's events (audit digest, KPIs, refusals), the run's figures."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..._exceptions import HazardflowError
from .._kpi import Levels, Segment
from .._result import Period, SimulationResult
from .._targets import quarter_ends
from ._actors import _Agent
from ._scheduler import DAY, _Scheduler

if TYPE_CHECKING:
    from ..._model import AuditEvent, Case


class _Bookkeeping(_Scheduler):
    """What a :class:`Simulation` records of the engine's events, and its result."""

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

    def _comply_rung(self, agent: _Agent, case: Case) -> int:
        key = (case.policy_id, case.policy_version)
        n = self._ladder_len.get(key)
        if n is None:
            n = len(self.engine.policy_for(case).ladder("rectify", case))
            self._ladder_len[key] = n
        return min(agent.beh.comply_at_rung, n) if n else 1 << 30

    def _refused(self, trigger: str, exc: HazardflowError) -> None:
        self.stats.refused += 1
        self.kpi.refused(trigger, exc.code)

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
