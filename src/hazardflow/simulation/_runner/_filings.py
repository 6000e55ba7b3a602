"""Reporting obligations (报送任务): opened month by month under the policies in force, then fulfilled."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..._exceptions import HazardflowError
from ..._model import Actor
from ._actors import _Agent, _Unit
from ._commands import _Commands
from ._scheduler import DAY, _day_of, _local_midnight_ts, _ts

if TYPE_CHECKING:
    from ..._model import Case


class _Filings(_Commands):
    """The reporting obligations of a :class:`Simulation`."""

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
