"""Initial schema: cases, append-only hash-chained events, timers, idempotency keys, confidential values, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_MESSAGE = "hf_event is append-only (审计事件只能追加)"
_APPEND_ONLY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # dialect: (statements to create, statements to drop)
    "sqlite": (
        (
            f"CREATE TRIGGER hf_event_no_update BEFORE UPDATE ON hf_event BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
            f"CREATE TRIGGER hf_event_no_delete BEFORE DELETE ON hf_event BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
        ),
        ("DROP TRIGGER IF EXISTS hf_event_no_update", "DROP TRIGGER IF EXISTS hf_event_no_delete"),
    ),
    "postgresql": (
        (
            "CREATE FUNCTION hf_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END $$",
            "CREATE TRIGGER hf_event_append_only BEFORE UPDATE OR DELETE ON hf_event "
            "FOR EACH ROW EXECUTE FUNCTION hf_event_append_only()",
        ),
        ("DROP TRIGGER IF EXISTS hf_event_append_only ON hf_event", "DROP FUNCTION IF EXISTS hf_event_append_only()"),
    ),
}


def upgrade() -> None:
    op.create_table(
        "hf_case",
        sa.Column("id", sa.String(length=64), nullable=False, comment="案件编号"),
        sa.Column(
            "workflow",
            sa.String(length=32),
            nullable=False,
            comment="流程（hazard 隐患 / tipoff 举报 / escalation 提级）",
        ),
        sa.Column("state", sa.String(length=40), nullable=False, comment="当前状态"),
        sa.Column(
            "rev",
            sa.Integer(),
            nullable=False,
            comment="版本号：已接受的命令数（乐观并发控制，等于最后一个审计事件序号）",
        ),
        sa.Column("jurisdiction", sa.String(length=12), nullable=False, comment="属地行政区划代码"),
        sa.Column(
            "owning_jurisdiction", sa.String(length=12), nullable=False, comment="督办层级：负责监管的行政区划代码"
        ),
        sa.Column("policy_id", sa.String(length=64), nullable=False, comment="适用的辖区政策"),
        sa.Column("policy_version", sa.String(length=32), nullable=False, comment="适用的辖区政策版本"),
        sa.Column("grade", sa.String(length=32), nullable=True, comment="隐患等级（一般 / 重大，或地方分级）"),
        sa.Column("industry", sa.String(length=64), nullable=True, comment="行业领域"),
        sa.Column(
            "source", sa.String(length=64), nullable=True, comment="隐患来源（自查、监督检查、执法检查、举报等）"
        ),
        sa.Column("department", sa.String(length=64), nullable=True, comment="牵头监管部门"),
        sa.Column("business_unit", sa.String(length=64), nullable=True, comment="生产经营单位"),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True, comment="当前阶段期限（UTC）"),
        sa.Column(
            "deadline",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="当前阶段期限详情：期限键、规则、起算时间、是否暂定（JSON）",
        ),
        sa.Column("overdue", sa.Boolean(), nullable=False, comment="是否逾期"),
        sa.Column("sanction_rung", sa.Integer(), nullable=False, comment="已达到的逾期督办层级（0 表示无）"),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False, comment="立案时间（UTC）"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, comment="最后变更时间（UTC）"),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True, comment="办结时间（UTC）；未办结为空"),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="案件事实（JSON，不含保密信息）",
        ),
        sa.Column("last_hash", sa.String(length=64), nullable=False, comment="最新审计事件的哈希（链头）"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hf_case")),
        comment="案件（隐患、举报、提级）当前状态快照",
    )
    op.create_index(op.f("ix_hf_case_business_unit"), "hf_case", ["business_unit"], unique=False)
    op.create_index(op.f("ix_hf_case_closed_at"), "hf_case", ["closed_at"], unique=False)
    op.create_index(op.f("ix_hf_case_deadline_at"), "hf_case", ["deadline_at"], unique=False)
    op.create_index(op.f("ix_hf_case_department"), "hf_case", ["department"], unique=False)
    op.create_index(op.f("ix_hf_case_grade"), "hf_case", ["grade"], unique=False)
    op.create_index(op.f("ix_hf_case_industry"), "hf_case", ["industry"], unique=False)
    op.create_index(op.f("ix_hf_case_jurisdiction"), "hf_case", ["jurisdiction"], unique=False)
    op.create_index(op.f("ix_hf_case_owning_jurisdiction"), "hf_case", ["owning_jurisdiction"], unique=False)
    op.create_index(op.f("ix_hf_case_source"), "hf_case", ["source"], unique=False)
    op.create_index(op.f("ix_hf_case_workflow_state"), "hf_case", ["workflow", "state"], unique=False)
    op.create_table(
        "hf_confidential",
        sa.Column("case_id", sa.String(length=64), nullable=False, comment="案件编号"),
        sa.Column("name", sa.String(length=64), nullable=False, comment="字段名"),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
            comment="字段值（JSON）",
        ),
        sa.ForeignKeyConstraint(["case_id"], ["hf_case.id"], name=op.f("fk_hf_confidential_case_id_hf_case")),
        sa.PrimaryKeyConstraint("case_id", "name", name=op.f("pk_hf_confidential")),
        comment="保密信息（如举报人身份），与案件和审计事件分开存放，可单独授权",
    )
    op.create_table(
        "hf_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
            comment="全局顺序号",
        ),
        sa.Column("case_id", sa.String(length=64), nullable=False, comment="案件编号"),
        sa.Column("seq", sa.Integer(), nullable=False, comment="案件内事件序号（从 1 起，连续）"),
        sa.Column("workflow", sa.String(length=32), nullable=False, comment="流程"),
        sa.Column("type", sa.String(length=64), nullable=False, comment="事件类型（如 case.listed）"),
        sa.Column("trigger", sa.String(length=64), nullable=False, comment="触发的命令"),
        sa.Column("from_state", sa.String(length=40), nullable=True, comment="原状态；立案事件为空"),
        sa.Column("to_state", sa.String(length=40), nullable=False, comment="新状态"),
        sa.Column("actor_id", sa.String(length=64), nullable=False, comment="操作人编号（谁）"),
        sa.Column("actor_name", sa.String(length=128), nullable=False, comment="操作人姓名"),
        sa.Column("actor_role", sa.String(length=64), nullable=False, comment="授权操作的角色"),
        sa.Column("actor_org", sa.String(length=128), nullable=False, comment="操作人所属单位或部门"),
        sa.Column("actor_jurisdiction", sa.String(length=12), nullable=False, comment="操作人所属行政区划代码"),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, comment="发生时间（UTC）"),
        sa.Column("policy_id", sa.String(length=64), nullable=False, comment="适用的辖区政策"),
        sa.Column("policy_version", sa.String(length=32), nullable=False, comment="适用的辖区政策版本"),
        sa.Column("reason", sa.Text(), nullable=True, comment="理由或意见"),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True, comment="幂等键"),
        sa.Column("late_seconds", sa.Float(), nullable=True, comment="计时器迟到秒数（仅计时器触发的事件）"),
        sa.Column("prev_hash", sa.String(length=64), nullable=False, comment="前一事件的哈希（首个事件为 64 个 0）"),
        sa.Column("hash", sa.String(length=64), nullable=False, comment="本事件的哈希（SHA-256 或 HMAC-SHA-256）"),
        sa.Column("body", sa.Text(), nullable=False, comment="被哈希的规范化 JSON 原文（含载荷与变更），原样保存"),
        sa.ForeignKeyConstraint(["case_id"], ["hf_case.id"], name=op.f("fk_hf_event_case_id_hf_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hf_event")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_hf_event_case_id_seq")),
        comment="审计事件（只追加，按案件哈希链接）",
    )
    op.create_index(op.f("ix_hf_event_actor_id"), "hf_event", ["actor_id"], unique=False)
    op.create_index(op.f("ix_hf_event_occurred_at"), "hf_event", ["occurred_at"], unique=False)
    op.create_table(
        "hf_idempotency",
        sa.Column("scope", sa.String(length=100), nullable=False, comment="范围：案件编号，或 open:<流程> 表示立案"),
        sa.Column("key", sa.String(length=200), nullable=False, comment="幂等键"),
        sa.Column("case_id", sa.String(length=64), nullable=False, comment="案件编号"),
        sa.Column("seq", sa.Integer(), nullable=False, comment="首次执行产生的事件序号"),
        sa.Column(
            "command_hash", sa.String(length=64), nullable=False, comment="命令内容的哈希（同键不同命令将被拒绝）"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["hf_case.id"], name=op.f("fk_hf_idempotency_case_id_hf_case")),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_hf_idempotency")),
        comment="幂等键（同一范围内唯一）",
    )
    op.create_table(
        "hf_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
            comment="顺序号",
        ),
        sa.Column("case_id", sa.String(length=64), nullable=False, comment="案件编号"),
        sa.Column("seq", sa.Integer(), nullable=False, comment="事件序号"),
        sa.Column("event_type", sa.String(length=64), nullable=False, comment="事件类型"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, comment="写入时间（UTC）"),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True, comment="投递完成时间（UTC）；未投递为空"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="投递尝试次数"),
        sa.ForeignKeyConstraint(["case_id"], ["hf_case.id"], name=op.f("fk_hf_outbox_case_id_hf_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hf_outbox")),
        comment="发件箱：提交后向其他系统投递的事件",
    )
    op.create_index(op.f("ix_hf_outbox_delivered_at_id"), "hf_outbox", ["delivered_at", "id"], unique=False)
    op.create_table(
        "hf_timer",
        sa.Column("id", sa.String(length=100), nullable=False, comment="计时器编号（案件编号/事件序号/类型）"),
        sa.Column("case_id", sa.String(length=64), nullable=False, comment="案件编号"),
        sa.Column("workflow", sa.String(length=32), nullable=False, comment="流程"),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="类型：deadline 期限 / reminder 提醒 / sanction 逾期督办",
        ),
        sa.Column("key", sa.String(length=40), nullable=False, comment="期限键（如 rectify 整改、review 审核）"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, comment="到期时间（UTC）"),
        sa.Column("armed_seq", sa.Integer(), nullable=False, comment="设置该计时器的事件序号"),
        sa.Column("armed_state", sa.String(length=40), nullable=False, comment="设置时案件所处状态"),
        sa.Column("rung", sa.Integer(), nullable=False, comment="逾期督办层级（1 起；提醒为序号；期限为 0）"),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="状态：armed 待触发 / fired 已触发 / cancelled 已取消",
        ),
        sa.Column("lease_owner", sa.String(length=128), nullable=True, comment="租用该计时器的工作进程"),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True, comment="租约到期时间（UTC）"),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True, comment="触发时间（UTC）"),
        sa.Column("fired_seq", sa.Integer(), nullable=True, comment="触发产生的事件序号"),
        sa.Column("late_seconds", sa.Float(), nullable=True, comment="触发迟到秒数"),
        sa.ForeignKeyConstraint(["case_id"], ["hf_case.id"], name=op.f("fk_hf_timer_case_id_hf_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hf_timer")),
        comment="计时器（期限、提醒、逾期督办），与状态变更同一事务写入",
    )
    op.create_index(op.f("ix_hf_timer_case_id_status"), "hf_timer", ["case_id", "status"], unique=False)
    op.create_index(op.f("ix_hf_timer_status_due_at"), "hf_timer", ["status", "due_at"], unique=False)
    # Audit events are append-only in the database itself: UPDATE and DELETE are refused. The hash chain is the
    # evidence (`hazardflow audit verify`); the triggers stop accidents and casual edits.
    for statement in _APPEND_ONLY[op.get_bind().dialect.name][0]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _APPEND_ONLY[op.get_bind().dialect.name][1]:
        op.execute(statement)
    op.drop_index(op.f("ix_hf_timer_status_due_at"), table_name="hf_timer")
    op.drop_index(op.f("ix_hf_timer_case_id_status"), table_name="hf_timer")
    op.drop_table("hf_timer")
    op.drop_index(op.f("ix_hf_outbox_delivered_at_id"), table_name="hf_outbox")
    op.drop_table("hf_outbox")
    op.drop_table("hf_idempotency")
    op.drop_index(op.f("ix_hf_event_occurred_at"), table_name="hf_event")
    op.drop_index(op.f("ix_hf_event_actor_id"), table_name="hf_event")
    op.drop_table("hf_event")
    op.drop_table("hf_confidential")
    op.drop_index(op.f("ix_hf_case_workflow_state"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_source"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_owning_jurisdiction"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_jurisdiction"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_industry"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_grade"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_department"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_deadline_at"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_closed_at"), table_name="hf_case")
    op.drop_index(op.f("ix_hf_case_business_unit"), table_name="hf_case")
    op.drop_table("hf_case")
