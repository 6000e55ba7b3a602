"""The atomic commit: every write of a commit in one transaction, or none of them.

:meth:`_Commits._plan` turns the writes into parameter rows before the transaction starts (one ``UPDATE``
statement per set of changed columns, ``executemany`` for many rows); :meth:`_Commits._commit_sqlite` runs
them under ``BEGIN IMMEDIATE`` and :meth:`_Commits._commit_postgres` in one pipelined round trip. A lost race
shows as a row count and becomes a :class:`~hazardflow.ConcurrentUpdateError` naming the command that lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..._audit import canonical_json
from ..._exceptions import ConcurrentUpdateError, HazardflowError
from ..._model import Case, Write
from ._connect import _Conn, _Connections
from ._rows import _DUMPS, _chain_out, _opt_str, _pins_out, _text
from ._statements import _FIELD_BITS, _changed_bits, _update_sql


class _Commits(_Connections):
    """The commit path of a :class:`SqlStore` (its statements and converters are set by its ``__init__``)."""

    _sql: dict[str, str]
    _ts: Callable[[datetime | None], Any]
    _json_out: Any
    _updates: dict[int, str]

    # ── the atomic commit ────────────────────────────────────────────────────────────────────────
    def commit(self, writes: Sequence[Write]) -> None:
        """Store every write in one transaction, or none of them (see the module docstring)."""
        if not writes:
            return
        plan = self._plan(writes)
        self._run_commit(self._get(), plan, begun=False)

    def _run_commit(self, conn: _Conn, plan: _Plan, *, begun: bool) -> None:
        """Run ``plan`` on ``conn`` (in the transaction it has ``begun``, or a new one) and hand ``conn`` back.

        A lost race becomes a :class:`~hazardflow.ConcurrentUpdateError` naming the command that lost, read from
        what is stored now; a database fault becomes a :class:`~hazardflow.PersistenceError`.
        """
        db = conn.dbapi
        try:
            if self.dialect == "sqlite":
                self._commit_sqlite(db, plan, begun=begun)
            else:
                self._commit_postgres(db, plan, begun=begun)
        except _Refused as refused:
            # Rolled back; say which command lost, from what is stored now.
            try:
                error = self._explain(db, plan, refused.kind)
            except Exception:
                self._discard(conn)
                raise
            self._put(conn)
            raise error from None
        except HazardflowError:
            self._put(conn)
            raise
        except Exception as exc:
            if self._is_integrity(exc) and self.dialect == "sqlite":
                try:
                    failure = self._conflict_or_fault(db, plan, exc)
                finally:
                    self._put(conn)
                raise failure from exc
            # PostgreSQL: an error aborted the pipeline, and psycopg's prepared statements may be out of step
            # with the server's; a fresh connection is the safe way on.
            self._discard(conn)
            if self._is_integrity(exc) or self._is_conflict(exc):
                raise self._diagnose(plan, exc) from exc
            self._raise(exc, "committing")
        self._put(conn)

    def _plan(self, writes: Sequence[Write]) -> _Plan:
        ts = self._ts
        json_out = self._json_out
        sqlite = self.dialect == "sqlite"
        plan = _Plan()
        first_rev: dict[str, int] = {}
        last_case: dict[str, Case] = {}
        rev_now: dict[str, int] = {}
        pending: dict[str, list[list[Any]]] = {}
        cancelled: set[str] = set()
        idem_seen: set[tuple[str, str]] = set()
        bits: dict[str, int] = {}
        for w in writes:
            case = w.case
            cid = case.id
            before = rev_now.get(cid)
            if before is None:
                first_rev[cid] = w.expected_rev
            elif before != w.expected_rev:
                raise ConcurrentUpdateError(cid, w.expected_rev, f"stored revision is {before}")
            rev_now[cid] = case.rev
            last_case[cid] = case
            ev = w.event
            if w.expected_rev:
                bits[cid] = bits.get(cid, 0) | _changed_bits(ev)
            body = w.event_json
            if isinstance(body, bytes):
                if not sqlite:
                    body = body.decode()
            elif body is None:
                raw = ev.to_dict()
                del raw["hash"]
                body = canonical_json(raw)
            plan.events.append(
                (
                    cid,
                    ev.seq,
                    ev.workflow,
                    ev.type,
                    ev.trigger,
                    ev.from_state,
                    ev.to_state,
                    ev.actor_id,
                    ev.actor_name,
                    ev.actor_role,
                    ev.actor_org,
                    ev.actor_jurisdiction,
                    ts(ev.occurred_at),
                    ev.policy_id,
                    ev.policy_version,
                    _text(ev.reason),
                    ev.idempotency_key,
                    ev.late_seconds,
                    ev.prev_hash,
                    ev.hash,
                    body,
                )
            )
            if w.fire_timer is not None:
                plan.fires.append((ts(ev.occurred_at), ev.seq, ev.late_seconds, w.fire_timer))
                plan.fire_cases.append((cid, w.expected_rev, w.fire_timer))
            if w.cancel_timers:
                if cid not in cancelled and first_rev[cid] != 0:
                    cancelled.add(cid)
                    plan.cancels.append((cid,))
                for row in pending.pop(cid, ()):
                    row[9] = "cancelled"
            if w.arm:
                mine = pending.setdefault(cid, [])
                for t in w.arm:
                    row = [
                        t.id,
                        cid,
                        t.workflow,
                        t.kind,
                        t.key,
                        ts(t.due_at),
                        t.armed_seq,
                        t.armed_state,
                        t.rung,
                        "armed",
                    ]
                    plan.arms.append(row)
                    mine.append(row)
            if w.idempotency_key is not None and w.idempotency_scope is not None and w.command_hash is not None:
                k = (w.idempotency_scope, w.idempotency_key)
                if k in idem_seen:
                    raise ConcurrentUpdateError(cid, w.expected_rev, "idempotency key already used")
                idem_seen.add(k)
                plan.idem.append((w.idempotency_scope, w.idempotency_key, cid, ev.seq, w.command_hash))
            if w.confidential:
                for name, value in w.confidential.items():
                    plan.confidential.append((cid, str(name), _DUMPS(value)))
            if w.outbox:
                plan.outbox.append((cid, ev.seq, ev.type, ts(ev.occurred_at)))
        for cid in sorted(last_case):
            c = last_case[cid]
            f = c.fields
            d = c.deadline
            expected = first_rev[cid]
            if expected == 0:
                plan.inserts.append(
                    (
                        cid,
                        c.workflow,
                        c.state,
                        c.rev,
                        c.jurisdiction,
                        c.owning_jurisdiction,
                        c.policy_id,
                        c.policy_version,
                        _opt_str(f.get("grade")),
                        _opt_str(f.get("industry")),
                        _opt_str(f.get("source")),
                        _opt_str(f.get("department")),
                        _opt_str(f.get("business_unit")),
                        ts(d.due_at) if d is not None else None,
                        _DUMPS(d.to_json()) if d is not None else None,
                        c.overdue,
                        c.sanction_rung,
                        ts(c.opened_at),
                        ts(c.updated_at),
                        ts(c.closed_at),
                        json_out(f),
                        c.last_hash,
                        _pins_out(c.pins),
                        _chain_out(c.policy_chain),
                    )
                )
            else:
                b = bits[cid]
                vals: list[Any] = []
                if b:
                    if b & 1:
                        vals.append(c.state)
                    if b & 2:
                        vals.append(c.owning_jurisdiction)
                    if b & 4:
                        vals += (c.policy_id, c.policy_version, _chain_out(c.policy_chain))
                    if b & 0xF8:
                        for name, bit in _FIELD_BITS:
                            if b & bit:
                                vals.append(_opt_str(f.get(name)))
                    if b & 256:
                        vals += (ts(d.due_at), _DUMPS(d.to_json())) if d is not None else (None, None)
                    if b & 512:
                        vals.append(c.overdue)
                    if b & 1024:
                        vals.append(c.sanction_rung)
                    if b & 2048:
                        vals.append(ts(c.closed_at))
                    if b & 4096:
                        vals.append(_pins_out(c.pins))
                vals += (c.rev, ts(c.updated_at), json_out(f), c.last_hash, cid, expected)
                rows = plan.updates.get(b)
                if rows is None:
                    plan.updates[b] = [tuple(vals)]
                else:
                    rows.append(tuple(vals))
                plan.n_updates += 1
            plan.expected[cid] = expected
        return plan

    def _update_sql(self, bits: int) -> str:
        sql = self._updates.get(bits)
        if sql is None:
            sql = _update_sql(bits)
            if self.dialect == "postgresql":
                sql = sql.replace("?", "%s")
            else:
                sql = sql.replace("fields = ?", "fields = CAST(? AS TEXT)")
            self._updates[bits] = sql
        return sql

    # A lost race shows as a row count, never as an error: the unique keys (case id, case + seq, idempotency
    # scope + key) are inserted with ON CONFLICT DO NOTHING and every count is checked before COMMIT. So a
    # conflict never aborts a PostgreSQL pipeline half-way (which would leave psycopg's prepared-statement
    # cache out of step with the server), and the error names the command that lost.
    def _commit_sqlite(self, db: Any, plan: _Plan, *, begun: bool = False) -> None:
        sql = self._sql
        if not begun:
            db.execute("BEGIN IMMEDIATE")
        try:
            if plan.inserts and _run(db, sql["insert_case"], plan.inserts) != len(plan.inserts):
                raise _Refused("taken")
            if plan.updates:
                n = 0
                for b, rows in plan.updates.items():
                    n += _run(db, self._update_sql(b), rows)
                if n != plan.n_updates:
                    raise _Refused("stale")
            if _run(db, sql["insert_event"], plan.events) != len(plan.events):
                raise _Refused("stale")
            if plan.fires and _run(db, sql["fire_timer"], plan.fires) != len(plan.fires):
                raise _Refused("timer")
            if plan.cancels:
                _run(db, sql["cancel_timers"], plan.cancels)
            if plan.arms:
                _run(db, sql["insert_timer"], plan.arms)
            if plan.idem and _run(db, sql["insert_idem"], plan.idem) != len(plan.idem):
                raise _Refused("idem")
            if plan.confidential:
                _run(db, sql["upsert_confidential"], plan.confidential)
            if plan.outbox:
                _run(db, sql["insert_outbox"], plan.outbox)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _commit_postgres(self, db: Any, plan: _Plan, *, begun: bool = False) -> None:
        sql = self._sql
        import psycopg

        try:
            aborted: psycopg.Error | None = None
            try:
                with db.pipeline():
                    try:
                        if not begun:
                            db.execute("BEGIN")
                        ins = _pg_run(db, sql["insert_case"], plan.inserts) if plan.inserts else None
                        upd = [_pg_run(db, self._update_sql(b), rows) for b, rows in plan.updates.items()]
                        evs = _pg_run(db, sql["insert_event"], plan.events)
                        fire = _pg_run(db, sql["fire_timer"], plan.fires) if plan.fires else None
                        if plan.cancels:
                            _pg_run(db, sql["cancel_timers"], plan.cancels)
                        if plan.arms:
                            _pg_run(db, sql["insert_timer"], plan.arms)
                        idem = _pg_run(db, sql["insert_idem"], plan.idem) if plan.idem else None
                        if plan.confidential:
                            _pg_run(db, sql["upsert_confidential"], plan.confidential)
                        if plan.outbox:
                            _pg_run(db, sql["insert_outbox"], plan.outbox)
                    except psycopg.Error as exc:
                        # A statement failed mid-pipeline (the server aborted the rest): stop sending and let the
                        # pipeline end cleanly (no exception inside it), then raise the server's own error.
                        aborted = exc
            except psycopg.Error:
                # The closing sync reports the abort again (PipelineAborted): the first error is the one.
                if aborted is None:
                    raise
            if aborted is not None:
                raise aborted
            if ins is not None and ins.rowcount != len(plan.inserts):
                raise _Refused("taken")
            if sum(cur.rowcount for cur in upd) != plan.n_updates or evs.rowcount != len(plan.events):
                raise _Refused("stale")
            if fire is not None and fire.rowcount != len(plan.fires):
                raise _Refused("timer")
            if idem is not None and idem.rowcount != len(plan.idem):
                raise _Refused("idem")
            db.execute("COMMIT")
        except BaseException:
            try:
                if not db.closed and db.info.transaction_status != 0:  # 0 = IDLE
                    db.execute("ROLLBACK")
            except Exception:  # a broken connection is discarded by the caller
                pass
            raise

    def _explain(self, db: Any, plan: _Plan, kind: str | None) -> ConcurrentUpdateError:
        """Which command of a rolled-back commit lost, and why, read from what is stored now.

        ``kind`` is what the commit found (``taken``, ``stale``, ``timer``, ``idem``); None looks for any of them.
        """
        sql = self._sql
        if kind in ("taken", "stale", None):
            for cid, expected in plan.expected.items():
                row = db.execute(sql["case_rev"], (cid,)).fetchone()
                if expected == 0 and row is not None:
                    return ConcurrentUpdateError(cid, 0, "a case with this id already exists")
                if expected != 0 and row is None:
                    return ConcurrentUpdateError(cid, expected, "the case row is missing")
                if expected != 0 and row[0] != expected:
                    return ConcurrentUpdateError(cid, expected, f"stored revision is {row[0]}")
        if kind in ("timer", None):
            for cid, expected, timer_id in plan.fire_cases:
                row = db.execute(sql["get_timer"], (timer_id,)).fetchone()
                if kind == "timer" or row is None or row[9] != "armed":
                    return ConcurrentUpdateError(cid, expected, f"timer {timer_id} is no longer armed")
        if kind in ("idem", None):
            for scope, key, cid, _seq, _hash in plan.idem:
                if db.execute(sql["lookup_idem"], (scope, key)).fetchone() is not None:
                    return ConcurrentUpdateError(cid, plan.expected.get(cid, 0), "idempotency key already used")
        first = next(iter(plan.expected))
        return ConcurrentUpdateError(first, plan.expected[first], "another command wrote first")

    def _diagnose(self, plan: _Plan, exc: BaseException) -> HazardflowError:
        """A constraint violation or a PostgreSQL deadlock, on a fresh connection: which command lost and why."""
        conn = self._get()
        try:
            error = self._conflict_or_fault(conn.dbapi, plan, exc)
        except Exception:
            self._discard(conn)
            return self._map(exc, "committing")
        self._put(conn)
        return error

    def _conflict_or_fault(self, db: Any, plan: _Plan, exc: BaseException) -> HazardflowError:
        error = self._explain(db, plan, None)
        if error.detail != "another command wrote first" or self._is_conflict(exc):
            return error
        # Not a lost race (a foreign key to a missing case, a broken invariant): a plain database error.
        return self._map(exc, "committing (integrity check)")


class _Plan:
    """The statements one commit runs, with their parameter rows (built before the transaction starts)."""

    __slots__ = (
        "arms",
        "cancels",
        "confidential",
        "events",
        "expected",
        "fire_cases",
        "fires",
        "idem",
        "inserts",
        "n_updates",
        "outbox",
        "updates",
    )

    def __init__(self) -> None:
        self.inserts: list[tuple[Any, ...]] = []
        self.updates: dict[int, list[tuple[Any, ...]]] = {}
        self.n_updates = 0
        self.events: list[tuple[Any, ...]] = []
        self.fires: list[tuple[Any, ...]] = []
        self.fire_cases: list[tuple[str, int, str]] = []
        self.cancels: list[tuple[str]] = []
        self.arms: list[list[Any]] = []
        self.idem: list[tuple[str, str, str, int, str]] = []
        self.confidential: list[tuple[str, str, str]] = []
        self.outbox: list[tuple[Any, ...]] = []
        self.expected: dict[str, int] = {}


class _Refused(Exception):
    """Internal: a row count showed another command wrote first; the transaction is rolled back."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _run(db: Any, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    if len(rows) == 1:
        return int(db.execute(sql, rows[0]).rowcount)
    return int(db.executemany(sql, rows).rowcount)


def _pg_run(db: Any, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
    cur = db.cursor()
    if len(rows) == 1:
        cur.execute(sql, rows[0])
    else:
        cur.executemany(sql, rows)
    return cur
