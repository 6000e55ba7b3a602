"""Request and response bodies of the HTTP API, with descriptions in Chinese and English.

Requests are parsed into these models; responses are written directly as JSON in the same shapes (the models
document them in the OpenAPI schema, and the tests hold the service to the schema).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CaseOut",
    "CasePageOut",
    "DeadlineOut",
    "EventOut",
    "FireCommand",
    "HealthOut",
    "OpenCase",
    "Problem",
    "ProblemItem",
    "ReporterOut",
    "ReporterRead",
    "TriggerOut",
    "TriggersOut",
]

_CASE_ID = "案件编号 / Case id"


class OpenCase(BaseModel):
    """登记（开启）一个案件 / Open a case: the workflow's opening trigger (e.g. ``register`` for a hazard)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "workflow": "hazard",
                    "jurisdiction": "500240204",
                    "fields": {
                        "grade": "general",
                        "source": "enterprise_self_inspection",
                        "nature": "unsafe_condition",
                        "industry": "industry_trade",
                        "business_unit": "500240204-BU-0001",
                        "location": "一号车间",
                        "description": "砂轮机防护罩缺失",
                    },
                }
            ]
        },
    )

    workflow: str = Field(
        min_length=1,
        max_length=64,
        description="工作流：hazard（隐患）、tipoff（举报）、escalation（提级）、report_obligation（报送任务）/ "
        "Workflow: hazard, tipoff, escalation, report_obligation",
    )
    jurisdiction: str = Field(
        min_length=1,
        max_length=32,
        description="案件所在辖区的行政区划代码（6 位县级、9 或 12 位乡镇级）/ Administrative-division code of the "
        "case's jurisdiction (6-digit county, 9- or 12-digit township)",
    )
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="开启触发器的字段（见生命周期参考页）/ The opening trigger's fields (see the lifecycle reference)",
    )
    case_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="指定案件编号（可选，默认由引擎生成）/ Case id to use (optional; the engine makes one by default)",
    )


