"""Connections: engine creation, SQLite settings, the store's pool of driver connections, error mapping.

:class:`_Connections` is the part of :class:`SqlStore` every other part builds on: it checks the URL and
makes the SQLAlchemy engine (SQLite: WAL, ``synchronous``, foreign keys, the busy timeout and extra pragmas
on every new connection; ``BEGIN IMMEDIATE`` for schema changes), keeps up to ``_MAX_IDLE`` driver
connections between operations (one, under a re-entrant lock, for ``sqlite://`` in memory), and maps the
drivers' errors (``sqlite3``, ``psycopg``) to :class:`~hazardflow.PersistenceError` subclasses.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Sequence
from typing import Any, Literal, NoReturn

import sqlalchemy as sa

from ..._checks import find_bad_text
from ..._exceptions import (
    DatabaseReadOnly,
    DatabaseUnavailable,
    HazardflowError,
    InvalidInput,
    PersistenceError,
    SchemaVersionError,
    StorageFull,
)

_MAX_IDLE = 8


class _Conn:
    """One driver connection (from SQLAlchemy's engine) kept by the store between operations."""

    __slots__ = ("dbapi", "proxy")

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.dbapi = proxy.driver_connection


class _Connections:
    """Engine, connection pool and error mapping of a :class:`SqlStore` (the state is set by its ``__init__``)."""

    url: str
    dialect: Literal["sqlite", "postgresql"]
    synchronous: Literal["normal", "full"] | None
    _engine: sa.Engine
    _conns: list[_Conn]
    _single: threading.RLock | None
    _closed: bool
    _immediate: bool
    _busy_ms: int
    _pragmas: dict[str, str | int]

    # ── set-up ───────────────────────────────────────────────────────────────────────────────────
    @staticmethod
    def _parse_url(url: str) -> sa.URL:
        if not isinstance(url, str):
            raise InvalidInput("url", type(url).__name__, "must be a database URL string")
        hint = "expected sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
        shown = _safe_url_text(url)
        if not url.strip() or find_bad_text(url) is not None:
            raise DatabaseUnavailable(shown, f"cannot parse the database URL; {hint}")
        try:
            parsed = sa.make_url(url.strip())
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise DatabaseUnavailable(shown, f"cannot parse the database URL ({exc}); {hint}") from None
        # The names as written (URL.get_driver_name() would load the dialect, which fails for unknown ones).
        backend, _, driver = parsed.drivername.partition("+")
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
                where = os.path.abspath(parsed.database or "")
                if not parsed.query.get("mode") and not os.path.isdir(os.path.dirname(where)):
                    raise DatabaseUnavailable(
                        self.url,
                        f"the directory {os.path.dirname(where)!r} does not exist; check the path (hazardflow "
                        "creates the database file, not the directories above it)",
                    )
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

    # ── connections ──────────────────────────────────────────────────────────────────────────────
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
        except Exception as exc:
            # The pool hands on the driver's own error (psycopg.OperationalError, sqlite3.OperationalError).
            if self._single is not None:
                self._single.release()
            if isinstance(exc, HazardflowError) or not _is_driver_error(exc):
                raise
            self._raise(exc, "connecting")
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

    def _is_busy(self, exc: BaseException) -> bool:
        name = str(getattr(exc, "sqlite_errorname", ""))
        return name.startswith("SQLITE_BUSY") or "database is locked" in str(exc).lower()

    # ── reads ────────────────────────────────────────────────────────────────────────────────────
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._get()
        try:
            rows: list[Any] = conn.dbapi.execute(sql, params).fetchall()
        except Exception as exc:
            self._discard(conn)
            if isinstance(exc, HazardflowError):
                raise
            if any(isinstance(p, str) and _UNSTORABLE.search(p) for p in params):
                # A NUL or a lone surrogate, which the driver refuses to send: no stored row holds one (the
                # engine refuses them), so the answer is what the memory store gives, nothing.
                return []
            self._raise(exc, "reading")
        self._put(conn)
        return rows


#: Characters a database driver refuses in a text parameter (PostgreSQL: NUL; both: lone surrogates).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _is_driver_error(exc: BaseException) -> bool:
    """True for an error of the database driver (sqlite3 or psycopg), which the store maps to its own."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.Error)


def _safe_url_text(url: str) -> str:
    """A URL that could not be parsed, for an error message: bounded, and with any password hidden."""
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", url)
    return text if len(text) <= 200 else text[:200] + f"... ({len(text)} characters)"


def _quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"
