"""Every error hazardflow raises, in one tree.

Each error carries a stable ``code`` (a host maps it to its own UI text) and structured fields; its message
names the thing, shows the value, states the rule and lists what is allowed, with the 中文 label beside
each identifier::

    HazardflowError                      hazardflow.error
    ├── InvalidInput                     hazardflow.invalid_input
    │   └── UnknownJurisdictionError     hazardflow.unknown_jurisdiction
    ├── CaseNotFoundError                hazardflow.case_not_found
    ├── WebhookNotFoundError             hazardflow.webhook_not_found
    ├── CommandRefused                   (abstract: a well-formed command the rules forbid)
    │   ├── TransitionNotAllowed         hazardflow.transition_not_allowed
    │   ├── NotAuthorized                hazardflow.not_authorized
    │   └── GuardRejected                hazardflow.guard_rejected
    ├── ConcurrentUpdateError            hazardflow.concurrent_update
    ├── DefinitionError                  (abstract: a bad lifecycle or policy, found at engine build)
    │   ├── LifecycleDefinitionError     hazardflow.lifecycle_definition
    │   └── PolicyDefinitionError        hazardflow.policy_definition
    ├── CalendarDataMissing              hazardflow.calendar_data_missing
    ├── EnsembleTaskFailed               hazardflow.ensemble_task_failed
    └── PersistenceError                 hazardflow.persistence
        ├── DatabaseUnavailable          hazardflow.database_unavailable
        ├── DatabaseReadOnly             hazardflow.database_read_only
        ├── StorageFull                  hazardflow.storage_full
        └── SchemaVersionError           hazardflow.schema_version

A refused command (anything raised by :meth:`hazardflow.Engine.fire` before it commits) leaves the case,
its audit log, its timers and the outbox exactly as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from ._glossary import describe

__all__ = [
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
]


#: How many characters of a value an error message shows (the rest is summarised by its length).
PREVIEW_CHARS = 60


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """A bounded ``repr`` of ``value`` for an error message: a long string shows its first ``limit``
    characters and its length, a big container its first items (``reprlib``), so a 10 MiB value never
    becomes a 10 MiB message."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value)} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() >= 200:
        return f"<an integer of {value.bit_length()} bits>"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    import reprlib

    r = reprlib.Repr()
    r.maxstring = r.maxother = r.maxlong = limit
    r.maxlevel = 3
    text = r.repr(value)
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "..."


def _on_case(case_id: str) -> str:
    return f"on case {preview(case_id)}" if case_id else "on a new case"


def _quote_list(kind: str, ids: Sequence[str], *, empty: str = "none") -> str:
    if not ids:
        return empty
    return ", ".join(describe(kind, i) for i in sorted(ids))


class HazardflowError(Exception):
    """Root of every error raised by hazardflow.

    ``code`` is stable across releases; ``message`` is an English sentence with the 中文 labels of the
    identifiers it names. Subclasses are attrs classes whose fields are the structured details.
    """

    code: ClassVar[str] = "hazardflow.error"

    @property
    def message(self) -> str:
        """The English message with the 中文 labels (the same as ``str(error)``)."""
        return str(self)

    def details(self) -> dict[str, Any]:
        """The structured fields of this error as a plain dict (for JSON responses and logs)."""
        if attrs.has(type(self)):
            return attrs.asdict(self, recurse=False)  # type: ignore[arg-type]
        return {}

    def __str__(self) -> str:
        return self._format()

    def _format(self) -> str:
        return super().__str__()


@attrs.define(auto_exc=True, eq=False)
class InvalidInput(HazardflowError):
    """A value does not fit the rule for its field. Nothing was changed."""

    code: ClassVar[str] = "hazardflow.invalid_input"

    field: str
    value: Any
    rule: str
    allowed: tuple[str, ...] = ()
    hint: str = ""
    #: Set to False when the value is confidential and must not appear in the message.
    show_value: bool = True
    #: ``"invalid"`` (a value breaks the rule), ``"missing"`` (a required field is absent) or ``"unknown"``
    #: (a field the command does not take).
    problem: str = "invalid"
    #: The glossary kind of the allowed values (``"source"``, ``"grade"``, ...): the message shows their 中文 labels.
    allowed_kind: str = ""

    def _format(self) -> str:
        if self.problem == "missing":
            msg = f"missing field {preview(self.field)}: {self.rule}"
        elif self.problem == "unknown":
            msg = f"unknown field {preview(self.field)}: {self.rule}"
        else:
            shown = preview(self.value) if self.show_value else "<confidential>"
            msg = f"invalid value for {preview(self.field)}: {shown}; {self.rule}"
        if self.allowed:
            if self.allowed_kind:
                shown_allowed = ", ".join(describe(self.allowed_kind, a) for a in self.allowed)
            else:
                shown_allowed = ", ".join(preview(a) for a in self.allowed)
            msg += f"; allowed: {shown_allowed}"
        if self.hint:
            msg += f"; {self.hint}"
        return msg


