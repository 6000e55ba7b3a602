"""The ``hazard`` lifecycle: 发现 → 报告 → 挂牌督办 → 整改 → 审核销号.

Read the table top to bottom. General hazards are fixed on the spot (即查即改) or by a deadline (限期整改).
Major hazards go through the unit's (two-level) confirmation, the dual report to every recipient the policy
names (双报告), listing for supervision where the policy requires it (挂牌督办), the governance plan with its
six elements (治理方案 / 五落实), rectification, review (审核销号) and, for a listed hazard, delisting by the
listing authority (摘牌). Extensions need interim control measures; a look-back review (回头看) may reopen a
closed case. Stop-production (停产), the listing and the sector department sit beside the state as fields.
Sources are tagged S1 = 16号令, S3 = 安全生产法, seed:NNN = a seed plan; the docs page
``explanation/sources.md`` resolves every tag.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from .._calendar import DeadlineSpec, local_date
from .._jurisdiction import is_within, level_of
from .._lifecycle import Field, LifecycleSpec, State, Transition, Workflow, guard
from .._model import GuardResult
from ._common import TIMER_EFFECTS, distinct_actor, timer_rows

if TYPE_CHECKING:
    from ..abc import CommandContext

__all__ = ["HAZARD", "HAZARD_SPEC"]

UNIT = ("inspector", "safety_manager", "principal_officer")
GOV = ("supervisor", "sector_department", "township_officer", "safety_committee_office", "fire_rescue")
OPEN = (
    "registered",
    "confirming",
    "reporting",
    "rectifying",
    "extension_requested",
    "under_review",
    "awaiting_delisting",
)
ACTIVE = ("registered", "confirming", "reporting", "rectifying", "extension_requested", "under_review")
TIMED = ("confirming", "reporting", "rectifying", "extension_requested", "under_review", "awaiting_delisting")

# ── payload fields ─────────────────────────────────────────────────────────────────────────────────
REGISTER = (
    Field("grade", "choice", choices="policy:grades"),
    Field("source", "choice", choices="source"),
    Field("nature", "choice", choices="nature"),
    Field("industry", "choice", choices="policy:industries"),
    Field("business_unit", "str", max_length=64),
    Field("location", "str"),
    Field("description", "text"),
    Field("title", "str", required=False),
    Field("criteria", "str_list", required=False),
    Field("department", "choice", required=False, choices="policy:departments"),
    Field("discovered_at", "datetime", required=False),
    Field("tipoff_id", "str", required=False),
)
SPOT_FIX = (Field("fixed_by", "str"), Field("measures", "text"), Field("evidence", "str_list", required=False))
SET_DEADLINE = (Field("deadline", "date"), Field("measures", "text"), Field("responsible", "str"))
CONFIRM = (Field("opinion", "text"),)
# 16号令 §14: the report states the hazard's status and cause, harm and difficulty, and the plan [S1 §14].
REPORT = (
    Field("recipient", "choice", choices="policy:recipients"),
    Field("status_and_cause", "text"),
    Field("harm_and_difficulty", "text"),
    Field("plan_summary", "text"),
    Field("document_no", "str", required=False),
)
LISTING = (
    Field("document_no", "str"),
    Field("deadline", "date", required=False),
    Field("notice", "text", required=False),
)
# 治理方案 six elements [S1 §15] covering 五落实 (措施、责任、资金、时限、预案) [seed:002].
PLAN = (
    Field("goal_tasks", "text"),
    Field("methods_measures", "text"),
    Field("funds_materials", "text"),
    Field("funds_amount", "number"),
    Field("organization_people", "text"),
    Field("responsible_person", "str"),
    Field("deadline", "date"),
    Field("safety_emergency_measures", "text"),
)
SUBMIT = (
    Field("evidence", "str_list"),
    Field("rectified_by", "str"),
    Field("evaluation_report", "text", required=False),
    Field("summary", "text", required=False),
)
OPINION = (Field("opinion", "text"),)
REASON = (Field("reason", "text"),)
EXTENSION = (Field("reason", "text"), Field("requested_deadline", "date"), Field("interim_measures", "str_list"))
GRANT = (Field("opinion", "text"), Field("new_deadline", "date", required=False))
REOPEN = (Field("finding", "choice", choices="finding"), Field("reason", "text"), Field("deadline", "date"))
STOP = (Field("level", "choice", choices=("partial", "full")), Field("reason", "text"))
ASSIGN = (Field("department", "choice", choices="policy:departments"), Field("reason", "text", required=False))
TRANSFER = (Field("owning_jurisdiction", "str"), Field("escalation_id", "str"))
TRACK = (Field("escalation_id", "str"), Field("status", "choice", choices=("proposed", "returned", "withdrawn")))
LINK = (Field("tipoff_id", "str"),)
ALL_STATES = (*OPEN, "closed", "voided")

# fmt: off
HAZARD_SPEC = LifecycleSpec(
    id="hazard",
    id_prefix="HZ",
    initial="registered",
    states=(
        State("registered"),
        State("confirming",          deadline="confirm"),
        State("reporting",           deadline="report"),
        State("rectifying",          deadline="rectify"),
        State("extension_requested", deadline="extension_decision"),
        State("under_review",        deadline="review"),
        State("awaiting_delisting",  deadline="delist"),
        State("closed",              terminal=True),
        State("voided",              terminal=True),
    ),
    transitions=(
        #          trigger                 sources                                 dest                  roles               scope     guards                                                          payload        effects
        Transition("register",             (),                                     "registered",         UNIT + GOV,         "case",   ("source_needs_verification", "criteria_cited"),                REGISTER,      ("init_hazard",), event="case.registered"),
        # Fixing on the spot closes the case, so it is owner-scoped like approve: once an escalation moved
        # supervision up, only the upper tier closes it (invariant 4) [seed:002 (八); inference].
        Transition("fix_on_spot",          ("registered",),                        "closed",             UNIT + GOV,         "owner",  ("grade_is_general", "spot_fix_allowed", "checker_not_fixer"),  SPOT_FIX,      ("record_spot_fix",), event="case.fixed_on_spot"),
        Transition("set_deadline",         ("registered",),                        "rectifying",         UNIT[1:] + GOV,     "case",   ("grade_is_general", "deadline_not_past"),                      SET_DEADLINE,  ("pin_rectify",), event="case.deadline_set"),
        Transition("confirm_major",        ("registered", "confirming"),           "confirming",         UNIT[1:] + GOV,     "case",   ("grade_is_major", "confirmation_pending", "distinct_confirmer"), CONFIRM,     ("record_confirmation",), event="case.confirmed"),
        Transition("report",               ("confirming", "reporting"),            "reporting",          UNIT[1:],           "case",   ("confirmations_complete", "report_outstanding", "recipient_pending"), REPORT,        ("record_report",), event="case.reported"),
        Transition("list_for_supervision", ("reporting", "rectifying", "extension_requested", "under_review"), None, ("safety_committee_office", "supervisor"), "owner", ("grade_is_major", "not_listed", "listing_level"), LISTING, ("record_listing",), event="case.listed"),
        Transition("adopt_plan",           ("reporting",),                         "rectifying",         ("principal_officer",), "case", ("reported_to_all", "listed_if_required", "plan_valid"),        PLAN,          ("record_plan",), event="case.plan_adopted"),
        Transition("submit_review",        ("rectifying",),                        "under_review",       UNIT[1:],           "case",   ("evaluation_for_major",),                                      SUBMIT,        ("record_submission",), event="case.submitted"),
        Transition("approve",              ("under_review",),                      "closed",             UNIT[1:2] + GOV,    "owner",  ("reviewer_independent",),                                      OPINION,       ("record_approval",), when="not_listed", event="case.closed"),
        Transition("approve",              ("under_review",),                      "awaiting_delisting", UNIT[1:2] + GOV,    "owner",  ("reviewer_independent",),                                      OPINION,       ("record_approval",), when="listed", event="case.approved"),
        Transition("reject",               ("under_review",),                      "rectifying",         UNIT[1:2] + GOV,    "owner",  ("reviewer_independent",),                                      REASON,        ("record_rejection",), event="case.rejected", reason="reason"),
        Transition("delist",               ("awaiting_delisting",),                "closed",             ("safety_committee_office", "supervisor"), "owner", ("delister_is_listing_authority",), (Field("notice", "text", required=False),), ("record_delisting",), event="case.delisted"),
        Transition("request_extension",    ("rectifying",),                        "extension_requested", ("principal_officer",), "case", ("extension_later",),                                          EXTENSION,     ("record_extension_request",), event="case.extension_requested", reason="reason"),
        Transition("grant_extension",      ("extension_requested",),               "rectifying",         UNIT[1:2] + GOV,    "owner",  ("decider_not_requester", "new_deadline_later"),                 GRANT,         ("grant_extension",), event="case.extension_granted"),
        Transition("deny_extension",       ("extension_requested",),               "rectifying",         UNIT[1:2] + GOV,    "owner",  ("decider_not_requester",),                                     REASON,        ("deny_extension",), event="case.extension_denied", reason="reason"),
        Transition("void",                 ACTIVE,                                 "voided",             UNIT[1:2] + GOV,    "owner",  ("unit_voids_only_registered",),                                REASON,        ("record_void",), event="case.voided", reason="reason"),
        Transition("reopen",               ("closed",),                            "rectifying",         GOV,                "owner",  ("deadline_not_past",),                                         REOPEN,        ("record_reopen",), event="case.reopened", reason="reason"),
        Transition("order_stop",           OPEN,                                   None,                 ("principal_officer", "supervisor", "sector_department", "township_officer", "fire_rescue"), "case", ("stop_level_changes",), STOP, ("set_stop",), event="case.stop_ordered", reason="reason"),
        Transition("lift_stop",            OPEN,                                   None,                 ("supervisor", "sector_department", "township_officer", "fire_rescue"), "case", ("is_stopped", "stop_may_lift"), REASON, ("lift_stop",), event="case.stop_lifted", reason="reason"),
        Transition("assign_department",    OPEN,                                   None,                 ("township_officer", "emergency_office", "safety_committee_office"), "owner", ("department_changes",), ASSIGN, ("set_department",), event="case.department_assigned", reason="reason"),
        Transition("transfer_supervision", OPEN,                                   None,                 ("system",),        "system", ("transfer_upward",),                                           TRANSFER,      ("transfer_supervision",), event="case.supervision_transferred"),
        Transition("record_escalation",    ALL_STATES,                             None,                 ("system",),        "system", (),                                                             TRACK,         ("record_escalation",), event="case.escalation_recorded"),
        Transition("link_tipoff",          OPEN,                                   None,                 ("system",),        "system", (),                                                             LINK,          ("link_tipoff",), event="case.tipoff_linked"),
        *timer_rows(TIMED),
    ),
)
# fmt: on


# ── guards ─────────────────────────────────────────────────────────────────────────────────────────
def _is_major(ctx: CommandContext) -> bool:
    grade = ctx.case.fields.get("grade")
    return grade is not None and ctx.policy.national_grade(grade) == "major"


def _last_day(due_at: datetime) -> date:
    return local_date(due_at - timedelta(microseconds=1))


@guard()
def grade_is_general(ctx: CommandContext) -> GuardResult:
    if _is_major(ctx):
        return GuardResult.deny(
            "重大事故隐患须经确认、报告并按治理方案整改",
            "a major hazard must be confirmed, reported and governed by a plan",
        )
    return GuardResult.allow()


@guard()
def grade_is_major(ctx: CommandContext) -> GuardResult:
    if not _is_major(ctx):
        return GuardResult.deny("仅重大事故隐患适用此程序", "only a major hazard goes through this step")
    return GuardResult.allow()


@guard()
def spot_fix_allowed(ctx: CommandContext) -> GuardResult:
    return ctx.policy.on_the_spot_fix(ctx.case)


@guard(needs_payload=True)
def checker_not_fixer(ctx: CommandContext) -> GuardResult:
    # 谁检查、谁签名、谁负责: the inspector on site signs the check, never the one who fixed it [seed:002 (五)3].
    if ctx.payload["fixed_by"] == ctx.actor.id:
        return GuardResult.deny(
            "即查即改须由现场检查人签字确认，不得由整改人本人确认",
            "the on-site check must be signed by the inspector, not by the person who fixed it",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def deadline_not_past(ctx: CommandContext) -> GuardResult:
    day = date.fromisoformat(ctx.payload["deadline"])
    if day < local_date(ctx.now):
        return GuardResult.deny(f"整改期限 {day} 早于今天", f"the deadline {day} is already past")
    return GuardResult.allow()


@guard()
def confirmation_pending(ctx: CommandContext) -> GuardResult:
    if len(ctx.case.fields.get("confirmed_by", ())) >= ctx.policy.confirmation_levels(ctx.case):
        return GuardResult.deny("确认已完成", "the confirmation is already complete")
    return GuardResult.allow()


distinct_confirmer = distinct_actor(
    "confirmed_by",
    "两级确认须由不同人员签署",
    "each level of the two-level confirmation must be signed by a different person",
)


@guard()
def confirmations_complete(ctx: CommandContext) -> GuardResult:
    need = ctx.policy.confirmation_levels(ctx.case)
    have = len(ctx.case.fields.get("confirmed_by", ()))
    if have < need:
        return GuardResult.deny(
            f"重大事故隐患尚未完成{need}级确认（已确认{have}级）",
            f"the major hazard has {have} of the {need} confirmations required [seed:000 item 5]",
        )
    return GuardResult.allow()


@guard()
def report_outstanding(ctx: CommandContext) -> GuardResult:
    # Without this state guard, allowed() would offer 'report' once every recipient has it, and no payload passes.
    reported = ctx.case.fields.get("reported_to", ())
    if all(r in reported for r in ctx.policy.dual_report_recipients(ctx.case)):
        return GuardResult.deny("已向全部报告对象报告", "every recipient the policy names has been reported to")
    return GuardResult.allow()


@guard(needs_payload=True)
def recipient_pending(ctx: CommandContext) -> GuardResult:
    if ctx.payload["recipient"] in ctx.case.fields.get("reported_to", ()):
        return GuardResult.deny("已向该对象报告", f"already reported to {ctx.payload['recipient']!r}")
    return GuardResult.allow()


@guard()
def reported_to_all(ctx: CommandContext) -> GuardResult:
    # 双报告: every recipient the policy names, before governance starts [S3 §41; S1 §14].
    missing = [
        r for r in ctx.policy.dual_report_recipients(ctx.case) if r not in ctx.case.fields.get("reported_to", ())
    ]
    if missing:
        from .._glossary import zh

        return GuardResult.deny(
            "尚未向" + "、".join(zh("recipient", r) for r in missing) + "报告",
            f"not yet reported to: {', '.join(missing)}",
        )
    return GuardResult.allow()


@guard()
def listed_if_required(ctx: CommandContext) -> GuardResult:
    rule = ctx.policy.listing(ctx.case)
    if rule.required and not ctx.case.listed:
        return GuardResult.deny(
            "本辖区重大事故隐患须先挂牌督办", "this jurisdiction requires listing before governance starts"
        )
    return GuardResult.allow()


@guard()
def not_listed(ctx: CommandContext) -> GuardResult:
    if ctx.case.listed:
        return GuardResult.deny("该隐患已挂牌督办", "the hazard is already listed")
    return GuardResult.allow()


_LEVEL_RANK = {"village": 0, "township": 1, "county": 2, "city": 3, "province": 4, "national": 5}


@guard()
def listing_level(ctx: CommandContext) -> GuardResult:
    rule = ctx.policy.listing(ctx.case)
    have = level_of(ctx.actor.jurisdiction)
    if _LEVEL_RANK[have] < _LEVEL_RANK[rule.level]:
        from .._glossary import zh

        return GuardResult.deny(
            f"挂牌督办须由{zh('level', rule.level)}以上作出（当前为{zh('level', have)}）",
            f"listing must be decided at {rule.level} level or above (actor is at {have} level)",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def plan_valid(ctx: CommandContext) -> GuardResult:
    p = ctx.payload
    if p["funds_amount"] <= 0:
        return GuardResult.deny("治理资金须落实（金额大于零）", "funds must be committed (an amount above zero)")
    day = date.fromisoformat(p["deadline"])
    if day < local_date(ctx.now):
        return GuardResult.deny(f"治理时限 {day} 早于今天", f"the plan's deadline {day} is already past")
    listing = ctx.case.fields.get("listing")
    if listing and listing.get("deadline") and day > date.fromisoformat(listing["deadline"]):
        return GuardResult.deny(
            f"治理时限晚于挂牌督办要求的完成期限 {listing['deadline']}",
            f"the plan's deadline is later than the listing's completion date {listing['deadline']}",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def evaluation_for_major(ctx: CommandContext) -> GuardResult:
    # A major hazard's closure needs an evaluation of the fix [S1 §18 verify].
    if _is_major(ctx) and not ctx.payload.get("evaluation_report"):
        return GuardResult.deny(
            "重大事故隐患申请销号须附治理效果评估报告",
            "a major hazard's submission needs the evaluation report of the fix [S1 §18 verify]",
        )
    return GuardResult.allow()


@guard()
def reviewer_independent(ctx: CommandContext) -> GuardResult:
    f = ctx.case.fields
    if ctx.actor.id in (f.get("rectified_by"), f.get("submitted_by")):
        return GuardResult.deny("审核人不得是整改人或申请人", "the reviewer may not be the rectifier or the submitter")
    return GuardResult.allow()


@guard()
def delister_is_listing_authority(ctx: CommandContext) -> GuardResult:
    """摘牌 belongs to the body that listed (挂牌督办 by X is 摘牌 by X): the same organisation in the same
    jurisdiction, whatever the tier of other bodies; or an organisation the policy's listing rule names in
    ``delisted_by``, within whose jurisdiction the listing lies [S18; S19]."""
    listing = ctx.case.fields.get("listing") or {}
    where = listing.get("jurisdiction")
    org = listing.get("org")
    actor = ctx.actor
    if where is not None and actor.org == org and actor.jurisdiction == where:
        return GuardResult.allow()
    named = ctx.policy.listing(ctx.case).delisted_by
    if where is not None and actor.org in named and is_within(where, actor.jurisdiction):
        return GuardResult.allow()
    return GuardResult.deny(
        f"摘牌须由挂牌督办机关作出（挂牌机关：{org}）",
        f"delisting must be done by the body that listed the case ({org!r} of {where})",
    )


@guard(needs_payload=True)
def extension_later(ctx: CommandContext) -> GuardResult:
    current = ctx.case.pins.get("rectify")
    asked = date.fromisoformat(ctx.payload["requested_deadline"])
    if current is not None and asked <= _last_day(current.due_at):
        return GuardResult.deny(
            "申请的期限须晚于现有整改期限", "the requested deadline must be later than the current one"
        )
    return GuardResult.allow()


decider_not_requester = distinct_actor(
    "extension_requested_by", "延期申请人不得自行批准", "the person who asked for the extension may not decide it"
)


@guard(needs_payload=True)
def new_deadline_later(ctx: CommandContext) -> GuardResult:
    new = ctx.payload.get("new_deadline")
    if new is None:
        return GuardResult.allow()
    day = date.fromisoformat(new)
    if day < local_date(ctx.now):
        return GuardResult.deny(f"新期限 {day} 早于今天", f"the new deadline {day} is already past")
    return GuardResult.allow()


@guard()
def unit_voids_only_registered(ctx: CommandContext) -> GuardResult:
    if ctx.role in UNIT and ctx.case.state != "registered":
        return GuardResult.deny(
            "单位只能作废尚未处置的登记", "a unit may only void a case it registered in error before any step"
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def stop_level_changes(ctx: CommandContext) -> GuardResult:
    if ctx.payload["level"] == ctx.case.stop_production:
        return GuardResult.deny("停产范围未变化", f"production is already under a {ctx.payload['level']} stop")
    return GuardResult.allow()


@guard()
def is_stopped(ctx: CommandContext) -> GuardResult:
    if ctx.case.stop_production == "none":
        return GuardResult.deny("未处于停产状态", "production is not stopped")
    return GuardResult.allow()


@guard()
def stop_may_lift(ctx: CommandContext) -> GuardResult:
    # 重患必停: a major hazard keeps production stopped until its review passes [seed:001 保障(四); S1 §23].
    if _is_major(ctx) and ctx.policy.stop_on_major(ctx.case):
        return GuardResult.deny(
            "重患必停：重大事故隐患审核销号前不得恢复生产",
            "stop on major: production may resume only when the review passes",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def department_changes(ctx: CommandContext) -> GuardResult:
    if ctx.payload["department"] == ctx.case.department:
        return GuardResult.deny("已推送至该部门", f"the case is already with {ctx.payload['department']!r}")
    return GuardResult.allow()


def _from_substantiated_tipoff(ctx: CommandContext) -> bool:
    parent = ctx.parent
    return (
        parent is not None
        and parent.case.workflow == "tipoff"
        and parent.trigger == "substantiate"
        and parent.case.state == "verifying"
    )


@guard(needs_payload=True)
def source_needs_verification(ctx: CommandContext) -> GuardResult:
    # A report counts only after it is checked and found true (举报查实) [seed:000 item 24]: such a hazard is
    # opened by substantiating its tip-off after verification, never registered directly (invariant 6).
    if ctx.payload["source"] in ("public_report_verified", "internal_whistleblower") and not (
        _from_substantiated_tipoff(ctx)
    ):
        return GuardResult.deny(
            "举报线索须经核查属实后由举报案件转为隐患", "a reported hazard is opened only by substantiating its tip-off"
        )
    tipoff_id = ctx.payload.get("tipoff_id")
    if tipoff_id is not None and not (
        _from_substantiated_tipoff(ctx) and ctx.parent and tipoff_id == ctx.parent.case.id
    ):
        return GuardResult.deny("举报关联由系统设置", "the tip-off link is set by the tip-off workflow")
    return GuardResult.allow()


@guard(needs_payload=True)
def criteria_cited(ctx: CommandContext) -> GuardResult:
    # 一行业一清单: the policy may require a major grading to cite matched criteria [seed:000 item 20].
    if _is_major(ctx) and ctx.policy.criteria_required(ctx.case) and not ctx.payload.get("criteria"):
        return GuardResult.deny(
            "判定为重大事故隐患须引用判定标准条目", "grading a hazard major must cite the matched criteria items"
        )
    checker = getattr(ctx.policy, "check_criteria", None)
    if checker is not None and ctx.payload.get("criteria"):
        result: GuardResult = checker(ctx.case, ctx.payload["criteria"], ctx.now)
        return result
    return GuardResult.allow()


# ── effects ────────────────────────────────────────────────────────────────────────────────────────
def init_hazard(ctx: CommandContext) -> None:
    # Facts with a default are stored only once they differ from it: not listed (``Case.listed``), no stop
    # (``Case.stop_production`` is "none"), nobody confirmed or reported to yet (empty ``confirmed_by`` and
    # ``reported_to``). Keeping them out of a new case's fields halves the size of its fields table.
    u = ctx.updates
    u["registered_by"] = ctx.actor.id
    if "department" not in ctx.payload:
        dept = ctx.policy.lead_department(ctx.payload["industry"])
        if dept is not None:
            u["department"] = dept


def record_spot_fix(ctx: CommandContext) -> None:
    ctx.updates.update(
        fixed_by=ctx.payload["fixed_by"],
        rectified_by=ctx.payload["fixed_by"],
        reviewed_by=ctx.actor.id,
        review_kind="on_spot_check",
    )


def pin_rectify(ctx: CommandContext) -> None:
    ctx.pin("rectify", DeadlineSpec.fixed(date.fromisoformat(ctx.payload["deadline"]), source="order"))


def record_confirmation(ctx: CommandContext) -> None:
    confirmed = (*ctx.case.fields.get("confirmed_by", ()), ctx.actor.id)
    ctx.updates["confirmed_by"] = confirmed
    if len(confirmed) >= ctx.policy.confirmation_levels(ctx.case) and ctx.policy.stop_on_major(ctx.case):
        ctx.updates["stop_production"] = "full"


def record_report(ctx: CommandContext) -> None:
    ctx.updates["reported_to"] = (*ctx.case.fields.get("reported_to", ()), ctx.payload["recipient"])


def record_listing(ctx: CommandContext) -> None:
    listing = {
        "by": ctx.actor.id,
        "org": ctx.actor.org,
        "jurisdiction": ctx.actor.jurisdiction,
        "level": level_of(ctx.actor.jurisdiction),
        "document_no": ctx.payload["document_no"],
        "at": ctx.now.isoformat(),
    }
    if "deadline" in ctx.payload:
        listing["deadline"] = ctx.payload["deadline"]
        if ctx.case.state == "rectifying":
            ctx.pin("rectify", DeadlineSpec.fixed(date.fromisoformat(ctx.payload["deadline"]), source="listing"))
    ctx.updates["listed"] = True
    ctx.updates["listing"] = listing


def record_plan(ctx: CommandContext) -> None:
    ctx.updates["plan"] = dict(ctx.payload)
    ctx.pin("rectify", DeadlineSpec.fixed(date.fromisoformat(ctx.payload["deadline"]), source="plan"))


def record_submission(ctx: CommandContext) -> None:
    ctx.updates.update(
        submitted_by=ctx.actor.id,
        rectified_by=ctx.payload["rectified_by"],
        evidence=ctx.payload["evidence"],
    )


def record_approval(ctx: CommandContext) -> None:
    updates = ctx.updates
    updates["reviewed_by"] = ctx.actor.id
    updates["review_kind"] = "review"
    updates["review_opinion"] = ctx.payload["opinion"]
    # Review passed: 核销 and consent to resume production [S1 §23].
    if ctx.case.stop_production != "none":
        updates["stop_production"] = "none"


def record_rejection(ctx: CommandContext) -> None:
    ctx.updates["rejections"] = int(ctx.case.fields.get("rejections", 0)) + 1


def record_delisting(ctx: CommandContext) -> None:
    ctx.updates.update(listed=False, delisted_by=ctx.actor.id)


def record_extension_request(ctx: CommandContext) -> None:
    ctx.updates.update(
        extension_requested_by=ctx.actor.id,
        requested_deadline=ctx.payload["requested_deadline"],
        interim_measures=ctx.payload["interim_measures"],
    )


def grant_extension(ctx: CommandContext) -> None:
    day = date.fromisoformat(ctx.payload.get("new_deadline") or ctx.case.fields["requested_deadline"])
    ctx.pin("rectify", DeadlineSpec.fixed(day, source="extension"))
    ctx.updates["extensions"] = int(ctx.case.fields.get("extensions", 0)) + 1
    ctx.updates["extension_requested_by"] = None


def deny_extension(ctx: CommandContext) -> None:
    ctx.updates["extension_requested_by"] = None


def record_void(ctx: CommandContext) -> None:
    ctx.updates["void_reason"] = ctx.payload["reason"]


def record_reopen(ctx: CommandContext) -> None:
    ctx.updates.update(
        reopened=int(ctx.case.fields.get("reopened", 0)) + 1,
        last_finding=ctx.payload["finding"],
        reviewed_by=None,
        submitted_by=None,
        rectified_by=None,
    )
    ctx.pin("rectify", DeadlineSpec.fixed(date.fromisoformat(ctx.payload["deadline"]), source="look-back"))


def set_stop(ctx: CommandContext) -> None:
    ctx.updates["stop_production"] = ctx.payload["level"]


def lift_stop(ctx: CommandContext) -> None:
    ctx.updates["stop_production"] = "none"


def set_department(ctx: CommandContext) -> None:
    ctx.updates["department"] = ctx.payload["department"]


@guard(needs_payload=True)
def transfer_upward(ctx: CommandContext) -> GuardResult:
    # Supervision only moves up, to a tier above the one that holds it, on an accepted escalation
    # [seed:002 (八); inference].
    target = ctx.payload["owning_jurisdiction"]
    ctx.engine.jurisdictions.check(target, field="owning_jurisdiction")
    here = ctx.case.owning_jurisdiction
    if target == here or not is_within(here, target):
        return GuardResult.deny(
            f"监管层级只能上移：{target} 不是 {here} 的上级",
            f"supervision only moves up: {target!r} is not above the owning tier {here!r}",
        )
    if (
        ctx.parent is None
        or ctx.parent.case.workflow != "escalation"
        or ctx.parent.case.id != ctx.payload["escalation_id"]
    ):
        return GuardResult.deny("监管层级随提级接收移交", "supervision moves only with an accepted escalation")
    return GuardResult.allow()


def transfer_supervision(ctx: CommandContext) -> None:
    ctx.owning_jurisdiction = ctx.payload["owning_jurisdiction"]
    ctx.updates["escalation_id"] = ctx.payload["escalation_id"]
    ctx.updates["escalation_pending"] = None


def record_escalation(ctx: CommandContext) -> None:
    # The hazard keeps the trace of its escalations: proposed (one at a time), then returned or withdrawn.
    ctx.updates["escalation_pending"] = ctx.payload["escalation_id"] if ctx.payload["status"] == "proposed" else None


def link_tipoff(ctx: CommandContext) -> None:
    ctx.updates["linked_tipoffs"] = (*ctx.case.fields.get("linked_tipoffs", ()), ctx.payload["tipoff_id"])


def listed(ctx: CommandContext) -> bool:
    return ctx.case.listed


def not_listed_route(ctx: CommandContext) -> bool:
    return not ctx.case.listed


_GUARDS = {
    f.__name__: f
    for f in (
        grade_is_general,
        grade_is_major,
        spot_fix_allowed,
        checker_not_fixer,
        deadline_not_past,
        confirmation_pending,
        confirmations_complete,
        report_outstanding,
        recipient_pending,
        reported_to_all,
        listed_if_required,
        not_listed,
        listing_level,
        plan_valid,
        evaluation_for_major,
        reviewer_independent,
        delister_is_listing_authority,
        extension_later,
        new_deadline_later,
        unit_voids_only_registered,
        stop_level_changes,
        is_stopped,
        stop_may_lift,
        department_changes,
        source_needs_verification,
        criteria_cited,
        transfer_upward,
    )
}
_GUARDS["distinct_confirmer"] = distinct_confirmer  # type: ignore[assignment]
_GUARDS["decider_not_requester"] = decider_not_requester  # type: ignore[assignment]

_EFFECTS = {
    f.__name__: f
    for f in (
        init_hazard,
        record_spot_fix,
        pin_rectify,
        record_confirmation,
        record_report,
        record_listing,
        record_plan,
        record_submission,
        record_approval,
        record_rejection,
        record_delisting,
        record_extension_request,
        grant_extension,
        deny_extension,
        record_void,
        record_reopen,
        set_stop,
        lift_stop,
        set_department,
        transfer_supervision,
        record_escalation,
        link_tipoff,
    )
}
_EFFECTS.update(TIMER_EFFECTS)

HAZARD = Workflow(
    HAZARD_SPEC,
    guards=_GUARDS,
    effects=_EFFECTS,
    routes={"listed": listed, "not_listed": not_listed_route},
)
