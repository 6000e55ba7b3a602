"""The SQL schema: SQLModel tables with Chinese column comments (数据库表结构).

These classes define the schema and are what the Alembic migrations in ``migrations/`` are checked
against (a test runs autogenerate on a migrated database and expects no difference). The store itself
never goes through an ORM session: :mod:`hazardflow.persistence.sql` maps rows to the attrs domain objects
explicitly and writes with prepared statements on the driver connection.

Tables (all prefixed ``hf_`` so they can live beside a host application's own tables)::

    hf_case           one row per case: current state, revision, indexed facts, the fields as JSON
    hf_event          append-only audit events, unique (case_id, seq), hash-chained; ``body`` is the
                      canonical JSON that was hashed, kept verbatim
    hf_timer          durable timers (deadline, reminder, sanction); a failed firing's hold
    hf_idempotency    idempotency keys, unique per scope (the case id, or ``open:<workflow>``)
    hf_confidential   confidential values (a tip-off reporter's identity), kept apart from the case
    hf_outbox         one row per event to deliver to other systems after commit

Timestamps are stored in UTC (``timestamptz`` on PostgreSQL; fixed-width text
``YYYY-MM-DD HH:MM:SS.ffffff+00:00`` on SQLite, which sorts and compares as time and which SQLite's own date
functions read).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = [
    "VERSION_TABLE",
    "CaseRow",
    "ConfidentialRow",
    "EventRow",
    "IdempotencyRow",
    "OutboxRow",
    "TimerRow",
    "metadata",
]

#: Alembic's version table for hazardflow's own migrations (apart from a host application's).
VERSION_TABLE = "hf_alembic_version"

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)
_registry = registry(metadata=metadata)

_TS = sa.DateTime(timezone=True)
#: JSONB on PostgreSQL (queryable, indexable), JSON text elsewhere.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit (and must be spelt INTEGER).
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class _Base(SQLModel, registry=_registry):
    """hazardflow's tables, in their own metadata (never in a host application's ``SQLModel.metadata``)."""


def _col(type_: Any, comment: str, *args: Any, nullable: bool = False, **kwargs: Any) -> Any:
    return Field(sa_column=sa.Column(type_, *args, nullable=nullable, comment=comment, **kwargs))


class CaseRow(_Base, table=True):
    """One case (案件): its current snapshot, revision and the facts reports filter on."""

    __tablename__ = "hf_case"
    __table_args__ = (
        sa.Index(None, "workflow", "state"),
        sa.Index(None, "jurisdiction"),
        sa.Index(None, "owning_jurisdiction"),
        sa.Index(None, "grade"),
        sa.Index(None, "industry"),
        sa.Index(None, "source"),
        sa.Index(None, "department"),
        sa.Index(None, "business_unit"),
        sa.Index(None, "deadline_at"),
        sa.Index(None, "closed_at"),
        {"comment": "案件（隐患、举报、提级）当前状态快照"},
    )

    id: str = _col(sa.String(64), "案件编号", primary_key=True)
    workflow: str = _col(sa.String(32), "流程（hazard 隐患 / tipoff 举报 / escalation 提级）")
    state: str = _col(sa.String(40), "当前状态")
    rev: int = _col(sa.Integer, "版本号：已接受的命令数（乐观并发控制，等于最后一个审计事件序号）")
    jurisdiction: str = _col(sa.String(12), "属地行政区划代码")
    owning_jurisdiction: str = _col(sa.String(12), "督办层级：负责监管的行政区划代码")
    policy_id: str = _col(sa.String(64), "适用的辖区政策")
    policy_version: str = _col(sa.String(32), "适用的辖区政策版本")
    grade: str | None = _col(sa.String(32), "隐患等级（一般 / 重大，或地方分级）", nullable=True)
    industry: str | None = _col(sa.String(64), "行业领域", nullable=True)
    source: str | None = _col(sa.String(64), "隐患来源（自查、监督检查、执法检查、举报等）", nullable=True)
    department: str | None = _col(sa.String(64), "牵头监管部门", nullable=True)
    business_unit: str | None = _col(sa.String(64), "生产经营单位", nullable=True)
    deadline_at: datetime | None = _col(_TS, "当前阶段期限（UTC）", nullable=True)
    deadline: Any = _col(_JSON, "当前阶段期限详情：期限键、规则、起算时间、是否暂定（JSON）", nullable=True)
    overdue: bool = _col(sa.Boolean, "是否逾期")
    sanction_rung: int = _col(sa.Integer, "已达到的逾期督办层级（0 表示无）")
    opened_at: datetime = _col(_TS, "立案时间（UTC）")
    updated_at: datetime = _col(_TS, "最后变更时间（UTC）")
    closed_at: datetime | None = _col(_TS, "办结时间（UTC）；未办结为空", nullable=True)
    fields: Any = _col(_JSON, "案件事实（JSON，不含保密信息）")
    pins: Any = _col(_JSON, "命令确定的阶段期限（整改期限、报送期限等），按期限键（JSON）", nullable=True)
    policy_chain: Any = _col(
        _JSON, "案件锁定的各级政策层（国家至本级，每层编号与版本，JSON）；分层前立案的案件为空", nullable=True
    )
    last_hash: str = _col(sa.String(64), "最新审计事件的哈希（链头）")


class EventRow(_Base, table=True):
    """One audit event (审计事件): append-only, hash-chained per case."""

    __tablename__ = "hf_event"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "seq"),
        sa.Index(None, "occurred_at"),
        sa.Index(None, "actor_id"),
        {"comment": "审计事件（只追加，按案件哈希链接）"},
    )

    id: int | None = _col(_BIGID, "全局顺序号", primary_key=True, autoincrement=True)
    case_id: str = _col(sa.String(64), "案件编号", sa.ForeignKey("hf_case.id"))
    seq: int = _col(sa.Integer, "案件内事件序号（从 1 起，连续）")
    workflow: str = _col(sa.String(32), "流程")
    type: str = _col(sa.String(64), "事件类型（如 case.listed）")
    trigger: str = _col(sa.String(64), "触发的命令")
    from_state: str | None = _col(sa.String(40), "原状态；立案事件为空", nullable=True)
    to_state: str = _col(sa.String(40), "新状态")
    actor_id: str = _col(sa.String(64), "操作人编号（谁）")
    actor_name: str = _col(sa.String(128), "操作人姓名")
    actor_role: str = _col(sa.String(64), "授权操作的角色")
    actor_org: str = _col(sa.String(128), "操作人所属单位或部门")
    actor_jurisdiction: str = _col(sa.String(12), "操作人所属行政区划代码")
    occurred_at: datetime = _col(_TS, "发生时间（UTC）")
    policy_id: str = _col(sa.String(64), "适用的辖区政策")
    policy_version: str = _col(sa.String(32), "适用的辖区政策版本")
    reason: str | None = _col(sa.Text, "理由或意见", nullable=True)
    idempotency_key: str | None = _col(sa.String(200), "幂等键", nullable=True)
    late_seconds: float | None = _col(sa.Float, "计时器迟到秒数（仅计时器触发的事件）", nullable=True)
    prev_hash: str = _col(sa.String(64), "前一事件的哈希（首个事件为 64 个 0）")
    hash: str = _col(sa.String(64), "本事件的哈希（SHA-256 或 HMAC-SHA-256）")
    body: str = _col(sa.Text, "被哈希的规范化 JSON 原文（含载荷与变更），原样保存")


class TimerRow(_Base, table=True):
    """One durable timer (计时器): armed in the same transaction as the command that causes it."""

    __tablename__ = "hf_timer"
    __table_args__ = (
        sa.Index(None, "status", "due_at"),
        sa.Index(None, "case_id", "status"),
        {"comment": "计时器（期限、提醒、逾期督办），与状态变更同一事务写入"},
    )

    id: str = _col(sa.String(100), "计时器编号（案件编号/事件序号/类型）", primary_key=True)
    case_id: str = _col(sa.String(64), "案件编号", sa.ForeignKey("hf_case.id"))
    workflow: str = _col(sa.String(32), "流程")
    kind: str = _col(sa.String(16), "类型：deadline 期限 / reminder 提醒 / sanction 逾期督办")
    key: str = _col(sa.String(40), "期限键（如 rectify 整改、review 审核）")
    due_at: datetime = _col(_TS, "到期时间（UTC）")
    armed_seq: int = _col(sa.Integer, "设置该计时器的事件序号")
    armed_state: str = _col(sa.String(40), "设置时案件所处状态")
    rung: int = _col(sa.Integer, "逾期督办层级（1 起；提醒为序号；期限为 0）")
    status: str = _col(sa.String(16), "状态：armed 待触发 / fired 已触发 / cancelled 已取消")
    lease_owner: str | None = _col(sa.String(128), "推迟该计时器的工作进程（触发出错后）", nullable=True)
    lease_expires_at: datetime | None = _col(_TS, "推迟至此时刻前不触发（UTC）", nullable=True)
    fired_at: datetime | None = _col(_TS, "触发时间（UTC）", nullable=True)
    fired_seq: int | None = _col(sa.Integer, "触发产生的事件序号", nullable=True)
    late_seconds: float | None = _col(sa.Float, "触发迟到秒数", nullable=True)


class IdempotencyRow(_Base, table=True):
    """An idempotency key (幂等键): the same key in the same scope returns the first result."""

    __tablename__ = "hf_idempotency"
    __table_args__ = ({"comment": "幂等键（同一范围内唯一）"},)

    scope: str = _col(sa.String(100), "范围：案件编号，或 open:<流程> 表示立案", primary_key=True)
    key: str = _col(sa.String(200), "幂等键", primary_key=True)
    case_id: str = _col(sa.String(64), "案件编号", sa.ForeignKey("hf_case.id"))
    seq: int = _col(sa.Integer, "首次执行产生的事件序号")
    command_hash: str = _col(sa.String(64), "命令内容的哈希（同键不同命令将被拒绝）")


class ConfidentialRow(_Base, table=True):
    """A confidential value (保密信息), e.g. a tip-off reporter's identity: never in the case or its events."""

    __tablename__ = "hf_confidential"
    __table_args__ = ({"comment": "保密信息（如举报人身份），与案件和审计事件分开存放，可单独授权"},)

    case_id: str = _col(sa.String(64), "案件编号", sa.ForeignKey("hf_case.id"), primary_key=True)
    name: str = _col(sa.String(64), "字段名", primary_key=True)
    value: Any = _col(_JSON, "字段值（JSON）", nullable=True)


class OutboxRow(_Base, table=True):
    """One event to deliver to other systems (webhooks, OA) after commit (发件箱)."""

    __tablename__ = "hf_outbox"
    __table_args__ = (
        sa.Index(None, "delivered_at", "id"),
        {"comment": "发件箱：提交后向其他系统投递的事件"},
    )

    id: int | None = _col(_BIGID, "顺序号", primary_key=True, autoincrement=True)
    case_id: str = _col(sa.String(64), "案件编号", sa.ForeignKey("hf_case.id"))
    seq: int = _col(sa.Integer, "事件序号")
    event_type: str = _col(sa.String(64), "事件类型")
    created_at: datetime = _col(_TS, "写入时间（UTC）")
    delivered_at: datetime | None = _col(_TS, "投递完成时间（UTC）；未投递为空", nullable=True)
    attempts: int = _col(sa.Integer, "投递尝试次数")
