"""hazardflow: the lifecycle of work-safety hazards (安全生产事故隐患) as Chinese regulation requires it.

发现 → 报告 → 挂牌督办 → 整改 → 审核销号, with escalation from a township's 全量库 to the upper tier's
蓄水池, deadlines in working days, the overdue ladder (函告 → 通报 → 约谈 → 曝光) and per-jurisdiction rules
written in Python. Start with :class:`Engine`.
"""

from typing import TYPE_CHECKING, Any

from ._audit import AuditReport, replay
from ._calendar import CalendarRule, ChineseWorkingCalendar, Deadline, DeadlineSpec, Delay, Roll, Unit
from ._clock import SimulatedClock, SystemClock
from ._engine import Engine, RunDueReport, SequentialIds
from ._exceptions import (
    CalendarDataMissing,
    CaseNotFoundError,
    CommandRefused,
    ConcurrentUpdateError,
    DatabaseReadOnly,
    DatabaseUnavailable,
    DefinitionError,
    EnsembleTaskFailed,
    GuardRejected,
    HazardflowError,
    InvalidInput,
    LifecycleDefinitionError,
    NotAuthorized,
    PersistenceError,
    PolicyDefinitionError,
    SchemaVersionError,
    StorageFull,
    TransitionNotAllowed,
    UnknownJurisdictionError,
    WebhookNotFoundError,
)
from ._jurisdiction import JurisdictionTree
from ._lifecycle import Field, LifecycleSpec, State, Transition, Workflow
from ._model import SYSTEM, Actor, AuditEvent, Case, GuardResult, Timer

if TYPE_CHECKING:
    from .abc import CommandContext

__version__ = "0.1.0"

__all__ = [
    "SYSTEM",
    "Actor",
    "AuditEvent",
    "AuditReport",
    "CalendarDataMissing",
    "CalendarRule",
    "Case",
    "CaseNotFoundError",
    "ChineseWorkingCalendar",
    "CommandContext",
    "CommandRefused",
    "ConcurrentUpdateError",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "Deadline",
    "DeadlineSpec",
    "DefinitionError",
    "Delay",
    "Engine",
    "EnsembleTaskFailed",
    "Field",
    "GuardRejected",
    "GuardResult",
    "HazardflowError",
    "InvalidInput",
    "JurisdictionTree",
    "LifecycleDefinitionError",
    "LifecycleSpec",
    "NotAuthorized",
    "PersistenceError",
    "PolicyDefinitionError",
    "Roll",
    "RunDueReport",
    "SchemaVersionError",
    "SequentialIds",
    "SimulatedClock",
    "State",
    "StorageFull",
    "SystemClock",
    "Timer",
    "Transition",
    "TransitionNotAllowed",
    "Unit",
    "UnknownJurisdictionError",
    "WebhookNotFoundError",
    "Workflow",
    "replay",
]


def __getattr__(name: str) -> Any:
    # The guard/effect contract lives in hazardflow.abc, loaded when first asked for: the engine never needs
    # it at run time (it is a typing.Protocol), so `import hazardflow` does not pay for it.
    if name == "CommandContext":
        from .abc import CommandContext

        return CommandContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
