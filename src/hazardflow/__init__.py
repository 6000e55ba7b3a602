"""hazardflow: the lifecycle of work-safety hazards (安全生产事故隐患) as Chinese regulation requires it.

发现 → 报告 → 挂牌督办 → 整改 → 审核销号, with escalation from a township's 全量库 to the upper tier's
蓄水池, deadlines in working days, the overdue ladder (函告 → 通报 → 约谈 → 曝光) and per-jurisdiction rules
written in Python. Start with :class:`Engine`.
"""

from __future__ import annotations

import importlib

# Not ``typing.TYPE_CHECKING``: importing ``typing`` would cost ``import hazardflow`` more than all the rest
# (type checkers treat any name ``TYPE_CHECKING`` as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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


#: Where each public name lives. ``import hazardflow`` loads none of them: a name is imported from its module
#: the first time it is asked for (``hazardflow.Engine``, ``from hazardflow import Engine``), so a program
#: (or a CLI command) pays only for the parts it uses. ``from hazardflow import *`` loads them all.
_HOMES = {
    **dict.fromkeys(("AuditReport", "replay"), "._audit"),
    **dict.fromkeys(
        ("CalendarRule", "ChineseWorkingCalendar", "Deadline", "DeadlineSpec", "Delay", "Roll", "Unit"), "._calendar"
    ),
    **dict.fromkeys(("SimulatedClock", "SystemClock"), "._clock"),
    **dict.fromkeys(("Engine", "RunDueReport", "SequentialIds"), "._engine"),
    **dict.fromkeys(
        (
            "CalendarDataMissing",
            "CaseNotFoundError",
            "CommandRefused",
            "ConcurrentUpdateError",
            "DatabaseReadOnly",
            "DatabaseUnavailable",
            "DefinitionError",
            "EnsembleTaskFailed",
            "GuardRejected",
            "HazardflowError",
            "InvalidInput",
            "LifecycleDefinitionError",
            "NotAuthorized",
            "PersistenceError",
            "PolicyDefinitionError",
            "SchemaVersionError",
            "StorageFull",
            "TransitionNotAllowed",
            "UnknownJurisdictionError",
            "WebhookNotFoundError",
        ),
        "._exceptions",
    ),
    "JurisdictionTree": "._jurisdiction",
    **dict.fromkeys(("Field", "LifecycleSpec", "State", "Transition", "Workflow"), "._lifecycle"),
    **dict.fromkeys(("SYSTEM", "Actor", "AuditEvent", "Case", "GuardResult", "Timer"), "._model"),
    # The guard/effect contract: a typing.Protocol the engine never needs at run time.
    "CommandContext": ".abc",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
