"""The audit record: canonical hashing, chain verification and replay.

Each case has its own hash chain: event ``n`` stores ``prev_hash`` = the hash of event ``n-1`` (64 zeros for
the first) and ``hash`` = SHA-256 over the canonical JSON of every other field (sorted keys, UTF-8, no
spaces). With an audit key the hash is HMAC-SHA-256, so someone who can write the database but does not hold
the key cannot re-forge a consistent chain (a signed record: 谁检查、谁签名、谁负责 [seed:002 (五)3]).
The case row keeps the head hash and the revision, so deleting the newest event is detected too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
import orjson

from ._calendar import Deadline
from ._model import AuditEvent, Case, FrozenDict, chain_from, freeze

__all__ = [
    "GENESIS",
    "AuditProblem",
    "AuditReport",
    "canonical_bytes",
    "canonical_json",
    "event_hash",
    "hash_canonical",
    "replay",
    "verify_chain",
]

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"not JSON-serialisable in an audit event: {type(value).__name__}")


_SORTED = orjson.OPT_SORT_KEYS


def canonical_json(data: Any) -> str:
    """The canonical JSON text of ``data``: what an event's hash is computed over.

    RFC 8259 JSON in UTF-8 with no whitespace, object keys sorted by code point, strings with only the
    escapes JSON requires (Chinese kept as is), integers as digits (64-bit at most: payload validation
    refuses larger ones), floats in their shortest round-trip form (non-finite floats are refused before they
    get here), dates and times as ISO 8601. It is produced by ``orjson`` with ``OPT_SORT_KEYS``; a verifier in
    another language reproduces it with any canonicalising encoder that follows these rules.
    """
    return orjson.dumps(data, default=_default, option=_SORTED).decode()


def canonical_bytes(data: Any) -> bytes:
    """:func:`canonical_json` as the UTF-8 bytes that are hashed (the engine hashes these without a copy)."""
    return orjson.dumps(data, default=_default, option=_SORTED)


def event_hash(body: dict[str, Any], key: bytes | None) -> str:
    """Hash of an event body (every field but ``hash``)."""
    return hash_canonical(canonical_json(body), key)


def hash_canonical(text: str | bytes, key: bytes | None) -> str:
    """Hash of an event body already in canonical JSON form (text, or its UTF-8 bytes)."""
    raw = text if isinstance(text, bytes) else text.encode()
    if key:
        return hmac.new(key, raw, hashlib.sha256).hexdigest()
    return hashlib.sha256(raw).hexdigest()


@attrs.frozen
class AuditProblem:
    """The first bad event found in a case's chain."""

    case_id: str
    seq: int
    problem: str


@attrs.frozen
class AuditReport:
    """Result of verifying the audit record of one or more cases."""

    cases: int
    events: int
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"audit OK: {self.cases} case(s), {self.events} event(s), hash chains verify"
        first = self.problems[0]
        return (
            f"audit FAILED: {len(self.problems)} case(s) with problems; first bad event: case "
            f"{first.case_id!r} seq {first.seq}: {first.problem}"
        )


def verify_chain(case: Case | None, events: Sequence[AuditEvent], key: bytes | None) -> AuditProblem | None:
    """Check one case's chain (and, when ``case`` is given, that its head and revision match)."""
    prev = GENESIS
    case_id = case.id if case is not None else (events[0].case_id if events else "")
    for expected_seq, ev in enumerate(events, start=1):
        if ev.seq != expected_seq:
            return AuditProblem(case_id, expected_seq, f"event seq {expected_seq} is missing (found {ev.seq})")
        if ev.prev_hash != prev:
            return AuditProblem(case_id, ev.seq, "prev_hash does not match the previous event's hash")
        body = ev.to_dict()
        body.pop("hash")
        if event_hash(body, key) != ev.hash:
            return AuditProblem(case_id, ev.seq, "content does not match its hash (altered)")
        prev = ev.hash
    if case is not None:
        if case.rev != len(events):
            missing = len(events) + 1
            return AuditProblem(
                case_id, missing, f"case is at revision {case.rev} but {len(events)} event(s) are stored"
            )
        if case.last_hash != prev:
            return AuditProblem(case_id, len(events), "case head hash does not match its last event")
        replayed = replay(events)
        if replayed != case:
            return AuditProblem(case_id, len(events), "replaying the events does not reproduce the stored case")
    return None


def _pins(current: FrozenDict, change: Any) -> FrozenDict:
    if not change:
        return current
    return FrozenDict({**current, **{k: Deadline.from_json(v) for k, v in change.items()}})


def _deadline(change: Any, pins: FrozenDict) -> Deadline | None:
    if not change:
        return None
    if "pin" in change:
        pinned: Deadline = pins[change["pin"]]
        return pinned
    return Deadline.from_json(change)


def _apply_changes(case: Case | None, ev: AuditEvent) -> Case:
    ch = ev.changes
    if case is None:
        init = ch
        pins = _pins(FrozenDict(), init.get("pins"))
        return Case(
            id=ev.case_id,
            workflow=ev.workflow,
            state=ev.to_state,
            rev=ev.seq,
            jurisdiction=init["jurisdiction"],
            owning_jurisdiction=init["owning_jurisdiction"],
            policy_id=ev.policy_id,
            policy_version=ev.policy_version,
            opened_at=ev.occurred_at,
            updated_at=ev.occurred_at,
            fields=freeze(dict(init.get("fields", {}))),
            deadline=_deadline(init.get("deadline"), pins),
            overdue=bool(init.get("overdue", False)),
            sanction_rung=int(init.get("sanction_rung", 0)),
            closed_at=datetime.fromisoformat(init["closed_at"]) if init.get("closed_at") else None,
            last_hash=ev.hash,
            pins=pins,
            policy_chain=ev.policy_chain,
        )
    updates: dict[str, Any] = {"rev": ev.seq, "updated_at": ev.occurred_at, "last_hash": ev.hash, "state": ev.to_state}
    if "fields" in ch:
        updates["fields"] = FrozenDict({**case.fields, **ch["fields"]})
    pins = case.pins
    if "pins" in ch:
        pins = updates["pins"] = _pins(case.pins, ch["pins"])
    if "deadline" in ch:
        updates["deadline"] = _deadline(ch["deadline"], pins)
    if "overdue" in ch:
        updates["overdue"] = bool(ch["overdue"])
    if "sanction_rung" in ch:
        updates["sanction_rung"] = int(ch["sanction_rung"])
    if "closed_at" in ch:
        updates["closed_at"] = datetime.fromisoformat(ch["closed_at"]) if ch["closed_at"] else None
    if "owning_jurisdiction" in ch:
        updates["owning_jurisdiction"] = ch["owning_jurisdiction"]
    if "policy_version" in ch:
        updates["policy_version"] = ch["policy_version"]
    if "policy_id" in ch:
        updates["policy_id"] = ch["policy_id"]
    if "policy_chain" in ch:
        updates["policy_chain"] = chain_from(ch["policy_chain"])
    return attrs.evolve(case, **updates)


def replay(events: Iterable[AuditEvent], base: Case | None = None) -> Case:
    """Rebuild a case by folding its events' ``changes`` in order.

    ``base`` continues from a snapshot: ``replay(later_events, base=case)`` folds the events that follow
    ``case`` onto it (an incremental projection), equal to replaying the whole history.
    """
    case: Case | None = base
    for ev in events:
        case = _apply_changes(case, ev)
    if case is None:
        raise ValueError("cannot replay an empty event list")
    return case
