"""Timer columns ``lease_owner`` and ``lease_expires_at`` say what they mean now: a hold, not a lease.

A worker claims a due timer inside the transaction that fires it (see ``SqlStore.claim_timer``), so no
lease is written any more. The two columns are kept and record a *hold*: a firing that raised is rolled
back and the timer is held back until ``lease_expires_at`` by the worker named in ``lease_owner``, so a
failing timer is retried after the back-off instead of on every sweep. Only the column comments change
(PostgreSQL keeps them; SQLite has none): no data moves.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

#: column: (its type, the comment after this revision, the comment before it)
_COMMENTS: dict[str, tuple[sa.types.TypeEngine[Any], str, str]] = {
    "lease_owner": (sa.String(length=128), "推迟该计时器的工作进程（触发出错后）", "租用该计时器的工作进程"),
    "lease_expires_at": (sa.DateTime(timezone=True), "推迟至此时刻前不触发（UTC）", "租约到期时间（UTC）"),
}


def _comment(*, upgrading: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column, (kind, after, before) in _COMMENTS.items():
        op.alter_column(
            "hf_timer",
            column,
            existing_type=kind,
            existing_nullable=True,
            comment=after if upgrading else before,
            existing_comment=before if upgrading else after,
        )


def upgrade() -> None:
    _comment(upgrading=True)


def downgrade() -> None:
    _comment(upgrading=False)
