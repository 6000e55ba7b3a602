"""Immutable domain objects: actors, cases, audit events, timers, and the write set of one command."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, NoReturn

import attrs

from ._calendar import Deadline, local_repr

__all__ = [
    "LADDER_FIELD",
    "SYSTEM",
    "Actor",
    "AuditEvent",
    "Case",
    "FrozenDict",
    "GuardResult",
    "Timer",
    "Write",
    "freeze",
    "thaw",
]

#: The case field where the overdue ladder's progress per deadline key is kept: ``{key: {"due_at", "rung",
#: "rung_due_at"}}``. The timer rows (``workflows._common``) write it; the engine reads it to arm the next rung.
LADDER_FIELD = "overdue_ladder"


class FrozenDict(dict[str, Any]):
    """A dict that refuses changes. JSON-serialisable as a plain object; values are frozen too."""

    __slots__ = ()

    def _refuse(self, *_: object, **__: object) -> NoReturn:
        raise TypeError("case fields are immutable snapshots; fire a command to change them")

    __setitem__ = _refuse
    __delitem__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


EMPTY: FrozenDict = FrozenDict()


def freeze(value: Any) -> Any:
    """Deep-freeze a JSON-like value: dicts become :class:`FrozenDict`, lists become tuples."""
    t = type(value)
    if t is str or t is int or t is bool or t is float or value is None or t is FrozenDict:
        return value  # the values commands carry, by far: already immutable
    if isinstance(value, FrozenDict):
        return value
    if isinstance(value, dict):
        return FrozenDict({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Inverse of :func:`freeze`: plain dicts and lists (for JSON and for users who want to edit)."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


def _roles(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)


@attrs.frozen(slots=True)
class Actor:
    """Who fires a command: a person (or the system) with roles, an organisation and a jurisdiction.

    ``org`` is the organisation the person acts for: a business unit's id for enterprise roles, a
    department or government office for government roles. ``jurisdiction`` is an administrative-division
    code (6-digit county, 9/12-digit township); government roles act within its subtree.
    """

    id: str
    name: str
    roles: frozenset[str] = attrs.field(converter=_roles)
    org: str
    jurisdiction: str


#: The engine itself, used for timer firings and follow-up commands. Never give these roles to a person.
SYSTEM = Actor("system", "系统", frozenset({"system"}), "hazardflow", "000000")


@attrs.frozen(slots=True)
class GuardResult:
    """The answer of a guard: allowed, or refused with the reason in Chinese and English."""

    ok: bool
    reason_zh: str = ""
    reason_en: str = ""

    @classmethod
    def allow(cls) -> GuardResult:
        """The rule holds."""
        return _ALLOW

    @classmethod
    def deny(cls, reason_zh: str, reason_en: str) -> GuardResult:
        """The rule refuses, saying why in Chinese and English (shown in :class:`~hazardflow.GuardRejected`)."""
        return cls(False, reason_zh, reason_en)

    def __bool__(self) -> bool:
        return self.ok


_ALLOW = GuardResult(True)


@attrs.frozen(slots=True, weakref_slot=False)
class Case:
    """An immutable snapshot of one case at revision ``rev``.

    ``state`` is the lifecycle state; ``fields`` holds the workflow's facts (grade, industry, the report
    recipients reached, the listing, the plan, who rectified and who submitted, ...), deep-frozen.
    ``deadline`` is the stage deadline now running (spec + resolved instant), ``overdue`` says it has
    passed, ``sanction_rung`` is the highest rung of the overdue ladder ever reached (0 = none).
    ``owning_jurisdiction`` is the tier that supervises the case (it moves up on an accepted escalation).
    ``pins`` holds the deadlines a command fixed for a stage key (the rectification date of an order, a plan,
    an extension); when the stage running now is pinned, ``deadline`` is the very same object.
    ``policy_chain`` is the ``(policy_id, policy_version)`` of every policy layer the case is pinned to,
    national first (``policy_id``/``policy_version`` name the nearest one); empty on a case opened before
    policies were layered, which keeps its one ``policy_id@policy_version``.
    """

    id: str
    workflow: str
    state: str
    rev: int
    jurisdiction: str
    owning_jurisdiction: str
    policy_id: str
    policy_version: str
    opened_at: datetime = attrs.field(repr=local_repr)
    updated_at: datetime = attrs.field(repr=local_repr)
    fields: FrozenDict = attrs.field()
    deadline: Deadline | None = None
    overdue: bool = False
    sanction_rung: int = 0
    closed_at: datetime | None = attrs.field(default=None, repr=local_repr)
    last_hash: str = ""
    pins: FrozenDict = EMPTY
    policy_chain: tuple[tuple[str, str], ...] = ()

    # Convenience accessors for the fields every hazard case has (None on other workflows).
    @property
    def grade(self) -> str | None:
        """The hazard's grade (``general``, ``major`` or a local grade the policy maps onto them)."""
        return self.fields.get("grade")

    @property
    def industry(self) -> str | None:
        """The industry (一行业一清单), e.g. ``chemicals``."""
        return self.fields.get("industry")

    @property
    def source(self) -> str | None:
        """The channel the hazard was found through (隐患来源), e.g. ``enforcement``."""
        return self.fields.get("source")

    @property
    def business_unit(self) -> str | None:
        """The business unit (生产经营单位) the hazard belongs to; enterprise roles act only for it."""
        return self.fields.get("business_unit")

    @property
    def department(self) -> str | None:
        """The sector department the case is routed to (谁主管谁牵头)."""
        return self.fields.get("department")

    @property
    def listed(self) -> bool:
        """True while the hazard is listed for supervision (挂牌督办) and not yet delisted."""
        return bool(self.fields.get("listed", False))

    @property
    def stop_production(self) -> str:
        """``none``, ``partial`` or ``full`` (停产停业 ordered while the hazard is fixed)."""
        return str(self.fields.get("stop_production", "none"))


