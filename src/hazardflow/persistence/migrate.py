"""Schema migrations (数据库迁移): create or upgrade a database to the schema this release expects.

The Alembic scripts ship inside the package (``hazardflow/persistence/migrations``); their version table
is ``hf_alembic_version``. From the command line::

    hazardflow db upgrade --url sqlite:///hazards.db
    hazardflow db current --url postgresql+psycopg://app@db/hazards

From Python: :func:`upgrade` and :func:`current`. ``SqlStore(url)`` creates a missing schema itself
(``create=True``, the default), refuses a database whose schema is older than this release (run the
upgrade) and refuses one that is newer (upgrade hazardflow), with :class:`~hazardflow.SchemaVersionError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from ._tables import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HEAD", "REVISIONS", "current", "revision_of", "upgrade"]

#: Every schema revision this release knows, oldest first (a test keeps it equal to the Alembic scripts).
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005_policy_chain")
#: The revision this release writes and expects.
HEAD = REVISIONS[-1]


def _config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "hazardflow.persistence:migrations")
    cfg.attributes["connection"] = connection
    return cfg


def revision_of(connection: sa.Connection) -> str | None:
    """The schema revision stamped in the database, or None when it has no hazardflow schema."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    row = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return None if row is None else str(row[0])


def upgrade(url: str, revision: str = "head") -> str:
    """Create or upgrade the database at ``url`` to ``revision`` (default: this release's head); return it.

    Raises :class:`~hazardflow.SchemaVersionError` when the database is at a revision newer than this
    release, and the other :class:`~hazardflow.PersistenceError` subclasses when it cannot be reached or
    written. Each migration runs in a transaction (PostgreSQL and SQLite both have transactional DDL).
    """
    from .sql import SqlStore

    with SqlStore(url, create=True, check_schema=False) as store:
        return store.upgrade_schema(revision)


def current(url: str) -> str | None:
    """The schema revision of the database at ``url`` (None when it has no hazardflow schema)."""
    from .sql import SqlStore

    with SqlStore(url, create=False, check_schema=False) as store:
        return store.schema_revision()


def run_upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Run the Alembic upgrade on an open connection (inside its transaction)."""
    from alembic import command

    command.upgrade(_config(connection), revision)


def script_revisions() -> list[str]:
    """The revisions of the shipped Alembic scripts, oldest first (for the consistency test)."""
    from alembic.script import ScriptDirectory

    cfg = _config(None)  # type: ignore[arg-type]
    scripts = ScriptDirectory.from_config(cfg)
    return [s.revision for s in reversed(list(scripts.walk_revisions()))]
