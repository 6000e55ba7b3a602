"""The SQL store: SQLite by default (a local file, zero set-up), PostgreSQL in production.

::

    store = SqlStore("sqlite:///hazards.db")                              # WAL + synchronous=NORMAL
    store = SqlStore("sqlite:///hazards.db?synchronous=full")             # survives power loss too
    store = SqlStore("postgresql+psycopg://app@db.example/hazards")       # many processes, many workers
    engine = Engine(store=store, policies=[...])                         # or Engine.from_url(url, ...)

**One transaction per commit.** :meth:`SqlStore.commit` writes every case row (``UPDATE … WHERE id = ? AND
rev = ?``, or ``INSERT`` for a new case), audit event, timer change, idempotency key, confidential value and
outbox row of its writes in one database transaction: all of them are stored or none is. A revision that
moved, an idempotency key already used, or a timer fired that is no longer armed raises
:class:`~hazardflow.ConcurrentUpdateError` and writes nothing. A timer's firing runs in the transaction that
claimed it (:meth:`SqlStore.claim_timer`), so no other worker fires it meanwhile. ``Engine.batch()`` hands
many commands to one commit (bulk imports, simulations): the same checks per command, grouped into
``executemany`` statements.

**The hot path is not an ORM.** Tables are SQLModel classes (``_tables.py``, which the Alembic migrations
follow), but reads and writes run prepared statements on the driver connection (``sqlite3`` /
``psycopg``), and rows are mapped to the attrs domain objects explicitly (``_case_from_row`` and friends).
On PostgreSQL a commit is pipelined: the statements go in one round trip, the revision check is read, and
``COMMIT`` follows.

**SQLite settings.** Every connection runs ``journal_mode=WAL``, ``synchronous=NORMAL`` (default) or
``FULL``, ``foreign_keys=ON`` and a busy timeout (default 30 s); writes take the write lock up front
(``BEGIN IMMEDIATE``). With ``NORMAL`` a committed command survives a crash of the process (``kill -9``)
but the last commits before a power loss or OS crash may be lost (the database stays consistent); with
``FULL`` every commit is synced to disk first (3 to 4 times slower per commit).

**Errors.** Database faults become :class:`~hazardflow.PersistenceError` subclasses:
:class:`~hazardflow.DatabaseUnavailable` (cannot connect or open, bad URL),
:class:`~hazardflow.DatabaseReadOnly`, :class:`~hazardflow.StorageFull` (disk or database full) and
:class:`~hazardflow.SchemaVersionError` (no schema, schema older or newer than this release); a failed
commit is rolled back, so nothing partial is written.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn

import orjson
import sqlalchemy as sa

from .._audit import canonical_json
from .._calendar import Deadline
from .._checks import aware_utc, positive_int, text_id
from .._exceptions import (
    ConcurrentUpdateError,
    DatabaseReadOnly,
    DatabaseUnavailable,
    HazardflowError,
    InvalidInput,
    PersistenceError,
    SchemaVersionError,
    StorageFull,
)
from .._jurisdiction import is_within, subtree_prefix
from .._model import AuditEvent, Case, FrozenDict, Timer, Write, chain_from, freeze, new_case
from . import _tables, migrate

__all__ = ["SqlStore"]

_PAGE = 1000
#: Ids per ``IN (...)`` list when loading many cases (well under SQLite's 32,766 bound parameters).
_IN_CHUNK = 500
_MAX_IDLE = 8
_LOADS = orjson.loads


def _DUMPS(value: Any) -> str:  # noqa: N802 - a module constant in spirit, kept for its callers
    """Compact JSON with the Chinese kept readable. Keys keep their order: these columns are not hashed."""
    return orjson.dumps(value).decode()


_CASE_COLS = (
    "id, workflow, state, rev, jurisdiction, owning_jurisdiction, policy_id, policy_version, deadline, overdue, "
    "sanction_rung, opened_at, updated_at, closed_at, fields, last_hash, pins, policy_chain"
)
_TIMER_COLS = (
    "id, case_id, workflow, kind, key, due_at, armed_seq, armed_state, rung, status, lease_owner, "
    "lease_expires_at, fired_at, fired_seq, late_seconds"
)
_SQL = {
    "insert_case": (
        "INSERT INTO hf_case (id, workflow, state, rev, jurisdiction, owning_jurisdiction, policy_id, "
        "policy_version, grade, industry, source, department, business_unit, deadline_at, deadline, overdue, "
        "sanction_rung, opened_at, updated_at, closed_at, fields, last_hash, pins, policy_chain) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
    ),
    "insert_event": (
        "INSERT INTO hf_event (case_id, seq, workflow, type, trigger, from_state, to_state, actor_id, actor_name, "
        "actor_role, actor_org, actor_jurisdiction, occurred_at, policy_id, policy_version, reason, "
        "idempotency_key, late_seconds, prev_hash, hash, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, seq) DO NOTHING"
    ),
    "fire_timer": (
        "UPDATE hf_timer SET status = 'fired', fired_at = ?, fired_seq = ?, late_seconds = ?, lease_owner = NULL, "
        "lease_expires_at = NULL WHERE id = ? AND status = 'armed'"
    ),
    "cancel_timers": (
        "UPDATE hf_timer SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL "
        "WHERE case_id = ? AND status = 'armed'"
    ),
    "insert_timer": (
        f"INSERT INTO hf_timer ({_TIMER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL)"
    ),
    "insert_idem": (
        "INSERT INTO hf_idempotency (scope, key, case_id, seq, command_hash) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (scope, key) DO NOTHING"
    ),
    "upsert_confidential": (
        "INSERT INTO hf_confidential (case_id, name, value) VALUES (?, ?, ?) "
        "ON CONFLICT (case_id, name) DO UPDATE SET value = excluded.value"
    ),
    "insert_outbox": (
        "INSERT INTO hf_outbox (case_id, seq, event_type, created_at, delivered_at, attempts) "
        "VALUES (?, ?, ?, ?, NULL, 0)"
    ),
    "load_case": f"SELECT {_CASE_COLS} FROM hf_case WHERE id = ?",
    "has_case": "SELECT 1 FROM hf_case WHERE id = ?",
    "load_events": "SELECT body, hash FROM hf_event WHERE case_id = ? ORDER BY seq",
    "lookup_idem": "SELECT case_id, seq, command_hash FROM hf_idempotency WHERE scope = ? AND key = ?",
    "armed_timers": f"SELECT {_TIMER_COLS} FROM hf_timer WHERE case_id = ? AND status = 'armed' ORDER BY due_at, id",
    "get_timer": f"SELECT {_TIMER_COLS} FROM hf_timer WHERE id = ?",
    "next_due": "SELECT min(due_at) FROM hf_timer WHERE status = 'armed'",
    "due_timers": (
        f"SELECT {_TIMER_COLS} FROM hf_timer WHERE status = 'armed' AND due_at <= ? "
        "AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY due_at, id LIMIT ?"
    ),
    "hold_timer": ("UPDATE hf_timer SET lease_owner = ?, lease_expires_at = ? WHERE id = ? AND status = 'armed'"),
    "cancel_timer": (
        "UPDATE hf_timer SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL "
        "WHERE id = ? AND status = 'armed'"
    ),
    "read_confidential": "SELECT name, value FROM hf_confidential WHERE case_id = ?",
    "case_rev": "SELECT rev FROM hf_case WHERE id = ?",
    "read_outbox": "SELECT id, case_id, seq, event_type FROM hf_outbox WHERE id > ? ORDER BY id LIMIT ?",
}
#: SQLite reads the case fields as the stored UTF-8 bytes (decoded by orjson straight from them) and casts
#: the JSON it is handed as bytes to TEXT, so the column holds text as before.
_CASE_COLS_SQLITE = _CASE_COLS.replace(", fields,", ", CAST(fields AS BLOB),")
_SQL_SQLITE = {
    **_SQL,
    "load_case": f"SELECT {_CASE_COLS_SQLITE} FROM hf_case WHERE id = ?",
    "insert_case": _SQL["insert_case"].replace(
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?)",
    ),
    "insert_event": _SQL["insert_event"].replace(
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT))",
    ),
}


def _claim_cols(case_cols: str) -> str:
    return ", ".join([*(f"t.{c}" for c in _TIMER_COLS.split(", ")), *(f"c.{c}" for c in case_cols.split(", "))])


#: Claim one due timer with its case: the first statement of the firing's transaction. SQLite runs it under
#: the write lock (``BEGIN IMMEDIATE``), which is the claim. PostgreSQL locks both rows up front (a user
#: command that updates the case and then cancels its timers takes them in the other order, so locking only
#: the timer could deadlock with it) and skips, never waits for, rows another transaction holds: nothing
#: returned means another worker (or a command) holds the timer or its case right now, or the timer is gone.
#: Under ``READ COMMITTED`` a row changed since the statement began is re-read at its newest version and the
#: conditions checked again, so a timer another worker has just fired is never returned.
_CLAIM_WHERE = (
    "FROM hf_timer t JOIN hf_case c ON c.id = t.case_id WHERE t.id = ? AND t.status = 'armed' AND t.due_at <= ? "
    "AND (t.lease_expires_at IS NULL OR t.lease_expires_at <= ?)"
)
# The case columns as the dialect's own case reads select them (SQLite: the fields as bytes).
_CLAIM_SQLITE = f"SELECT {_claim_cols(_CASE_COLS).replace('c.fields,', 'CAST(c.fields AS BLOB),')} {_CLAIM_WHERE}"
_CLAIM_POSTGRES = f"SELECT {_claim_cols(_CASE_COLS)} {_CLAIM_WHERE} FOR UPDATE OF t, c SKIP LOCKED".replace("?", "%s")
_N_TIMER_COLS = len(_TIMER_COLS.split(", "))


#: Columns an UPDATE sets only when the command changed them (so SQLite leaves the other indexes alone):
#: (bit, columns). ``rev``, ``updated_at``, ``fields`` and ``last_hash`` are always set.
_OPTIONAL: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1 << 0, ("state",)),
    (1 << 1, ("owning_jurisdiction",)),
    (1 << 2, ("policy_id", "policy_version", "policy_chain")),
    (1 << 3, ("grade",)),
    (1 << 4, ("industry",)),
    (1 << 5, ("source",)),
    (1 << 6, ("department",)),
    (1 << 7, ("business_unit",)),
    (1 << 8, ("deadline_at", "deadline")),
    (1 << 9, ("overdue",)),
    (1 << 10, ("sanction_rung",)),
    (1 << 11, ("closed_at",)),
    (1 << 12, ("pins",)),
)
#: Case fields with a column of their own, and their bit.
_FIELD_BITS = (
    ("grade", 1 << 3),
    ("industry", 1 << 4),
    ("source", 1 << 5),
    ("department", 1 << 6),
    ("business_unit", 1 << 7),
)
_TOP_BITS = (
    ("owning_jurisdiction", 1 << 1),
    ("policy_id", 1 << 2),
    ("policy_version", 1 << 2),
    ("policy_chain", 1 << 2),
    ("deadline", 1 << 8),
    ("overdue", 1 << 9),
    ("sanction_rung", 1 << 10),
    ("closed_at", 1 << 11),
    ("pins", 1 << 12),
)


_TOP_BIT = dict(_TOP_BITS)
_FIELD_BIT = dict(_FIELD_BITS)


def _changed_bits(ev: AuditEvent) -> int:
    """Which optional case columns the event's ``changes`` (what the command changed) touch."""
    bits = 1 if ev.from_state != ev.to_state else 0
    ch = ev.changes
    if ch:
        # The change record names a handful of keys: look each up, rather than every column in the record.
        top = _TOP_BIT.get
        for name in ch:
            bits |= top(name, 0)
        fields = ch.get("fields")
        if fields:
            col = _FIELD_BIT.get
            for name in fields:
                bits |= col(name, 0)
    return bits


