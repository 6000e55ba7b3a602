"""The national baseline policy: 16号令 and 安全生产法 rules, each tagged with its source.

A jurisdiction's policy subclasses this (or its parent jurisdiction's policy) and overrides only what
differs. Class attributes hold the plain answers; methods answer questions that depend on the case. Every
plain answer a layer sets is tagged in ``rule_sources`` (``amend`` the parent's), and the values that carry
their own ``source`` (deadline specs, ladder rungs, the listing rule, reporting obligations) are tagged where
they are built; ``hazardflow policy show`` prints each rule with its tag and the layer it comes from.

Source tags: ``S1`` is 《安全生产事故隐患排查治理暂行规定》(16号令), ``S3`` 《安全生产法》(2021), ``S10``
《消防监督检查规定》, ``S14`` 《安全生产违法行为行政处罚办法》, ``seed:NNN`` a seed plan, ``verify`` marks
a rule whose wording was recalled and still needs checking against the official text, ``inference`` is our
reading where the sources are silent. The docs page ``explanation/sources.md`` lists every source a tag names.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import attrs

from .._calendar import CalendarRule, ChineseWorkingCalendar, DeadlineSpec, Delay, Roll, Unit, local_date
from .._glossary import terms
from .._jurisdiction import NATIONAL
from .._model import Case, GuardResult
from .._rules import ListingRule, Milestone, PartyKind, Permission, ReportingObligation, Rung, Scope, Separation  # noqa: F401 (importable from here as before)
from .criteria import NATIONAL_CRITERIA, CriteriaCatalog, CriteriaSet

if TYPE_CHECKING:
    from .._lifecycle import GuardFn
    from ..abc import CommandContext

__all__ = [
    "ListingRule",
    "Milestone",
    "NationalBaseline",
    "Permission",
    "ReportingObligation",
    "Rung",
    "Separation",
    "amend",
]

K = TypeVar("K")
V = TypeVar("V")


def amend(base: Mapping[K, V], changes: Mapping[K, V] | None = None, /, **by_name: Any) -> Mapping[K, V]:
    """A read-only copy of an inherited mapping with some entries replaced or added.

    Use it to override part of a parent policy's table without touching the parent's::

        deadlines = amend(ShizhuCounty.deadlines, review=DeadlineSpec.working_days(5, source="seed:002"))
        permissions = amend(NationalBaseline.permissions, {("hazard", "void"): Permission({"supervisor"})})

    The result is immutable, so a subclass can never change its parent's rules by accident.
    """
    merged: dict[Any, Any] = dict(base)
    if changes:
        merged.update(changes)
    merged.update(by_name)
    return MappingProxyType(merged)


@functools.lru_cache(maxsize=256)
def _owner_permission(roles: frozenset[str]) -> Permission:
    """One shared :class:`Permission` per role set (asked on every review command)."""
    return Permission(roles, "owner")


# Sector departments that lead each industry ("三管三必须", "谁主管谁牵头") [S3 §3; seed:002 (八)].
_LEAD_DEPARTMENTS: Mapping[str, str] = MappingProxyType(
    {
        "industry_trade": "emergency_management",
        "chemicals": "emergency_management",
        "fireworks": "emergency_management",
        "metal_nonmetal_mine": "emergency_management",
        "coal_mine": "mine_safety",
        "fire_safety": "fire_department",
        "construction": "housing_construction",
        "gas": "housing_construction",
        "road_transport": "transport",
        "civil_explosives": "industry_information",
        "other": "emergency_management",
    }
)

_GOV = ("supervisor", "sector_department", "township_officer", "safety_committee_office", "fire_rescue")

#: Deadline keys a command pins (an order, a plan, an extension, a reporting period): a policy need not
#: answer them.
PINNED_DEADLINES = frozenset({"rectify", "obligation"})


class NationalBaseline:
    """The national rules. Subclass it for a province, city, county or township and override what differs.

    Every case pins ``policy_id`` + ``policy_version``; bump ``policy_version`` whenever a rule changes and
    move open cases with a :class:`~hazardflow.policies.migration.MigrationPlan`. ``effective_from`` (a
    ``date``) says from when a version governs new cases; ``jurisdiction_name`` names the division in
    messages and in the engine's jurisdiction tree.
    """

    policy_id: ClassVar[str] = "cn.national"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = NATIONAL
    jurisdiction_name: ClassVar[str] = "全国"
    name: ClassVar[str] = "全国基线（16号令、安全生产法）"
    name_en: ClassVar[str] = "national baseline (Order No. 16, Work Safety Law)"
    effective_from: ClassVar[date | None] = None
    #: The documents a layer's source tags refer to.
    sources: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "S1": "《安全生产事故隐患排查治理暂行规定》国家安全生产监督管理总局令第16号",
            "S3": "《中华人民共和国安全生产法》（2021年修正）",
            "S4": "《工贸企业重大事故隐患判定标准》应急管理部令第10号",
            "S10": "《消防监督检查规定》公安部令第120号",
            "S14": "《安全生产违法行为行政处罚办法》",
            "S15": "《安全生产约谈实施办法（试行）》安委〔2018〕2号",
            "S16": "国务院安委会《安全生产治本攻坚三年行动方案（2024—2026年）》",
            "S23": "chinesecalendar（节假日与调休数据）",
        }
    )

    #: Ordered grade list (low to high) and its map onto the national two-level scale [S1 §3; DOMAIN §h Q8].
    grades: ClassVar[tuple[str, ...]] = ("general", "major")
    grade_map: ClassVar[Mapping[str, str]] = MappingProxyType({"general": "general", "major": "major"})

    #: Recipients of the dual report of a major hazard: the supervising department and the workers' congress
    #: [S3 §41; seed:003]. A jurisdiction may add recipients but never drop these two.
    report_recipients: ClassVar[tuple[str, ...]] = ("supervising_department", "workers_congress")

    #: Levels of the unit's confirmation of a major hazard; 2 under Shanxi's 四个二 [seed:000 item 5].
    confirmation_level_count: ClassVar[int] = 1

    #: Listing is "when necessary" nationally [S1 §20 verify]: allowed, not required.
    listing_rule: ClassVar[ListingRule] = ListingRule(required=False, level="county", source="S1 §20 verify")

    #: 重患必停: every major hazard stops production [seed:001 保障(四)]. Nationally a stop is case by case
    #: [S1 §16].
    stop_every_major: ClassVar[bool] = False

    #: Stage deadlines (a key explicitly ``None`` means "no fixed limit", with its source in ``rule_sources``).
    #: ``rectify`` and ``obligation`` are pinned by the command that sets them (an order, a plan, a period).
    deadlines: ClassVar[Mapping[str, DeadlineSpec | None]] = MappingProxyType(
        {
            # Site review within 10 日 of the application [S1 §23 verify]; 日 read as natural days, rolled past
            # holidays (民法典 §203) [DOMAIN §f, §h Q1].
            "review": DeadlineSpec.natural_days(10, roll=Roll.NEXT_WORKING_DAY, source="S1 §23 verify"),
            # Answer to an extension request within 5 日 [S14 verify].
            "extension_decision": DeadlineSpec.natural_days(5, roll=Roll.NEXT_WORKING_DAY, source="S14 verify"),
            # Tip-off verification: 3 工作日; 24 h for blocked exits or disabled fire systems (see deadline()).
            "verify": DeadlineSpec.working_days(3, source="S10 verify (金坛时报 2021)"),
            # Dual report: "及时" (promptly), no fixed limit nationally [S1 §14; S3 §41].
            "report": None,
            "confirm": None,
            "delist": None,
            "admission": None,
            "pool_decision": None,
        }
    )

    #: Reminders before each deadline (non-interrupting) [inference].
    reminder_offsets: ClassVar[Mapping[str, tuple[Delay, ...]]] = MappingProxyType(
        {
            "rectify": (Delay(3, Unit.NATURAL_DAY),),
            "review": (Delay(2, Unit.NATURAL_DAY),),
            "obligation": (Delay(3, Unit.WORKING_DAY),),
        }
    )

    #: The overdue ladder 函告 → 通报 → 约谈 → 曝光 → 移送. The seeds name the tools but no timing
    #: [seed:000 保障(五); seed:001 item 8]; the delays below are a baseline to override [inference].
    overdue_ladder: ClassVar[tuple[Rung, ...]] = (
        Rung("formal_letter", Delay(0), "business_unit", "seed:000 保障(五)"),
        Rung("circular_notice", Delay(10, Unit.WORKING_DAY), "business_unit", "seed:000 保障(五); inference"),
        Rung("admonitory_talk", Delay(10, Unit.WORKING_DAY), "business_unit", "S15; seed:001 item 8"),
        Rung("public_exposure", Delay(20, Unit.WORKING_DAY), "business_unit", "seed:000 保障(五)"),
        Rung("enforcement_referral", Delay(20, Unit.WORKING_DAY), "business_unit", "S3 §102; seed:000 item 31"),
    )
    #: Which deadline keys get the ladder (the others only mark the case overdue).
    ladder_keys: ClassVar[frozenset[str]] = frozenset({"rectify", "obligation"})

    #: Enterprise statistics: quarterly by the 15th of the next quarter, annual by 31 January [S1 §14].
    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        ReportingObligation(
            "enterprise_quarterly_statistics",
            "隐患排查治理季度统计分析表",
            "quarterly hazard statistics",
            "quarter",
            DeadlineSpec.on(CalendarRule("next_quarter_day", 15), source="S1 §14"),
            "business_unit",
            "S1 §14",
        ),
        ReportingObligation(
            "enterprise_annual_statistics",
            "隐患排查治理年度统计分析表",
            "annual hazard statistics",
            "year",
            DeadlineSpec.on(CalendarRule("annual", 31, month=1, next_year=True), source="S1 §14"),
            "business_unit",
            "S1 §14",
        ),
    )

    #: One-off dated targets of the campaign a layer implements (nothing is scheduled nationally).
    milestones: ClassVar[tuple[Milestone, ...]] = ()

    #: Per-trigger overrides of the lifecycle table's roles: {(workflow, trigger): Permission}.
    permissions: ClassVar[Mapping[tuple[str, str], Permission]] = MappingProxyType({})

    #: Separations of duty this jurisdiction adds to the lifecycle's own.
    separations: ClassVar[tuple[Separation, ...]] = ()

    #: Extra named guards by (workflow, trigger): {(workflow, trigger): (("name", guard_fn), ...)}.
    extra_guards: ClassVar[Mapping[tuple[str, str], tuple[tuple[str, GuardFn], ...]]] = MappingProxyType({})

    #: Roles that may review and close a major hazard (审核把关销号 by territorial departments)
    #: [seed:000 item 23; seed:001 item 8; S1 §23].
    major_reviewer_roles: ClassVar[frozenset[str]] = frozenset(
        {"supervisor", "sector_department", "township_officer", "fire_rescue"}
    )
    #: A general hazard fixed by a deadline may be accepted by the unit's safety department, or by the
    #: supervisor who ordered it [S14; DOMAIN §b A14].
    general_reviewer_roles: ClassVar[frozenset[str]] = frozenset({"safety_manager", *_GOV})

    #: Admission procedure for the upper tier's pool: 分管领导 then 主要领导, the two approvals seed 002 names for
    #: entering the full register, read as the pool's 纳入程序 too [seed:002 (八); inference].
    escalation_procedure: ClassVar[tuple[str, ...]] = ("leader_in_charge", "head")
    #: Narrow escalation to major hazards and general ones whose fix proved hard (overdue, extended, rejected
    #: at review) — "风险隐患较大、整改存在困难" [seed:002 (八); inference]. Nationally any open hazard may be
    #: proposed; the admission procedure decides.
    escalate_only_major_or_stuck: ClassVar[bool] = False

    #: Roles that may read a tip-off reporter's identity [S3 §73 verify; inference].
    reporter_roles: ClassVar[frozenset[str]] = frozenset({"complaint_officer"})
    #: Reward (举报奖励) for substantiated reports of these channels [seed:000 item 30; S3 §73 verify].
    reward_channels: ClassVar[frozenset[str]] = frozenset({"internal_whistleblower", "public"})

    #: Sector department leading each industry [S3 §3 三管三必须; seed:002].
    lead_departments: ClassVar[Mapping[str, str]] = _LEAD_DEPARTMENTS

    #: Whether grading a hazard major must cite matched criteria (一行业一清单) [seed:000 item 20].
    require_criteria_for_major: ClassVar[bool] = False
    #: Whether every citation must be an item of the criteria catalog (else any text is recorded as cited).
    criteria_must_match_catalog: ClassVar[bool] = False
    #: The criteria sets this jurisdiction uses (ids of :data:`~hazardflow.policies.criteria.NATIONAL_CRITERIA`;
    #: None: all of them), plus local lists of its own.
    criteria_sets: ClassVar[tuple[str, ...] | None] = None
    local_criteria: ClassVar[tuple[CriteriaSet, ...]] = ()

    #: Minimum lead time of an extension request before the deadline; S14's "≥10日" is unverified, so the
    #: baseline does not enforce one [S14 verify; DOMAIN §h Q1].
    extension_lead: ClassVar[Delay | None] = None

    #: Calendar: China's statutory holidays and 调休; refuse years without data [S23; DOMAIN §f].
    calendar_missing_year: ClassVar[Literal["error", "weekdays"]] = "error"
    local_holidays: ClassVar[tuple[str, ...]] = ()
    local_working_days: ClassVar[tuple[str, ...]] = ()
    #: A year's holiday data before the ``chinesecalendar`` package has it, copied from the State Council's
    #: notice: ``{2027: (("2027-01-01", ...), ("2027-01-04", ...))}`` = (days off, make-up working days) [S23].
    calendar_years: ClassVar[Mapping[int, tuple[tuple[str, ...], tuple[str, ...]]]] = {}

    #: The source of each plain answer (values that carry their own ``source`` need no entry).
    rule_sources: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "grades": "S1 §3; DOMAIN §h Q8",
            "grade_map": "S1 §3",
            "report_recipients": "S3 §41; seed:003",
            "confirmation_level_count": "S1 §14 (one confirmation nationally); inference",
            "stop_every_major": "S1 §16 (case by case)",
            "deadlines.report": "S1 §14; S3 §41 (及时, no fixed limit)",
            "deadlines.confirm": "inference (no national limit)",
            "deadlines.delist": "S18 (local practice only)",
            "deadlines.admission": "seed:002 (八) names no limit",
            "deadlines.pool_decision": "DOMAIN §h Q12 (not documented)",
            "reminder_offsets": "inference",
            "ladder_keys": "seed:000 保障(五); inference",
            "major_reviewer_roles": "seed:000 item 23; seed:001 item 8; S1 §23",
            "general_reviewer_roles": "S14; DOMAIN §b A14",
            "escalation_procedure": "seed:002 (八); inference",
            "escalate_only_major_or_stuck": "seed:002 (八); inference",
            "reporter_roles": "S3 §73 verify; inference",
            "reward_channels": "seed:000 item 30; S3 §73 verify",
            "lead_departments": "S3 §3 (三管三必须); seed:002 (八)",
            "require_criteria_for_major": "seed:000 item 20 (policy choice)",
            "criteria_must_match_catalog": "inference (policy choice)",
            "extension_lead": "S14 verify; DOMAIN §h Q1",
            "calendar_missing_year": "S23; DOMAIN §f",
        }
    )

    def __init__(self) -> None:
        self._calendar = ChineseWorkingCalendar(
            extra_holidays=[date.fromisoformat(d) for d in self.local_holidays],
            extra_working_days=[date.fromisoformat(d) for d in self.local_working_days],
            years={
                year: ([date.fromisoformat(d) for d in off], [date.fromisoformat(d) for d in worked])
                for year, (off, worked) in self.calendar_years.items()
            },
            missing_year=self.calendar_missing_year,
            name=self.policy_id,
        )
        self._industries = tuple(t.id for t in terms("industry"))
        self._departments = tuple(t.id for t in terms("department"))
        self._guards: dict[tuple[str, str], tuple[tuple[str, GuardFn], ...]] = {}
        self._catalog: CriteriaCatalog | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.policy_id}@{self.policy_version} for {self.jurisdiction}>"

    # ── plain answers ────────────────────────────────────────────────────────────────────────────
    @property
    def calendar(self) -> ChineseWorkingCalendar:
        """The working calendar: statutory holidays and 调休 plus ``local_holidays``/``local_working_days``."""
        return self._calendar

    def choices(self, name: str) -> Sequence[str]:
        """Allowed values for ``policy:<name>`` payload fields: grades, industries, recipients, departments."""
        if name == "grades":
            return self.grades
        if name == "industries":
            return self._industries
        if name == "recipients":
            return self.report_recipients
        if name == "departments":
            return self._departments
        raise KeyError(name)

    def national_grade(self, grade: str) -> str:
        """Map a local grade onto the national scale (``general`` or ``major``)."""
        return self.grade_map.get(grade, "general")

    def is_major(self, case: Case) -> bool:
        """True when the case's grade maps onto the national 重大."""
        grade = case.fields.get("grade")
        return grade is not None and self.national_grade(grade) == "major"

    def permission(self, workflow: str, trigger: str, case: Case) -> Permission | None:
        """Who may fire ``trigger`` on ``case``: review by grade, listing by the listing authority, overrides."""
        override = self.permissions.get((workflow, trigger))
        if override is not None:
            return override
        if workflow == "hazard" and trigger in ("approve", "reject"):
            roles = self.major_reviewer_roles if self.is_major(case) else self.general_reviewer_roles
            return _owner_permission(roles)
        if workflow == "hazard" and trigger in ("list_for_supervision", "delist"):
            return _owner_permission(self.listing(case).authority_roles)
        if workflow == "escalation" and trigger == "approve_escalation":
            # The admission procedure, one step at a time: the role whose turn it is [seed:002 (八)].
            steps = self.escalation_steps(case)
            done = len(case.fields.get("approvals", ()))
            if done < len(steps):
                return Permission(frozenset({steps[done]}), "case")
        if workflow == "tipoff" and trigger == "view_reporter":
            return Permission(self.reporter_visible_roles(), "case")
        return None

    def separation_of_duty(self, workflow: str, trigger: str) -> Sequence[Separation]:
        """The jurisdiction's own separations of duty for a trigger (the lifecycle keeps the national ones)."""
        return tuple(s for s in self.separations if s.workflow == workflow and s.trigger == trigger)

    def guards(self, workflow: str, trigger: str) -> Sequence[tuple[str, GuardFn]]:
        """Named guards the jurisdiction adds: extension lead time, separations of duty, ``extra_guards``."""
        key = (workflow, trigger)
        hit = self._guards.get(key)
        if hit is None:
            out: list[tuple[str, GuardFn]] = []
            if workflow == "hazard" and trigger == "request_extension" and self.extension_lead is not None:
                out.append(("extension_lead_time", _extension_lead_guard(self.extension_lead)))
            out.extend((s.guard_name, s.guard()) for s in self.separation_of_duty(workflow, trigger))
            out.extend(self.extra_guards.get(key, ()))
            hit = self._guards[key] = tuple(out)
        return hit

    def deadline(self, key: str, case: Case) -> DeadlineSpec | None:
        """The time limit of a stage, or None when the stage has no fixed limit here."""
        if key == "verify" and case.fields.get("category") in ("blocked_fire_exit", "fire_system_disabled"):
            # 24 h for blocked exits and disabled fire systems [S10 verify, as quoted by 金坛时报 2021].
            return DeadlineSpec.hours(24, source="S10 verify (金坛时报 2021)")
        return self.deadlines.get(key)

    def reminders(self, key: str, case: Case) -> Sequence[Delay]:
        """Offsets before a deadline at which to remind."""
        return self.reminder_offsets.get(key, ())

    def ladder(self, key: str, case: Case) -> Sequence[Rung]:
        """The overdue ladder for a missed deadline (empty for keys outside ``ladder_keys``).

        A missed report (``obligation``) presses the party that owes it, whatever kind of party that is.
        """
        if key not in self.ladder_keys:
            return ()
        owner = case.fields.get("party_kind")
        if key == "obligation" and owner in ("business_unit", "department", "township"):
            return tuple(attrs.evolve(r, party=owner) for r in self.overdue_ladder)
        return self.overdue_ladder

    def dual_report_recipients(self, case: Case) -> Sequence[str]:
        """Everyone a major hazard must be reported to before governance starts (双报告)."""
        return self.report_recipients

    def confirmation_levels(self, case: Case) -> int:
        """How many distinct people must confirm a major hazard."""
        return self.confirmation_level_count

    def listing(self, case: Case) -> ListingRule:
        """Whether, at which level and by whom a major hazard is listed for supervision."""
        return self.listing_rule

    def stop_on_major(self, case: Case) -> bool:
        """Whether a major hazard stops production until its review passes (重患必停)."""
        return self.stop_every_major

    def on_the_spot_fix(self, case: Case) -> GuardResult:
        """Whether the hazard may be fixed on the spot (即查即改): never a major one."""
        if self.is_major(case):
            return GuardResult.deny(
                "重大事故隐患不得即查即改，须经确认、报告并制定治理方案",
                "a major hazard cannot be fixed on the spot; it must be confirmed, reported and governed by a plan",
            )
        return GuardResult.allow()

    def escalation_steps(self, case: Case) -> Sequence[str]:
        """The admission procedure (纳入程序) for the upper tier's pool, step by step (roles)."""
        return self.escalation_procedure

    def escalation_eligible(self, hazard: Case) -> GuardResult:
        """Whether a hazard may be proposed for the upper tier's pool (风险较大或整改存在困难).

        Nationally the proposer's reason and the admission procedure decide; a jurisdiction may narrow it
        (``escalate_only_major_or_stuck``) to major hazards and general ones whose fix proved hard (overdue,
        extended, rejected at review) [seed:002 (八); inference].
        """
        if not self.escalate_only_major_or_stuck or self.is_major(hazard):
            return GuardResult.allow()
        f = hazard.fields
        if hazard.overdue or int(f.get("extensions", 0)) > 0 or int(f.get("rejections", 0)) > 0:
            return GuardResult.allow()
        return GuardResult.deny(
            "一般事故隐患应由本级立行立改；仅风险较大或整改存在困难（逾期、延期、审核未通过）的可提请纳入蓄水池",
            "a general hazard is fixed at this tier; only a major one, or one whose fix proved hard (overdue, "
            "extended, rejected at review), may be proposed for the upper tier's pool",
        )

    def reporter_visible_roles(self) -> frozenset[str]:
        """Roles that may read a tip-off reporter's identity (举报人信息保密)."""
        return self.reporter_roles

    def reward_tipoff(self, tipoff: Case) -> bool:
        """Whether a substantiated tip-off earns the reporter a reward (举报奖励)."""
        return tipoff.fields.get("channel") in self.reward_channels

    def lead_department(self, industry: str) -> str | None:
        """The sector department that leads an industry (谁主管谁牵头)."""
        return self.lead_departments.get(industry)

    def criteria_required(self, case: Case) -> bool:
        """Whether grading this hazard major must cite matched criteria."""
        return self.require_criteria_for_major

    @property
    def criteria_catalog(self) -> CriteriaCatalog:
        """The criteria lists this jurisdiction uses (national sets it selects, plus its local lists)."""
        if self._catalog is None:
            chosen = [s for s in NATIONAL_CRITERIA if self.criteria_sets is None or s.id in self.criteria_sets]
            self._catalog = CriteriaCatalog([*chosen, *self.local_criteria])
        return self._catalog

    def check_criteria(self, case: Case, criteria: Sequence[str], now: datetime) -> GuardResult:
        """Judge a citation of criteria items when the jurisdiction asks for catalog citations.

        Items must exist in the catalog, belong to the hazard's industry and be in force on the day it was
        discovered (or today); a hazard that matches a major-hazard criterion cannot be graded general
        [S4 §1; S3 §118 verify; inference].
        """
        if not self.criteria_must_match_catalog or not criteria:
            return GuardResult.allow()
        found = case.fields.get("discovered_at")
        day = local_date(datetime.fromisoformat(found)) if isinstance(found, str) else local_date(now)
        problem = self.criteria_catalog.check(criteria, case.fields.get("industry"), day)
        if problem is not None:
            return GuardResult.deny(*problem)
        if not self.is_major(case):
            return GuardResult.deny(
                "符合重大事故隐患判定标准条目的隐患须判定为重大事故隐患",
                "a hazard that matches a major-hazard criterion must be graded major",
            )
        return GuardResult.allow()

    def reporting_obligations(self) -> Sequence[ReportingObligation]:
        """The periodic reports parties owe in this jurisdiction."""
        return self.obligations

    def campaign_milestones(self) -> Sequence[Milestone]:
        """The one-off dated targets of the campaign plans this jurisdiction implements."""
        return self.milestones


def _extension_lead_guard(lead: Delay) -> GuardFn:
    from .._calendar import offset

    def extension_lead_time(ctx: CommandContext) -> GuardResult:
        case = ctx.case
        if case.deadline is None:
            return GuardResult.allow()
        latest = offset(case.deadline.due_at, lead, ctx.policy.calendar, before=True).due_at
        if ctx.now > latest:
            return GuardResult.deny(
                f"延期申请须在期限届满{lead.describe('zh')}前提出",
                f"an extension must be requested at least {lead.describe('en')} before the deadline",
            )
        return GuardResult.allow()

    extension_lead_time.needs_payload = False  # type: ignore[attr-defined]
    return extension_lead_time
