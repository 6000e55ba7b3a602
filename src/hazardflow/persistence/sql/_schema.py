"""The schema: its revision checked on open, and creating, migrating and dropping it.

Creating or migrating runs under the write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock),
re-reading the revision first, so two processes opening a fresh database at once do not both create it.
The migrations themselves are Alembic's (:mod:`hazardflow.persistence.migrate`).
"""

from __future__ import annotations

import sqlalchemy as sa

from ..._exceptions import HazardflowError, InvalidInput, PersistenceError, SchemaVersionError
from .. import _tables, migrate
from ._connect import _Connections


class _Schema(_Connections):
    """Schema checks and changes of a :class:`SqlStore`."""

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
