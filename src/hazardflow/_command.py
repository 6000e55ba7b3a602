"""One command's working parts: the context guards and effects see, the unit of work, and their helpers.

:class:`CommandContext` is the concrete object the engine hands to guards and effects (policy authors program
against :class:`hazardflow.abc.CommandContext`, the Protocol it satisfies); :class:`_UnitOfWork` holds the
writes of one command or one batch with read-your-writes; :func:`_command_hash` is the fingerprint stored beside
an idempotency key; :func:`check_import_record` checks the arguments of :meth:`Engine.import_case
<hazardflow.Engine.import_case>` that do not need the policy. The command path itself is in ``_engine``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from ._audit import canonical_json
from ._calendar import Deadline, DeadlineSpec, resolve
from ._checks import check_text, close_match, json_text_problem
from ._exceptions import InvalidInput, preview
from ._glossary import describe
from ._lifecycle import CompiledLifecycle
from ._model import EMPTY, LADDER_FIELD, Actor, Case, FrozenDict, Timer, Write

if TYPE_CHECKING:
    from ._engine import Engine
    from .abc import JurisdictionPolicy, Store


__all__ = ["CommandContext", "SequentialIds", "check_import_record"]


class _Row:
    """The scratch row the shared machine moves (it only sets ``state``)."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


@attrs.define(slots=True)
class _FollowUp:
    case_id: str
    trigger: str
    payload: Mapping[str, Any]


@attrs.define(slots=True)
class _Spawn:
    workflow: str
    jurisdiction: str
    fields: Mapping[str, Any]
    link_field: str | None


@attrs.frozen
class _ImportRecord:
    """The checked record of :meth:`Engine.import_case`: where it came from and what it carries."""

    state: str
    origin: Mapping[str, Any]
    facts: Mapping[str, Any]
    pins: Mapping[str, date]
    registered_on: date | None
    closed_on: date | None

    def to_json(self) -> dict[str, Any]:
        """The case's ``imported`` field: the origin, the state imported into and the record's own days."""
        out: dict[str, Any] = {**self.origin, "state": self.state}
        if self.registered_on is not None:
            out["registered_on"] = self.registered_on.isoformat()
        if self.closed_on is not None:
            out["closed_on"] = self.closed_on.isoformat()
        return out


def _json_problem(value: Any, depth: int = 0) -> str:
    """Why ``value`` is not a JSON value a case field may hold ("" when it is)."""
    if depth > 8:
        return "nests too deeply (at most 8 levels)"
    if value is None or isinstance(value, str | bool | int):
        return ""
    if isinstance(value, float):
        return "" if math.isfinite(value) else "must be a finite number"
    if isinstance(value, Mapping):
        for k, item in value.items():
            if not isinstance(k, str):
                return f"has the key {k!r}; keys must be strings"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return ""
    if isinstance(value, list | tuple):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return ""
    return f"holds a {type(value).__name__}; only strings, numbers, booleans, None, lists and mappings"


