"""The national three-year campaign (安全生产治本攻坚三年行动, 2024-2026) that seeds 000, 001 and 004 implement.

Its three targets are the same in every local plan: the backlog of major hazards found in 2023 or earlier is
basically cleared by the end of 2024, the inflow is curbed by the end of 2025, and a standing mechanism keeps
major hazards at zero from the end of 2026 [S16; seed:000 一(二); seed:001 一(二); seed:004 四].
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from hazardflow.policies import Milestone

__all__ = ["CAMPAIGN_MILESTONES", "RootCauseCampaign"]

CAMPAIGN_MILESTONES = (
    Milestone(
        "backlog_cleared",
        "基本消除2023年及以前排查发现的重大事故隐患存量",
        "backlog of major hazards found in 2023 or earlier basically cleared",
        date(2024, 12, 31),
        "S16; seed:000 一(二); seed:001 一(二); seed:004 四",
    ),
    Milestone(
        "inflow_curbed",
        "有效遏制重大事故隐患增量",
        "inflow of new major hazards curbed",
        date(2025, 12, 31),
        "S16; seed:000 一(二); seed:001 一(二); seed:004 四",
    ),
    Milestone(
        "dynamic_zeroing",
        "形成重大事故隐患动态清零的常态化机制",
        "standing mechanism keeps major hazards at zero",
        date(2026, 12, 31),
        "S16; seed:000 一(二); seed:001 一(二); seed:004 四",
    ),
)


class RootCauseCampaign:
    """A mixin for the layer that adopts the campaign plan: its three dated targets."""

    layer_label: ClassVar[str] = "治本攻坚三年行动（S16）"

    milestones: ClassVar[tuple[Milestone, ...]] = CAMPAIGN_MILESTONES
