"""Timers: the next due instant, due timers, claiming one for its firing, holding one back.

A claim (:class:`_SqlClaim`) is an open transaction on a connection of its own: the timer and its case are
read under the write lock (SQLite) or locked with ``SKIP LOCKED`` (PostgreSQL), and the firing's writes are
committed in that transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from ..._checks import aware_utc, positive_int, text_id
from ..._exceptions import HazardflowError, InvalidInput
from ..._model import Case, Timer, Write
from ._commit import _Commits
from ._connect import _Conn
from ._rows import _RowMapping, _sqlite_ts
from ._statements import _CLAIM_POSTGRES, _CLAIM_SQLITE, _N_TIMER_COLS


class _Claims(_Commits, _RowMapping):
    """The timer reads and claims of a :class:`SqlStore`."""

    _claims: set[str]
    _claims_lock: threading.Lock

    def next_due(self) -> datetime | None:
        rows = self._query(self._sql["next_due"])
        return self._dt(rows[0][0]) if rows else None

    def due_timers(self, now: datetime, *, limit: int) -> list[Timer]:
        now = aware_utc("now", now)
        positive_int("limit", limit)
        t_now = self._ts(now)
        return self._due_from_rows(self._query(self._sql["due_timers"], (t_now, t_now, limit)))

    def claim_timer(self, timer_id: str, now: datetime) -> _SqlClaim | None:
        """Begin the firing's transaction with the timer and its case (see :meth:`Store.claim_timer`).

        SQLite: ``BEGIN IMMEDIATE`` takes the write lock (waiting up to the busy timeout; still busy after it,
        the claim is refused) and the timer is read under it. PostgreSQL: ``BEGIN`` and the locking read go
        in one round trip; rows held by another transaction are skipped. The claim keeps its connection
        until it ends; a worker that dies ends it with its connection (SQLite rolls back, PostgreSQL aborts
        the transaction of a dropped connection), so nothing is held back after a crash.
        """
        text_id("timer_id", timer_id)
        now = aware_utc("now", now)
        with self._claims_lock:
            if timer_id in self._claims:
                return None
            self._claims.add(timer_id)
        claim = None
        try:
            claim = self._claim(timer_id, now)
        finally:
            if claim is None:
                self._unclaim(timer_id)
        return claim

    def _unclaim(self, timer_id: str) -> None:
        with self._claims_lock:
            self._claims.discard(timer_id)

    def _claim(self, timer_id: str, now: datetime) -> _SqlClaim | None:
        conn = self._get()
        db = conn.dbapi
        try:
            if self.dialect == "sqlite":
                t_now = _sqlite_ts(now)
                try:
                    db.execute("BEGIN IMMEDIATE")
                except Exception as exc:
                    if self._is_busy(exc):
                        self._put(conn)
                        return None
                    raise
                row = db.execute(_CLAIM_SQLITE, (timer_id, t_now, t_now)).fetchone()
            else:
                with db.pipeline():
                    db.execute("BEGIN")
                    cur = db.execute(_CLAIM_POSTGRES, (timer_id, now, now))
                row = cur.fetchone()
            if row is None:
                db.execute("ROLLBACK")
                self._put(conn)
                return None
            timer = self._timer_from_row(row)
            case = self._case_from_row(row[_N_TIMER_COLS:])
        except Exception as exc:
            self._abandon(conn)
            if isinstance(exc, HazardflowError):
                raise
            self._raise(exc, "claiming a timer")
        return _SqlClaim(self, conn, timer, case)

    def _commit_claimed(self, conn: _Conn, writes: Sequence[Write]) -> None:
        """Commit ``writes`` in the claim's open transaction (the errors are those of :meth:`commit`)."""
        try:
            plan = self._plan(writes)
        except BaseException:
            self._rollback_claimed(conn)
            raise
        self._run_commit(conn, plan, begun=True)

    def _cancel_claimed(self, conn: _Conn, timer_id: str) -> None:
        db = conn.dbapi
        sql = self._sql["cancel_timer"]
        try:
            if self.dialect == "sqlite":
                db.execute(sql, (timer_id,))
                db.execute("COMMIT")
            else:
                with db.pipeline():
                    db.execute(sql, (timer_id,))
                    db.execute("COMMIT")
        except Exception as exc:
            self._abandon(conn)
            self._raise(exc, "cancelling a timer")
        self._put(conn)

    def _rollback_claimed(self, conn: _Conn) -> None:
        try:
            conn.dbapi.execute("ROLLBACK")
        except Exception:
            self._abandon(conn)
            return
        self._put(conn)

    def hold_timer(self, timer_id: str, *, owner: str, until: datetime) -> None:
        text_id("timer_id", timer_id)
        text_id("owner", owner)
        until = aware_utc("until", until)
        conn = self._get()
        try:
            conn.dbapi.execute(self._sql["hold_timer"], (owner, self._ts(until), timer_id))
        except Exception as exc:
            self._discard(conn)
            self._raise(exc, "holding a timer back")
        self._put(conn)


class _SqlClaim:
    """A claim on a due timer of a :class:`SqlStore`: an open transaction on a connection of its own."""

    __slots__ = ("_conn", "_store", "case", "timer")

    def __init__(self, store: _Claims, conn: _Conn, timer: Timer, case: Case) -> None:
        self._store = store
        self._conn: _Conn | None = conn
        self.timer = timer
        self.case = case

    def commit(self, writes: Sequence[Write]) -> None:
        conn = self._take()
        try:
            self._store._commit_claimed(conn, writes)
        finally:
            self._store._unclaim(self.timer.id)

    def cancel(self) -> None:
        conn = self._take()
        try:
            self._store._cancel_claimed(conn, self.timer.id)
        finally:
            self._store._unclaim(self.timer.id)

    def close(self) -> None:
        if self._conn is None:
            return
        conn = self._take()
        try:
            self._store._rollback_claimed(conn)
        finally:
            self._store._unclaim(self.timer.id)

    def _take(self) -> _Conn:
        conn = self._conn
        if conn is None:
            raise InvalidInput("claim", self.timer.id, "has already ended (committed, cancelled or closed)")
        self._conn = None
        return conn

    def __enter__(self) -> _SqlClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