@attrs.frozen(slots=True, weakref_slot=False)
class AuditEvent:
    """One accepted command: who, what, from → to, why, when, under which policy; hash-chained per case.

    ``changes`` is what the command changed on the case, in JSON form; folding the ``changes`` of a case's
    events in ``seq`` order reproduces the case (see :func:`hazardflow.replay`). ``hash`` is the SHA-256
    (or HMAC-SHA-256 with the engine's audit key) of the canonical JSON of every other field, including
    ``prev_hash``, the hash of the case's previous event.
    """

    case_id: str
    seq: int
    workflow: str
    type: str
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_name: str
    actor_role: str
    actor_org: str
    actor_jurisdiction: str
    occurred_at: datetime = attrs.field(repr=local_repr)
    policy_id: str = attrs.field()
    policy_version: str = attrs.field()
    payload: FrozenDict = attrs.field()
    changes: FrozenDict = attrs.field()
    reason: str | None = None
    idempotency_key: str | None = None
    late_seconds: float | None = None
    prev_hash: str = ""
    hash: str = ""
    #: Every policy layer the case was pinned to when the command ran, national first (empty on events of a
    #: case opened before policies were layered: the key is then left out of the hashed form).
    policy_chain: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (the form that is hashed, plus ``hash``)."""
        out = self._dict()
        if self.policy_chain:
            out["policy_chain"] = [list(pin) for pin in self.policy_chain]
        return out

    def _dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "seq": self.seq,
            "workflow": self.workflow,
            "type": self.type,
            "trigger": self.trigger,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "actor_role": self.actor_role,
            "actor_org": self.actor_org,
            "actor_jurisdiction": self.actor_jurisdiction,
            "occurred_at": self.occurred_at.isoformat(),
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "payload": self.payload,
            "changes": self.changes,
            "reason": self.reason,
            "idempotency_key": self.idempotency_key,
            "late_seconds": self.late_seconds,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        """Inverse of :meth:`to_dict` (for stores and imports); the values are frozen again."""
        occurred = data["occurred_at"]
        return cls(
            case_id=data["case_id"],
            seq=int(data["seq"]),
            workflow=data["workflow"],
            type=data["type"],
            trigger=data["trigger"],
            from_state=data["from_state"],
            to_state=data["to_state"],
            actor_id=data["actor_id"],
            actor_name=data["actor_name"],
            actor_role=data["actor_role"],
            actor_org=data["actor_org"],
            actor_jurisdiction=data["actor_jurisdiction"],
            occurred_at=occurred if isinstance(occurred, datetime) else datetime.fromisoformat(occurred),
            policy_id=data["policy_id"],
            policy_version=data["policy_version"],
            payload=freeze(data.get("payload") or {}),
            changes=freeze(data.get("changes") or {}),
            reason=data.get("reason"),
            idempotency_key=data.get("idempotency_key"),
            late_seconds=data.get("late_seconds"),
            prev_hash=data.get("prev_hash", ""),
            hash=data.get("hash", ""),
            policy_chain=chain_from(data.get("policy_chain")),
        )


def chain_from(value: Any) -> tuple[tuple[str, str], ...]:
    """A policy chain from its JSON form (a list of ``[policy_id, policy_version]`` pairs); ``()`` for none."""
    if not value:
        return ()
    return tuple((str(pin[0]), str(pin[1])) for pin in value)


def _snapshot_factory(cls: type[Any]) -> Any:
    """A positional constructor for the frozen, slotted attrs class ``cls``, for the command path.

    attrs fills a frozen instance one ``object.__setattr__`` call per field (its own ``__setattr__``
    refuses). The factory fills a *layout twin* instead, a plain class with exactly ``cls``'s slots, by
    ordinary attribute stores, then makes the object a ``cls`` by ``__class__`` assignment (which Python
    allows between classes of identical layout). The result is a genuine, frozen ``cls`` instance, equal to
    ``cls(*args)``, in a fifth of the time. The factory takes every field, in field order, and is used only
    where that is so (the engine's snapshots, rows read from a database).

    It is built only for classes it can build faithfully (no converters, validators or post-init hooks) and
    it proves itself on one instance when built; anything else gets ``cls`` itself.
    """
    fields = attrs.fields(cls)
    if (
        any(a.converter is not None or a.validator is not None or not a.init for a in fields)
        or hasattr(cls, "__attrs_post_init__")
        or "__slots__" not in cls.__dict__
    ):
        return cls
    names = [a.name for a in fields]
    args = ", ".join(names)
    body = "".join(f"    o.{n} = {n}\n" for n in names)
    namespace: dict[str, Any] = {"cls": cls, "new": object.__new__}
    exec(
        f"class Twin:\n    __slots__ = {tuple(cls.__slots__)!r}\n\n"
        f"def make({args}):\n    o = new(Twin)\n{body}    o.__class__ = cls\n    return o\n",
        namespace,
    )
    make = namespace["make"]
    try:
        probe = [object() for _ in names]
        made = make(*probe)
        if type(made) is not cls or made != cls(*probe):
            return cls
    except TypeError:  # the layouts differ (a future attrs, another Python): build them the attrs way
        return cls
    return make


#: Fast positional constructors of the snapshots the command path builds (see ``_snapshot_factory``).
new_case: Callable[..., Case] = _snapshot_factory(Case)
new_event: Callable[..., AuditEvent] = _snapshot_factory(AuditEvent)


class Timer(NamedTuple):
    """A durable timer row: armed in the same transaction as the command that causes it.

    ``kind`` is ``deadline`` (the stage deadline), ``reminder`` (before it, non-interrupting) or ``sanction``
    (a rung of the overdue ladder; ``rung`` is its 1-based index). ``armed_state`` and ``armed_seq`` record
    the case state and event that armed it: a timer whose case has moved on is cancelled, not fired.

    ``lease_owner`` and ``lease_expires_at`` are set only while a timer whose firing failed is held back
    (``Store.hold_timer``): by which worker, and until when.

    An immutable named tuple, like the database row it mirrors: a sweep builds a thousand of them from the
    rows it finds due, and a tuple is built in a fraction of the time of a frozen class. Change one
    with ``timer._replace(status=...)``.
    """

    id: str
    case_id: str
    workflow: str
    kind: str
    key: str
    due_at: datetime
    armed_seq: int
    armed_state: str
    rung: int = 0
    status: str = "armed"
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    fired_at: datetime | None = None
    fired_seq: int | None = None
    late_seconds: float | None = None

    def __repr__(self) -> str:
        """The fields, with the instants shown in Asia/Shanghai (the same instants, read locally)."""
        shown = ", ".join(f"{name}={local_repr(value)}" for name, value in zip(self._fields, self, strict=True))
        return f"Timer({shown})"


class Write(NamedTuple):
    """Everything one accepted command writes, committed atomically with the others of its transaction.

    ``expected_rev`` is the revision the command read (0 for a new case); the store refuses the write with
    :class:`~hazardflow.ConcurrentUpdateError` when the stored revision differs. ``cancel_timers`` cancels
    every armed timer of the case before ``arm`` adds the new ones. ``fire_timer`` marks a timer fired
    (refused when it is no longer armed).
    ``idempotency_scope`` is the case id for a command, or ``open:<workflow>`` for an opening.

    An immutable named tuple: the command path builds one per accepted command, and a tuple is built in a
    fraction of the time of a class instance. Derive a changed one with ``write._replace(case=...)``.
    """

    case: Case
    expected_rev: int
    event: AuditEvent
    arm: Sequence[Timer] = ()
    cancel_timers: bool = False
    fire_timer: str | None = None
    idempotency_key: str | None = None
    idempotency_scope: str | None = None
    command_hash: str | None = None
    outbox: bool = False
    confidential: Mapping[str, Any] | None = None
    #: The canonical JSON of the event body (everything but ``hash``), as hashed (text, or its UTF-8 bytes);
    #: stores may keep it verbatim.
    event_json: str | bytes | None = None
