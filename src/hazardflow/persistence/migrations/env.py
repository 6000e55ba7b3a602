"""Alembic environment for hazardflow's schema (run through :mod:`hazardflow.persistence.migrate`).

The connection comes from ``config.attributes["connection"]``; the version table is ``hf_alembic_version``
so hazardflow's migrations never mix with a host application's own Alembic history.
"""

from __future__ import annotations

from alembic import context

from hazardflow.persistence._tables import VERSION_TABLE, metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always given by hazardflow.persistence.migrate
    raise RuntimeError("run hazardflow's migrations with `hazardflow db upgrade --url URL`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
