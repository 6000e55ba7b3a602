"""山西省 → 高平市 → 三甲镇, from seed 000 (三政发〔2024〕11号, the town's 2024-2026 three-year plan).

Seed 000 implements 高平市's plan, which follows the province: Shanxi's 四个二 mechanism (the enterprise's
两级确认 of a major hazard, the departments' 两个指标, the safety committees' 两级调度, the city-county 两级比对)
is read here as a provincial rule [seed:000 item 5; inference for the level]; only its names are sourced
(DOMAIN §h Q9), so the engine enforces the part it can: two different people confirm a major hazard. The city
layer carries 一行业一清单 (citations of the industry lists) and review-gated closure; the town layer its own
reporting calendar (每月29日前, 12月1日前) and phases.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from hazardflow import CalendarRule, DeadlineSpec
from hazardflow.policies import FireSafetyRules, Layer, Milestone, ReportingObligation

from .campaign import RootCauseCampaign

__all__ = ["GaopingCity", "SanjiaTown", "ShanxiProvince"]


class ShanxiProvince(Layer):
    """山西省: 四个二 — an enterprise confirms a major hazard at two levels (两级确认)."""

    policy_id: ClassVar[str] = "cn.sx"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "140000"
    jurisdiction_name: ClassVar[str] = "山西省"
    name: ClassVar[str] = "山西省"
    name_en: ClassVar[str] = "Shanxi Province"

    confirmation_level_count: ClassVar[int] = 2

    rule_sources: ClassVar[Mapping[str, str]] = {
        "confirmation_level_count": "seed:000 item 5 (四个二: 企业两级确认); inference (province-wide)",
    }


class GaopingCity(RootCauseCampaign, Layer):
    """高平市 (county-level city of 晋城市): 一行业一清单, 审核把关销号, the three-year campaign."""

    policy_id: ClassVar[str] = "cn.sx.gaoping"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "140581"
    parent: ClassVar[str | None] = "cn.sx"
    jurisdiction_name: ClassVar[str] = "高平市"
    name: ClassVar[str] = "山西省高平市"
    name_en: ClassVar[str] = "Gaoping City, Shanxi"

    #: 一行业一清单: grading a hazard major cites the industry list's items [seed:000 item 20].
    require_criteria_for_major: ClassVar[bool] = True
    criteria_must_match_catalog: ClassVar[bool] = True
    #: 建立审核把关销号机制: territorial supervising departments review closure [seed:000 item 23].
    major_reviewer_roles: ClassVar[frozenset[str]] = frozenset(
        {"supervisor", "sector_department", "township_officer", "fire_rescue"}
    )
    #: 举报奖励, with 重奖 for reported major hazards and the 内部吹哨人 [seed:000 item 30].
    reward_channels: ClassVar[frozenset[str]] = frozenset({"public", "internal_whistleblower"})

    rule_sources: ClassVar[Mapping[str, str]] = {
        "require_criteria_for_major": "seed:000 item 20 (一行业一清单)",
        "criteria_must_match_catalog": "seed:000 item 20; inference",
        "major_reviewer_roles": "seed:000 item 23 (审核把关销号机制)",
        "reward_channels": "seed:000 item 30",
    }


class SanjiaTown(FireSafetyRules, Layer):
    """三甲镇: monthly progress by the 29th, annual summary by 1 December, the evaluation by 2026-11-05."""

    policy_id: ClassVar[str] = "cn.sx.gaoping.sanjia"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "140581102"
    parent: ClassVar[str | None] = "cn.sx.gaoping"
    jurisdiction_name: ClassVar[str] = "三甲镇"
    name: ClassVar[str] = "高平市三甲镇"
    name_en: ClassVar[str] = "Sanjia Town, Gaoping City, Shanxi"
    effective_from: ClassVar[date | None] = date(2024, 2, 29)

    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        ReportingObligation(
            "monthly_progress",
            "治本攻坚阶段性工作进展",
            "monthly progress report",
            "month",
            # 每月29日前; in a February without a 29th, the last day of the month [DOMAIN §h Q2].
            DeadlineSpec.on(CalendarRule("day_of_month", 29), source="seed:000 保障(六)"),
            "department",
            "seed:000 保障(六)",
        ),
        ReportingObligation(
            "annual_summary",
            "年度工作总结",
            "annual summary",
            "year",
            DeadlineSpec.on(CalendarRule("annual", 1, month=12), source="seed:000 保障(六)"),
            "department",
            "seed:000 保障(六)",
        ),
        ReportingObligation(
            "monthly_sector_study",
            "本行业领域治本攻坚专题研究",
            "monthly study of the sector's campaign work",
            "month",
            DeadlineSpec.months(1, source="seed:000 保障(二); inference for the due day"),
            "department",
            "seed:000 保障(二) (每月专题研究一次)",
        ),
    )

    milestones: ClassVar[tuple[Milestone, ...]] = (
        Milestone("mobilise", "动员部署", "mobilisation", date(2024, 2, 29), "seed:000 四(一)"),
        Milestone("concentrated", "集中攻坚", "concentrated action", date(2025, 12, 31), "seed:000 四(二)"),
        Milestone("root_cause", "治本提升", "root-cause improvement", date(2026, 9, 30), "seed:000 四(三)"),
        Milestone(
            "evaluation_report",
            "报送治本攻坚三年行动评估报告",
            "three-year evaluation report filed",
            date(2026, 11, 5),
            "seed:000 保障(六)",
        ),
        Milestone("summary", "总结评估", "summary and evaluation", date(2026, 12, 31), "seed:000 四(四)"),
    )
