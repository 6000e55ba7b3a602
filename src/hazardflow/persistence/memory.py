"""The in-memory store: fast, for tests, simulations and embedding; same contract as the SQL store."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

import attrs

from .._checks import aware_utc, positive_int, text_id
from .._exceptions import ConcurrentUpdateError, InvalidInput
from .._jurisdiction import is_within
from .._model import AuditEvent, Case, Timer, Write

__all__ = ["MemoryStore"]


@attrs.define(slots=True, eq=False)
class _TimerRow:
    """The store's mutable copy of a timer; readers get frozen :class:`Timer` snapshots."""

    id: str
    case_id: str
    workflow: str
    kind: str
    key: str
    due_at: datetime
    armed_seq: int
    armed_state: str
    rung: int
    status: str = "armed"
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    fired_at: datetime | None = None
    fired_seq: int | None = None
    late_seconds: float | None = None

    @classmethod
    def of(cls, t: Timer) -> _TimerRow:
        return cls(t.id, t.case_id, t.workflow, t.kind, t.key, t.due_at, t.armed_seq, t.armed_state, t.rung)

    def snapshot(self) -> Timer:
        return Timer(
            self.id,
            self.case_id,
            self.workflow,
            self.kind,
            self.key,
            self.due_at,
            self.armed_seq,
            self.armed_state,
            self.rung,
            self.status,
            self.lease_owner,
            self.lease_expires_at,
            self.fired_at,
            self.fired_seq,
            self.late_seconds,
        )


class _Entry:
    """Everything the store keeps for one case, reached by one lookup: its snapshot, its audit events (while
    the retention keeps them) and its armed timer rows (a list: a case has a handful at most)."""

    __slots__ = ("armed", "case", "events")

    def __init__(self, case: Case, events: list[AuditEvent]) -> None:
        self.case = case
        self.events = events
        # A shared empty tuple until the case arms a timer (a registered case holds no list of its own).
        self.armed: list[_TimerRow] | tuple[()] = ()


def _due_order(row: _TimerRow) -> tuple[datetime, str]:
    return row.due_at, row.id


