"""The lifecycle tables shipped with hazardflow.

* :data:`~hazardflow.workflows.hazard.HAZARD` - the hazard case (发现 → 报告 → 挂牌督办 → 整改 → 审核销号)
"""

from __future__ import annotations

from .._lifecycle import Workflow
from .hazard import HAZARD

__all__ = ["HAZARD", "default_workflows"]


def default_workflows() -> tuple[Workflow, ...]:
    """Every workflow an :class:`~hazardflow.Engine` runs unless told otherwise."""
    return (HAZARD,)