class CommandContext:
    """What a guard or an effect sees of the command, and where effects write what they change.

    Guards read ``case``, ``actor``, ``role`` (the role that authorized the actor), ``policy``, ``payload``
    and ``now``. Effects write field updates into ``updates``, pin deadlines in ``pins`` (or with
    :meth:`pin`), and may ask for follow-up commands on linked cases (:meth:`follow`) or open linked cases
    (:meth:`spawn`), all in the same transaction.

    The containers an effect seldom needs (``pins``, ``follow_ups``, ``spawns``, ``confidential``,
    ``spawned``) are made on first use, so a command that needs none of them builds none.
    """

    __slots__ = (
        "_confidential",
        "_follow_ups",
        "_pins",
        "_spawned",
        "_spawns",
        "actor",
        "case",
        "engine",
        "now",
        "opening",
        "owning_jurisdiction",
        "parent",
        "payload",
        "policy",
        "policy_pin",
        "restage",
        "restaged_deadline",
        "role",
        "rung",
        "set_overdue",
        "timer",
        "trigger",
        "uow",
        "updates",
    )

    engine: Engine
    uow: _UnitOfWork
    case: Case
    actor: Actor
    policy: JurisdictionPolicy
    now: datetime
    trigger: str
    payload: FrozenDict
    role: str
    opening: bool
    parent: CommandContext | None
    timer: Timer | None
    updates: dict[str, Any]
    owning_jurisdiction: str | None
    set_overdue: bool
    rung: int | None
    #: Re-pin the case to another chain of policy layers, national first (``migrate_policy`` only); the
    #: change is written to the case and recorded in the event's ``changes``.
    policy_pin: tuple[tuple[str, str], ...] | None
    #: Replace the running stage deadline with ``restaged_deadline`` (None: the stage runs no deadline any
    #: more); old timers are cancelled and the new deadline's timers armed under the pinned policy.
    restage: bool
    restaged_deadline: Deadline | None
    _pins: dict[str, Deadline] | None
    _follow_ups: list[_FollowUp] | None
    _spawns: list[_Spawn] | None
    _confidential: dict[str, Any] | None
    _spawned: list[Case] | None

    def __init__(
        self,
        engine: Engine,
        uow: _UnitOfWork,
        case: Case,
        actor: Actor,
        policy: JurisdictionPolicy,
        now: datetime,
        trigger: str,
        payload: FrozenDict = EMPTY,
        role: str = "",
        opening: bool = False,
        parent: CommandContext | None = None,
        timer: Timer | None = None,
    ) -> None:
        self.engine = engine
        self.uow = uow
        self.case = case
        self.actor = actor
        self.policy = policy
        self.now = now
        self.trigger = trigger
        self.payload = payload
        self.role = role
        self.opening = opening
        self.parent = parent
        self.timer = timer
        self.updates = {}
        self.owning_jurisdiction = None
        self.set_overdue = False
        self.rung = None
        self.policy_pin = None
        self.restage = False
        self.restaged_deadline = None
        self._pins = self._follow_ups = self._spawns = self._confidential = self._spawned = None

    def __repr__(self) -> str:
        return f"CommandContext(case={self.case.id!r}, trigger={self.trigger!r}, actor={self.actor.id!r})"

    @property
    def pins(self) -> dict[str, Deadline]:
        """Deadlines this command pins, by stage key (see :meth:`pin`)."""
        if self._pins is None:
            self._pins = {}
        return self._pins

    @property
    def follow_ups(self) -> list[_FollowUp]:
        """Commands on linked cases to fire after this one, in the same transaction (see :meth:`follow`)."""
        if self._follow_ups is None:
            self._follow_ups = []
        return self._follow_ups

    @property
    def spawns(self) -> list[_Spawn]:
        """Linked cases to open in the same transaction (see :meth:`spawn`)."""
        if self._spawns is None:
            self._spawns = []
        return self._spawns

    @property
    def confidential(self) -> dict[str, Any]:
        """Confidential values the command stores apart from the case and its events."""
        if self._confidential is None:
            self._confidential = {}
        return self._confidential

    @property
    def spawned(self) -> list[Case]:
        """The cases :meth:`spawn` opened, once they are open."""
        return self._spawned if self._spawned is not None else []

    def field(self, name: str, default: Any = None) -> Any:
        """A case field as it will be after this command's updates so far."""
        if name in self.updates:
            return self.updates[name]
        return self.case.fields.get(name, default)

    def load(self, case_id: str) -> Case | None:
        """Read another case (seeing writes made earlier in the same unit of work)."""
        return self.uow.load(case_id)

    def pin(self, key: str, spec: DeadlineSpec, *, start: datetime | None = None) -> Deadline:
        """Pin the deadline ``key`` (e.g. the rectification date an order or plan sets).

        The spec is resolved from ``start`` (default: now; a reporting obligation counts from the start of
        its period) with the policy's calendar; the case stores the spec and the resolved instant.
        """
        begin = self.now if start is None else start
        r = resolve(spec, begin, self.policy.calendar)
        d = Deadline(key, r.due_at, spec, begin.astimezone(UTC), r.provisional)
        self.pins[key] = d
        return d

    def follow(self, case_id: str, trigger: str, payload: Mapping[str, Any]) -> None:
        """Fire ``trigger`` on a linked case as the system, in the same transaction."""
        self.follow_ups.append(_FollowUp(case_id, trigger, payload))

    def spawn(
        self, workflow: str, jurisdiction: str, fields: Mapping[str, Any], *, link_field: str | None = None
    ) -> None:
        """Open a linked case in the same transaction; its id is written to ``link_field`` of this case."""
        self.spawns.append(_Spawn(workflow, jurisdiction, fields, link_field))