@attrs.define(auto_exc=True, eq=False)
class UnknownJurisdictionError(InvalidInput):
    """A jurisdiction code is not in the engine's jurisdiction tree."""

    code: ClassVar[str] = "hazardflow.unknown_jurisdiction"


@attrs.define(auto_exc=True, eq=False)
class CaseNotFoundError(HazardflowError):
    """No case has this id."""

    code: ClassVar[str] = "hazardflow.case_not_found"

    case_id: str

    def _format(self) -> str:
        return f"no case with id {preview(self.case_id)} (案件不存在)"


@attrs.define(auto_exc=True, eq=False)
class WebhookNotFoundError(HazardflowError):
    """No webhook subscription (or delivery) has this id."""

    code: ClassVar[str] = "hazardflow.webhook_not_found"

    kind: str
    id: str
    known: tuple[str, ...] = ()

    def _format(self) -> str:
        what = "webhook subscription (订阅)" if self.kind == "subscription" else "webhook delivery (投递)"
        msg = f"no {what} with id {self.id!r}"
        if self.kind == "subscription":
            msg += f"; known: {', '.join(self.known)}" if self.known else "; there are no subscriptions"
        return msg


class CommandRefused(HazardflowError):
    """A well-formed command that the lifecycle, the policy or authorization forbids."""


@attrs.define(auto_exc=True, eq=False)
class TransitionNotAllowed(CommandRefused):
    """The trigger does not exist, or is not possible from the case's current state."""

    code: ClassVar[str] = "hazardflow.transition_not_allowed"

    case_id: str
    trigger: str
    state: str
    workflow: str
    allowed: tuple[str, ...] = ()
    hint: str = ""
    #: False when the state has triggers but none is open to this actor on this case now.
    terminal: bool = True

    def _format(self) -> str:
        from ._glossary import has_label

        trig = describe("trigger", self.trigger) if has_label("trigger", self.trigger) else preview(self.trigger)
        empty = "none (terminal state)" if self.terminal else "none for this actor now"
        allowed = _quote_list("trigger", self.allowed, empty=empty)
        msg = (
            f"cannot fire {trig} {_on_case(self.case_id)}: it is in state {describe('state', self.state)}; "
            f"allowed here: {allowed}"
        )
        if self.hint:
            msg += f"; {self.hint}"
        return msg


@attrs.define(auto_exc=True, eq=False)
class NotAuthorized(CommandRefused):
    """The actor lacks a role, jurisdiction or organisation that the policy requires for this trigger."""

    code: ClassVar[str] = "hazardflow.not_authorized"

    case_id: str
    trigger: str
    actor_id: str
    actor_roles: tuple[str, ...]
    required_roles: tuple[str, ...]
    reason: str

    def _format(self) -> str:
        return (
            f"actor {preview(self.actor_id)} may not fire {describe('trigger', self.trigger)} "
            f"{_on_case(self.case_id)}: "
            f"{self.reason}; actor roles: {_quote_list('role', self.actor_roles)}; "
            f"roles the policy allows: {_quote_list('role', self.required_roles)}"
        )


@attrs.define(auto_exc=True, eq=False)
class GuardRejected(CommandRefused):
    """A named rule of the lifecycle or of the jurisdiction's policy refused the command."""

    code: ClassVar[str] = "hazardflow.guard_rejected"

    case_id: str
    trigger: str
    guard: str
    reason_zh: str
    reason_en: str

    def _format(self) -> str:
        return (
            f"cannot fire {describe('trigger', self.trigger)} {_on_case(self.case_id)}: rule "
            f"{self.guard!r} refused: {self.reason_en} ({self.reason_zh})"
        )


