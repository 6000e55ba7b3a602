"""Rule changes to compare against the example scenarios (``hazardflow simulate ... --compare variants.py:Name``).

Each class changes one rule of a seed jurisdiction's policy and keeps its jurisdiction, so ``--compare`` puts it
in place of the original; its ``policy_version`` says what changed, and every audit event of the run records it.

* :class:`SanjiaFastReview`: 三甲镇 reviews a submitted fix within 5 working days instead of 10 days::

      hazardflow simulate examples/scenarios/sanjia_2024_2026.py --seed 1 \\
          --compare examples/scenarios/variants.py:SanjiaFastReview

* :class:`SanjiaQuickLadder`: 三甲镇's overdue ladder moves from 函告 to 通报 and 约谈 after 3 working days each
  (the national baseline waits 10)::

      hazardflow simulate examples/scenarios/sanjia_2024_2026.py --seed 1 \\
          --compare examples/scenarios/variants.py:SanjiaQuickLadder
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from hazardflow_seed_policies import SanjiaTown

from hazardflow import DeadlineSpec, Delay, Unit
from hazardflow.policies import Rung

__all__ = ["SanjiaFastReview", "SanjiaQuickLadder"]


class SanjiaFastReview(SanjiaTown):
    """三甲镇 with the review of a submitted fix due within 5 working days (instead of 10 days) [variant]."""

    policy_version: ClassVar[str] = "2024.1+review-5wd"
    deadlines: ClassVar[Mapping[str, DeadlineSpec | None]] = {
        **SanjiaTown.deadlines,
        "review": DeadlineSpec.working_days(5, source="variant"),
    }


class SanjiaQuickLadder(SanjiaTown):
    """三甲镇 with a faster overdue ladder: each rung 3 working days after the previous one [variant]."""

    policy_version: ClassVar[str] = "2024.1+ladder-3wd"
    overdue_ladder: ClassVar[tuple[Rung, ...]] = tuple(
        Rung(r.sanction, Delay(0) if i == 0 else Delay(3, Unit.WORKING_DAY), r.party, "variant")
        for i, r in enumerate(SanjiaTown.overdue_ladder)
    )
