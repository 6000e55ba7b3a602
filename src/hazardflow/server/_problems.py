"""Errors as RFC 9457 problem details (``application/problem+json``).

Every :class:`~hazardflow.HazardflowError` class is one problem ``type``
(``urn:hazardflow:problem:<code>``), with a fixed HTTP status, a fixed ``title``, the error's stable ``code``
as an extension member, its message as ``detail`` and its structured fields as further extension members
(``case_id``, ``trigger``, ``state``, ``allowed``, ``guard`` ...). A class added to the tree later maps
through its nearest mapped ancestor. Confidential values never leave: a value an error marks confidential,
database URLs and driver messages are left out, and an unexpected exception answers 500 with nothing but its
type.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from starlette.responses import Response

from .._exceptions import (
    CalendarDataMissing,
    CaseNotFoundError,
    ConcurrentUpdateError,
    DefinitionError,
    GuardRejected,
    HazardflowError,
    InvalidInput,
    NotAuthorized,
    PersistenceError,
    TransitionNotAllowed,
    WebhookNotFoundError,
)
from ._errors import AccessDenied, AuthenticationFailed, IdempotencyKeyInFlight, IdempotencyKeyReused

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "STATUS",
    "ProblemResponse",
    "http_problem",
    "internal_problem",
    "problem_for",
    "problem_type",
    "status_for",
    "validation_problem",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:hazardflow:problem:"

#: The HTTP status of each error class (a subclass takes its nearest ancestor's).
STATUS: dict[type[HazardflowError], int] = {
    InvalidInput: 422,
    CaseNotFoundError: 404,
    WebhookNotFoundError: 404,
    TransitionNotAllowed: 409,
    NotAuthorized: 403,
    GuardRejected: 409,
    ConcurrentUpdateError: 409,
    DefinitionError: 500,
    CalendarDataMissing: 503,
    PersistenceError: 503,
    AuthenticationFailed: 401,
    AccessDenied: 403,
    IdempotencyKeyReused: 422,
    IdempotencyKeyInFlight: 409,
}

#: Members of the problem object itself: an error field of the same name is never copied over them.
_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "code", "errors"})
#: Fields that may hold a secret or a driver's text (a database URL, an SQL error): never sent.
_WITHHELD = frozenset({"url", "show_value", "allowed_kind"})
#: Classes whose message may carry what the service must not show (server-side configuration, SQL text).
_OPAQUE: tuple[type[HazardflowError], ...] = (PersistenceError, DefinitionError)


def problem_type(code: str) -> str:
    """The problem ``type`` URI of an error code.

    ``hazardflow.case_not_found`` → ``urn:hazardflow:problem:case-not-found``.
    """
    return TYPE_PREFIX + code.removeprefix("hazardflow.").replace("_", "-").replace(".", ":")


def status_for(cls: type[BaseException]) -> int:
    """The HTTP status of an error class: its own entry in :data:`STATUS` or its nearest ancestor's (else 500)."""
    for klass in cls.__mro__:
        if klass in STATUS:
            return STATUS[klass]
    return 500


def title_for(cls: type[BaseException]) -> str:
    """The fixed title of a problem type: the first line of the error class's docstring."""
    doc = inspect.getdoc(cls) or cls.__name__
    return doc.strip().split("\n")[0]


class ProblemResponse(Response):
    """A JSON body served as ``application/problem+json`` (UTF-8, non-ASCII kept as is)."""

    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        if isinstance(value, str) and len(value) > 500:
            return value[:500] + "…"
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v) for v in items]
    return _jsonable(repr(value))


def problem_body(error: HazardflowError, *, instance: str | None = None) -> dict[str, Any]:
    """The problem object of ``error`` (see the module docstring for what is left out)."""
    cls = type(error)
    status = status_for(cls)
    body: dict[str, Any] = {
        "type": problem_type(error.code),
        "title": title_for(cls),
        "status": status,
        "code": error.code,
    }
    if isinstance(error, _OPAQUE):
        body["detail"] = _opaque_detail(error)
    else:
        body["detail"] = str(error)
        fields = error.details()
        hidden = isinstance(error, InvalidInput) and not error.show_value
        for name, value in fields.items():
            if name in _RESERVED or name in _WITHHELD or (hidden and name == "value"):
                continue
            body[name] = _jsonable(value)
    if instance is not None:
        body["instance"] = instance
    return body


def _opaque_detail(error: HazardflowError) -> str:
    if isinstance(error, PersistenceError):
        return f"{error._what()}; nothing was written, retry later"
    return "the service's configuration refused the request; the operator's log has the details"


def problem_for(error: HazardflowError, *, instance: str | None = None) -> ProblemResponse:
    """The response for ``error``: its status, ``application/problem+json`` and, on 503, ``Retry-After``."""
    body = problem_body(error, instance=instance)
    headers = {"Retry-After": "5"} if body["status"] == 503 else None
    if body["status"] == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="hazardflow"'}
    return ProblemResponse(body, status_code=body["status"], headers=headers)


def validation_problem(errors: list[dict[str, Any]], *, instance: str | None = None) -> ProblemResponse:
    """422 for a request the schema refuses (body, path or query), one entry per problem with a JSON pointer."""
    items = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "body"
        pointer = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in loc[1:])
        items.append({"in": where, "pointer": pointer, "detail": str(err.get("msg", "invalid"))})
    first = items[0] if items else {"in": "body", "pointer": "/", "detail": "invalid"}
    field = first["pointer"].strip("/").split("/")[0] or first["in"]
    body = {
        "type": problem_type(InvalidInput.code),
        "title": title_for(InvalidInput),
        "status": 422,
        "code": InvalidInput.code,
        "detail": f"invalid value for {field!r} ({first['in']}): {first['detail']}",
        "field": field,
        "errors": items,
    }
    if instance is not None:
        body["instance"] = instance
    return ProblemResponse(body, status_code=422)


def http_problem(status: int, detail: str | None = None, *, instance: str | None = None) -> ProblemResponse:
    """A problem for an HTTP-level error (no such route, method not allowed ...): ``type`` is ``about:blank``."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "code": f"hazardflow.http_{status}",
        "detail": detail or phrase,
    }
    if instance is not None:
        body["instance"] = instance
    return ProblemResponse(body, status_code=status)


def internal_problem(*, instance: str | None = None) -> ProblemResponse:
    """500 for an unexpected exception: no message, no trace (the operator's log has them)."""
    body: dict[str, Any] = {
        "type": problem_type("hazardflow.internal_error"),
        "title": "Internal error",
        "status": 500,
        "code": "hazardflow.internal_error",
        "detail": "the service failed unexpectedly; the operator's log has the details",
    }
    if instance is not None:
        body["instance"] = instance
    return ProblemResponse(body, status_code=500)
