"""Pinned deadlines get a column of their own (they were kept inside ``fields``).

A pinned deadline is the date an order, a plan, an extension or a reporting period fixed for a stage key
(``rectify``, ``obligation``, ...). Upgrading moves any ``pins`` object found in ``hf_case.fields`` into the
new ``hf_case.pins`` column; downgrading moves it back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _move(*, into_column: bool) -> None:
    """Move the ``pins`` object from ``fields`` (its "pins" key) into the ``pins`` column, or back."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, fields, pins FROM hf_case")).fetchall()
    for case_id, raw_fields, raw_pins in rows:
        fields = json.loads(raw_fields) if isinstance(raw_fields, str) else dict(raw_fields or {})
        pins = json.loads(raw_pins) if isinstance(raw_pins, str) else raw_pins
        if into_column:
            moved = fields.pop("pins", None)
            if moved is None:
                continue
            new_fields, new_pins = fields, moved
        else:
            if not pins:
                continue
            new_fields, new_pins = {**fields, "pins": pins}, None
        bind.execute(
            sa.text("UPDATE hf_case SET fields = :f, pins = :p WHERE id = :id"),
            {
                "f": json.dumps(new_fields, ensure_ascii=False),
                "p": None if new_pins is None else json.dumps(new_pins, ensure_ascii=False),
                "id": case_id,
            },
        )


def upgrade() -> None:
    op.add_column(
        "hf_case",
        sa.Column(
            "pins",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="命令确定的阶段期限（整改期限、报送期限等），按期限键（JSON）",
        ),
    )
    _move(into_column=True)


def downgrade() -> None:
    _move(into_column=False)
    with op.batch_alter_table("hf_case") as batch:
        batch.drop_column("pins")
