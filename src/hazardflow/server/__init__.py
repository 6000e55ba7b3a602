"""The HTTP service (``pip install "hazardflow[server]"``): FastAPI over an :class:`~hazardflow.Engine`.

Run it with ``hazardflow serve --url DB``, or build the app and mount it in a host application::

    from hazardflow import Engine
    from hazardflow.server import JwtAuthenticator, create_app

    engine = Engine.from_url("postgresql+psycopg://...", outbox=True)
    app = create_app(engine, authenticator=JwtAuthenticator(public_key_pem, algorithms=["RS256"],
                                                            issuer="https://sso.example.gov.cn", audience="hazardflow"))

Errors answer as RFC 9457 ``application/problem+json`` (one ``type`` per error class, a stable ``code``);
commands take an ``Idempotency-Key`` header; the OpenAPI 3.1 schema is served at ``/openapi.json``.
``import hazardflow`` never imports this package.
"""

from __future__ import annotations

from ._app import API_PREFIX, create_app, current_actor, engine_of
from ._auth import (
    AnyOf,
    Authenticator,
    ClaimMap,
    DenyAll,
    GatewayHeaders,
    JwtAuthenticator,
    TrustedGatewayAuthenticator,
)
from ._errors import AccessDenied, AuthenticationFailed, IdempotencyKeyInFlight, IdempotencyKeyReused
from ._problems import problem_type, status_for

__all__ = [
    "API_PREFIX",
    "AccessDenied",
    "AnyOf",
    "AuthenticationFailed",
    "Authenticator",
    "ClaimMap",
    "DenyAll",
    "GatewayHeaders",
    "IdempotencyKeyInFlight",
    "IdempotencyKeyReused",
    "JwtAuthenticator",
    "TrustedGatewayAuthenticator",
    "create_app",
    "current_actor",
    "engine_of",
    "problem_type",
    "status_for",
]
