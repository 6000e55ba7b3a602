"""The FastAPI application over an :class:`~hazardflow.Engine`: commands, reads, lists, problem+json errors.

Every engine call runs in the worker thread pool (the engine and the SQL store are synchronous and safe to
share between threads); authentication and JSON encoding run on the event loop.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import orjson
import structlog
from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from .._engine import ENTERPRISE_ROLES, Engine
from .._exceptions import ConcurrentUpdateError, HazardflowError, InvalidInput
from .._glossary import en, zh
from .._jurisdiction import is_within
from .._model import Actor, AuditEvent, Case, thaw
from ._auth import Authenticator, DenyAll
from ._errors import AccessDenied, IdempotencyKeyInFlight, IdempotencyKeyReused
from ._models import (
    CaseOut,
    CasePageOut,
    EventOut,
    FireCommand,
    HealthOut,
    OpenCase,
    Problem,
    ReporterOut,
    ReporterRead,
    TriggersOut,
)
from ._problems import (
    PROBLEM_MEDIA_TYPE,
    http_problem,
    internal_problem,
    problem_for,
    validation_problem,
)

if TYPE_CHECKING:
    from ..todos import TodoConfig

__all__ = ["API_PREFIX", "JsonResponse", "ServiceState", "create_app", "current_actor", "engine_of"]

API_PREFIX = "/v1"
T = TypeVar("T")


def _log() -> Any:
    return structlog.get_logger("hazardflow.server")


class JsonResponse(Response):
    """JSON via orjson (UTF-8, Chinese kept as is, aware datetimes in ISO 8601)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)