@attrs.define(auto_exc=True, eq=False)
class ConcurrentUpdateError(HazardflowError):
    """Another command changed the case first (optimistic concurrency). Nothing was written; retry."""

    code: ClassVar[str] = "hazardflow.concurrent_update"

    case_id: str
    expected_rev: int
    detail: str = ""

    def _format(self) -> str:
        msg = (
            f"case {preview(self.case_id)} was changed by another command since revision {self.expected_rev} "
            "was read (并发修改); nothing was written, reload and retry"
        )
        if self.detail:
            msg += f" ({self.detail})"
        return msg


class DefinitionError(HazardflowError):
    """A lifecycle or policy definition is inconsistent; found when the engine is built."""


@attrs.define(auto_exc=True, eq=False)
class LifecycleDefinitionError(DefinitionError):
    """A lifecycle table has problems; every problem is listed."""

    code: ClassVar[str] = "hazardflow.lifecycle_definition"

    workflow: str
    problems: tuple[str, ...]

    def _format(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"lifecycle {self.workflow!r} has {len(self.problems)} problem(s):\n{lines}"


@attrs.define(auto_exc=True, eq=False)
class PolicyDefinitionError(DefinitionError):
    """A jurisdiction policy has problems; every problem is listed."""

    code: ClassVar[str] = "hazardflow.policy_definition"

    policy: str
    problems: tuple[str, ...]

    def _format(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"policy {self.policy!r} has {len(self.problems)} problem(s):\n{lines}"


@attrs.define(auto_exc=True, eq=False)
class CalendarDataMissing(HazardflowError):
    """The working calendar has no holiday data for a year and is configured to refuse."""

    code: ClassVar[str] = "hazardflow.calendar_data_missing"

    year: int
    covered: tuple[int, int]
    hint: str = (
        "upgrade the chinesecalendar package once the State Council publishes that year's holiday notice, "
        "add the year's holidays to the jurisdiction's calendar, or configure missing_year='weekdays' "
        "to fall back to Monday-Friday and mark deadlines provisional"
    )

    def _format(self) -> str:
        return (
            f"no holiday data for year {self.year} (缺少节假日数据); covered years: "
            f"{self.covered[0]}-{self.covered[1]}; {self.hint}"
        )


@attrs.define(auto_exc=True, eq=False)
class PersistenceError(HazardflowError):
    """The store could not complete an operation. Nothing partial was written."""

    code: ClassVar[str] = "hazardflow.persistence"

    url: str
    detail: str

    def _format(self) -> str:
        return f"{self._what()} ({self.url}): {self.detail}"

    def _what(self) -> str:
        return "database error"


@attrs.define(auto_exc=True, eq=False)
class DatabaseUnavailable(PersistenceError):
    """The database cannot be reached or opened."""

    code: ClassVar[str] = "hazardflow.database_unavailable"

    def _what(self) -> str:
        return "database unavailable (数据库不可用)"


@attrs.define(auto_exc=True, eq=False)
class DatabaseReadOnly(PersistenceError):
    """The database (or its file) refuses writes."""

    code: ClassVar[str] = "hazardflow.database_read_only"

    def _what(self) -> str:
        return "database is read-only (数据库只读)"


@attrs.define(auto_exc=True, eq=False)
class StorageFull(PersistenceError):
    """The disk or the database is full."""

    code: ClassVar[str] = "hazardflow.storage_full"

    def _what(self) -> str:
        return "storage full (存储空间不足)"


@attrs.define(auto_exc=True, eq=False)
class SchemaVersionError(PersistenceError):
    """The database schema is missing, older than this release expects, or newer than it knows."""

    code: ClassVar[str] = "hazardflow.schema_version"

    def _what(self) -> str:
        return "database schema version mismatch (数据库结构版本不符)"


@attrs.define(auto_exc=True, eq=False)
class EnsembleTaskFailed(HazardflowError):
    """One seed of a simulation ensemble (one county of it, when partitioned) could not be run: its worker
    died every time it was started, or the cluster gave up on it. The seeds already run are not kept."""

    code: ClassVar[str] = "hazardflow.ensemble_task_failed"

    seed: int
    partition: int | None
    attempts: int
    reason: str

    def _format(self) -> str:
        where = "" if self.partition is None else f" (partition {self.partition})"
        return (
            f"seed {self.seed}{where} of the ensemble failed after {self.attempts} attempt(s): {self.reason}; "
            "run it alone with `hazardflow simulate SCENARIO --seed "
            f"{self.seed}` to see why"
        )
