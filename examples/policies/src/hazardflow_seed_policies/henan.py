"""新密市 → 青屏街街道, from seed 001 (青政文〔2024〕23号, the street office's 2024-2026 three-year plan).

The street office implements the 新密市 safety committee's three-year plan: the city layer carries the
campaign's targets and what binds every enterprise in the city (the principal officer's quarterly check of
major hazards); the street layer carries its own mechanisms: 重患必停 and 集中交办、挂牌督办 for every major
hazard, review-gated closure by the territorial departments, 函告/通报/约谈/曝光 for slow progress, and the
safety office's 月调度、季通报、年总结 [seed:001].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from hazardflow import DeadlineSpec, Delay, Unit
from hazardflow.policies import (
    FireSafetyRules,
    Layer,
    ListingRule,
    ReportingObligation,
    Rung,
)

from .campaign import RootCauseCampaign

__all__ = ["QingpingjieStreet", "XinmiCity"]


class XinmiCity(RootCauseCampaign, Layer):
    """新密市 (county-level city of 郑州市): the city safety committee's 2024-2026 three-year plan."""

    policy_id: ClassVar[str] = "cn.ha.xinmi"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "410183"
    jurisdiction_name: ClassVar[str] = "新密市"
    name: ClassVar[str] = "河南省新密市"
    name_en: ClassVar[str] = "Xinmi City, Henan"

    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        ReportingObligation(
            "principal_officer_major_hazard_check",
            "主要负责人带队检查重大事故隐患排查整治情况",
            "principal officer's check of major-hazard work",
            # 每季度至少1次（高危行业领域每月至少1次）[seed:001 item 7].
            "quarter",
            DeadlineSpec.months(3, source="seed:001 item 7"),
            "business_unit",
            "seed:001 item 7",
        ),
    )


class QingpingjieStreet(FireSafetyRules, Layer):
    """青屏街街道: 重患必停, 挂牌督办, review-gated closure, 函告/通报/约谈/曝光, 月调度/季通报/年总结."""

    policy_id: ClassVar[str] = "cn.ha.xinmi.qingpingjie"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "410183001"
    parent: ClassVar[str | None] = "cn.ha.xinmi"
    jurisdiction_name: ClassVar[str] = "青屏街街道"
    name: ClassVar[str] = "新密市青屏街街道"
    name_en: ClassVar[str] = "Qingpingjie Street, Xinmi City, Henan"

    #: 对重大隐患，实施集中交办、挂牌督办，坚持重患必停 [seed:001 保障(四)].
    stop_every_major: ClassVar[bool] = True
    #: The street office and the sector departments supervise major hazards (督办制度) [seed:001 item 8]; listing
    #: by the street's safety committee office or a supervising department.
    listing_rule: ClassVar[ListingRule] = ListingRule(
        required=True,
        level="township",
        authority_roles=frozenset({"safety_committee_office", "supervisor", "sector_department"}),
        source="seed:001 保障(四) (集中交办、挂牌督办); item 8",
    )
    #: 属地政府负有安全监管职责有关部门审核把关销号 [seed:001 item 8].
    major_reviewer_roles: ClassVar[frozenset[str]] = frozenset(
        {"township_officer", "supervisor", "sector_department", "fire_rescue"}
    )
    #: 对进展缓慢的及时采取函告、通报、约谈、曝光等措施 [seed:001 item 8]; the seed gives no timing, the
    #: delays are ours [inference].
    overdue_ladder: ClassVar[tuple[Rung, ...]] = (
        Rung("formal_letter", Delay(0), "business_unit", "seed:001 item 8"),
        Rung("circular_notice", Delay(5, Unit.WORKING_DAY), "business_unit", "seed:001 item 8; inference (delay)"),
        Rung("admonitory_talk", Delay(10, Unit.WORKING_DAY), "business_unit", "seed:001 item 8; inference (delay)"),
        Rung("public_exposure", Delay(10, Unit.WORKING_DAY), "business_unit", "seed:001 item 8; 保障(四) 定期公开曝光"),
    )

    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        ReportingObligation(
            "monthly_scheduling",
            "安委办月调度",
            "monthly scheduling by the safety committee office",
            "month",
            DeadlineSpec.months(1, source="seed:001 保障(四); inference for the due day"),
            "township",
            "seed:001 保障(四) (月调度)",
        ),
        ReportingObligation(
            "quarterly_notice",
            "安委办季通报",
            "quarterly notice by the safety committee office",
            "quarter",
            DeadlineSpec.months(3, source="seed:001 保障(四); inference for the due day"),
            "township",
            "seed:001 保障(四) (季通报)",
        ),
        ReportingObligation(
            "annual_summary",
            "安委办年总结",
            "annual summary by the safety committee office",
            "year",
            DeadlineSpec.months(12, source="seed:001 保障(四); inference for the due day"),
            "township",
            "seed:001 保障(四) (年总结)",
        ),
    )

    rule_sources: ClassVar[Mapping[str, str]] = {
        "stop_every_major": "seed:001 保障(四) (坚持重患必停)",
        "major_reviewer_roles": "seed:001 item 8 (属地政府负有安全监管职责有关部门审核把关销号)",
    }