class _InFlight:
    """Idempotency keys being processed in this process right now (a second request with one gets 409)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[tuple[str, str]] = set()

    def enter(self, token: tuple[str, str]) -> bool:
        with self._lock:
            if token in self._keys:
                return False
            self._keys.add(token)
            return True

    def leave(self, token: tuple[str, str]) -> None:
        with self._lock:
            self._keys.discard(token)


class ServiceState:
    """What the routes share: the engine, the authenticator, the keys in flight (``app.state.hazardflow``)."""

    def __init__(
        self,
        engine: Engine,
        authenticator: Authenticator,
        todo_config: Any = None,
        webhook_admin_roles: frozenset[str] = frozenset(),
    ) -> None:
        self.engine = engine
        self.authenticator = authenticator
        self.in_flight = _InFlight()
        self.todo_config = todo_config
        self.webhook_admin_roles = webhook_admin_roles


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.hazardflow
    return state


async def current_actor(request: Request) -> Actor:
    """FastAPI dependency: the calling actor, from the app's authenticator (401 problem when refused).

    Routers a host adds to the app use it as ``actor: Actor = Depends(current_actor)``.
    """
    return _state(request).authenticator.authenticate(request)


def engine_of(request: Request) -> Engine:
    """FastAPI dependency: the engine the app serves."""
    return _state(request).engine


ActorDep = Annotated[Actor, Depends(current_actor)]
CaseIdPath = Annotated[str, Path(min_length=1, max_length=64, description="案件编号 / Case id")]


# ── JSON forms ─────────────────────────────────────────────────────────────────────────────────────────
def case_json(case: Case) -> dict[str, Any]:
    """The JSON form of a case snapshot (:class:`CaseOut`)."""
    return {
        "id": case.id,
        "workflow": case.workflow,
        "state": case.state,
        "state_zh": zh("state", case.state),
        "rev": case.rev,
        "jurisdiction": case.jurisdiction,
        "owning_jurisdiction": case.owning_jurisdiction,
        "policy_id": case.policy_id,
        "policy_version": case.policy_version,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at is not None else None,
        "deadline": case.deadline.to_json() if case.deadline is not None else None,
        "overdue": case.overdue,
        "sanction_rung": case.sanction_rung,
        "listed": case.listed,
        "fields": thaw(case.fields),
    }


def event_json(event: AuditEvent) -> dict[str, Any]:
    """The JSON form of an audit event (:class:`EventOut`)."""
    out = event.to_dict()
    out["trigger_zh"] = zh("trigger", event.trigger)
    out["payload"] = thaw(event.payload)
    out["changes"] = thaw(event.changes)
    return out


# ── idempotency ────────────────────────────────────────────────────────────────────────────────────────
_SF_STRING = re.compile(r'^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$')
_BARE_KEY = re.compile(r"^[A-Za-z0-9._~:+/=-]+$")
MAX_KEY = 128


def parse_idempotency_key(raw: str | None) -> str | None:
    """The key of an ``Idempotency-Key`` header: an RFC 8941 string (``"8e03…"``), or a bare token as many
    clients send it. Refused (:class:`~hazardflow.InvalidInput`): anything else, empty, over 128 characters."""
    if raw is None:
        return None
    text = raw.strip()
    match = _SF_STRING.match(text)
    if match is not None:
        key = re.sub(r'\\(["\\])', r"\1", match.group(1))
    elif _BARE_KEY.match(text):
        key = text
    else:
        raise InvalidInput(
            "Idempotency-Key",
            text[:100],
            'must be a Structured Field string of printable ASCII in double quotes, e.g. "8e03978e-40d5-43e8-bc93-'
            '6894a57f9324" (draft-ietf-httpapi-idempotency-key-header)',
        )
    if not key or len(key) > MAX_KEY:
        raise InvalidInput("Idempotency-Key", key[:100], f"must hold 1 to {MAX_KEY} characters")
    return key


async def _run_idempotent(
    request: Request,
    actor: Actor,
    scope: str,
    where: str,
    call: Callable[[str | None], T],
) -> tuple[T, bool]:
    """Run ``call(engine_key)`` in the thread pool under the request's Idempotency-Key, if any.

    Returns ``(result, replayed)``. The engine stores the key, a fingerprint of the command and its result in
    the command's own transaction (scope: the case, or ``open:<workflow>``); the key is scoped to the caller
    (``<actor id>:<key>``), so two callers never see each other's results.
    """
    state = _state(request)
    key = parse_idempotency_key(request.headers.get("idempotency-key"))
    if key is None:
        return await run_in_threadpool(call, None), False
    engine_key = f"{actor.id}:{key}"
    token = (scope, engine_key)
    if not state.in_flight.enter(token):
        raise IdempotencyKeyInFlight(key, where)
    store = state.engine.store

    def work() -> tuple[T, bool]:
        replayed = store.lookup_idempotency(scope, engine_key) is not None
        try:
            return call(engine_key), replayed
        except InvalidInput as exc:
            if exc.field == "idempotency_key":
                raise IdempotencyKeyReused(key, where) from None
            raise
        except ConcurrentUpdateError:
            # Another process committed a command with this key while this one ran: it was in flight.
            if store.lookup_idempotency(scope, engine_key) is not None:
                raise IdempotencyKeyInFlight(key, where) from None
            raise

    try:
        return await run_in_threadpool(work)
    finally:
        state.in_flight.leave(token)


# ── who may read what ──────────────────────────────────────────────────────────────────────────────────
def read_refusal(actor: Actor, case: Case) -> str | None:
    """Why ``actor`` may not read ``case`` (None when it may).

    A government role reads the cases of its jurisdiction's subtree (by the case's jurisdiction or by the tier
    that supervises it); an enterprise role (inspector, safety manager, principal officer) reads only its own
    unit's cases, and never a tip-off.
    """
    government = actor.roles - ENTERPRISE_ROLES
    if government:
        try:
            if is_within(case.jurisdiction, actor.jurisdiction) or is_within(
                case.owning_jurisdiction, actor.jurisdiction
            ):
                return None
        except InvalidInput:
            return f"the actor's jurisdiction {actor.jurisdiction!r} is not a division code"
        return f"the case's jurisdiction {case.jurisdiction!r} is outside the actor's ({actor.jurisdiction!r})"
    if case.workflow == "tipoff":
        return "enterprise roles never read tip-offs (举报线索)"
    if case.fields.get("business_unit") == actor.org:
        return None
    return f"enterprise roles read only their own unit's cases ({actor.org!r})"


def _readable(engine: Engine, actor: Actor, case_id: str) -> Case:
    case = engine.get(case_id)
    reason = read_refusal(actor, case)
    if reason is not None:
        raise AccessDenied(actor.id, f"case {case_id!r}", reason)
    return case


# ── OpenAPI ────────────────────────────────────────────────────────────────────────────────────────────
def _problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "请求体无法解析 / The body cannot be parsed",
        401: "未认证 / Not authenticated (AuthenticationFailed)",
        403: "无权 / Not allowed (NotAuthorized, AccessDenied)",
        404: "案件不存在 / No such case (CaseNotFoundError)",
        409: "冲突 / Refused in the case's current state (TransitionNotAllowed, GuardRejected, "
        "ConcurrentUpdateError, IdempotencyKeyInFlight)",
        422: "输入无效 / Invalid input (InvalidInput, IdempotencyKeyReused)",
        500: "内部错误 / Internal error",
        503: "数据库不可用 / Database unavailable (PersistenceError, CalendarDataMissing)",
    }
    return {
        s: {"description": text[s], "model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}}
        for s in (*statuses, 500, 503)
    }


_COMMON = (401, 403, 404, 422)

#: OpenAPI links from a case in a response to the operations on it (clients and stateful testing follow them).
_CASE_LINKS = {
    name: {"operationId": op, "parameters": {"case_id": "$response.body#/id"}, "description": text}
    for name, op, text in (
        ("ReadCase", "readCase", "读取该案件 / Read this case"),
        ("CaseHistory", "caseHistory", "该案件的审计记录 / Its history"),
        ("AllowedTriggers", "allowedTriggers", "可触发的迁移 / Its allowed triggers"),
        ("FireTrigger", "fireTrigger", "对该案件触发迁移 / Fire a trigger on it"),
        ("ReadReporter", "readReporter", "查阅举报人 / Read its reporter (tip-offs)"),
    )
}

TAGS = [
    {"name": "cases", "description": "案件：登记、触发、查询 / Cases: open, fire, read, list"},
    {"name": "oa", "description": "统一待办与 Webhook 订阅 / To-dos and webhook subscriptions"},
    {"name": "service", "description": "服务状态 / Service status"},
]

DESCRIPTION = """\
hazardflow 的 HTTP 服务：供 OA 系统（泛微、致远、蓝凌、钉钉……）不写 Python 即可登记隐患、推进流程、查询案件。
The HTTP service of hazardflow: OA systems open hazard cases, fire triggers and read cases without writing Python.