def _update_sql(bits: int) -> str:
    cols = [c for bit, group in _OPTIONAL if bits & bit for c in group]
    cols += ["rev", "updated_at", "fields", "last_hash"]
    return "UPDATE hf_case SET " + ", ".join(f"{c} = ?" for c in cols) + " WHERE id = ? AND rev = ?"


#: The last instant formatted and its text: a command stamps one instant on its event and its case, and a
#: batch stamps many commands with the same clock reading. (A tuple, replaced whole: safe across threads.)
_TS_MEMO: list[tuple[datetime | None, str]] = [(None, "")]


def _sqlite_ts(value: datetime | None) -> str | None:
    """UTC as fixed-width text that sorts as time: ``2024-03-04 01:00:00.000000+00:00``."""
    if value is None:
        return None
    last = _TS_MEMO[0]
    if last[0] is value:
        return last[1]
    text = _format_ts(value)
    _TS_MEMO[0] = (value, text)
    return text


def _format_ts(value: datetime) -> str:
    tz = value.tzinfo
    if tz is not UTC:
        if tz is None or value.utcoffset() is None:
            raise InvalidInput("timestamp", value.isoformat(), "must be timezone-aware")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")


def _sqlite_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _frozen_list(items: list[Any]) -> tuple[Any, ...]:
    return tuple(_frozen_list(x) if type(x) is list else _frozen_object(x) if type(x) is dict else x for x in items)


