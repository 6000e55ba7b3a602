"""湖南省 → 衡阳市, from seed 003 (衡阳市2023年全市安全生产工作要点).

The province layer carries what seed 003 takes from 《湖南省生产经营单位安全生产主体责任规定》: the principal
officer of a high-risk enterprise leads a check every month [seed:003 item 4]. The city layer carries 一单四制
for major hazards (one list, and the four systems 交办 assignment, 台账 ledger, 销号 closure, 通报 notice, as
株洲 defined them [S17]; 衡阳 uses the term without defining it, DOMAIN §h Q11), 双报告 to the supervising and
the sector department (主管和监管部门) besides the workers' congress, the reward for reported hazards, and the
city's notice and ranking calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from hazardflow import DeadlineSpec, Delay, Roll, Unit
from hazardflow.policies import FireSafetyRules, Layer, ListingRule, ReportingObligation, Rung, extend

__all__ = ["HengyangCity", "HunanProvince"]


class HunanProvince(Layer):
    """湖南省: the principal officer of a high-risk enterprise leads a check every month."""

    policy_id: ClassVar[str] = "cn.hn"
    policy_version: ClassVar[str] = "2023.1"
    jurisdiction: ClassVar[str] = "430000"
    jurisdiction_name: ClassVar[str] = "湖南省"
    name: ClassVar[str] = "湖南省"
    name_en: ClassVar[str] = "Hunan Province"

    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        ReportingObligation(
            "high_risk_principal_check",
            "高危企业主要负责人每月带队检查",
            "monthly check led by a high-risk enterprise's principal officer",
            "month",
            DeadlineSpec.months(1, source="seed:003 item 4"),
            "business_unit",
            "seed:003 item 4 (《湖南省生产经营单位安全生产主体责任规定》)",
        ),
    )


class HengyangCity(FireSafetyRules, Layer):
    """衡阳市: 一单四制 (交办, 台账, 销号, 通报) for every major hazard; 双报告 to the departments and the 职代会."""

    policy_id: ClassVar[str] = "cn.hn.hengyang"
    policy_version: ClassVar[str] = "2023.1"
    jurisdiction: ClassVar[str] = "430400"
    parent: ClassVar[str | None] = "cn.hn"
    jurisdiction_name: ClassVar[str] = "衡阳市"
    name: ClassVar[str] = "湖南省衡阳市"
    name_en: ClassVar[str] = "Hengyang City, Hunan"

    #: 高危企业重大事故隐患及时报告主管和监管部门 [seed:003 item 5], and the 职代会 [S3 §41; seed:003].
    report_recipients: ClassVar[tuple[str, ...]] = extend("sector_department")
    #: 交办制: every major hazard is on the one list and assigned by the city safety committee or the departments
    #: in charge (由市级安委会或有关主管监管部门挂牌督办) [seed:003 item 5; S17].
    listing_rule: ClassVar[ListingRule] = ListingRule(
        required=True,
        level="city",
        authority_roles=frozenset({"safety_committee_office", "supervisor", "sector_department"}),
        source="seed:003 item 5 (一单四制 交办制; 市级安委会或有关主管监管部门挂牌督办); S17; inference (every major)",
    )
    #: 销号制: closure is signed by the departments in charge and the supervisors [seed:003 item 5; S17].
    major_reviewer_roles: ClassVar[frozenset[str]] = frozenset({"supervisor", "sector_department", "fire_rescue"})
    #: 通报制 first, then 警示约谈, 曝光 and 问责 [seed:003 items 31, 33, 34; S17]; delays are ours [inference].
    overdue_ladder: ClassVar[tuple[Rung, ...]] = (
        Rung("circular_notice", Delay(0), "business_unit", "seed:003 item 34 (督查通报); S17 (通报制)"),
        Rung("admonitory_talk", Delay(10, Unit.WORKING_DAY), "business_unit", "seed:003 item 34 (警示约谈)"),
        Rung("public_exposure", Delay(10, Unit.WORKING_DAY), "business_unit", "seed:003 item 31 (加大曝光力度)"),
        Rung("enforcement_referral", Delay(20, Unit.WORKING_DAY), "business_unit", "seed:003 items 9, 33 (问责)"),
    )
    #: 对报告重大事故隐患或举报违法行为的人员及时重奖 [seed:003 item 29].
    reward_channels: ClassVar[frozenset[str]] = frozenset({"public", "internal_whistleblower"})

    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        ReportingObligation(
            "weekly_enforcement_statistics",
            "执法工作每周一统计",
            "weekly enforcement statistics",
            "week",
            DeadlineSpec.natural_days(
                7, roll=Roll.NEXT_WORKING_DAY, source="seed:003 item 6; inference for the due day"
            ),
            "department",
            "seed:003 item 6 (每周一统计)",
        ),
        ReportingObligation(
            "half_monthly_scheduling",
            "执法工作每半月一调度",
            "half-monthly scheduling of enforcement",
            "half_month",
            DeadlineSpec.natural_days(
                15, roll=Roll.NEXT_WORKING_DAY, source="seed:003 item 6; inference for the due day"
            ),
            "department",
            "seed:003 item 6 (每半月一调度)",
        ),
        ReportingObligation(
            "monthly_notice",
            "一月一通报",
            "monthly notice",
            "month",
            DeadlineSpec.months(1, source="seed:003 items 6, 30; inference for the due day"),
            "department",
            "seed:003 items 6, 30 (一月一督查、一月一通报)",
        ),
        ReportingObligation(
            "quarterly_ranking",
            "一季一排名",
            "quarterly ranking",
            "quarter",
            DeadlineSpec.months(3, source="seed:003 items 6, 30; inference for the due day"),
            "department",
            "seed:003 items 6, 30 (一季一排名)",
        ),
        ReportingObligation(
            "major_hazard_ledger",
            "重大事故隐患台账（台账制）",
            "major-hazard ledger (台账制)",
            "quarter",
            DeadlineSpec.months(3, source="S17; inference for the period"),
            "department",
            "seed:003 item 5 (一单四制); S17 (台账制)",
        ),
    )

    rule_sources: ClassVar[Mapping[str, str]] = {
        "report_recipients": "seed:003 item 5 (及时报告主管和监管部门); S3 §41",
        "major_reviewer_roles": "seed:003 item 5 (销号制); S17",
        "reward_channels": "seed:003 item 29 (及时重奖)",
    }
