"""Indexes for case lists and report figures (统计报表索引).

* ``hf_case (opened_at, id)``: case lists page by registration time (keyset pagination) and figures count
  registrations in a period without reading the whole table.
* ``hf_event (case_id, occurred_at)``: a case's state at a past instant is its last event at or before it.
* ``hf_event (trigger, occurred_at)``: figures count the closures, sanctions, escalations and filings of a
  period by their trigger.

Revision ID: 0005_reports
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision: str = "0005_reports"
down_revision: str | None = "0005_policy_chain"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_hf_case_opened_at_id", "hf_case", ["opened_at", "id"], unique=False)
    op.create_index("ix_hf_event_case_id_occurred_at", "hf_event", ["case_id", "occurred_at"], unique=False)
    op.create_index("ix_hf_event_trigger_occurred_at", "hf_event", ["trigger", "occurred_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_hf_event_trigger_occurred_at", table_name="hf_event")
    op.drop_index("ix_hf_event_case_id_occurred_at", table_name="hf_event")
    op.drop_index("ix_hf_case_opened_at_id", table_name="hf_case")
