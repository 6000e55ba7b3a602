"""How people act on a hazard case, state by state, and 回头看 (re-checking closed hazards)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..._exceptions import GuardRejected, HazardflowError
from ._actors import _Agent
from ._commands import _Commands
from ._scheduler import _INF, DAY, _day_of, _ts

if TYPE_CHECKING:
    from ..._model import Case

_OPEN_STATES_BEFORE_PLAN = ("registered", "confirming", "reporting")


class _HazardSteps(_Commands):
    """The hazard workflow's steps of a :class:`Simulation`."""

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
