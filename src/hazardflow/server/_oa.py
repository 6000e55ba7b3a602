"""Routes for OA systems beyond the cases: the pull to-do list (统一待办) and webhook subscriptions.

``GET /v1/todos`` lists the pending to-do items (:mod:`hazardflow.todos`) of the calling actor, or of an
explicit ``assignee`` (``role@where``) the caller may see. ``/v1/subscriptions`` manages the webhook
subscriptions the delivery worker (``hazardflow deliver``) sends to (:mod:`hazardflow.webhooks`); only the
roles configured as webhook administrators may, within their jurisdiction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from .._engine import ENTERPRISE_ROLES
from .._exceptions import InvalidInput
from .._jurisdiction import is_within
from .._model import Actor
from ._app import API_PREFIX, ActorDep, JsonResponse, _problem_responses, _state
from ._errors import AccessDenied

__all__ = ["DEFAULT_WEBHOOK_ADMIN_ROLES", "oa_router"]

#: Roles that manage webhook subscriptions unless the app is told otherwise (the coordinating offices).
DEFAULT_WEBHOOK_ADMIN_ROLES = frozenset({"safety_committee_office", "emergency_office"})


class TodoOut(BaseModel):
    """一条待办（统一待办的中立格式）/ One to-do item (the neutral 统一待办 form)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="待办编号（同一步骤、同一责任方稳定不变）/ Item id (stable per step and party)")
    task_id: str = Field(description="任务编号（每步稳定）/ Task id (stable per step)")
    case_id: str = Field(description="案件编号 / Case id")
    title: str = Field(description="标题 / Title")
    step: str = Field(description="步骤 / Step (trigger)")
    step_name: str = Field(description="步骤中文名 / Step name in Chinese")
    receiver: str = Field(description="接收方 role@where / Receiver role@where")
    status: str = Field(description="pending 待办 / done 已办 / closed 办结")
    pc_url: str = Field(description="PC 端链接 / PC URL")
    mobile_url: str = Field(description="移动端链接 / Mobile URL")


class TodoPageOut(BaseModel):
    """待办列表 / To-do items."""

    count: int = Field(description="条数 / Number of items")
    items: list[TodoOut] = Field(description="待办（按期限排序）/ Items, soonest due first")


class NewSubscription(BaseModel):
    """新建 Webhook 订阅 / A new webhook subscription."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://oa.example.gov.cn/hooks/hazard", "event_types": ["hazard.*", "todo.updated"]}]
        },
    )

    url: str = Field(min_length=1, max_length=2000, description="接收地址 / Receiver URL (http or https)")
    event_types: list[str] = Field(
        default_factory=list, description="事件类型（空为全部）/ Event types (hazard.*, todo.updated; empty: all)"
    )
    jurisdiction: str | None = Field(
        default=None, max_length=32, description="只推送该辖区（含下级）；默认调用者辖区 / Only this jurisdiction"
    )
    secret: str | None = Field(
        default=None, max_length=200, description="whsec_ 密钥（默认自动生成）/ whsec_ secret (made when left out)"
    )


class SubscriptionOut(BaseModel):
    """Webhook 订阅（密钥只在创建时返回一次）/ A webhook subscription (the secret only once, on creation)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="订阅编号 / Subscription id")
    url: str = Field(description="接收地址 / Receiver URL")
    event_types: list[str] = Field(description="事件类型 / Event types")
    jurisdiction: str | None = Field(description="辖区 / Jurisdiction")
    active: bool = Field(description="是否启用 / Active")
    created_at: str = Field(description="创建时刻 / Created at")


SubId = Annotated[str, Path(min_length=1, max_length=64, description="订阅编号 / Subscription id")]


def _may_see_receiver(actor: Actor, receiver: str) -> str | None:
    role, sep, where = receiver.partition("@")
    if not sep or not role or not where:
        raise InvalidInput("assignee", receiver, "is written role@where (e.g. township_officer@500240204)")
    if role in ENTERPRISE_ROLES:
        return None if where == actor.org else f"the to-dos of unit {where!r} belong to that unit"
    if not actor.roles - ENTERPRISE_ROLES:
        return "enterprise roles see only their own unit's to-dos"
    try:
        if is_within(where, actor.jurisdiction):
            return None
    except InvalidInput:
        raise InvalidInput("assignee", receiver, "names a jurisdiction that is not a division code") from None
    return f"{where!r} is outside the actor's jurisdiction ({actor.jurisdiction!r})"


