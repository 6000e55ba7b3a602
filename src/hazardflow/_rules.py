"""The rule value types a jurisdiction policy answers with: permissions, separations of duty, overdue-ladder
rungs, the listing rule, reporting obligations and campaign milestones.

They are plain frozen values, part of the contract between the engine, the lifecycle tables and every
policy (:class:`hazardflow.abc.JurisdictionPolicy` returns them), so they live in the kernel; import them from
:mod:`hazardflow.policies` (or ``hazardflow.policies.base``), where they are re-exported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Literal

import attrs

from ._calendar import DeadlineSpec, Delay
from ._lifecycle import guard
from ._model import GuardResult

if TYPE_CHECKING:
    from ._lifecycle import GuardFn
    from .abc import CommandContext

__all__ = [
    "ListingRule",
    "Milestone",
    "PartyKind",
    "Permission",
    "ReportingObligation",
    "Rung",
    "Scope",
    "Separation",
]

#: Who owes a report or is named by a sanction.
PartyKind = Literal["business_unit", "department", "township"]
#: Where a government actor's jurisdiction must sit (see ``Transition.scope``).
Scope = Literal["case", "owner", "system"]


def _names(fields: Iterable[str]) -> tuple[str, ...]:
    return (fields,) if isinstance(fields, str) else tuple(fields)


def _frozen(roles: Iterable[str]) -> frozenset[str]:
    return frozenset((roles,)) if isinstance(roles, str) else frozenset(roles)


@attrs.frozen
class Permission:
    """Which roles may fire a trigger, and where their jurisdiction must sit (see ``Transition.scope``)."""

    roles: frozenset[str] = attrs.field(converter=_frozen)
    scope: Scope = "case"


@attrs.frozen
class ListingRule:
    """Whether a major hazard must be listed for supervision (挂牌督办), at which level, and by whom."""

    required: bool
    level: str = "county"
    authority_roles: frozenset[str] = attrs.field(
        converter=_frozen, default=frozenset({"safety_committee_office", "supervisor"})
    )
    source: str = ""
    #: Organisations that may delist besides the body that listed (挂牌督办 by X is 摘牌 by X unless the
    #: policy names another): an ``Actor.org`` value, acting within the listing's jurisdiction.
    delisted_by: frozenset[str] = attrs.field(converter=_frozen, default=frozenset())


@attrs.frozen
class Rung:
    """One rung of the overdue ladder: the sanction, its delay after the previous step, the party it names."""

    sanction: str
    after: Delay
    party: PartyKind
    source: str = ""


@attrs.frozen
class ReportingObligation:
    """A periodic report a party owes: ``period`` is week, half_month, month, quarter, half_year or year."""

    id: str
    name_zh: str
    name_en: str
    period: Literal["week", "half_month", "month", "quarter", "half_year", "year"]
    due: DeadlineSpec
    party: PartyKind
    source: str = ""


@attrs.frozen
class Milestone:
    """A one-off dated target of a campaign plan (存量清零 by the end of 2024, a final evaluation report)."""

    id: str
    name_zh: str
    name_en: str
    due: date
    source: str = ""


@attrs.frozen
class Separation:
    """Separation of duty: the actor firing ``trigger`` may not be anyone recorded in the case fields ``not_by``.

    Each field holds an actor id or a tuple of them (``rectified_by``, ``confirmed_by``, ...). The lifecycle
    tables already keep the national separations (the reviewer is neither the rectifier nor the submitter, a
    requester never decides an extension, the on-site checker never signs their own fix); a jurisdiction adds
    its own here, and each becomes a policy guard named ``separation:<trigger>``.
    """

    workflow: str
    trigger: str
    not_by: tuple[str, ...] = attrs.field(converter=_names)
    reason_zh: str
    reason_en: str
    source: str = ""

    @property
    def guard_name(self) -> str:
        return f"separation:{self.trigger}"

    def guard(self) -> GuardFn:
        """The guard function enforcing this separation (a state guard: it reads the case and the actor)."""
        fields, zh_, en_ = self.not_by, self.reason_zh, self.reason_en

        @guard()
        def separation(ctx: CommandContext) -> GuardResult:
            for name in fields:
                recorded = ctx.field(name)
                ids = recorded if isinstance(recorded, tuple) else (recorded,)
                if ctx.actor.id in ids:
                    return GuardResult.deny(zh_, en_)
            return GuardResult.allow()

        return separation