def _deadline_change(deadline: Deadline | None, pins: Mapping[str, Deadline]) -> Any:
    """A deadline in an event's ``changes``: a reference to the pin it is, or its JSON form."""
    if deadline is None:
        return None
    if pins.get(deadline.key) == deadline:
        return {"pin": deadline.key}
    return deadline.to_json()


class SequentialIds:
    """Deterministic case ids ``HZ-000001``, ... (simulations, tests, imports with their own numbering).

    ``taken`` (for instance ``lambda i: store.load_case(i) is not None``) makes the numbering skip ids already
    in use, so a script run again on the database it wrote before numbers its new cases after the old ones.
    """

    def __init__(self, width: int = 6, *, taken: Callable[[str], bool] | None = None) -> None:
        self._n = 0
        self._width = width
        self._taken = taken
        self._lock = threading.Lock()

    def __call__(self, prefix: str, now: datetime) -> str:
        with self._lock:
            while True:
                self._n += 1
                case_id = f"{prefix}-{self._n:0{self._width}d}"
                if self._taken is None or not self._taken(case_id):
                    return case_id


def _random_id(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now.year}-{uuid.uuid4().hex[:12].upper()}"


class _UnitOfWork:
    """Writes of one command (or one batch) with read-your-writes over its parent and the store.

    A command inside a batch gets a child unit: its writes join the batch only when the command is
    accepted, so a refused command leaves the batch exactly as it was.
    """

    __slots__ = ("cases", "idem", "parent", "store", "writes")

    def __init__(self, store: Store, parent: _UnitOfWork | None = None) -> None:
        self.store = store
        self.parent = parent
        self.writes: list[Write] = []
        self.cases: dict[str, Case] = {}
        #: Idempotency keys written by this unit (made on the first one: most commands carry none).
        self.idem: dict[tuple[str, str], tuple[str, int, str]] | None = None

    def load(self, case_id: str) -> Case | None:
        hit = self.cases.get(case_id)
        if hit is not None:
            return hit
        if self.parent is not None:
            return self.parent.load(case_id)
        return self.store.load_case(case_id)

    def exists(self, case_id: str) -> bool:
        if case_id in self.cases:
            return True
        if self.parent is not None:
            return self.parent.exists(case_id)
        return self.store.has_case(case_id)

    def idempotent(self, scope: str, key: str) -> tuple[str, int, str] | None:
        if self.idem is not None:
            hit = self.idem.get((scope, key))
            if hit is not None:
                return hit
        if self.parent is not None:
            return self.parent.idempotent(scope, key)
        return self.store.lookup_idempotency(scope, key)

    def add(self, write: Write) -> None:
        self.writes.append(write)
        self.cases[write.case.id] = write.case
        if write.idempotency_key is not None and write.command_hash is not None:
            assert write.idempotency_scope is not None
            if self.idem is None:
                self.idem = {}
            self.idem[(write.idempotency_scope, write.idempotency_key)] = (
                write.case.id,
                write.event.seq,
                write.command_hash,
            )

    def merge_into_parent(self) -> None:
        assert self.parent is not None
        parent = self.parent
        parent.writes.extend(self.writes)
        parent.cases.update(self.cases)
        if self.idem:
            if parent.idem is None:
                parent.idem = {}
            parent.idem.update(self.idem)


def _ladder_progress(fields: Mapping[str, Any], deadline: Deadline) -> tuple[int, datetime]:
    """``(rungs already applied, anchor of the next rung)`` for ``deadline``: ``(0, due_at)`` when fresh."""
    entry = (fields.get(LADDER_FIELD) or {}).get(deadline.key)
    if not entry or not entry.get("due_at") or datetime.fromisoformat(entry["due_at"]) != deadline.due_at:
        return 0, deadline.due_at
    rung_due = entry.get("rung_due_at")
    return int(entry.get("rung", 0)), datetime.fromisoformat(rung_due) if rung_due else deadline.due_at


