"""Tip-offs verified by the township (a hazard or nothing), and escalation to the upper tier's pool."""

from __future__ import annotations

from typing import Any

from ..._exceptions import HazardflowError
from ..._jurisdiction import level_of
from ._actors import _NATURES, _Agent
from ._commands import _Commands
from ._scheduler import _INF


class _TipoffsEscalations(_Commands):
    """The tip-off and escalation steps of a :class:`Simulation`."""

    # ── tip-off verification ─────────────────────────────────────────────────────────────────────
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
