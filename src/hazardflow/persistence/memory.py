"""The in-memory store: fast, for tests, simulations and embedding; same contract as the SQL store."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import attrs

from .._exceptions import ConcurrentUpdateError, InvalidInput
from .._jurisdiction import is_within
from .._model import AuditEvent, Case, Timer, Write

__all__ = ["MemoryStore"]


class MemoryStore:
    """Cases, events, timers, idempotency keys, confidential records and outbox in process memory.

    ``retention="full"`` (default) keeps everything. ``retention="open"`` keeps audit events and timer history
    only while a case is open: when a case reaches a terminal state its events are handed to ``on_evict``
    (if given) and dropped, so a long simulation holds memory for its open cases only. Verification and
    history of evicted cases are then unavailable from this store (stream them to a file instead).
    """

    def __init__(
        self,
        *,
        retention: Literal["full", "open"] = "full",
        on_evict: Any = None,
    ) -> None:
        if retention not in ("full", "open"):
            raise InvalidInput("retention", retention, "unknown retention", ("full", "open"))
        self.retention = retention
        self.on_evict = on_evict
        self._lock = threading.RLock()
        self._cases: dict[str, Case] = {}
        self._events: dict[str, list[AuditEvent]] = {}
        self._timers: dict[str, Timer] = {}
        self._case_timers: dict[str, set[str]] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._due: dict[str, None] = {}
        self._idem: dict[tuple[str, str], tuple[str, int, str]] = {}
        self._confidential: dict[str, dict[str, Any]] = {}
        self.outbox: list[tuple[str, int, str]] = []
        self.terminal_states: frozenset[str] = frozenset()

    # ── reads ────────────────────────────────────────────────────────────────────────────────────
    def load_case(self, case_id: str) -> Case | None:
        return self._cases.get(case_id)

    def load_events(self, case_id: str) -> list[AuditEvent]:
        return list(self._events.get(case_id, ()))

    def lookup_idempotency(self, scope: str, key: str) -> tuple[str, int, str] | None:
        return self._idem.get((scope, key))

    def armed_timers(self, case_id: str) -> list[Timer]:
        ids = self._case_timers.get(case_id, ())
        return sorted((self._timers[i] for i in ids), key=lambda t: (t.due_at, t.id))

    def get_timer(self, timer_id: str) -> Timer | None:
        return self._timers.get(timer_id)

    def iter_cases(
        self,
        *,
        workflow: str | None = None,
        jurisdiction: str | None = None,
        state: str | None = None,
        department: str | None = None,
        open_only: bool = False,
    ) -> Iterator[Case]:
        for case in list(self._cases.values()):
            if workflow is not None and case.workflow != workflow:
                continue
            if state is not None and case.state != state:
                continue
            if department is not None and case.fields.get("department") != department:
                continue
            if open_only and case.closed_at is not None:
                continue
            if jurisdiction is not None and not is_within(case.jurisdiction, jurisdiction):
                continue
            yield case

    def iter_events(self, case_id: str | None = None) -> Iterator[AuditEvent]:
        if case_id is not None:
            yield from self._events.get(case_id, ())
            return
        for evs in list(self._events.values()):
            yield from evs

    def read_confidential(self, case_id: str) -> dict[str, Any] | None:
        hit = self._confidential.get(case_id)
        return dict(hit) if hit is not None else None

    def count(self) -> dict[str, int]:
        """Sizes, for monitoring and benchmarks."""
        return {
            "cases": len(self._cases),
            "events": sum(len(v) for v in self._events.values()),
            "armed_timers": sum(len(v) for v in self._case_timers.values()),
            "timers": len(self._timers),
        }

    # ── the atomic commit ────────────────────────────────────────────────────────────────────────
    def commit(self, writes: Sequence[Write]) -> None:
        with self._lock:
            revs: dict[str, int] = {}
            fired: set[str] = set()
            idem: set[tuple[str, str]] = set()
            for w in writes:
                cid = w.case.id
                current = revs.get(cid)
                if current is None:
                    stored = self._cases.get(cid)
                    current = stored.rev if stored is not None else 0
                if current != w.expected_rev:
                    raise ConcurrentUpdateError(cid, w.expected_rev, f"stored revision is {current}")
                revs[cid] = w.case.rev
                if w.fire_timer is not None:
                    t = self._timers.get(w.fire_timer)
                    if (
                        t is None
                        or t.status != "armed"
                        or w.fire_timer in fired
                        or (w.fire_owner is not None and t.lease_owner != w.fire_owner)
                    ):
                        raise ConcurrentUpdateError(cid, w.expected_rev, f"timer {w.fire_timer} is no longer leased")
                    fired.add(w.fire_timer)
                if w.idempotency_key is not None and w.idempotency_scope is not None:
                    k = (w.idempotency_scope, w.idempotency_key)
                    if k in self._idem or k in idem:
                        raise ConcurrentUpdateError(cid, w.expected_rev, "idempotency key already used")
                    idem.add(k)
            for w in writes:
                self._apply(w)

    def _apply(self, w: Write) -> None:
        case = w.case
        cid = case.id
        self._cases[cid] = case
        self._events.setdefault(cid, []).append(w.event)
        if w.fire_timer is not None:
            t = self._timers[w.fire_timer]
            self._finish_timer(
                attrs.evolve(
                    t,
                    status="fired",
                    fired_at=w.event.occurred_at,
                    fired_seq=w.event.seq,
                    late_seconds=w.event.late_seconds,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
        if w.cancel_timers:
            for tid in list(self._case_timers.get(cid, ())):
                self._finish_timer(
                    attrs.evolve(self._timers[tid], status="cancelled", lease_owner=None, lease_expires_at=None)
                )
        for t in w.arm:
            self._timers[t.id] = t
            self._case_timers.setdefault(cid, set()).add(t.id)
            heapq.heappush(self._heap, (t.due_at, t.id))
        if w.idempotency_key is not None and w.idempotency_scope is not None and w.command_hash is not None:
            self._idem[(w.idempotency_scope, w.idempotency_key)] = (cid, w.event.seq, w.command_hash)
        if w.confidential:
            self._confidential.setdefault(cid, {}).update(w.confidential)
        if w.outbox:
            self.outbox.append((cid, w.event.seq, w.event.type))
        if self.retention == "open" and case.closed_at is not None and not self._case_timers.get(cid):
            evs = self._events.pop(cid, [])
            if self.on_evict is not None:
                self.on_evict(case, evs)

    def _finish_timer(self, t: Timer) -> None:
        ids = self._case_timers.get(t.case_id)
        if ids is not None:
            ids.discard(t.id)
            if not ids:
                del self._case_timers[t.case_id]
        self._due.pop(t.id, None)
        if self.retention == "full":
            self._timers[t.id] = t
        else:
            self._timers.pop(t.id, None)

    # ── timers ───────────────────────────────────────────────────────────────────────────────────
    def next_due(self) -> datetime | None:
        with self._lock:
            best: datetime | None = None
            for tid in self._due:
                due_at = self._timers[tid].due_at
                if best is None or due_at < best:
                    best = due_at
            while self._heap:
                due, tid = self._heap[0]
                t = self._timers.get(tid)
                if t is None or t.status != "armed" or t.due_at != due or tid in self._due:
                    heapq.heappop(self._heap)
                    continue
                return due if best is None or due < best else best
            return best

    def lease_due(self, now: datetime, *, owner: str, lease_seconds: float, limit: int) -> list[Timer]:
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] <= now:
                due, tid = heapq.heappop(heap)
                t = self._timers.get(tid)
                if t is not None and t.status == "armed" and t.due_at == due:
                    self._due[tid] = None
            out: list[Timer] = []
            expires = now + timedelta(seconds=lease_seconds)
            for tid in list(self._due):
                if len(out) >= limit:
                    break
                current = self._timers[tid]
                if current.lease_expires_at is not None and current.lease_expires_at > now:
                    continue
                leased = attrs.evolve(current, lease_owner=owner, lease_expires_at=expires)
                self._timers[tid] = leased
                out.append(leased)
            out.sort(key=lambda t: (t.due_at, t.id))
            return out

    def release_timer(self, timer_id: str, *, owner: str, cancel: bool) -> None:
        with self._lock:
            t = self._timers.get(timer_id)
            if t is None or t.status != "armed" or t.lease_owner != owner:
                return
            if cancel:
                self._finish_timer(attrs.evolve(t, status="cancelled", lease_owner=None, lease_expires_at=None))
            else:
                self._timers[timer_id] = attrs.evolve(t, lease_owner=None, lease_expires_at=None)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        c = self.count()
        return f"MemoryStore(cases={c['cases']}, events={c['events']}, armed_timers={c['armed_timers']})"
