"""Webhook subscriptions and deliveries (Standard Webhooks from the outbox).

``hf_webhook_subscription`` holds the endpoints (URL, ``whsec_`` secret, event types, jurisdiction filter);
``hf_webhook_delivery`` one row per message and subscription, with its attempts, lease and state
(pending → delivered, or dead after the retry window). ``hf_outbox.delivered_at`` now records when a row
was handed to the subscriptions (fanned out).

Revision ID: 0005_webhooks
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_webhooks"
down_revision: str | None = "0005_reports"
branch_labels: str | None = None
depends_on: str | None = None

_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hf_webhook_subscription",
        sa.Column("id", sa.String(length=64), nullable=False, comment="订阅编号"),
        sa.Column("url", sa.Text(), nullable=False, comment="接收地址（http/https）"),
        sa.Column(
            "secret", sa.String(length=128), nullable=False, comment="签名密钥（whsec_ 开头，Standard Webhooks）"
        ),
        sa.Column("event_types", _JSON, nullable=False, comment="订阅的事件类型（JSON 列表；空表示全部）"),
        sa.Column(
            "jurisdiction",
            sa.String(length=12),
            nullable=True,
            comment="只推送该行政区划（含下级）的案件；为空表示全部",
        ),
        sa.Column("active", sa.Boolean(), nullable=False, comment="是否启用"),
        sa.Column("created_at", _TS, nullable=False, comment="创建时间（UTC）"),
        sa.Column("disabled_reason", sa.Text(), nullable=True, comment="停用原因（如接收方返回 410）"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hf_webhook_subscription")),
        comment="Webhook 订阅：接收地址、签名密钥、事件类型、辖区过滤",
    )
    op.create_table(
        "hf_webhook_delivery",
        sa.Column("id", sa.String(length=160), nullable=False, comment="消息编号（webhook-id，重试不变）"),
        sa.Column("subscription_id", sa.String(length=64), nullable=False, comment="订阅编号"),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False, comment="发件箱顺序号"),
        sa.Column("case_id", sa.String(length=64), nullable=False, comment="案件编号"),
        sa.Column(
            "event_type", sa.String(length=64), nullable=False, comment="消息类型（如 hazard.register、todo.updated）"
        ),
        sa.Column("body", sa.Text(), nullable=False, comment="消息正文（JSON 原文，签名对象）"),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="状态：pending 待投递 / delivered 已投递 / dead 死信",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="已尝试次数"),
        sa.Column("created_at", _TS, nullable=False, comment="生成时间（UTC）"),
        sa.Column("next_attempt_at", _TS, nullable=False, comment="下次尝试时间（UTC）"),
        sa.Column("first_attempt_at", _TS, nullable=True, comment="首次尝试时间（UTC）"),
        sa.Column("delivered_at", _TS, nullable=True, comment="投递成功时间（UTC）"),
        sa.Column("lease_owner", sa.String(length=128), nullable=True, comment="正在投递的工作进程"),
        sa.Column("lease_expires_at", _TS, nullable=True, comment="投递租约到期时间（UTC）"),
        sa.Column("last_status", sa.Integer(), nullable=True, comment="最近一次 HTTP 状态码"),
        sa.Column("last_error", sa.Text(), nullable=True, comment="最近一次失败原因"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["hf_webhook_subscription.id"],
            name=op.f("fk_hf_webhook_delivery_subscription_id_hf_webhook_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hf_webhook_delivery")),
        comment="Webhook 投递：每条消息对每个订阅一行，重试沿用同一 webhook-id",
    )
    op.create_index(
        op.f("ix_hf_webhook_delivery_status_next_attempt_at"),
        "hf_webhook_delivery",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_hf_webhook_delivery_subscription_id"), "hf_webhook_delivery", ["subscription_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hf_webhook_delivery_subscription_id"), table_name="hf_webhook_delivery")
    op.drop_index(op.f("ix_hf_webhook_delivery_status_next_attempt_at"), table_name="hf_webhook_delivery")
    op.drop_table("hf_webhook_delivery")
    op.drop_table("hf_webhook_subscription")
