"""安徽省 → 池州市 → 东至县, from seed 004 (the 东至县 应急管理局's interpretation of its three-year plan).

Seed 004 gives the plan's goals and phases only: the provincial and city safety committees issued their plans
in January 2024, the county's followed on 11 April 2024 [seed:004 一, 三]. The province layer carries the
campaign targets; the city layer names the division (its own rules were not in the seeds); the county layer its
phases and one rule read from the first target: while the end-2024 target for the backlog is still ahead, a
major hazard found in 2023 or earlier gets a governance plan due no later than that target [seed:004 四;
inference].
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from hazardflow import GuardResult
from hazardflow.policies import FireSafetyRules, Layer, Milestone

from .campaign import RootCauseCampaign

if TYPE_CHECKING:
    from hazardflow import CommandContext
    from hazardflow._lifecycle import GuardFn

__all__ = ["AnhuiProvince", "ChizhouCity", "DongzhiCounty"]

#: The backlog target: major hazards found in 2023 or earlier basically cleared by the end of 2024.
BACKLOG_FOUND_BEFORE = date(2024, 1, 1)
BACKLOG_TARGET = date(2024, 12, 31)


class AnhuiProvince(RootCauseCampaign, Layer):
    """安徽省: the provincial safety committee's three-year plan (January 2024)."""

    policy_id: ClassVar[str] = "cn.ah"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "340000"
    jurisdiction_name: ClassVar[str] = "安徽省"
    name: ClassVar[str] = "安徽省"
    name_en: ClassVar[str] = "Anhui Province"


class ChizhouCity(Layer):
    """池州市: the city safety committee's plan (January 2024); no rule of its own in the seeds."""

    policy_id: ClassVar[str] = "cn.ah.chizhou"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "341700"
    parent: ClassVar[str | None] = "cn.ah"
    jurisdiction_name: ClassVar[str] = "池州市"
    name: ClassVar[str] = "安徽省池州市"
    name_en: ClassVar[str] = "Chizhou City, Anhui"


def _found_on(ctx: CommandContext) -> date:
    found = ctx.case.fields.get("discovered_at")
    when = datetime.fromisoformat(found) if isinstance(found, str) else ctx.case.opened_at
    from hazardflow._calendar import local_date

    return local_date(when)


def _backlog_plan_by_target(ctx: CommandContext) -> GuardResult:
    from hazardflow._calendar import local_date

    if local_date(ctx.now) > BACKLOG_TARGET or _found_on(ctx) >= BACKLOG_FOUND_BEFORE:
        return GuardResult.allow()
    due = date.fromisoformat(ctx.payload["deadline"])
    if due > BACKLOG_TARGET:
        return GuardResult.deny(
            f"2023年及以前排查发现的重大事故隐患须于{BACKLOG_TARGET}前完成治理，治理时限 {due} 晚于目标",
            f"a major hazard found in 2023 or earlier is to be cleared by {BACKLOG_TARGET}; the plan's deadline "
            f"{due} is later [seed:004 四]",
        )
    return GuardResult.allow()


_backlog_plan_by_target.needs_payload = True  # type: ignore[attr-defined]
BACKLOG_GUARD: GuardFn = _backlog_plan_by_target


class DongzhiCounty(FireSafetyRules, Layer):
    """东至县: the county's three-year plan (2024-04-11), its phases, and the backlog target on plans."""

    policy_id: ClassVar[str] = "cn.ah.chizhou.dongzhi"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "341721"
    parent: ClassVar[str | None] = "cn.ah.chizhou"
    jurisdiction_name: ClassVar[str] = "东至县"
    name: ClassVar[str] = "安徽省池州市东至县"
    name_en: ClassVar[str] = "Dongzhi County, Chizhou, Anhui"
    effective_from: ClassVar[date | None] = date(2024, 4, 11)

    milestones: ClassVar[tuple[Milestone, ...]] = (
        Milestone("mobilise", "印发实施方案，全面部署", "plan issued and deployed", date(2024, 4, 30), "seed:004 七"),
        Milestone(
            "eight_actions", "有序推进“八大行动”", "the eight actions carried out", date(2025, 12, 31), "seed:004 七"
        ),
        Milestone(
            "key_problems", "重点难点问题专项整治攻坚", "hard problems tackled", date(2026, 9, 30), "seed:004 七"
        ),
        Milestone(
            "institutions",
            "补充完善制度，形成制度成果",
            "rules and results consolidated",
            date(2026, 12, 31),
            "seed:004 七",
        ),
    )

    extra_guards: ClassVar[Mapping[tuple[str, str], tuple[tuple[str, GuardFn], ...]]] = {
        ("hazard", "adopt_plan"): (("backlog_plan_by_target", BACKLOG_GUARD),)
    }

    rule_sources: ClassVar[Mapping[str, str]] = {
        "extra_guards": "seed:004 四 (2024年底前基本消除2023年及以前的重大事故隐患存量); inference",
    }
