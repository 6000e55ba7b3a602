"""Fire-safety rules: the working-day limits of 《消防监督检查规定》(公安部令第120号) §19-22 [S10].

Mix :class:`FireSafetyRules` in front of a jurisdiction's policy to apply them to cases of the ``fire_safety``
industry (everything else keeps the jurisdiction's own rules)::

    class SanxingTownship(FireSafetyRules, ShizhuCounty):
        ...

S10 counts in 工作日, explicitly (DOMAIN §f item 2):

* §19: the 责令限期改正通知书 is served within 3 working days of the inspection (``fire_order_notice``);
* §20: the re-check after the deadline or on the unit's request happens within 3 working days (``review``);
* §21: a possible major fire hazard is studied collectively and a handling opinion given within 7 working days
  of the inspection, plus 10 when experts are convened (``confirm``; the case field ``experts_convened``
  adds the 10); the written report to the same-level government falls inside those 7 working days
  (``report``); the 重大火灾隐患整改通知书 is served within 3 working days of the decision
  (``fire_rectification_notice``);
* §22: a hazard that seriously threatens public safety and cannot be removed at once may be sealed
  temporarily (临时查封), which the lifecycle records as a partial stop (``order_stop`` by ``fire_rescue``).

Mapping the §21 report onto the ``reporting`` stage of a major hazard is our reading [inference]: S10's report
is the fire agency's to the government, the unit's own dual report [S3 §41] runs in the same stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from .._calendar import DeadlineSpec

if TYPE_CHECKING:
    from .._model import Case

__all__ = ["FIRE_INDUSTRY", "FIRE_LIMITS", "FireSafetyRules"]

#: The industry id the fire rules apply to.
FIRE_INDUSTRY = "fire_safety"

#: S10's limits by deadline key.
FIRE_LIMITS: Mapping[str, DeadlineSpec] = MappingProxyType(
    {
        "fire_order_notice": DeadlineSpec.working_days(3, source="S10 §19"),
        "review": DeadlineSpec.working_days(3, source="S10 §20"),
        "confirm": DeadlineSpec.working_days(7, source="S10 §21"),
        "report": DeadlineSpec.working_days(7, source="S10 §21; inference"),
        "fire_rectification_notice": DeadlineSpec.working_days(3, source="S10 §21"),
    }
)

#: §21: convening experts adds 10 working days to the 7 for the handling opinion.
EXPERT_CONFIRM = DeadlineSpec.working_days(17, source="S10 §21 (7 + 10 with experts)")


class FireSafetyRules:
    """A mixin: S10's working-day limits for ``fire_safety`` cases, in front of any jurisdiction's policy."""

    #: How ``hazardflow policy show`` names this layer.
    layer_label: ClassVar[str] = "消防监督检查规定（S10）"
    #: The S10 limits this mixin answers (for rendering and validation).
    fire_limits: ClassVar[Mapping[str, DeadlineSpec]] = FIRE_LIMITS
    #: Fire cases are led by the fire rescue agency [S10 §21; S11 §55 verify].
    fire_lead_department: ClassVar[str] = "fire_department"

    def deadline(self, key: str, case: Case) -> DeadlineSpec | None:
        if case.fields.get("industry") == FIRE_INDUSTRY:
            if key == "confirm" and case.fields.get("experts_convened"):
                return EXPERT_CONFIRM
            spec = self.fire_limits.get(key)
            if spec is not None:
                return spec
        parent: Any = super()
        result: DeadlineSpec | None = parent.deadline(key, case)
        return result

    def lead_department(self, industry: str) -> str | None:
        if industry == FIRE_INDUSTRY:
            return self.fire_lead_department
        parent: Any = super()
        result: str | None = parent.lead_department(industry)
        return result