def _command_hash(
    trigger: str,
    payload: Mapping[str, Any] | None,
    sensitive: frozenset[str] = frozenset(),
    secret: bytes = b"",
) -> str:
    """The fingerprint of a command stored beside its idempotency key (a replay must match it).

    Confidential values (a reporter's name or phone) never enter it as such: a plain hash of a short, guessable
    value would let anyone holding the idempotency table confirm a guess. They enter as one HMAC-SHA-256
    digest keyed with ``secret`` (derived from the engine's audit key), so a different reporter under the same
    key is a different command, refused, and never silently dropped.
    """
    data = payload or {}
    body = {k: ("<confidential>" if k in sensitive else v) for k, v in data.items()}
    doc: dict[str, Any] = {"trigger": trigger, "payload": body}
    if sensitive:
        hidden = {k: v for k, v in data.items() if k in sensitive}
        if hidden:
            doc["confidential"] = hmac.new(secret, canonical_json(hidden).encode(), hashlib.sha256).hexdigest()
    raw = canonical_json(doc)
    return hashlib.sha256(raw.encode()).hexdigest()


def check_import_record(
    lc: CompiledLifecycle,
    state: str,
    origin: Mapping[str, Any],
    facts: Mapping[str, Any] | None,
    pins: Mapping[str, date] | None,
    registered_on: date | None,
    closed_on: date | None,
    fields: Mapping[str, Any],
) -> _ImportRecord:
    """The checked arguments of :meth:`import_case` that do not need the policy."""
    if not isinstance(state, str) or state not in lc.states:
        known = tuple(lc.states)
        close = close_match(state, known) if isinstance(state, str) else None
        raise InvalidInput(
            "state",
            state,
            f"is not a state of workflow {lc.id!r}",
            known,
            f"did you mean {close!r}?" if close else "",
        )
    spec = lc.states[state]
    if not isinstance(origin, Mapping):
        raise InvalidInput("origin", type(origin).__name__, "must be a mapping with the record's 'file' and 'row'")
    allowed = {"file", "row", "sheet", "fingerprint"}
    unknown = sorted(set(origin) - allowed)
    if unknown:
        raise InvalidInput("origin", unknown[0], "is not a key of an import origin", tuple(sorted(allowed)))
    src: dict[str, Any] = {}
    for key in ("file", "sheet", "fingerprint"):
        value = origin.get(key)
        if value is None:
            if key == "file":
                raise InvalidInput("origin.file", None, "is required: the name of the file the record comes from")
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > 255:
            raise InvalidInput(f"origin.{key}", value, "must be a non-empty string of at most 255 characters")
        src[key] = check_text(f"origin.{key}", value)
    row = origin.get("row")
    if isinstance(row, bool) or not isinstance(row, int) or row < 1:
        raise InvalidInput("origin.row", row, "must be the record's row number (an integer from 1)")
    src["row"] = row
    for name, day in (("registered_on", registered_on), ("closed_on", closed_on)):
        if day is not None and (not isinstance(day, date) or isinstance(day, datetime)):
            raise InvalidInput(name, day, "must be a datetime.date (a calendar day) or None")
    if not spec.terminal and closed_on is not None:
        raise InvalidInput(
            "closed_on", closed_on, f"is only for a terminal state; {describe('state', state)} is still open"
        )
    if registered_on is not None and closed_on is not None and closed_on < registered_on:
        raise InvalidInput("closed_on", closed_on.isoformat(), f"is before registered_on {registered_on.isoformat()}")
    taken = {f.name for f in lc.opener.payload} | {"imported", "registered_by"}
    extra: dict[str, Any] = {}
    for key, value in (facts or {}).items():
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 64:
            raise InvalidInput("facts", key, "every key must be a field name (an identifier of at most 64 characters)")
        if key in taken or key in fields:
            raise InvalidInput(
                f"facts.{key}", value, "is a registration field or kept by the engine; pass it as a field"
            )
        problem = json_text_problem(value, f"facts.{key}") or _json_problem(value)
        if problem:
            raise InvalidInput(f"facts.{key}", preview(value), problem)
        extra[key] = value
    dated: dict[str, date] = {}
    keys = {s.deadline for s in lc.states.values() if s.deadline}
    for key, day in (pins or {}).items():
        if key not in keys:
            raise InvalidInput("pins", key, f"is not a deadline key of workflow {lc.id!r}", tuple(sorted(keys)))
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInput(f"pins.{key}", day, "must be a datetime.date (the last day)")
        dated[key] = day
    return _ImportRecord(state, src, extra, dated, registered_on, closed_on)