_DICT_SET = dict.__setitem__


def _frozen_object(obj: dict[str, Any]) -> FrozenDict:
    """A decoded JSON object, deep-frozen: a copy, with its lists and objects replaced by frozen ones."""
    out = FrozenDict(obj)
    for k, v in obj.items():
        t = type(v)
        if t is list:
            _DICT_SET(out, k, _frozen_list(v))
        elif t is dict:
            _DICT_SET(out, k, _frozen_object(v))
    return out


def _fields_in(value: Any) -> Any:
    """Case fields (or any JSON object) from the database, deep-frozen."""
    if isinstance(value, str | bytes):
        data = orjson.loads(value)
        return _frozen_object(data) if type(data) is dict else freeze(data)
    return freeze(value)


def _pg_ts(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput("timestamp", value.isoformat(), "must be timezone-aware")
    return value


def _pg_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    dt: datetime = value
    return dt.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    text: str = _DUMPS(value)
    return text


def _pins_from(data: Mapping[str, Any] | None) -> FrozenDict:
    """Pinned deadlines from their decoded JSON column (None or empty: none)."""
    if not data:
        return _NO_PINS
    return FrozenDict({k: Deadline.from_json(v) for k, v in data.items()})


def _pins_out(pins: Mapping[str, Deadline]) -> str | None:
    return _DUMPS({k: d.to_json() for k, d in pins.items()}) if pins else None


_NO_PINS = FrozenDict()


def _chain_out(chain: tuple[tuple[str, str], ...]) -> str | None:
    return _DUMPS([list(pin) for pin in chain]) if chain else None


def _json_in(value: Any) -> Any:
    return _LOADS(value) if isinstance(value, str) else value


class _Conn:
    """One driver connection (from SQLAlchemy's engine) kept by the store between operations."""

    __slots__ = ("dbapi", "proxy")

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.dbapi = proxy.driver_connection


class SqlStore:
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
            self._ts = _pg_ts  # type: ignore[assignment]
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

    # ── set-up ───────────────────────────────────────────────────────────────────────────────────
    @staticmethod
    def _parse_url(url: str) -> sa.URL:
        if not isinstance(url, str):
            raise InvalidInput("url", type(url).__name__, "must be a database URL string")
        hint = "expected sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise DatabaseUnavailable(url, f"cannot parse the database URL ({exc}); {hint}") from None
        backend = parsed.get_backend_name()
        driver = parsed.get_driver_name()
        if backend == "sqlite":
            if driver not in ("pysqlite", ""):
                raise DatabaseUnavailable(
                    parsed.render_as_string(hide_password=True),
                    f"unsupported SQLite driver {driver!r}; use sqlite:///path/to/file.db",
                )
            return parsed
        if backend in ("postgresql", "postgres"):
            if driver not in ("psycopg", "psycopg2", ""):
                raise DatabaseUnavailable(
                    parsed.render_as_string(hide_password=True),
                    f"unsupported PostgreSQL driver {driver!r}; use postgresql+psycopg:// (psycopg 3)",
                )
            return parsed.set(drivername="postgresql+psycopg")
        raise DatabaseUnavailable(
            parsed.render_as_string(hide_password=True),
            f"unsupported database {backend!r}; supported: postgresql (postgresql+psycopg://...) and sqlite "
            "(sqlite:///file.db)",
        )

    @staticmethod
    def _sync_from_url(parsed: sa.URL) -> Literal["normal", "full"]:
        raw = parsed.query.get("synchronous", "normal")
        value = (raw if isinstance(raw, str) else raw[-1]).lower()
        if value not in ("normal", "full"):
            raise InvalidInput("synchronous", value, "unknown SQLite durability setting in the URL", ("full", "normal"))
        return "full" if value == "full" else "normal"

    def _make_engine(self, parsed: sa.URL, *, create: bool) -> sa.Engine:
        if self.dialect == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            if memory:
                engine = sa.create_engine(
                    parsed,
                    poolclass=sa.pool.StaticPool,
                    connect_args={"check_same_thread": False},
                )
                self._single = threading.RLock()
            else:
                if not create and not parsed.query.get("mode") and not os.path.exists(parsed.database or ""):
                    raise DatabaseUnavailable(
                        self.url,
                        f"no database file at {os.path.abspath(parsed.database or '')!r}; check the path, or "
                        "create it with `hazardflow db upgrade --url URL` (or create=True)",
                    )
                # The store's own pool hands a connection to one thread at a time, any thread.
                engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool, connect_args={"check_same_thread": False})
            sa.event.listen(engine, "connect", self._on_sqlite_connect)
            sa.event.listen(engine, "begin", self._on_sqlite_begin)
            return engine
        try:
            import psycopg  # noqa: F401
        except ImportError:  # pragma: no cover - psycopg is in the "postgres" extra
            raise DatabaseUnavailable(
                parsed.render_as_string(hide_password=True),
                'PostgreSQL needs psycopg 3: pip install "hazardflow[postgres]"',
            ) from None
        return sa.create_engine(parsed, poolclass=sa.pool.NullPool)

    def _on_sqlite_connect(self, dbapi_conn: Any, _record: Any) -> None:
        # Autocommit at the driver level: the store and SQLAlchemy (the "begin" hook) start transactions.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is not None and str(mode[0]).lower() not in ("wal", "memory"):
                # A read-only file cannot switch to WAL; writes will be refused with DatabaseReadOnly.
                pass
            cur.execute(f"PRAGMA synchronous = {(self.synchronous or 'normal').upper()}")
            cur.execute("PRAGMA foreign_keys = ON")
            for name, value in self._pragmas.items():
                cur.execute(f"PRAGMA {name} = {int(value) if isinstance(value, int) else _quote(value)}")
        finally:
            cur.close()

    def _on_sqlite_begin(self, conn: sa.Connection) -> None:
        # Reads begin deferred; creating or migrating the schema takes the write lock first.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if self._immediate else "BEGIN")

    def _check_schema(self, *, create: bool, upgrade: bool) -> None:
        try:
            with self._engine.connect() as conn:
                found = migrate.revision_of(conn)
            if found == migrate.HEAD:
                return
            self._refuse_revision(found, create=create, upgrade=upgrade)
            # Create or migrate under the write lock, re-reading the revision: two processes opening a fresh
            # database at once must not both create it.
            self._immediate = True
            try:
                with self._engine.begin() as conn:
                    if self.dialect == "postgresql":
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7213490512)")
                    found = migrate.revision_of(conn)
                    if found != migrate.HEAD:
                        self._refuse_revision(found, create=create, upgrade=upgrade)
                        migrate.run_upgrade(conn)
            finally:
                self._immediate = False
        except HazardflowError:
            raise
        except sa.exc.DBAPIError as exc:
            self._raise(exc.orig, "opening the database")
        except sa.exc.SQLAlchemyError as exc:
            raise PersistenceError(self.url, f"opening the database failed: {exc}") from exc

    def _refuse_revision(self, found: str | None, *, create: bool, upgrade: bool) -> None:
        if found is None:
            if not create:
                raise SchemaVersionError(
                    self.url,
                    "the database has no hazardflow schema; create it with "
                    f"`hazardflow db upgrade --url {self.url}` or open it with create=True",
                )
            return
        if found not in migrate.REVISIONS:
            raise SchemaVersionError(
                self.url,
                f"the schema is at revision {found!r}, newer than this release of hazardflow knows "
                f"(its newest is {migrate.HEAD!r}); upgrade hazardflow, or open a database made by this release",
            )
        if found != migrate.HEAD and not upgrade:
            raise SchemaVersionError(
                self.url,
                f"the schema is at revision {found!r}, older than this release expects ({migrate.HEAD!r}); "
                f"run `hazardflow db upgrade --url {self.url}` (back up first) or open it with upgrade=True",
            )

    # ── schema (used by hazardflow.persistence.migrate and the CLI) ──────────────────────────────
    def schema_revision(self) -> str | None:
        """The schema revision stamped in the database (None when it has no hazardflow schema)."""
        try:
            with self._engine.connect() as conn:
                return migrate.revision_of(conn)
        except sa.exc.DBAPIError as exc:
            self._raise(exc.orig, "reading the schema revision")

    def upgrade_schema(self, revision: str = "head") -> str:
        """Create or migrate the schema to ``revision`` (default: this release's head); return the revision."""
        if revision != "head" and revision not in migrate.REVISIONS:
            raise InvalidInput("revision", revision, "is not a schema revision of this release", migrate.REVISIONS)
        self._immediate = True
        try:
            with self._engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7213490512)")
                found = migrate.revision_of(conn)
                if found is not None and found not in migrate.REVISIONS:
                    raise SchemaVersionError(
                        self.url,
                        f"the schema is at revision {found!r}, newer than this release of hazardflow knows "
                        f"(its newest is {migrate.HEAD!r}); upgrade hazardflow",
                    )
                migrate.run_upgrade(conn, revision)
                now = migrate.revision_of(conn)
        except HazardflowError:
            raise
        except sa.exc.DBAPIError as exc:
            self._raise(exc.orig, "migrating the schema")
        finally:
            self._immediate = False
        return now or ""

    # ── connections ──────────────────────────────────────────────────────────────────────────────
    def drop_schema(self) -> list[str]:
        """Drop hazardflow's tables and functions (every ``hf_*`` one, the schema revision included) and their data.

        Irreversible: callers ask first (``hazardflow simulate --replace`` on PostgreSQL confirms, or takes
        ``--yes``). Tables of other applications in the same database are left alone. Returns the tables
        dropped; the next ``SqlStore(url)`` creates the schema afresh.
        """
        self._immediate = True
        try:
            with self._engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7213490512)")
                found = {n for n in sa.inspect(conn).get_table_names() if n.startswith("hf_")}
                # Tables that others reference go last (SQLite checks foreign keys on DROP TABLE).
                known = [t.name for t in reversed(_tables.metadata.sorted_tables) if t.name in found]
                names = [n for n in sorted(found) if n not in known] + known
                cascade = " CASCADE" if self.dialect == "postgresql" else ""
                for name in names:
                    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"{cascade}')
                if self.dialect == "postgresql":
                    # The functions the migrations made (the append-only trigger's), so they can run again.
                    rows = conn.exec_driver_sql(
                        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                        "WHERE n.nspname = current_schema() AND p.proname LIKE 'hf\\_%%'"
                    ).all()
                    for (signature,) in rows:
                        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
        except sa.exc.DBAPIError as exc:
            self._raise(exc.orig, "dropping the schema")
        finally:
            self._immediate = False
        return names

    def _get(self) -> _Conn:
        if self._closed:
            raise PersistenceError(self.url, "the store is closed")
        if self._single is not None:
            self._single.acquire()
            if self._conns:
                return self._conns[0]
        else:
            try:
                return self._conns.pop()
            except IndexError:
                pass
        try:
            conn = _Conn(self._engine.raw_connection())
        except sa.exc.DBAPIError as exc:
            if self._single is not None:
                self._single.release()
            self._raise(exc.orig, "connecting")
        except BaseException:
            if self._single is not None:
                self._single.release()
            raise
        if self.dialect == "postgresql":
            conn.dbapi.autocommit = True
        if self._single is not None:
            self._conns.append(conn)
        return conn

    def _put(self, conn: _Conn) -> None:
        if self._single is not None:
            self._single.release()
            return
        if self._closed or len(self._conns) >= _MAX_IDLE:
            conn.proxy.close()
            return
        self._conns.append(conn)

    def _discard(self, conn: _Conn) -> None:
        """Drop a connection that failed (it may be broken); the next operation opens a fresh one."""
        if self._single is not None:
            self._single.release()
            return
        with contextlib.suppress(Exception):  # best effort on a broken connection
            conn.proxy.invalidate()

    # ── error mapping ────────────────────────────────────────────────────────────────────────────
    def _raise(self, exc: BaseException | None, doing: str) -> NoReturn:
        raise self._map(exc, doing) from exc

    def _map(self, exc: BaseException | None, doing: str) -> PersistenceError:
        if exc is None:
            return PersistenceError(self.url, f"{doing} failed")
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.dialect == "sqlite":
            name = str(getattr(exc, "sqlite_errorname", ""))
            low = text.lower()
            if name.startswith("SQLITE_READONLY") or "readonly database" in low:
                return DatabaseReadOnly(self.url, f"{doing}: {text}; check the file's and directory's permissions")
            if name == "SQLITE_FULL" or "database or disk is full" in low:
                return StorageFull(self.url, f"{doing}: {text}; free disk space (nothing was written)")
            if name.startswith("SQLITE_CANTOPEN") or "unable to open database file" in low:
                return DatabaseUnavailable(
                    self.url, f"{doing}: {text}; check that the directory exists and is accessible"
                )
            if name.startswith("SQLITE_BUSY") or "database is locked" in low:
                return DatabaseUnavailable(
                    self.url,
                    f"{doing}: {text}; another process held the write lock longer than the busy timeout "
                    f"({self._busy_ms / 1000:g} s)",
                )
            if name == "SQLITE_NOTADB" or "not a database" in low:
                return DatabaseUnavailable(self.url, f"{doing}: {text}; the file is not a SQLite database")
            if "no such table" in low or "no such column" in low:
                return SchemaVersionError(self.url, f"{doing}: {text}; run `hazardflow db upgrade --url {self.url}`")
            return PersistenceError(self.url, f"{doing}: {text}")
        state = str(getattr(exc, "sqlstate", "") or "")
        if state in {"25006", "42501"}:
            return DatabaseReadOnly(self.url, f"{doing}: {text}")
        if state == "53100":
            return StorageFull(self.url, f"{doing}: {text}; free disk space on the database server")
        if state in ("42P01", "42703"):
            return SchemaVersionError(self.url, f"{doing}: {text}; run `hazardflow db upgrade --url {self.url}`")
        if state.startswith("08") or state in ("57P01", "57P02", "57P03", "3D000", "28000", "28P01") or not state:
            return DatabaseUnavailable(self.url, f"{doing}: {text}")
        return PersistenceError(self.url, f"{doing}: {text}")

    def _is_integrity(self, exc: BaseException) -> bool:
        if self.dialect == "sqlite":
            import sqlite3

            return isinstance(exc, sqlite3.IntegrityError)
        return str(getattr(exc, "sqlstate", "") or "").startswith("23")

    def _is_conflict(self, exc: BaseException) -> bool:
        # PostgreSQL: a deadlock or serialization failure between two writers; nothing was written.
        return self.dialect == "postgresql" and str(getattr(exc, "sqlstate", "") or "") in ("40001", "40P01")

    # ── reads ────────────────────────────────────────────────────────────────────────────────────
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._get()
        try:
            rows: list[Any] = conn.dbapi.execute(sql, params).fetchall()
        except Exception as exc:
            self._discard(conn)
            if isinstance(exc, HazardflowError):
                raise
            self._raise(exc, "reading")
        self._put(conn)
        return rows

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

    def _case_from_row(self, r: Sequence[Any]) -> Case:
        dt = self._dt
        deadline = _json_in(r[8])
        raw_pins = _json_in(r[16])
        pins = _pins_from(raw_pins)
        if deadline:
            # A pinned stage deadline is the very pin object, as on the case the engine built.
            key = deadline.get("key")
            due = pins[key] if raw_pins and raw_pins.get(key) == deadline else Deadline.from_json(deadline)
        else:
            due = None
        return new_case(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            dt(r[11]),
            dt(r[12]),
            _fields_in(r[14]),
            due,
            bool(r[9]),
            r[10],
            dt(r[13]),
            r[15],
            pins,
            chain_from(_json_in(r[17])),
        )

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

    def _timer_from_row(self, r: Sequence[Any]) -> Timer:
        dt = self._dt
        return Timer(
            id=r[0],
            case_id=r[1],
            workflow=r[2],
            kind=r[3],
            key=r[4],
            due_at=dt(r[5]),  # type: ignore[arg-type]
            armed_seq=r[6],
            armed_state=r[7],
            rung=r[8],
            status=r[9],
            lease_owner=r[10],
            lease_expires_at=dt(r[11]),
            fired_at=dt(r[12]),
            fired_seq=r[13],
            late_seconds=r[14],
        )

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
        try:
            with db.pipeline():
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

    # ── timers ───────────────────────────────────────────────────────────────────────────────────
    def next_due(self) -> datetime | None:
        rows = self._query(self._sql["next_due"])
        return self._dt(rows[0][0]) if rows else None

    def due_timers(self, now: datetime, *, limit: int) -> list[Timer]:
        now = aware_utc("now", now)
        positive_int("limit", limit)
        t_now = self._ts(now)
        return self._due_from_rows(self._query(self._sql["due_timers"], (t_now, t_now, limit)))

    def _due_from_rows(self, rows: Sequence[Sequence[Any]]) -> list[Timer]:
        """Timers from the rows of the find query (armed, so never fired; already in (due_at, id) order).

        Deadlines cluster on the same instants (24:00 of a day), so each distinct due instant is parsed once.
        """
        dt = self._dt
        seen: dict[Any, datetime] = {}
        out: list[Timer] = []
        append = out.append
        # Every field is given, in order, so the tuple is made directly (``Timer``'s generated ``__new__``
        # only fills defaults, and costs as much again for a thousand rows).
        make = tuple.__new__
        for r in rows:
            raw = r[5]
            due = seen.get(raw)
            if due is None:
                parsed = dt(raw)
                assert parsed is not None
                due = seen[raw] = parsed
            held = r[11]
            append(
                make(
                    Timer,
                    (
                        r[0],
                        r[1],
                        r[2],
                        r[3],
                        r[4],
                        due,
                        r[6],
                        r[7],
                        r[8],
                        r[9],
                        r[10],
                        None if held is None else dt(held),
                        None,
                        None,
                        None,
                    ),
                )
            )
        return out

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

    def _is_busy(self, exc: BaseException) -> bool:
        name = str(getattr(exc, "sqlite_errorname", ""))
        return name.startswith("SQLITE_BUSY") or "database is locked" in str(exc).lower()

    def _abandon(self, conn: _Conn) -> None:
        """Roll back what a connection had begun (best effort) and drop it."""
        with contextlib.suppress(Exception):  # a broken connection
            db = conn.dbapi
            if self.dialect == "sqlite":
                if db.in_transaction:
                    db.execute("ROLLBACK")
            elif not db.closed and db.info.transaction_status != 0:  # 0 = IDLE
                db.execute("ROLLBACK")
        self._discard(conn)

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


class _SqlClaim:
    """A claim on a due timer of a :class:`SqlStore`: an open transaction on a connection of its own."""

    __slots__ = ("_conn", "_store", "case", "timer")

    def __init__(self, store: SqlStore, conn: _Conn, timer: Timer, case: Case) -> None:
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


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _event_from_row(r: Sequence[Any]) -> AuditEvent:
    data = _LOADS(r[0])
    data["hash"] = r[1]
    return AuditEvent.from_dict(data)