* 认证 / Authentication: `Authorization: Bearer <JWT>`（或受信网关头 / or trusted-gateway headers）。无凭证一律拒绝 /
  deny by default.
* 错误 / Errors: RFC 9457 `application/problem+json`，按 `code` 分支 / branch on `code`.
* 幂等 / Idempotency: 命令可带 `Idempotency-Key: "<uuid>"`：重放返回首次结果；同键不同请求 422；处理中 409。
  键与命令在同一事务中保存，不过期（随审计记录保留）；被拒绝的命令不保存键，重试将重新判断。
  / Commands accept an Idempotency-Key: a replay returns the first result, the same key with another body is 422,
  a key in flight 409. Keys are stored in the command's own transaction and kept with the audit record; a refused
  command stores nothing, so its retry is judged again.
"""


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        components["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "身份提供方签发的 JWT（HS256/RS256，校验 iss、aud、exp）/ A JWT from the identity "
                "provider (HS256/RS256; iss, aud and exp checked)",
            }
        }
        for path, ops in schema.get("paths", {}).items():
            for op in ops.values():
                for status, response in op.get("responses", {}).items():
                    if status.isdigit() and int(status) >= 400:
                        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
                        if status == "422":
                            response["description"] = "输入无效 / Invalid input (InvalidInput, IdempotencyKeyReused)"
                if not path.endswith("/health"):
                    op["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    return build


# ── the app ────────────────────────────────────────────────────────────────────────────────────────────
def create_app(
    engine: Engine,
    *,
    authenticator: Authenticator | None = None,
    routers: Iterable[APIRouter] = (),
    title: str = "hazardflow",
    dashboard: bool | None = None,
    todo_config: TodoConfig | None = None,
    webhook_admin_roles: Iterable[str] | None = None,
) -> FastAPI:
    """The HTTP service over ``engine`` (mount it in a host app, or run it with uvicorn).

    ``authenticator`` turns each request into an actor; without one every request but ``GET /v1/health`` is
    refused (deny by default). ``routers`` are included after the service's own routes, under the same error
    handling; their routes take the caller with ``Depends(hazardflow.server.current_actor)`` and the engine with
    ``Depends(hazardflow.server.engine_of)``. A router can also be added later with ``app.include_router``
    (call it before the first request: the OpenAPI schema is built once).

    ``dashboard``: serve the read-only boards (``/dashboard/{jurisdiction}``, same authenticator) — by default
    when the ``dashboard`` extra (Jinja2) is installed; ``True`` requires it.
    ``todo_config`` writes the to-do items of ``GET /v1/todos`` (system code, PC/mobile URL templates);
    ``webhook_admin_roles`` may manage webhook subscriptions (default: the safety committee office and the
    emergency office, each within its jurisdiction).
    """
    from .. import __version__

    if not isinstance(engine, Engine):
        raise InvalidInput("engine", type(engine).__name__, "must be a hazardflow.Engine")
    auth: Authenticator = authenticator if authenticator is not None else DenyAll()
    if not callable(getattr(auth, "authenticate", None)):
        raise InvalidInput("authenticator", type(auth).__name__, "must have an authenticate(request) method")
    app = FastAPI(
        title=title,
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        redoc_url=None,
    )
    from ._oa import DEFAULT_WEBHOOK_ADMIN_ROLES, oa_router

    admins = frozenset(webhook_admin_roles) if webhook_admin_roles is not None else DEFAULT_WEBHOOK_ADMIN_ROLES
    app.state.hazardflow = ServiceState(engine, auth, todo_config, admins)
    _install_error_handlers(app)
    app.include_router(_api_router())
    app.include_router(oa_router())
    for router in routers:
        app.include_router(router)
    if dashboard is None:
        import importlib.util

        dashboard = importlib.util.find_spec("jinja2") is not None
    if dashboard:
        from ..dashboard._web import dashboard_router

        app.include_router(dashboard_router(engine, authenticator=auth.authenticate))
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def on_hazardflow(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HazardflowError)
        response = problem_for(exc, instance=request.url.path)
        if response.status_code >= 500:
            _log().warning("request.failed", path=request.url.path, code=exc.code)
        return response

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(list(exc.errors()), instance=request.url.path)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        response = http_problem(exc.status_code, str(exc.detail) if exc.detail else None, instance=request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_methods_of(request))
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        _log().error("request.crashed", path=request.url.path, error_type=type(exc).__name__)
        return internal_problem(instance=request.url.path)

    app.add_exception_handler(HazardflowError, on_hazardflow)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def _methods_of(request: Request) -> list[str]:
    """Every method some route of the app answers on the request's path (for ``Allow`` on a 405)."""
    from starlette.routing import Route

    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path):
            methods |= set(route.methods)
    return sorted(methods)


