"""The lifecycle tables shipped with hazardflow.

* :data:`~hazardflow.workflows.hazard.HAZARD` - the hazard case (发现 → 报告 → 挂牌督办 → 整改 → 审核销号)
* :data:`~hazardflow.workflows.tipoff.TIPOFF` - a tip-off (举报受理 → 核查 → 查实转隐患 | 不属实 | 合并)
* :data:`~hazardflow.workflows.escalation.ESCALATION` - 全量库 → 蓄水池 (提请 → 纳入审批 → 上级接收 | 退回)
* :data:`~hazardflow.workflows.obligation.OBLIGATION` - a periodic report a party owes (报送任务: 待报送 → 已报送)
"""

from __future__ import annotations

from .._lifecycle import Workflow
from .escalation import ESCALATION
from .hazard import HAZARD
from .obligation import OBLIGATION
from .tipoff import TIPOFF

__all__ = ["ESCALATION", "HAZARD", "OBLIGATION", "TIPOFF", "default_workflows"]


def default_workflows() -> tuple[Workflow, ...]:
    """Every workflow an :class:`~hazardflow.Engine` runs unless told otherwise."""
    return (HAZARD, TIPOFF, ESCALATION, OBLIGATION)
