"""The ``escalation`` lifecycle: 全量库 → 蓄水池 (a hard problem moves up a tier).

Seed 002 §(八): the township's emergency office collates the problems it finds and, once the leader in charge
(分管领导) and the head (主要领导) agree, enters them in its full register (全量库); small or low-risk problems
are fixed and closed there (立行立改、即知即改); problems of large risk, or whose fix is beyond the township
(整改存在困难), are pushed to a higher tier's pool (蓄水池) "按纳入程序", by an admission procedure the seed
does not spell out [seed:002 (八)]; this table reads it as the same two approvals [inference]. Who runs the pool,
whether it may refuse and what happens after are not in the seed either [DOMAIN §h Q12]; this table reads them as: the upper tier accepts (supervision of the hazard moves up: from then
on the upper tier lists, assigns, approves and voids it, and the lower tier no longer may) or returns the problem
with its reason [inference].

An escalation case sits in the jurisdiction of the tier that proposes it (the tier that owns supervision of the
hazard then), so that tier's policy supplies the admission procedure; once admitted it is *pooled*: supervision of
the escalation case itself moves to the target tier, whose officers accept or return it. The same table runs again
one tier up: county to city works the same way, under the county's admission procedure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._jurisdiction import NATIONAL, ancestors, is_within
from .._lifecycle import Field, LifecycleSpec, State, Transition, Workflow, guard
from .._model import GuardResult
from ._common import TIMER_EFFECTS, distinct_actor, timer_rows

if TYPE_CHECKING:
    from .._model import Case
    from ..abc import CommandContext, EngineHandle

__all__ = ["ESCALATION", "ESCALATION_SPEC", "full_register", "pool"]

#: Who drafts and proposes: the township emergency office (应急办) or the tier's safety officers.
PROPOSERS = ("emergency_office", "township_officer", "safety_committee_office", "supervisor")
#: Who decides for the pool at the upper tier (a policy may narrow this with ``permissions``) [inference].
POOL_KEEPERS = ("safety_committee_office", "supervisor", "head", "leader_in_charge")
#: Default admission roles; the policy names the step whose turn it is (``escalation_steps``).
LEADERS = ("leader_in_charge", "head")
ADMITTING = ("proposed", "approving")

# ── payload fields ─────────────────────────────────────────────────────────────────────────────────
PROPOSE = (
    Field("hazard_id", "str"),
    Field("reason", "choice", choices="escalation_reason"),
    Field("explanation", "text"),
    Field("target_jurisdiction", "str", required=False),
)
OPINION = (Field("opinion", "text"),)
ACCEPT = (Field("opinion", "text", required=False),)
REASON = (Field("reason", "text"),)

# fmt: off
ESCALATION_SPEC = LifecycleSpec(
    id="escalation",
    id_prefix="ES",
    initial="proposed",
    states=(
        State("proposed",  deadline="admission"),
        State("approving", deadline="admission"),
        State("pooled",    deadline="pool_decision"),
        State("accepted",  terminal=True),
        State("returned",  terminal=True),
        State("withdrawn", terminal=True),
    ),
    transitions=(
        #          trigger                sources    dest          roles          scope    guards                                                                        payload   effects
        Transition("propose_escalation",  (),        "proposed",   PROPOSERS,     "case",  ("procedure_defined", "hazard_escalable", "target_above", "policy_eligible"), PROPOSE,  ("init_escalation",), event="escalation.proposed"),
        Transition("approve_escalation",  ADMITTING, "approving",  LEADERS,       "case",  ("approver_at_proposing_tier", "distinct_approver", "hazard_still_open"),     OPINION,  ("record_admission",), when="steps_remain", event="escalation.approved"),
        Transition("approve_escalation",  ADMITTING, "pooled",     LEADERS,       "case",  ("approver_at_proposing_tier", "distinct_approver", "hazard_still_open"),     OPINION,  ("record_admission", "enter_pool"), when="last_step", event="escalation.pooled"),
        Transition("accept_escalation",   ("pooled",), "accepted", POOL_KEEPERS,  "owner", ("at_pool_tier", "hazard_still_open"),                                        ACCEPT,   ("accept",), event="escalation.accepted"),
        Transition("return_escalation",   ("pooled",), "returned", POOL_KEEPERS,  "owner", ("at_pool_tier",),                                                            REASON,   ("give_back",), event="escalation.returned", reason="reason"),
        Transition("withdraw_escalation", ADMITTING, "withdrawn",  PROPOSERS + LEADERS, "case", ("at_proposing_tier",),                                                                    REASON,   ("withdraw",), event="escalation.withdrawn", reason="reason"),
        *timer_rows(("proposed", "approving", "pooled")),
    ),
)
# fmt: on


def _steps(ctx: CommandContext) -> tuple[str, ...]:
    return tuple(ctx.policy.escalation_steps(ctx.case))


def _approvals(ctx: CommandContext) -> tuple[object, ...]:
    return tuple(ctx.case.fields.get("approvals", ()))


def default_target(engine: EngineHandle, tier: str) -> str:
    """The tier whose pool a problem of ``tier`` goes to: the nearest named ancestor, else the parent code.

    Where the engine's jurisdiction tree names the divisions, the nearest one above is used, so a county of a
    municipality (重庆市石柱县 ``500240``) escalates to the municipality (``500000``) rather than to the
    unnamed grouping code ``500200``.
    """
    above = ancestors(tier)[1:]
    for code in above:
        if code != NATIONAL and code in engine.jurisdictions:
            return code
    return above[0] if above else tier


# ── guards ─────────────────────────────────────────────────────────────────────────────────────────
@guard()
def procedure_defined(ctx: CommandContext) -> GuardResult:
    if not _steps(ctx):
        return GuardResult.deny(
            "本辖区政策未规定纳入蓄水池的审批程序", "the jurisdiction's policy names no admission procedure"
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def hazard_escalable(ctx: CommandContext) -> GuardResult:
    hazard_id = ctx.payload["hazard_id"]
    hazard = ctx.load(hazard_id)
    if hazard is None or hazard.workflow != "hazard":
        return GuardResult.deny(f"隐患案件 {hazard_id} 不存在", f"there is no hazard case {hazard_id!r}")
    if hazard.closed_at is not None:
        return GuardResult.deny(
            f"隐患案件 {hazard_id} 已办结，无需提级", f"hazard case {hazard_id!r} is finished ({hazard.state})"
        )
    if hazard.owning_jurisdiction != ctx.case.jurisdiction:
        return GuardResult.deny(
            f"隐患案件 {hazard_id} 由 {hazard.owning_jurisdiction} 监管，只能由该层级提请纳入上级蓄水池",
            f"hazard case {hazard_id!r} is supervised by {hazard.owning_jurisdiction!r}; only that tier may "
            f"propose it for a higher pool (the escalation was opened in {ctx.case.jurisdiction!r})",
        )
    pending = hazard.fields.get("escalation_pending")
    if pending is not None:
        return GuardResult.deny(
            f"隐患案件 {hazard_id} 已有提级申请 {pending} 在办",
            f"hazard case {hazard_id!r} already has escalation {pending!r} under way",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def target_above(ctx: CommandContext) -> GuardResult:
    target = ctx.payload.get("target_jurisdiction")
    if target is None:
        return GuardResult.allow()
    ctx.engine.jurisdictions.check(target, field="target_jurisdiction")
    if target == ctx.case.jurisdiction or not is_within(ctx.case.jurisdiction, target):
        return GuardResult.deny(
            f"蓄水池所在层级 {target} 须是 {ctx.case.jurisdiction} 的上级",
            f"the pool's tier {target!r} must be above the proposing tier {ctx.case.jurisdiction!r}",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def policy_eligible(ctx: CommandContext) -> GuardResult:
    hazard = ctx.load(ctx.payload["hazard_id"])
    assert hazard is not None  # hazard_escalable ran first
    return ctx.policy.escalation_eligible(hazard)


def _same_tier(a: str, b: str) -> bool:
    return is_within(a, b) and is_within(b, a)


@guard()
def approver_at_proposing_tier(ctx: CommandContext) -> GuardResult:
    # The admission procedure is the proposing tier's own (本单位纳入程序) [seed:002 (八)].
    here = ctx.case.jurisdiction
    if not _same_tier(here, ctx.actor.jurisdiction):
        return GuardResult.deny(
            f"纳入审批须由提请层级（{here}）的领导签署",
            f"the admission must be signed by the leaders of the proposing tier ({here}), not of "
            f"{ctx.actor.jurisdiction}",
        )
    return GuardResult.allow()


@guard()
def at_proposing_tier(ctx: CommandContext) -> GuardResult:
    # The proposal is the proposing tier's to withdraw; a tier above decides only once it is pooled [inference].
    here = ctx.case.jurisdiction
    if not _same_tier(here, ctx.actor.jurisdiction):
        return GuardResult.deny(
            f"提级申请只能由提请层级（{here}）撤回",
            f"only the proposing tier ({here}) may withdraw its proposal, not {ctx.actor.jurisdiction}",
        )
    return GuardResult.allow()


_distinct = distinct_actor(
    "approved_by", "每一步纳入审批须由不同人员签署", "each step of the admission must be signed by a different person"
)


@guard()
def distinct_approver(ctx: CommandContext) -> GuardResult:
    if ctx.actor.id == ctx.case.fields.get("proposed_by"):
        return GuardResult.deny("提请人不得审批本人的提请", "the person who proposed the escalation may not approve it")
    result: GuardResult = _distinct(ctx)  # type: ignore[operator]
    return result


@guard()
def hazard_still_open(ctx: CommandContext) -> GuardResult:
    hazard_id = ctx.case.fields["hazard_id"]
    hazard = ctx.load(hazard_id)
    if hazard is None or hazard.closed_at is not None:
        state = hazard.state if hazard is not None else "missing"
        return GuardResult.deny(
            f"隐患案件 {hazard_id} 已办结，请退回或撤回提级",
            f"hazard case {hazard_id!r} is finished ({state}); return or withdraw the escalation instead",
        )
    return GuardResult.allow()


@guard()
def at_pool_tier(ctx: CommandContext) -> GuardResult:
    tier = ctx.case.owning_jurisdiction
    if not _same_tier(tier, ctx.actor.jurisdiction):
        return GuardResult.deny(
            f"蓄水池由 {tier} 管理，须由该层级决定接收或退回",
            f"the pool belongs to {tier!r}; only that tier accepts or returns (actor is at {ctx.actor.jurisdiction!r})",
        )
    return GuardResult.allow()


# ── routing ────────────────────────────────────────────────────────────────────────────────────────
def steps_remain(ctx: CommandContext) -> bool:
    return len(_approvals(ctx)) + 1 < len(_steps(ctx))


def last_step(ctx: CommandContext) -> bool:
    return len(_approvals(ctx)) + 1 >= len(_steps(ctx))


# ── effects ────────────────────────────────────────────────────────────────────────────────────────
def init_escalation(ctx: CommandContext) -> None:
    p = ctx.payload
    hazard = ctx.load(p["hazard_id"])
    assert hazard is not None
    u = ctx.updates
    u["hazard_id"] = p["hazard_id"]
    u["reason"] = p["reason"]
    u["explanation"] = p["explanation"]
    u["target_jurisdiction"] = p.get("target_jurisdiction") or default_target(ctx.engine, ctx.case.jurisdiction)
    u["steps"] = _steps(ctx)
    u["proposed_by"] = ctx.actor.id
    u["approvals"] = ()
    u["approved_by"] = ()
    u["hazard_grade"] = hazard.grade
    u["industry"] = hazard.industry
    # The admission clock starts at the proposal and runs through every approval step [inference].
    spec = ctx.policy.deadline("admission", ctx.case)
    if spec is not None:
        ctx.pin("admission", spec)
    ctx.follow(p["hazard_id"], "record_escalation", {"escalation_id": ctx.case.id, "status": "proposed"})


def record_admission(ctx: CommandContext) -> None:
    approvals = _approvals(ctx)
    step = _steps(ctx)[len(approvals)]
    ctx.updates["approvals"] = (
        *approvals,
        {"step": step, "by": ctx.actor.id, "name": ctx.actor.name, "at": ctx.now.isoformat()},
    )
    ctx.updates["approved_by"] = (*ctx.case.fields.get("approved_by", ()), ctx.actor.id)


def enter_pool(ctx: CommandContext) -> None:
    # 推送"蓄水池": the escalation case is now the upper tier's to decide [seed:002 (八)].
    ctx.owning_jurisdiction = ctx.case.fields["target_jurisdiction"]
    ctx.updates["pooled_at"] = ctx.now.isoformat()


def accept(ctx: CommandContext) -> None:
    ctx.updates["decided_by"] = ctx.actor.id
    ctx.follow(
        ctx.case.fields["hazard_id"],
        "transfer_supervision",
        {"owning_jurisdiction": ctx.case.owning_jurisdiction, "escalation_id": ctx.case.id},
    )


def give_back(ctx: CommandContext) -> None:
    ctx.updates["decided_by"] = ctx.actor.id
    ctx.follow(ctx.case.fields["hazard_id"], "record_escalation", {"escalation_id": ctx.case.id, "status": "returned"})


def withdraw(ctx: CommandContext) -> None:
    ctx.follow(ctx.case.fields["hazard_id"], "record_escalation", {"escalation_id": ctx.case.id, "status": "withdrawn"})


_GUARDS = {
    f.__name__: f
    for f in (
        procedure_defined,
        hazard_escalable,
        target_above,
        policy_eligible,
        approver_at_proposing_tier,
        at_proposing_tier,
        distinct_approver,
        hazard_still_open,
        at_pool_tier,
    )
}
_EFFECTS = {f.__name__: f for f in (init_escalation, record_admission, enter_pool, accept, give_back, withdraw)}
_EFFECTS.update(TIMER_EFFECTS)

ESCALATION = Workflow(
    ESCALATION_SPEC,
    guards=_GUARDS,
    effects=_EFFECTS,
    routes={"steps_remain": steps_remain, "last_step": last_step},
)


# ── reading the registers ──────────────────────────────────────────────────────────────────────────
def full_register(engine: EngineHandle, tier: str, *, open_only: bool = True) -> Iterator[Case]:
    """The hazards a tier supervises itself (its 全量库): cases of its subtree whose owning tier is ``tier``.

    A hazard escalated and accepted higher up leaves the lower tier's full register and enters the upper
    tier's. ``open_only=False`` includes finished cases.
    """
    for case in engine.cases(workflow="hazard", jurisdiction=tier, open_only=open_only):
        if case.owning_jurisdiction == tier:
            yield case


def pool(engine: EngineHandle, tier: str) -> Iterator[Case]:
    """The escalations waiting in ``tier``'s pool (蓄水池) for it to accept or return."""
    for case in engine.cases(workflow="escalation", jurisdiction=tier, state="pooled"):
        if case.owning_jurisdiction == tier:
            yield case
