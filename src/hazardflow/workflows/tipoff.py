"""The ``tipoff`` lifecycle: 举报受理 → 核查 → 查实（转为隐患）| 不属实 | 合并重复举报.

A public report (群众举报) or an internal whistleblower's report (内部吹哨人) counts only once it has been
checked and found true (举报查实) [seed:000 item 24; seed:001 item 9]. Receiving it pins the verification
deadline from the policy at the moment of receipt (24 h for blocked fire exits and disabled fire systems, 3
working days otherwise [S10 verify]), and the same deadline runs while the tip-off waits and while it is being
checked. Substantiating it opens the linked ``hazard`` case in the same transaction, with the source
``public_report_verified`` or ``internal_whistleblower``; the hazard's ``register`` row accepts those sources
only from this trigger. A report of a hazard already on file is merged into that case instead of opening a
second one. The reward flag (举报奖励) is recorded when the policy grants it [seed:000 item 30; S3 §73 verify].

The reporter's name and contact are payload fields marked ``confidential``: the engine stores them apart from
the case (``Write.confidential``), never in the case fields, the audit event, the idempotency record, a log line
or an error message. They are read back only through :meth:`hazardflow.Engine.reporter`, by a role the policy
allows (``policy.reporter_visible_roles()``), and each reading is itself an audited command (``view_reporter``)
that records who looked and why [S3 §73 verify; inference].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._jurisdiction import is_within
from .._lifecycle import Field, LifecycleSpec, State, Transition, Workflow, guard
from .._model import GuardResult
from ._common import TIMER_EFFECTS, timer_rows

if TYPE_CHECKING:
    from ..abc import CommandContext

__all__ = ["CHANNEL_SOURCES", "REPORTER_FIELDS", "TIPOFF", "TIPOFF_SPEC"]

#: People who receive and check reports: the complaint desk and the territorial and sector officers.
HANDLERS = (
    "complaint_officer",
    "supervisor",
    "sector_department",
    "township_officer",
    "emergency_office",
    "safety_committee_office",
    "fire_rescue",
)
WAITING = ("received", "verifying")

#: The hazard source a substantiated report becomes, by the channel it came in on [seed:000 items 24, 30].
CHANNEL_SOURCES = {"public": "public_report_verified", "internal_whistleblower": "internal_whistleblower"}

#: The payload fields that identify the reporter; stored apart from the case, never in events or logs.
REPORTER_FIELDS = ("reporter_name", "reporter_contact")

# ── payload fields ─────────────────────────────────────────────────────────────────────────────────
RECEIVE = (
    Field("channel", "choice", choices="channel"),
    Field("category", "choice", choices="tipoff_category"),
    Field("description", "text"),
    Field("location", "str"),
    Field("business_unit", "str", required=False, max_length=64),
    Field("industry", "choice", required=False, choices="policy:industries"),
    Field("received_at", "datetime", required=False),
    Field("reporter_name", "str", required=False, confidential=True),
    Field("reporter_contact", "str", required=False, confidential=True),
)
START = (Field("verifier", "str", required=False), Field("plan", "text", required=False))
SUBSTANTIATE = (
    Field("findings", "text"),
    Field("grade", "choice", choices="policy:grades"),
    Field("nature", "choice", choices="nature"),
    Field("industry", "choice", required=False, choices="policy:industries"),
    Field("business_unit", "str", required=False, max_length=64),
    Field("location", "str", required=False),
    Field("description", "text", required=False),
    Field("title", "str", required=False),
    Field("criteria", "str_list", required=False),
    Field("department", "choice", required=False, choices="policy:departments"),
    Field("jurisdiction", "str", required=False),
)
MERGE = (Field("hazard_id", "str"), Field("note", "text", required=False))
REASON = (Field("reason", "text"),)
VIEW = (Field("purpose", "text"),)

# fmt: off
TIPOFF_SPEC = LifecycleSpec(
    id="tipoff",
    id_prefix="TO",
    initial="received",
    states=(
        State("received",      deadline="verify"),
        State("verifying",     deadline="verify"),
        State("substantiated", terminal=True),
        State("unfounded",     terminal=True),
        State("merged",        terminal=True),
    ),
    transitions=(
        #          trigger               sources        dest             roles                   scope     guards                                                 payload        effects
        Transition("receive_tipoff",     (),            "received",      HANDLERS,               "case",   ("internal_names_unit",),                              RECEIVE,       ("init_tipoff",), event="tipoff.received"),
        Transition("start_verification", ("received",), "verifying",     HANDLERS,               "case",   (),                                                    START,         ("record_verifier",), event="tipoff.verification_started"),
        Transition("substantiate",       ("verifying",),"substantiated", HANDLERS,               "case",   ("hazard_facts_complete", "hazard_jurisdiction_within"), SUBSTANTIATE, ("open_hazard",), event="tipoff.substantiated"),
        Transition("dismiss",            ("verifying",),"unfounded",     HANDLERS,               "case",   (),                                                    REASON,        ("record_dismissal",), event="tipoff.dismissed", reason="reason"),
        Transition("merge_duplicate",    WAITING,       "merged",        HANDLERS,               "case",   ("duplicate_target_open",),                            MERGE,         ("link_to_hazard",), event="tipoff.merged"),
        Transition("view_reporter",      ("received", "verifying", "substantiated", "unfounded", "merged"), None, ("complaint_officer",), "case", (), VIEW, (), event="tipoff.reporter_viewed", reason="purpose"),
        *timer_rows(WAITING),
    ),
)
# fmt: on


# ── guards ─────────────────────────────────────────────────────────────────────────────────────────
@guard(needs_payload=True)
def internal_names_unit(ctx: CommandContext) -> GuardResult:
    # An internal whistleblower reports on their own unit [seed:000 item 30]: the unit must be named.
    if ctx.payload["channel"] == "internal_whistleblower" and not ctx.payload.get("business_unit"):
        return GuardResult.deny(
            "内部吹哨人举报须写明被举报的生产经营单位",
            "an internal whistleblower's report must name the business unit it concerns",
        )
    return GuardResult.allow()


_FROM_TIPOFF = ("business_unit", "location", "description", "industry")


@guard(needs_payload=True)
def hazard_facts_complete(ctx: CommandContext) -> GuardResult:
    missing = [name for name in _FROM_TIPOFF if not (ctx.payload.get(name) or ctx.case.fields.get(name))]
    if missing:
        return GuardResult.deny(
            "查实后登记隐患还缺少：" + "、".join(missing),
            "the hazard opened from the tip-off needs these facts, neither in the tip-off nor in the "
            f"command: {', '.join(missing)}",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def hazard_jurisdiction_within(ctx: CommandContext) -> GuardResult:
    where = ctx.payload.get("jurisdiction")
    if where is not None and not is_within(where, ctx.case.jurisdiction):
        return GuardResult.deny(
            f"隐患登记地 {where} 不在受理举报的辖区 {ctx.case.jurisdiction} 内",
            f"the hazard's jurisdiction {where!r} is outside the tip-off's jurisdiction {ctx.case.jurisdiction!r}",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def duplicate_target_open(ctx: CommandContext) -> GuardResult:
    hazard_id = ctx.payload["hazard_id"]
    hazard = ctx.load(hazard_id)
    if hazard is None or hazard.workflow != "hazard":
        return GuardResult.deny(f"隐患案件 {hazard_id} 不存在", f"there is no hazard case {hazard_id!r}")
    if hazard.closed_at is not None:
        return GuardResult.deny(
            f"隐患案件 {hazard_id} 已办结，不能合并；请核查后作为新线索处理",
            f"hazard case {hazard_id!r} is finished ({hazard.state}); verify the report as a new one instead",
        )
    if not is_within(hazard.jurisdiction, ctx.actor.jurisdiction):
        return GuardResult.deny(
            f"隐患案件 {hazard_id} 不在本人辖区内",
            f"hazard case {hazard_id!r} ({hazard.jurisdiction}) is outside the actor's jurisdiction "
            f"({ctx.actor.jurisdiction})",
        )
    return GuardResult.allow()


# ── effects ────────────────────────────────────────────────────────────────────────────────────────
def init_tipoff(ctx: CommandContext) -> None:
    u = ctx.updates
    u["received_by"] = ctx.actor.id
    u["anonymous"] = not any(ctx.payload.get(name) for name in REPORTER_FIELDS)
    industry = ctx.payload.get("industry")
    if industry is not None:
        dept = ctx.policy.lead_department(industry)
        if dept is not None:
            u["department"] = dept
    # The verification clock starts at receipt and keeps running while the report is checked [S10 verify].
    spec = ctx.policy.deadline("verify", ctx.case)
    if spec is not None:
        ctx.pin("verify", spec)


def record_verifier(ctx: CommandContext) -> None:
    ctx.updates["verifier"] = ctx.payload.get("verifier") or ctx.actor.id
    ctx.updates["verification_started_by"] = ctx.actor.id


def open_hazard(ctx: CommandContext) -> None:
    p = ctx.payload
    f = ctx.case.fields
    fields: dict[str, object] = {
        "grade": p["grade"],
        "nature": p["nature"],
        "source": CHANNEL_SOURCES[f["channel"]],
        "tipoff_id": ctx.case.id,
    }
    for name in _FROM_TIPOFF:
        fields[name] = p.get(name) or f[name]
    for name in ("title", "criteria", "department"):
        if name in p:
            fields[name] = p[name]
    ctx.spawn("hazard", p.get("jurisdiction") or ctx.case.jurisdiction, fields, link_field="hazard_id")
    ctx.updates["findings"] = p["findings"]
    ctx.updates["substantiated_by"] = ctx.actor.id
    # 举报奖励: the policy says which substantiated reports earn a reward [seed:000 item 30; S3 §73 verify].
    ctx.updates["reward_eligible"] = bool(ctx.policy.reward_tipoff(ctx.case))


def record_dismissal(ctx: CommandContext) -> None:
    ctx.updates["dismissed_by"] = ctx.actor.id


def link_to_hazard(ctx: CommandContext) -> None:
    ctx.updates["hazard_id"] = ctx.payload["hazard_id"]
    ctx.follow(ctx.payload["hazard_id"], "link_tipoff", {"tipoff_id": ctx.case.id})


_GUARDS = {
    f.__name__: f
    for f in (internal_names_unit, hazard_facts_complete, hazard_jurisdiction_within, duplicate_target_open)
}
_EFFECTS = {f.__name__: f for f in (init_tipoff, record_verifier, open_hazard, record_dismissal, link_to_hazard)}
_EFFECTS.update(TIMER_EFFECTS)

TIPOFF = Workflow(TIPOFF_SPEC, guards=_GUARDS, effects=_EFFECTS)