def _single(request: Request, *names: str) -> None:
    """Refuse a query parameter given more than once where the operation takes one value."""
    for name in names:
        if len(request.query_params.getlist(name)) > 1:
            raise InvalidInput(name, request.query_params.getlist(name), "takes one value; it was given more than once")


def _split(values: Sequence[str]) -> tuple[str, ...]:
    """Repeated query parameters and comma-separated ones alike (``?state=a&state=b`` or ``?state=a,b``)."""
    out: list[str] = []
    for v in values or ():
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


def _api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)

    @router.get(
        "/health",
        operation_id="health",
        tags=["service"],
        summary="服务状态 / Health",
        description="数据库可达时返回 ok（无需认证）/ ok when the database answers (no authentication).",
        response_model=HealthOut,
        responses=_problem_responses(),
    )
    async def health(request: Request) -> Response:
        from .. import __version__

        engine = _state(request).engine
        await run_in_threadpool(engine.store.has_case, "-")
        return JsonResponse({"status": "ok", "version": __version__})

    @router.post(
        "/cases",
        operation_id="openCase",
        tags=["cases"],
        status_code=201,
        summary="登记案件 / Open a case",
        description="触发工作流的开启迁移（隐患为 register 登记）；返回新案件，Location 指向它。"
        "可带 Idempotency-Key。/ "
        "Fires the workflow's opening trigger (register for a hazard); returns the new case, Location points at "
        "it. Accepts an Idempotency-Key.",
        response_model=CaseOut,
        responses={
            201: {"description": "新案件 / The new case", "links": _CASE_LINKS},
            **_problem_responses(400, *_COMMON, 409),
        },
    )
    async def open_case(request: Request, actor: ActorDep, body: Annotated[OpenCase, Body()]) -> Response:
        engine = _state(request).engine

        def call(key: str | None) -> Case:
            return engine.open_case(
                body.workflow,
                actor=actor,
                jurisdiction=body.jurisdiction,
                idempotency_key=key,
                case_id=body.case_id,
                **body.fields,
            )

        if any(not isinstance(k, str) or not k.isidentifier() for k in body.fields):
            bad = next(k for k in body.fields if not k.isidentifier())
            raise InvalidInput("fields", bad, "a field name is an identifier (letters, digits, underscore)")
        case, replayed = await _run_idempotent(
            request, actor, f"open:{body.workflow}", f"opening a {body.workflow!r} case", call
        )
        headers = {"Location": f"{API_PREFIX}/cases/{case.id}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JsonResponse(case_json(case), status_code=201, headers=headers)

    @router.get(
        "/cases",
        operation_id="listCases",
        tags=["cases"],
        summary="查询案件 / List cases",
        description="按条件筛选案件，一次一页（游标分页）。辖区包含其下所有区划；默认为调用者的辖区；"
        "企业角色只见本单位案件。/ "
        "Cases matching the filters, a page at a time (cursor pagination). A jurisdiction includes every division "
        "below it; it defaults to the caller's; enterprise roles see only their own unit's cases.",
        response_model=CasePageOut,
        responses=_problem_responses(401, 403, 422),
    )
    async def list_cases(
        request: Request,
        actor: ActorDep,
        jurisdiction: Annotated[
            str | None, Query(max_length=32, description="辖区（含下级）/ Jurisdiction (with every division below)")
        ] = None,
        workflow: Annotated[list[str] | None, Query(description="工作流 / Workflow(s)")] = None,
        state: Annotated[list[str] | None, Query(description="状态（可多个）/ State(s)")] = None,
        grade: Annotated[list[str] | None, Query(description="等级 / Grade(s)")] = None,
        industry: Annotated[list[str] | None, Query(description="行业 / Industry(ies)")] = None,
        department: Annotated[list[str] | None, Query(description="行业部门 / Department(s)")] = None,
        overdue: Annotated[bool | None, Query(description="是否逾期 / Overdue")] = None,
        listed: Annotated[bool | None, Query(description="是否挂牌督办 / Listed for supervision")] = None,
        open_: Annotated[bool | None, Query(alias="open", description="是否未办结 / Not closed or voided")] = None,
        order: Annotated[
            str, Query(description="排序：opened、-opened、deadline / Order: opened, -opened, deadline")
        ] = "opened",
        cursor: Annotated[
            str | None, Query(max_length=512, description="上一页返回的游标 / Cursor from the last page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500, description="每页条数 / Page size")] = 50,
    ) -> Response:
        from ..reports import CaseFilter, find_cases

        if department is None:
            department = []
        if industry is None:
            industry = []
        if grade is None:
            grade = []
        if state is None:
            state = []
        if workflow is None:
            workflow = []
        _single(request, "jurisdiction", "overdue", "listed", "open", "order", "cursor", "limit")
        engine = _state(request).engine
        scope: dict[str, Any] = {}
        workflows = _split(workflow)
        if actor.roles - ENTERPRISE_ROLES:
            where = jurisdiction if jurisdiction is not None else actor.jurisdiction
            if not is_within(where, actor.jurisdiction):
                raise AccessDenied(
                    actor.id,
                    f"cases of {where!r}",
                    f"the jurisdiction is outside the actor's ({actor.jurisdiction!r})",
                )
            scope["jurisdiction"] = where
        else:
            if "tipoff" in workflows:
                raise AccessDenied(actor.id, "tip-offs", "enterprise roles never read tip-offs (举报线索)")
            scope["business_unit"] = (actor.org,)
            workflows = workflows or ("hazard",)
            if jurisdiction is not None:
                scope["jurisdiction"] = jurisdiction
        flt = CaseFilter(
            workflow=workflows,
            state=_split(state),
            grade=_split(grade),
            industry=_split(industry),
            department=_split(department),
            overdue=overdue,
            listed=listed,
            open=open_,
            **scope,
        )
        page = await run_in_threadpool(
            lambda: find_cases(engine, flt, cursor=cursor, limit=limit, order=order)  # type: ignore[arg-type]
        )
        return JsonResponse({"items": [case_json(c) for c in page.items], "next_cursor": page.next_cursor})

    @router.get(
        "/cases/{case_id}",
        operation_id="readCase",
        tags=["cases"],
        summary="读取案件 / Read a case",
        description="案件当前快照（从不含举报人信息）/ The case's current snapshot (never the reporter).",
        response_model=CaseOut,
        responses=_problem_responses(*_COMMON),
    )
    async def read_case(request: Request, actor: ActorDep, case_id: CaseIdPath) -> Response:
        engine = _state(request).engine
        case = await run_in_threadpool(_readable, engine, actor, case_id)
        return JsonResponse(case_json(case))

    @router.get(
        "/cases/{case_id}/history",
        operation_id="caseHistory",
        tags=["cases"],
        summary="案件审计记录 / A case's history",
        description="审计事件，由旧到新，哈希链接 / Audit events, oldest first, hash-chained.",
        response_model=list[EventOut],
        responses=_problem_responses(*_COMMON),
    )
    async def history(request: Request, actor: ActorDep, case_id: CaseIdPath) -> Response:
        engine = _state(request).engine

        def read() -> list[AuditEvent]:
            _readable(engine, actor, case_id)
            return engine.history(case_id)

        events = await run_in_threadpool(read)
        return JsonResponse([event_json(e) for e in events])

    @router.get(
        "/cases/{case_id}/triggers",
        operation_id="allowedTriggers",
        tags=["cases"],
        summary="当前可触发的迁移 / Triggers the caller may fire",
        description="调用者此刻有权触发且满足状态规则的迁移（需要字段的规则在触发时判断）/ "
        "The triggers the calling actor "
        "is authorized for and whose state rules hold now (rules about a payload are judged when fired).",
        response_model=TriggersOut,
        responses=_problem_responses(*_COMMON),
    )
    async def triggers(request: Request, actor: ActorDep, case_id: CaseIdPath) -> Response:
        engine = _state(request).engine

        def read() -> tuple[Case, list[str]]:
            case = _readable(engine, actor, case_id)
            return case, engine.allowed(case_id, actor)

        case, allowed = await run_in_threadpool(read)
        return JsonResponse(
            {
                "case_id": case.id,
                "state": case.state,
                "rev": case.rev,
                "triggers": [{"trigger": t, "zh": zh("trigger", t), "en": en("trigger", t)} for t in allowed],
            }
        )

    @router.post(
        "/cases/{case_id}/fire",
        operation_id="fireTrigger",
        tags=["cases"],
        summary="触发迁移 / Fire a trigger",
        description="以调用者身份对案件触发迁移，返回新快照。被拒绝的命令不改变任何数据。可带 Idempotency-Key。/ "
        "Fires a trigger on the case as the caller and returns the new snapshot. A refused command changes "
        "nothing. Accepts an Idempotency-Key.",
        response_model=CaseOut,
        responses=_problem_responses(400, *_COMMON, 409),
    )
    async def fire(
        request: Request, actor: ActorDep, case_id: CaseIdPath, body: Annotated[FireCommand, Body()]
    ) -> Response:
        engine = _state(request).engine

        def call(key: str | None) -> Case:
            return engine.fire(case_id, body.trigger, actor=actor, payload=body.payload, idempotency_key=key)

        case, replayed = await _run_idempotent(request, actor, case_id, f"case {case_id!r}", call)
        return JsonResponse(case_json(case), headers={"Idempotent-Replayed": "true"} if replayed else None)

    @router.post(
        "/cases/{case_id}/reporter",
        operation_id="readReporter",
        tags=["cases"],
        summary="查阅举报人信息 / Read a tip-off's reporter",
        description="仅政策允许的角色、在举报线索辖区内可查阅；每次查阅先记入审计日志（谁、何时、为何）。/ "
        "Only roles the "
        "policy allows, within the tip-off's jurisdiction; each reading is first committed to the audit log (who, "
        "when, why).",
        response_model=ReporterOut,
        responses=_problem_responses(400, *_COMMON, 409),
    )
    async def reporter(
        request: Request, actor: ActorDep, case_id: CaseIdPath, body: Annotated[ReporterRead, Body()]
    ) -> Response:
        engine = _state(request).engine
        identity = await run_in_threadpool(lambda: engine.reporter(case_id, actor, purpose=body.purpose))
        return JsonResponse({"case_id": case_id, "reporter": identity}, headers={"Cache-Control": "no-store"})

    return router
