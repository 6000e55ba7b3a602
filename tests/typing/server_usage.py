"""The HTTP service used as a host application would: mypy --strict must accept it (never run by pytest)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request

from hazardflow import Actor, Engine
from hazardflow.server import (
    AnyOf,
    AuthenticationFailed,
    ClaimMap,
    JwtAuthenticator,
    TrustedGatewayAuthenticator,
    create_app,
    current_actor,
    engine_of,
)


class ApiKeyAuthenticator:
    """A host's own authenticator: one fixed actor per API key."""

    def __init__(self, keys: dict[str, Actor]) -> None:
        self.keys = keys

    def authenticate(self, request: Request) -> Actor:
        actor = self.keys.get(request.headers.get("x-api-key", ""))
        if actor is None:
            raise AuthenticationFailed("api-key", "unknown or missing X-Api-Key")
        return actor


extra = APIRouter(prefix="/v1/extra")


@extra.get("/whoami")
async def whoami(
    actor: Annotated[Actor, Depends(current_actor)], engine: Annotated[Engine, Depends(engine_of)]
) -> dict[str, str]:
    return {"id": actor.id, "workflows": ",".join(sorted(engine.workflows))}


def build(secret: str) -> object:
    officer = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", "500240204")
    auth = AnyOf(
        TrustedGatewayAuthenticator(["10.0.0.5"]),
        JwtAuthenticator(
            secret,
            issuer="https://sso.example.gov.cn",
            audience="hazardflow",
            claims=ClaimMap.from_pairs(["roles=realm_access.roles"]),
        ),
        ApiKeyAuthenticator({"k-1": officer}),
    )
    return create_app(Engine(), authenticator=auth, routers=[extra])