class FireCommand(BaseModel):
    """对案件触发一个迁移 / Fire a trigger on a case."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "trigger": "set_deadline",
                    "payload": {"deadline": "2024-03-20", "measures": "加装防护罩", "responsible": "李安全"},
                }
            ]
        },
    )

    trigger: str = Field(
        min_length=1,
        max_length=64,
        description="触发器（如 approve 审核销号；可用的见 /triggers）/ Trigger (e.g. approve; see /triggers for those "
        "allowed now)",
    )
    payload: dict[str, Any] = Field(
        default_factory=dict, description="触发器的字段 / The trigger's fields (its payload)"
    )


class ReporterRead(BaseModel):
    """查阅举报人信息的目的（记入审计日志）/ Why the reporter is read (recorded in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(
        min_length=1, max_length=500, description="查阅目的 / Purpose of the reading (e.g. 核实举报内容)"
    )


class DeadlineOut(BaseModel):
    """当前阶段期限 / The deadline of the stage now running."""

    key: str = Field(description="期限键 / Deadline key (the stage)")
    due_at: datetime = Field(description="到期时刻（UTC）/ Due instant (UTC)")
    start: datetime = Field(description="起算时刻 / Start instant")
    spec: dict[str, Any] = Field(description="期限规则（数量与单位）/ The rule (amount and unit)")
    provisional: bool = Field(description="节假日数据缺失时为暂定 / Provisional when holiday data is missing")


class CaseOut(BaseModel):
    """案件当前快照 / The current snapshot of a case."""

    id: str = Field(description=_CASE_ID)
    workflow: str = Field(description="工作流 / Workflow")
    state: str = Field(description="状态 / State")
    state_zh: str = Field(description="状态中文名 / State label in Chinese")
    rev: int = Field(description="版本号（每个被接受的命令加一）/ Revision (one more per accepted command)")
    jurisdiction: str = Field(description="所在辖区 / Jurisdiction of the case")
    owning_jurisdiction: str = Field(description="负责监管的层级 / Tier that supervises the case")
    policy_id: str = Field(description="所依政策 / Policy the case is pinned to")
    policy_version: str = Field(description="政策版本 / Policy version")
    opened_at: datetime = Field(description="登记时刻 / Opened at")
    updated_at: datetime = Field(description="最近变更时刻 / Last changed at")
    closed_at: datetime | None = Field(description="销号或作废时刻 / Closed or voided at")
    deadline: DeadlineOut | None = Field(description="当前阶段期限 / Running stage deadline")
    overdue: bool = Field(description="是否逾期 / Overdue")
    sanction_rung: int = Field(description="已达到的逾期督办阶梯级数 / Highest rung of the overdue ladder reached")
    listed: bool = Field(description="是否挂牌督办中 / Listed for supervision (挂牌督办)")
    fields: dict[str, Any] = Field(description="案件事实字段（从不含举报人信息）/ Case facts (never the reporter)")


class CasePageOut(BaseModel):
    """一页案件 / One page of cases."""

    items: list[CaseOut] = Field(description="本页案件 / Cases of this page")
    next_cursor: str | None = Field(
        description="下一页游标，无下一页时为 null / Cursor of the next page; null on the last"
    )


class EventOut(BaseModel):
    """一条审计事件（哈希链）/ One audit event (hash-chained)."""

    model_config = ConfigDict(extra="allow")

    case_id: str = Field(description=_CASE_ID)
    seq: int = Field(description="序号 / Sequence number in the case")
    type: str = Field(description="事件类型 / Event type, e.g. case.approved")
    trigger: str = Field(description="触发器 / Trigger")
    trigger_zh: str = Field(description="触发器中文名 / Trigger label in Chinese")
    from_state: str | None = Field(description="原状态 / From state")
    to_state: str = Field(description="新状态 / To state")
    actor_id: str = Field(description="执行人 / Actor id")
    actor_name: str = Field(description="执行人姓名 / Actor name")
    actor_role: str = Field(description="执行角色 / Role acted in")
    occurred_at: datetime = Field(description="发生时刻 / Occurred at")
    payload: dict[str, Any] = Field(description="命令字段 / Command fields")
    hash: str = Field(description="本事件哈希 / Hash of this event")
    prev_hash: str = Field(description="前一事件哈希 / Hash of the previous event")


class TriggerOut(BaseModel):
    """一个可触发的迁移 / A trigger the caller may fire."""

    trigger: str = Field(description="触发器 / Trigger")
    zh: str = Field(description="中文名 / Chinese label")
    en: str = Field(description="English label")


class TriggersOut(BaseModel):
    """当前调用者此刻可以触发的迁移 / The triggers the calling actor may fire now."""

    case_id: str = Field(description=_CASE_ID)
    state: str = Field(description="状态 / State")
    rev: int = Field(description="版本号 / Revision")
    triggers: list[TriggerOut] = Field(description="可触发的迁移（按名称排序）/ Allowed triggers, sorted")


class ReporterOut(BaseModel):
    """举报人信息（每次查阅均记入审计日志）/ The reporter's identity (every reading is audited)."""

    case_id: str = Field(description=_CASE_ID)
    reporter: dict[str, Any] = Field(description="举报人信息；匿名举报为空 / Reporter identity; empty when anonymous")


class HealthOut(BaseModel):
    """服务与数据库状态 / Service and database status."""

    status: str = Field(description="ok")
    version: str = Field(description="hazardflow 版本 / hazardflow version")


class ProblemItem(BaseModel):
    """请求中的一处问题 / One problem in the request."""

    model_config = ConfigDict(extra="allow")

    pointer: str = Field(description="JSON Pointer")
    detail: str = Field(description="说明 / What is wrong")


class Problem(BaseModel):
    """RFC 9457 问题详情 / RFC 9457 problem details (``application/problem+json``).

    ``code`` 是稳定的错误码（按它分支）；其余扩展字段是错误的结构化字段（case_id、trigger、state、allowed、
    guard …）。``code`` is the stable error code to branch on; further members are the error's structured fields.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="问题类型 URI（每个错误类一个）/ Problem type URI (one per error class)")
    title: str = Field(description="问题类型标题 / Title of the problem type")
    status: int = Field(description="HTTP 状态码 / HTTP status")
    detail: str = Field(description="本次问题的说明 / Explanation of this occurrence")
    code: str = Field(description="稳定错误码 / Stable error code, e.g. hazardflow.guard_rejected")
    instance: str | None = Field(default=None, description="出错的请求路径 / Path of the request")
    errors: list[ProblemItem] | None = Field(default=None, description="请求校验问题 / Request validation problems")