class _MemoryClaim:
    """A claim on a due timer of a :class:`MemoryStore`: the timer is in the store's set of claimed ids."""

    __slots__ = ("_open", "_store", "case", "timer")

    def __init__(self, store: MemoryStore, timer: Timer, case: Case) -> None:
        self._store = store
        self.timer = timer
        self.case = case
        self._open = True

    def commit(self, writes: Sequence[Write]) -> None:
        # Under the store's lock: no other claim of this timer can start before the firing is stored.
        with self._store._lock:
            self._end()
            self._store.commit(writes)

    def cancel(self) -> None:
        with self._store._lock:
            self._end()
            self._store._cancel_timer(self.timer.id)

    def close(self) -> None:
        with self._store._lock:
            if self._open:
                self._end()

    def _end(self) -> None:
        if not self._open:
            raise InvalidInput("claim", self.timer.id, "has already ended (committed, cancelled or closed)")
        self._open = False
        self._store._claimed.discard(self.timer.id)

    def __enter__(self) -> _MemoryClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryStore:
    """Cases, events, timers, idempotency keys, confidential records and outbox in process memory.

    ``retention="full"`` (default) keeps everything. ``retention="open"`` keeps audit events and timer history
    only while a case is open: when a case reaches a terminal state its events are handed to ``on_evict``
    (if given) and dropped, so a long simulation holds memory for its open cases only. Verification and
    history of evicted cases are then unavailable from this store (stream them to a file instead).
    ``retention="evict"`` also drops the closed case itself (its snapshot and confidential record), for
    simulations that keep their figures in a listener: memory then tracks open cases only, and a closed
    case can no longer be read, reopened or verified from this store.
    """

    def __init__(
        self,
        *,
        retention: Literal["full", "open", "evict"] = "full",
        on_evict: Any = None,
    ) -> None:
        if retention not in ("full", "open", "evict"):
            raise InvalidInput("retention", retention, "unknown retention", ("evict", "full", "open"))
        self.retention = retention
        self.on_evict = on_evict
        self._lock = threading.RLock()
        # One entry per case (snapshot, events, armed timer rows): a command finds all of it in one lookup.
        self._entries: dict[str, _Entry] = {}
        self._timers: dict[str, _TimerRow] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._due: dict[str, None] = {}
        # Timers claimed by a worker right now (see claim_timer).
        self._claimed: set[str] = set()
        self._idem: dict[tuple[str, str], tuple[str, int, str]] = {}
        self._confidential: dict[str, dict[str, Any]] = {}
        self.outbox: list[tuple[str, int, str]] = []

    # ── reads ────────────────────────────────────────────────────────────────────────────────────
    def load_case(self, case_id: str) -> Case | None:
        entry = self._entries.get(case_id)
        return entry.case if entry is not None else None

    def has_case(self, case_id: str) -> bool:
        return case_id in self._entries

    def load_cases(self, case_ids: Sequence[str]) -> list[Case]:
        entries = self._entries
        return [entries[cid].case for cid in dict.fromkeys(case_ids) if cid in entries]

    def load_events(self, case_id: str) -> list[AuditEvent]:
        entry = self._entries.get(case_id)
        return list(entry.events) if entry is not None else []

    def lookup_idempotency(self, scope: str, key: str) -> tuple[str, int, str] | None:
        return self._idem.get((scope, key))

    def armed_timers(self, case_id: str) -> list[Timer]:
        entry = self._entries.get(case_id)
        rows = entry.armed if entry is not None else ()
        return sorted((row.snapshot() for row in rows), key=lambda t: (t.due_at, t.id))

    def get_timer(self, timer_id: str) -> Timer | None:
        row = self._timers.get(timer_id)
        return row.snapshot() if row is not None else None

    def iter_cases(
        self,
        *,
        workflow: str | None = None,
        jurisdiction: str | None = None,
        state: str | None = None,
        department: str | None = None,
        open_only: bool = False,
    ) -> Iterator[Case]:
        for case in [entry.case for entry in self._entries.values()]:
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
            entry = self._entries.get(case_id)
            if entry is not None:
                yield from entry.events
            return
        for evs in [entry.events for entry in self._entries.values()]:
            yield from evs

    def read_confidential(self, case_id: str) -> dict[str, Any] | None:
        hit = self._confidential.get(case_id)
        return dict(hit) if hit is not None else None

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[tuple[int, str, int, str]]:
        start = max(after, 0)
        rows = self.outbox[start : start + max(limit, 0)]
        return [(start + i + 1, cid, seq, typ) for i, (cid, seq, typ) in enumerate(rows)]

    def count(self) -> dict[str, int]:
        """Sizes, for monitoring and benchmarks."""
        return {
            "cases": len(self._entries),
            "events": sum(len(e.events) for e in self._entries.values()),
            "armed_timers": sum(len(e.armed) for e in self._entries.values()),
            "timers": len(self._timers),
        }

    # ── the atomic commit ────────────────────────────────────────────────────────────────────────
    def commit(self, writes: Sequence[Write]) -> None:
        if len(writes) == 1:
            self._commit_one(writes[0])
            return
        with self._lock:
            revs: dict[str, int] = {}
            fired: set[str] = set()
            idem: set[tuple[str, str]] = set()
            for w in writes:
                cid = w.case.id
                current = revs.get(cid)
                if current is None:
                    stored = self._entries.get(cid)
                    current = stored.case.rev if stored is not None else 0
                if current != w.expected_rev:
                    raise ConcurrentUpdateError(cid, w.expected_rev, f"stored revision is {current}")
                revs[cid] = w.case.rev
                if w.fire_timer is not None:
                    t = self._timers.get(w.fire_timer)
                    if t is None or t.status != "armed" or w.fire_timer in fired:
                        raise ConcurrentUpdateError(cid, w.expected_rev, f"timer {w.fire_timer} is no longer armed")
                    fired.add(w.fire_timer)
                if w.idempotency_key is not None and w.idempotency_scope is not None:
                    k = (w.idempotency_scope, w.idempotency_key)
                    if k in self._idem or k in idem:
                        raise ConcurrentUpdateError(cid, w.expected_rev, "idempotency key already used")
                    idem.add(k)
            for w in writes:
                self._apply(w, self._entries.get(w.case.id))

    def _commit_one(self, w: Write) -> None:
        # The common case (one command, one case), with the same checks as the general path.
        cid = w.case.id
        lock = self._lock
        lock.acquire()
        try:
            entry = self._entries.get(cid)
            current = entry.case.rev if entry is not None else 0
            if current != w.expected_rev:
                raise ConcurrentUpdateError(cid, w.expected_rev, f"stored revision is {current}")
            if w.fire_timer is not None:
                t = self._timers.get(w.fire_timer)
                if t is None or t.status != "armed":
                    raise ConcurrentUpdateError(cid, w.expected_rev, f"timer {w.fire_timer} is no longer armed")
            if (
                w.idempotency_key is not None
                and w.idempotency_scope is not None
                and (w.idempotency_scope, w.idempotency_key) in self._idem
            ):
                raise ConcurrentUpdateError(cid, w.expected_rev, "idempotency key already used")
            self._apply(w, entry)
        finally:
            lock.release()

    def _apply(self, w: Write, entry: _Entry | None) -> None:
        """Store one write; ``entry`` is the case's entry as found by the caller (None for a new case)."""
        case = w.case
        cid = case.id
        if entry is None:
            entry = self._entries[cid] = _Entry(case, [w.event])
        else:
            entry.case = case
            entry.events.append(w.event)
        if w.fire_timer is not None:
            row = self._timers[w.fire_timer]
            row.status = "fired"
            row.fired_at = w.event.occurred_at
            row.fired_seq = w.event.seq
            row.late_seconds = w.event.late_seconds
            self._finish_timer(row)
        if w.cancel_timers:
            # Every armed timer of the case (the entry holds exactly those) ends at once.
            armed = entry.armed
            if armed:
                entry.armed = ()
                due = self._due
                keep = self.retention == "full"
                for row in armed:
                    row.status = "cancelled"
                    row.lease_owner = None
                    row.lease_expires_at = None
                    due.pop(row.id, None)
                    if not keep:
                        del self._timers[row.id]
        if w.arm:
            mine = entry.armed
            if not isinstance(mine, list):
                mine = entry.armed = []
            for t in w.arm:
                row = _TimerRow.of(t)
                self._timers[t.id] = row
                mine.append(row)
                heapq.heappush(self._heap, (t.due_at, t.id))
        if w.idempotency_key is not None and w.idempotency_scope is not None and w.command_hash is not None:
            self._idem[(w.idempotency_scope, w.idempotency_key)] = (cid, w.event.seq, w.command_hash)
        if w.confidential:
            self._confidential.setdefault(cid, {}).update(w.confidential)
        if w.outbox:
            self.outbox.append((cid, w.event.seq, w.event.type))
        if self.retention != "full" and case.closed_at is not None and not entry.armed:
            evs = entry.events
            entry.events = []
            if self.retention == "evict":
                del self._entries[cid]
                self._confidential.pop(cid, None)
            if self.on_evict is not None:
                self.on_evict(case, evs)

    def _finish_timer(self, row: _TimerRow) -> None:
        row.lease_owner = None
        row.lease_expires_at = None
        entry = self._entries.get(row.case_id)
        if entry is not None and row in entry.armed:  # by identity: rows compare by identity
            armed = entry.armed
            assert isinstance(armed, list)
            armed.remove(row)
            if not armed:
                entry.armed = ()
        self._due.pop(row.id, None)
        if self.retention != "full":
            self._timers.pop(row.id, None)

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

    def due_timers(self, now: datetime, *, limit: int) -> list[Timer]:
        now = aware_utc("now", now)
        positive_int("limit", limit)
        with self._lock:
            due = self._due_now(now)
            timers = self._timers
            rows = [
                row
                for row in (timers[tid] for tid in due)
                if row.lease_expires_at is None or row.lease_expires_at <= now
            ]
            if len(rows) > limit:
                rows = heapq.nsmallest(limit, rows, key=_due_order)
            else:
                rows.sort(key=_due_order)
            return [row.snapshot() for row in rows]

    def _due_now(self, now: datetime) -> dict[str, None]:
        """The armed timers due at ``now`` (moved from the heap as they fall due)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, tid = heapq.heappop(heap)
            t = self._timers.get(tid)
            if t is not None and t.status == "armed" and t.due_at == due:
                self._due[tid] = None
        return self._due

    def claim_timer(self, timer_id: str, now: datetime) -> _MemoryClaim | None:
        text_id("timer_id", timer_id)
        now = aware_utc("now", now)
        with self._lock:
            row = self._timers.get(timer_id)
            if (
                row is None
                or row.status != "armed"
                or row.due_at > now
                or (row.lease_expires_at is not None and row.lease_expires_at > now)
                or timer_id in self._claimed
            ):
                return None
            entry = self._entries.get(row.case_id)
            if entry is None:
                return None
            case = entry.case
            self._claimed.add(timer_id)
            return _MemoryClaim(self, row.snapshot(), case)

    def hold_timer(self, timer_id: str, *, owner: str, until: datetime) -> None:
        text_id("timer_id", timer_id)
        text_id("owner", owner)
        until = aware_utc("until", until)
        with self._lock:
            row = self._timers.get(timer_id)
            if row is not None and row.status == "armed":
                row.lease_owner = owner
                row.lease_expires_at = until

    def _cancel_timer(self, timer_id: str) -> None:
        with self._lock:
            row = self._timers.get(timer_id)
            if row is not None and row.status == "armed":
                row.status = "cancelled"
                self._finish_timer(row)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        c = self.count()
        return f"MemoryStore(cases={c['cases']}, events={c['events']}, armed_timers={c['armed_timers']})"
