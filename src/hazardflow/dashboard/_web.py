"""The board over HTTP: a read-only FastAPI router (``GET`` only) that the service includes.

Routes below ``prefix`` (``/dashboard``):

* ``/{jurisdiction}`` — the board page (``?lang=en``, ``?rows=department``);
* ``/{jurisdiction}/data.json`` — the board's figures, the same JSON the page embeds;
* ``/{jurisdiction}/cases?…`` — the cases behind one number (the number's filter as parameters, a page
  at a time with ``cursor``);
* ``/{jurisdiction}/version`` — a stamp that changes whenever any case changes (the page polls it and
  reloads itself);
* ``/static/…`` — ECharts, the script and the style (no data; no authentication).

Who may look: the ``authenticator`` (the service's) turns the request into an :class:`~hazardflow.Actor`;
a viewer sees the boards of their own jurisdiction and the divisions below it, nothing else.
"""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, some of them local.
import inspect
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .._clock import SystemClock
from .._exceptions import HazardflowError, InvalidInput
from .._jurisdiction import canonical, is_within
from ..reports import count_cases, count_cases_by, find_cases
from ..reports._query import store_of
from ._data import DEFAULT_SOON_DAYS, _case_row, _name, build_board, filter_from_query
from ._render import LANGS, render_board, render_cases

__all__ = ["STATIC_FILES", "board_version", "dashboard_router"]

#: The files served under ``/static`` (an allow-list: nothing else of the package is reachable).
STATIC_FILES = {
    "board.css": "text/css; charset=utf-8",
    "board.js": "text/javascript; charset=utf-8",
    "echarts/echarts.min.js": "text/javascript; charset=utf-8",
    "echarts/LICENSE": "text/plain; charset=utf-8",
    "echarts/NOTICE": "text/plain; charset=utf-8",
    "echarts/LICENSE-zrender": "text/plain; charset=utf-8",
    "echarts/LICENSE-d3": "text/plain; charset=utf-8",
}
#: Same-origin only: the page loads nothing from elsewhere (government intranets have no internet).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
PAGE_LIMIT = 100

Authenticator = Callable[[Any], Any]


def board_version(store_or_engine: Any) -> str:
    """A stamp that changes whenever a case changes: the newest audit event's id on a SQL store (every
    accepted command appends one), the sum of the case revisions elsewhere."""
    store: Any = store_of(store_or_engine)
    from ..persistence.sql import SqlStore

    if isinstance(store, SqlStore):
        rows = store._query("SELECT max(id) FROM hf_event")  # the primary key's index: no scan
        return str(rows[0][0] or 0)
    return str(sum(c.rev for c in store.iter_cases()))


