"""Commands: fired as the first actor the rules accept; retries; who reviews, approves or decides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..._exceptions import HazardflowError, NotAuthorized
from ..._jurisdiction import is_within
from ..._model import Actor
from ._actors import _Agent
from ._bookkeeping import _Bookkeeping
from ._scheduler import _MAX_RETRIES

if TYPE_CHECKING:
    from ..._model import Case


class _Commands(_Bookkeeping):
    """Firing commands for the simulated people of a :class:`Simulation`."""

    # ── commands ─────────────────────────────────────────────────────────────────────────────────
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
