"""The :class:`SqlStore` class: opening a database, the public reads, closing.

The store is composed of the parts in the sibling modules: connections and error mapping (``_connect``),
the schema (``_schema``), row mapping (``_rows``), the atomic commit (``_commit``) and timer claims
(``_claims``). Here it picks the dialect's statements and converters when it opens.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import orjson

from ..._exceptions import InvalidInput
from ..._jurisdiction import is_within, subtree_prefix
from ..._model import AuditEvent, Case, Timer, freeze
from ._claims import _Claims
from ._connect import _Conn
from ._rows import _DUMPS, _LOADS, _event_from_row, _pg_dt, _pg_ts, _sqlite_dt, _sqlite_ts
from ._schema import _Schema
from ._statements import _CASE_COLS, _CASE_COLS_SQLITE, _SQL, _SQL_SQLITE

__all__ = ["SqlStore"]

#: Rows per query when iterating over cases and events (a page at a time, by key).
_PAGE = 1000
#: Ids per ``IN (...)`` list when loading many cases (well under SQLite's 32,766 bound parameters).
_IN_CHUNK = 500


class SqlStore(_Claims, _Schema):
    """Cases, audit events, timers, idempotency keys, confidential values and outbox in a SQL database.

    ``url``: ``sqlite:///path/file.db`` (relative to the working directory; ``sqlite:////abs/path.db``),
    ``sqlite://`` (in memory, one connection), or ``postgresql+psycopg://user:pw@host:5432/db``
    (``postgresql://`` is read as psycopg 3). SQLite accepts ``?synchronous=full``.

    ``create``: create the schema when the database has none (default True; a SQLite file is created too;
    with False a missing SQLite file raises :class:`~hazardflow.DatabaseUnavailable`).
    ``upgrade``: also migrate an older schema to this release's (default False: an older schema raises
    :class:`~hazardflow.SchemaVersionError` asking for ``hazardflow db upgrade``).
    ``synchronous``: SQLite durability, ``"normal"`` (default; WAL, survives process crashes) or ``"full"``
    (also survives power loss). ``busy_timeout``: seconds a SQLite writer waits for the write lock.
    ``sqlite_pragmas``: extra ``PRAGMA name = value`` run on every new SQLite connection.
    ``check_schema``: verify the schema revision on open (default True).

    The store is safe to share between threads (each operation takes a connection of its own) and between
    processes (the database arbitrates). Close it (or use it as a context manager) to release connections.
    """

    def __init__(
        self,
        url: str = "sqlite:///hazardflow.db",
        *,
        create: bool = True,
        upgrade: bool = False,
        synchronous: Literal["normal", "full"] | None = None,
        busy_timeout: float = 30.0,
        sqlite_pragmas: Mapping[str, str | int] | None = None,
        check_schema: bool = True,
    ) -> None:
        self._conns: list[_Conn] = []
        # sqlite:// (one connection): re-entrant, as a claim holds it while its firing reads the same store.
        self._single: threading.RLock | None = None
        # Timers this store has claimed right now: claimed twice, the second claim is refused at once.
        self._claims: set[str] = set()
        self._claims_lock = threading.Lock()
        self._closed = False
        self._immediate = False
        self._updates: dict[int, str] = {}
        parsed = self._parse_url(url)
        self.url = parsed.render_as_string(hide_password=True)
        self.dialect: Literal["sqlite", "postgresql"] = (
            "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
        )
        if synchronous is None:
            synchronous = self._sync_from_url(parsed)
        elif synchronous not in ("normal", "full"):
            raise InvalidInput("synchronous", synchronous, "unknown SQLite durability setting", ("full", "normal"))
        parsed = parsed.difference_update_query(["synchronous"])
        if not isinstance(busy_timeout, int | float) or busy_timeout < 0:
            raise InvalidInput("busy_timeout", busy_timeout, "must be a number of seconds >= 0")
        self.synchronous = synchronous if self.dialect == "sqlite" else None
        self._pragmas = dict(sqlite_pragmas or {})
        for name in self._pragmas:
            if not name.replace("_", "").isalnum():
                raise InvalidInput("sqlite_pragmas", name, "must be a PRAGMA name (letters, digits, underscore)")
        self._busy_ms = int(busy_timeout * 1000)
        self._engine = self._make_engine(parsed, create=create)
        if self.dialect == "sqlite":
            self._sql = _SQL_SQLITE
            self._ts = _sqlite_ts
            self._dt = _sqlite_dt
            self._case_cols = _CASE_COLS_SQLITE
            # JSON columns travel as orjson's UTF-8 bytes, cast to TEXT by SQLite (no str made in Python).
            self._json_out: Any = orjson.dumps
        else:
            self._sql = {k: v.replace("?", "%s") for k, v in _SQL.items()}
            self._ts = _pg_ts
            self._dt = _pg_dt
            self._case_cols = _CASE_COLS
            self._json_out = _DUMPS
        try:
            if check_schema:
                self._check_schema(create=create, upgrade=upgrade)
            else:
                # Prove the database can be reached now, not at the first command.
                self._put(self._get())
        except BaseException:
            self.close()
            raise

    # ── reads ────────────────────────────────────────────────────────────────────────────────────
    def load_case(self, case_id: str) -> Case | None:
        rows = self._query(self._sql["load_case"], (case_id,))
        return self._case_from_row(rows[0]) if rows else None

    def has_case(self, case_id: str) -> bool:
        return bool(self._query(self._sql["has_case"], (case_id,)))

    def load_cases(self, case_ids: Sequence[str]) -> list[Case]:
        """The stored cases among ``case_ids``, read ``_IN_CHUNK`` ids per query."""
        ids = list(dict.fromkeys(case_ids))
        out: list[Case] = []
        mark = "?" if self.dialect == "sqlite" else "%s"
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            sql = f"SELECT {self._case_cols} FROM hf_case WHERE id IN ({', '.join([mark] * len(chunk))})"
            out.extend(self._case_from_row(r) for r in self._query(sql, tuple(chunk)))
        return out

    def load_events(self, case_id: str) -> list[AuditEvent]:
        return [_event_from_row(r) for r in self._query(self._sql["load_events"], (case_id,))]

    def lookup_idempotency(self, scope: str, key: str) -> tuple[str, int, str] | None:
        rows = self._query(self._sql["lookup_idem"], (scope, key))
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def armed_timers(self, case_id: str) -> list[Timer]:
        return [self._timer_from_row(r) for r in self._query(self._sql["armed_timers"], (case_id,))]

    def get_timer(self, timer_id: str) -> Timer | None:
        rows = self._query(self._sql["get_timer"], (timer_id,))
        return self._timer_from_row(rows[0]) if rows else None

    def iter_cases(
        self,
        *,
        workflow: str | None = None,
        jurisdiction: str | None = None,
        state: str | None = None,
        department: str | None = None,
        open_only: bool = False,
    ) -> Iterator[Case]:
        where: list[str] = []
        params: list[Any] = []
        if workflow is not None:
            where.append("workflow = ?")
            params.append(workflow)
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if department is not None:
            where.append("department = ?")
            params.append(department)
        if open_only:
            where.append("closed_at IS NULL")
        if jurisdiction is not None:
            prefix = subtree_prefix(jurisdiction)
            if prefix:
                # A range on the digit prefix uses the index on every database (LIKE may not).
                where.append("jurisdiction >= ? AND jurisdiction < ?")
                params += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
        return self._iter_cases(where, params, jurisdiction)

    def _iter_cases(self, where: list[str], params: list[Any], jurisdiction: str | None) -> Iterator[Case]:
        after: tuple[Any, Any] | None = None
        while True:
            clauses = list(where)
            args = list(params)
            if after is not None:
                clauses.append("(opened_at > ? OR (opened_at = ? AND id > ?))")
                args += [after[0], after[0], after[1]]
            sql = f"SELECT {self._case_cols} FROM hf_case"
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            sql += f" ORDER BY opened_at, id LIMIT {_PAGE}"
            if self.dialect == "postgresql":
                sql = sql.replace("?", "%s")
            rows = self._query(sql, args)
            for r in rows:
                case = self._case_from_row(r)
                if jurisdiction is None or is_within(case.jurisdiction, jurisdiction):
                    yield case
            if len(rows) < _PAGE:
                return
            after = (rows[-1][11], rows[-1][0])

    def iter_events(self, case_id: str | None = None) -> Iterator[AuditEvent]:
        if case_id is not None:
            yield from self.load_events(case_id)
            return
        sql = f"SELECT body, hash, id FROM hf_event WHERE id > ? ORDER BY id LIMIT {_PAGE}"
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        last = 0
        while True:
            rows = self._query(sql, (last,))
            for r in rows:
                yield _event_from_row(r)
            if len(rows) < _PAGE:
                return
            last = rows[-1][2]

    def read_confidential(self, case_id: str) -> dict[str, Any] | None:
        rows = self._query(self._sql["read_confidential"], (case_id,))
        if not rows:
            return None
        if self.dialect == "sqlite":
            return {name: freeze(_LOADS(value)) for name, value in rows}
        return {name: freeze(value) for name, value in rows}

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[tuple[int, str, int, str]]:
        """Outbox rows ``(position, case_id, seq, event_type)`` with ``position > after``, in commit order."""
        if limit <= 0:
            return []
        sql = self._sql["read_outbox"]
        return [(r[0], r[1], r[2], r[3]) for r in self._query(sql, (after, limit))]

    def count(self) -> dict[str, int]:
        """Sizes, for monitoring and benchmarks (same keys as ``MemoryStore.count``)."""
        rows = self._query(
            "SELECT (SELECT count(*) FROM hf_case), (SELECT count(*) FROM hf_event), "
            "(SELECT count(*) FROM hf_timer WHERE status = 'armed'), (SELECT count(*) FROM hf_timer)"
        )
        cases, events, armed, timers = rows[0]
        return {"cases": cases, "events": events, "armed_timers": armed, "timers": timers}

    def event_column_problems(self, case_id: str | None = None) -> list[tuple[str, int, str]]:
        """Events whose queryable columns disagree with their hashed body: ``(case_id, seq, column)``.

        The body is what the hash chain protects; the columns beside it (who, what, when) exist for SQL
        queries. ``hazardflow audit verify`` reports a column edited behind the body's back with this.
        """
        cols = (
            "case_id",
            "seq",
            "workflow",
            "type",
            "trigger",
            "from_state",
            "to_state",
            "actor_id",
            "actor_name",
            "actor_role",
            "actor_org",
            "actor_jurisdiction",
            "policy_id",
            "policy_version",
            "idempotency_key",
            "prev_hash",
        )
        sql = f"SELECT {', '.join(cols)}, occurred_at, late_seconds, body, id FROM hf_event WHERE id > ?"
        args: list[Any] = []
        if case_id is not None:
            sql += " AND case_id = ?"
            args.append(case_id)
        sql += f" ORDER BY id LIMIT {_PAGE}"
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        out: list[tuple[str, int, str]] = []
        last = 0
        n = len(cols)
        while True:
            rows = self._query(sql, [last, *args])
            for r in rows:
                try:
                    body = _LOADS(r[n + 2])
                except ValueError:
                    out.append((r[0], r[1], "body"))
                    continue
                for i, col in enumerate(cols):
                    if body.get(col) != r[i]:
                        out.append((r[0], r[1], col))
                        break
                else:
                    occurred = body.get("occurred_at")
                    at = self._dt(r[n])
                    if occurred is None or at is None or datetime.fromisoformat(occurred) != at:
                        out.append((r[0], r[1], "occurred_at"))
                    elif body.get("late_seconds") != r[n + 1]:
                        out.append((r[0], r[1], "late_seconds"))
            if len(rows) < _PAGE:
                return sorted(out)
            last = rows[-1][n + 3]

    # ── lifecycle ────────────────────────────────────────────────────────────────────────────────
    def close(self) -> None:
        """Close every connection. Further use raises :class:`~hazardflow.PersistenceError`."""
        if self._closed:
            return
        self._closed = True
        conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(Exception):  # closing a broken connection
                conn.proxy.close()
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        extra = f", synchronous={self.synchronous}" if self.synchronous else ""
        return f"SqlStore({self.url!r}{extra})"