def oa_router() -> APIRouter:
    """The to-do and subscription routes (included by :func:`hazardflow.server.create_app`)."""
    router = APIRouter(prefix=API_PREFIX)

    @router.get(
        "/todos",
        operation_id="listTodos",
        tags=["oa"],
        summary="待办列表 / To-do items",
        description="调用者（或其可见的 assignee=role@where）的待办，供拉取式统一待办使用。/ "
        "The pending to-do items of the "
        "caller, or of an assignee (role@where) the caller may see, for OA portals that pull.",
        response_model=TodoPageOut,
        responses=_problem_responses(401, 403, 422),
    )
    async def todos(
        request: Request,
        actor: ActorDep,
        assignee: Annotated[
            str | None, Query(max_length=200, description="接收方 role@where（默认调用者本人）/ Receiver role@where")
        ] = None,
        workflow: Annotated[str | None, Query(max_length=64, description="工作流 / Workflow")] = None,
    ) -> Response:
        from ..todos import list_todos, todos_for

        state = _state(request)
        if assignee is not None:
            reason = _may_see_receiver(actor, assignee)
            if reason is not None:
                raise AccessDenied(actor.id, f"the to-dos of {assignee!r}", reason)
            items = await run_in_threadpool(
                lambda: list_todos(state.engine.store, state.todo_config, receiver=assignee, workflow=workflow)
            )
        else:
            items = await run_in_threadpool(
                lambda: todos_for(state.engine.store, actor, state.todo_config, workflow=workflow)
            )
        return JsonResponse({"count": len(items), "items": [i.to_json() for i in items]})

    def admin(request: Request, actor: Actor) -> None:
        roles = _state(request).webhook_admin_roles
        if not actor.roles & roles:
            raise AccessDenied(
                actor.id,
                "webhook subscriptions",
                f"managing them needs one of the roles {sorted(roles)} (actor roles: {sorted(actor.roles)})",
            )

    def visible(actor: Actor, jurisdiction: str | None) -> bool:
        if jurisdiction is None:
            return actor.jurisdiction == "000000"
        return is_within(jurisdiction, actor.jurisdiction)

    @router.post(
        "/subscriptions",
        operation_id="addSubscription",
        tags=["oa"],
        status_code=201,
        summary="新建 Webhook 订阅 / Add a webhook subscription",
        description="返回订阅及其 whsec_ 密钥（仅此一次）。辖区默认为调用者的。/ "
        "Returns the subscription with its whsec_ "
        "secret (this once). The jurisdiction defaults to the caller's.",
        response_model=SubscriptionOut,
        responses=_problem_responses(400, 401, 403, 422),
    )
    async def add_subscription(request: Request, actor: ActorDep, body: Annotated[NewSubscription, Body()]) -> Response:
        from ..webhooks import webhook_store

        admin(request, actor)
        where = body.jurisdiction if body.jurisdiction is not None else actor.jurisdiction
        if not is_within(where, actor.jurisdiction):
            raise AccessDenied(actor.id, f"subscriptions for {where!r}", "the jurisdiction is outside the actor's")
        engine = _state(request).engine

        def add() -> Any:
            return webhook_store(engine.store).add_subscription(
                body.url, now=engine.now(), event_types=body.event_types, jurisdiction=where, secret=body.secret
            )

        sub = await run_in_threadpool(add)
        return JsonResponse(
            sub.to_json(show_secret=True),
            status_code=201,
            headers={"Location": f"{API_PREFIX}/subscriptions/{sub.id}", "Cache-Control": "no-store"},
        )

    @router.get(
        "/subscriptions",
        operation_id="listSubscriptions",
        tags=["oa"],
        summary="Webhook 订阅列表 / Webhook subscriptions",
        description="调用者辖区内的订阅（不含密钥）/ The subscriptions within the caller's jurisdiction (no secrets).",
        response_model=list[SubscriptionOut],
        responses=_problem_responses(401, 403),
    )
    async def list_subscriptions(request: Request, actor: ActorDep) -> Response:
        from ..webhooks import webhook_store

        admin(request, actor)
        subs = await run_in_threadpool(lambda: webhook_store(_state(request).engine.store).list_subscriptions())
        return JsonResponse([s.to_json() for s in subs if visible(actor, s.jurisdiction)])

    @router.get(
        "/subscriptions/{subscription_id}",
        operation_id="readSubscription",
        tags=["oa"],
        summary="读取 Webhook 订阅 / Read a webhook subscription",
        description="订阅（不含密钥）/ The subscription (no secret).",
        response_model=SubscriptionOut,
        responses=_problem_responses(401, 403, 404),
    )
    async def read_subscription(request: Request, actor: ActorDep, subscription_id: SubId) -> Response:
        from ..webhooks import webhook_store

        admin(request, actor)
        sub = await run_in_threadpool(
            lambda: webhook_store(_state(request).engine.store).get_subscription(subscription_id)
        )
        if not visible(actor, sub.jurisdiction):
            raise AccessDenied(actor.id, f"subscription {subscription_id!r}", "it is outside the actor's jurisdiction")
        return JsonResponse(sub.to_json())

    @router.delete(
        "/subscriptions/{subscription_id}",
        operation_id="removeSubscription",
        tags=["oa"],
        status_code=204,
        summary="删除 Webhook 订阅 / Remove a webhook subscription",
        description="删除后不再投递 / Nothing more is delivered to it.",
        responses=_problem_responses(401, 403, 404),
    )
    async def remove_subscription(request: Request, actor: ActorDep, subscription_id: SubId) -> Response:
        from ..webhooks import webhook_store

        admin(request, actor)
        hooks = webhook_store(_state(request).engine.store)
        sub = await run_in_threadpool(hooks.get_subscription, subscription_id)
        if not visible(actor, sub.jurisdiction):
            raise AccessDenied(actor.id, f"subscription {subscription_id!r}", "it is outside the actor's jurisdiction")
        await run_in_threadpool(hooks.remove_subscription, subscription_id)
        return Response(status_code=204)

    return router