def dashboard_router(
    engine: Any,
    *,
    authenticator: Authenticator | None = None,
    prefix: str = "/dashboard",
    soon_days: int = DEFAULT_SOON_DAYS,
    poll_seconds: float = 15.0,
) -> APIRouter:
    """A FastAPI ``APIRouter`` serving the boards of ``engine``'s store (read-only).

    ``authenticator`` is called with the request (it may be async) and returns the viewer's
    :class:`~hazardflow.Actor`, or raises to refuse; ``None`` serves every board to anyone (for a host that
    authenticates in front, or a local look). A viewer outside the requested jurisdiction gets 403.
    """
    # Pages, not API: kept out of the service's OpenAPI schema.
    router = APIRouter(prefix=prefix, tags=["dashboard"], include_in_schema=False)
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

    async def viewer(request: Request) -> Any:
        if authenticator is None:
            return None
        actor = authenticator(request)
        if inspect.isawaitable(actor):
            actor = await actor
        return actor

    Viewer = Annotated[Any, Depends(viewer)]  # noqa: N806 - a type alias, named as one

    def scope(jurisdiction: str, actor: Any) -> str:
        try:
            code = canonical(jurisdiction)
        except HazardflowError as exc:
            raise HTTPException(404, f"no such jurisdiction {jurisdiction!r}: {exc}") from None
        if actor is not None and not is_within(code, getattr(actor, "jurisdiction", "")):
            raise HTTPException(
                403,
                f"the board of {code!r} is outside the viewer's jurisdiction {getattr(actor, 'jurisdiction', None)!r}",
            )
        return code

    def lang_of(request: Request) -> str:
        lang = request.query_params.get("lang", "zh")
        if lang not in LANGS:
            raise HTTPException(422, f"lang={lang!r}: unknown language of the board; allowed: {', '.join(LANGS)}")
        return lang

    def board_of(code: str, request: Request) -> Any:
        rows = request.query_params.get("rows")
        try:
            return build_board(engine, code, soon_days=soon_days, rows=rows)
        except InvalidInput as exc:
            raise HTTPException(422, str(exc)) from None

    @router.get("/static/{path:path}", include_in_schema=False)
    def static(path: str) -> Response:
        media = STATIC_FILES.get(path)
        if media is None:
            raise HTTPException(404, "no such file")
        body = resources.files(__package__).joinpath("static", *path.split("/")).read_bytes()
        return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/{jurisdiction}", response_class=HTMLResponse, summary="The board (挂图作战) of a jurisdiction")
    def board_page(jurisdiction: str, request: Request, actor: Viewer) -> Response:
        code = scope(jurisdiction, actor)
        lang = lang_of(request)
        version = board_version(engine)
        board = board_of(code, request)
        refresh = request.query_params.get("refresh")
        every = poll_seconds
        if refresh is not None:
            if not refresh.isdigit() or not 1 <= int(refresh) <= 3600:
                raise HTTPException(422, f"refresh={refresh!r}: seconds between checks for changes, 1 to 3600")
            every = float(refresh)
        html = render_board(board, lang=lang, base=f"{prefix}/{code}", root=prefix, poll_seconds=every, version=version)
        return HTMLResponse(html, headers=headers)

    @router.get("/{jurisdiction}/data.json", summary="The board's figures as JSON")
    def board_data(jurisdiction: str, request: Request, actor: Viewer) -> Response:
        code = scope(jurisdiction, actor)
        return JSONResponse(board_of(code, request).as_json(), headers=headers)

    @router.get("/{jurisdiction}/version", summary="A stamp that changes when any case changes")
    def version(jurisdiction: str, actor: Viewer) -> Response:
        scope(jurisdiction, actor)
        return JSONResponse({"version": board_version(engine)}, headers=headers)

    @router.get("/{jurisdiction}/cases", response_class=HTMLResponse, summary="The cases behind a number")
    def cases_page(jurisdiction: str, request: Request, actor: Viewer) -> Response:
        code = scope(jurisdiction, actor)
        lang = lang_of(request)
        params = dict(request.query_params)
        params.setdefault("jurisdiction", code)
        try:
            flt = filter_from_query(params)
        except InvalidInput as exc:
            raise HTTPException(422, str(exc)) from None
        assert flt.jurisdiction is not None
        if not is_within(flt.jurisdiction, code):
            raise HTTPException(403, f"jurisdiction={flt.jurisdiction!r} is outside the board of {code!r}")
        exact = params.get("exact") == "true"
        cursor = params.get("cursor")
        tree = getattr(engine, "jurisdictions", None)
        try:
            if exact:
                total = count_cases_by(engine, flt, by="division").get((canonical(flt.jurisdiction),), 0)
                page = find_cases(engine, flt, cursor=cursor, limit=PAGE_LIMIT, order="deadline")
                items = [c for c in page.items if c.jurisdiction == canonical(flt.jurisdiction)]
            else:
                total = count_cases(engine, flt)
                page = find_cases(engine, flt, cursor=cursor, limit=PAGE_LIMIT, order="deadline")
                items = list(page.items)
        except InvalidInput as exc:
            raise HTTPException(422, str(exc)) from None
        now = engine.now() if callable(getattr(engine, "now", None)) else SystemClock().now()
        rows = [_case_row(engine, tree, c, now) for c in items]
        query = {k: v for k, v in params.items() if k not in ("cursor",)}
        html = render_cases(
            board_name=_name(tree, code),
            base=f"{prefix}/{code}",
            rows=rows,
            total=total,
            query=query,
            next_cursor=page.next_cursor,
            lang=lang,
            root=prefix,
        )
        return HTMLResponse(html, headers=headers)

    return router
