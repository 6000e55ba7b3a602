"""Cases pin the chain of policy layers they are governed by (national first), in ``hf_case.policy_chain``.

A case opened before policies were layered keeps ``policy_chain`` empty (NULL) and its one
``policy_id@policy_version``; the registry resolves such a pin under the layers in force when the case opened.
Upgrading fills the column from the audit record where it holds a chain (a database downgraded and upgraded
again gets its chains back): the opening event's ``policy_chain``, then any migration's ``changes``.
Events need no column: the chain is part of each event's hashed ``body`` (left out when empty, so the hashes
of older events are unchanged). Downgrading drops the column; cases then fall back to their one pin.

Revision ID: 0005_policy_chain
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_policy_chain"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "hf_case",
        sa.Column(
            "policy_chain",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
            comment="案件锁定的各级政策层（国家至本级，每层编号与版本，JSON）；分层前立案的案件为空",
        ),
    )
    _backfill()


def _backfill() -> None:
    """Each case's chain as its events record it (opening event, then migrations), where they record one."""
    bind = op.get_bind()
    chains: dict[str, object] = {}
    for case_id, body in bind.execute(sa.text("SELECT case_id, body FROM hf_event ORDER BY case_id, seq")):
        event = json.loads(body) if isinstance(body, str | bytes) else body
        if event.get("from_state") is None and event.get("policy_chain"):
            chains[case_id] = event["policy_chain"]
        changed = (event.get("changes") or {}).get("policy_chain")
        if changed:
            chains[case_id] = changed
    for case_id, chain in chains.items():
        bind.execute(
            sa.text("UPDATE hf_case SET policy_chain = :c WHERE id = :i AND policy_chain IS NULL"),
            {"c": json.dumps(chain, ensure_ascii=False), "i": case_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("hf_case") as batch:
        batch.drop_column("policy_chain")
