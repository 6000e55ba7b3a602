"""重庆市 → 石柱土家族自治县 → 三星乡, from seed 002 (三星府发〔2023〕76号, the township's 2023 action plan).

Seed 002 implements the county's plan (石安委发〔2023〕4号) and the municipality's problem-list work
(安全生产和自然灾害问题清单): a township collates what it finds into its full register (全量库) once the leader
in charge (分管领导) and the head (主要领导) agree; small or low-risk problems are fixed and closed there, large or
hard ones are pushed to a higher tier's pool (蓄水池) "按纳入程序" [seed:002 (八)]. The seed does not spell out
that procedure; reading it as the same two approvals is our inference. Who keeps the county's pool is not in the
seed either; reading it as the county safety committee office, to which the township files its plan
[seed:002 (一)2], is our inference.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from hazardflow import CalendarRule, DeadlineSpec
from hazardflow.policies import FireSafetyRules, Layer, Milestone, Permission, ReportingObligation, extend

__all__ = ["ChongqingMunicipality", "SanxingTownship", "ShizhuCounty"]


class ChongqingMunicipality(Layer):
    """重庆市: the municipal problem-list system (问题清单) behind the township's full register and the pool."""

    policy_id: ClassVar[str] = "cn.cq"
    policy_version: ClassVar[str] = "2023.1"
    jurisdiction: ClassVar[str] = "500000"
    jurisdiction_name: ClassVar[str] = "重庆市"
    name: ClassVar[str] = "重庆市"
    name_en: ClassVar[str] = "Chongqing Municipality"

    #: Small or low-risk problems are fixed and closed where they are found (立行立改); only large risks and hard
    #: fixes go up to a higher tier's pool [seed:002 (八)].
    escalate_only_major_or_stuck: ClassVar[bool] = True

    rule_sources: ClassVar[Mapping[str, str]] = {
        "escalate_only_major_or_stuck": "seed:002 (八) (可以立行立改的问题或风险较低的一般性问题自行整改并销号)",
    }


class ShizhuCounty(Layer):
    """石柱土家族自治县: the county's 2023 special action (石安委发〔2023〕4号) and its pool (蓄水池)."""

    policy_id: ClassVar[str] = "cn.cq.shizhu"
    policy_version: ClassVar[str] = "2023.1"
    jurisdiction: ClassVar[str] = "500240"
    parent: ClassVar[str | None] = "cn.cq"
    jurisdiction_name: ClassVar[str] = "石柱土家族自治县"
    name: ClassVar[str] = "重庆市石柱土家族自治县"
    name_en: ClassVar[str] = "Shizhu Tujia Autonomous County, Chongqing"

    #: The county safety committee office keeps the county's pool: it accepts or returns what townships push up.
    permissions: ClassVar[Mapping[tuple[str, str], Permission]] = {
        ("escalation", "accept_escalation"): Permission({"safety_committee_office"}, "owner"),
        ("escalation", "return_escalation"): Permission({"safety_committee_office"}, "owner"),
    }

    rule_sources: ClassVar[Mapping[str, str]] = {
        "permissions": "seed:002 (一)2 (plans filed with 县安委办); inference (县安委办 keeps the county pool)",
    }


class SanxingTownship(FireSafetyRules, Layer):
    """三星乡: 全量库 → 蓄水池 admission, 双报告 to the supervisor and the township, half-yearly progress notices."""

    policy_id: ClassVar[str] = "cn.cq.shizhu.sanxing"
    policy_version: ClassVar[str] = "2023.1"
    jurisdiction: ClassVar[str] = "500240204"
    parent: ClassVar[str | None] = "cn.cq.shizhu"
    jurisdiction_name: ClassVar[str] = "三星乡"
    name: ClassVar[str] = "重庆市石柱县三星乡"
    name_en: ClassVar[str] = "Sanxing Township, Shizhu County, Chongqing"
    effective_from: ClassVar[date | None] = date(2023, 5, 18)

    #: 双报告: a major hazard is reported to the supervising unit and to the township government, by sector and
    #: by territory (按属事属地原则向主管单位和乡政府及时报告) [seed:002 (二)1; 任务(12)]; the workers' congress
    #: stays [S3 §41].
    report_recipients: ClassVar[tuple[str, ...]] = extend("township_government")
    #: 纳入程序: the emergency office collates, the leader in charge then the head agree, as for the full register
    #: [seed:002 (八); inference].
    escalation_procedure: ClassVar[tuple[str, ...]] = ("leader_in_charge", "head")
    #: Grading a hazard major cites the criteria the township distributed (明确细化重点检查事项), from the
    #: national lists [seed:002 四(一); 任务(24)].
    require_criteria_for_major: ClassVar[bool] = True
    criteria_must_match_catalog: ClassVar[bool] = True
    #: 有奖举报 and anonymous reporting are encouraged [seed:002 (一)3].
    reward_channels: ClassVar[frozenset[str]] = frozenset({"public", "internal_whistleblower"})

    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        ReportingObligation(
            "major_hazard_progress_notice",
            "重大事故隐患整治进展情况通报",
            "progress notice on major-hazard fixes",
            "half_year",
            # 每半年通报1次: due by the end of each half-year [seed:002 (一)5; inference for the due day].
            DeadlineSpec.months(6, source="seed:002 (一)5; inference"),
            "township",
            "seed:002 (一)5; 任务(9)",
        ),
        ReportingObligation(
            "monthly_risk_judgement",
            "安全风险研判会",
            "monthly risk-judgement meeting",
            "month",
            DeadlineSpec.on(CalendarRule("day_of_month", 28), source="seed:002 (一)2; inference for the day"),
            "township",
            "seed:002 (一)2",
        ),
        ReportingObligation(
            "major_hazard_ledger_update",
            "重大事故隐患台账季度动态更新",
            "quarterly update of the major-hazard ledger",
            "quarter",
            DeadlineSpec.months(3, source="seed:002 任务(25); inference for the due day"),
            "township",
            "seed:002 任务(25)",
        ),
    )

    milestones: ClassVar[tuple[Milestone, ...]] = (
        Milestone("mobilise", "动员部署", "mobilisation", date(2023, 5, 20), "seed:002 四(一)"),
        Milestone("screening", "集中排查", "concentrated screening", date(2023, 8, 31), "seed:002 四(二)"),
        Milestone(
            "rectification", "重点整治（五落实）", "key rectification (五落实)", date(2023, 11, 30), "seed:002 四(三)"
        ),
        Milestone("institutions", "建章立制", "rules and standing mechanisms", date(2023, 12, 31), "seed:002 四(四)"),
    )

    rule_sources: ClassVar[Mapping[str, str]] = {
        "report_recipients": "seed:002 (二)1; 任务(12); S3 §41",
        "escalation_procedure": "seed:002 (八) (经分管领导、主要领导同意: the full register); inference (the pool)",
        "require_criteria_for_major": "seed:002 四(一); 任务(24)",
        "criteria_must_match_catalog": "seed:002 任务(24); inference",
        "reward_channels": "seed:002 (一)3",
    }
