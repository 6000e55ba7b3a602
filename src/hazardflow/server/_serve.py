"""The app ``hazardflow serve`` runs: built in each uvicorn worker process from a JSON configuration.

``hazardflow serve`` writes its options to the environment variable ``HAZARDFLOW_SERVE_CONFIG`` and starts
uvicorn with :func:`app_from_environment` as the app factory, so every worker process (``--workers N``)
builds its own engine, store and authenticator. Secrets never travel in the configuration: it names the
environment variables (or files) that hold them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._exceptions import InvalidInput

__all__ = ["CONFIG_ENV", "app_from_config", "app_from_environment", "authenticator_from_config"]

CONFIG_ENV = "HAZARDFLOW_SERVE_CONFIG"


def authenticator_from_config(config: dict[str, Any]) -> Any:
    """The authenticator the configuration describes (trusted gateway first, then JWT), or None."""
    from ._auth import AnyOf, ClaimMap, GatewayHeaders, JwtAuthenticator, TrustedGatewayAuthenticator

    found: list[Any] = []
    if config.get("trusted_gateways"):
        found.append(
            TrustedGatewayAuthenticator(
                config["trusted_gateways"], headers=GatewayHeaders.from_pairs(config.get("gateway_headers", []))
            )
        )
    key: str | None = None
    if config.get("jwt_secret_env"):
        key = os.environ.get(config["jwt_secret_env"])
        if not key:
            raise InvalidInput(
                "jwt_secret_env", config["jwt_secret_env"], "names an environment variable that is unset or empty"
            )
    elif config.get("jwt_public_key"):
        path = Path(config["jwt_public_key"])
        try:
            key = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput("jwt_public_key", str(path), f"cannot be read ({exc.strerror})") from None
    if key is not None:
        algorithm = config.get("jwt_algorithm") or ("HS256" if config.get("jwt_secret_env") else "RS256")
        found.append(
            JwtAuthenticator(
                key,
                algorithms=[algorithm],
                issuer=config.get("jwt_issuer"),
                audience=config.get("jwt_audience"),
                claims=ClaimMap.from_pairs(config.get("jwt_claims", [])),
                leeway=float(config.get("jwt_leeway", 30.0)),
            )
        )
    if not found:
        return None
    return found[0] if len(found) == 1 else AnyOf(*found)


def app_from_config(config: dict[str, Any]) -> Any:
    """Build the engine (SQL store), the authenticator and the app from a ``hazardflow serve`` configuration."""
    from .._engine import Engine
    from ..cli.worker import load_policies
    from ..persistence.sql import SqlStore
    from ..policies.registry import PolicyRegistry
    from ..todos import TodoConfig
    from ._app import create_app

    authenticator = authenticator_from_config(config)
    todo_config = TodoConfig(**config["todo"]) if config.get("todo") else None
    registry = PolicyRegistry.installed(*load_policies(config.get("policies", [])))
    audit_key = os.environ.get(config.get("audit_key_env") or "HAZARDFLOW_AUDIT_KEY")
    store = SqlStore(config["url"], create=False)
    engine = Engine(
        store=store,
        policies=registry,
        audit_key=audit_key.encode() if audit_key else None,
        outbox=bool(config.get("outbox", True)),
    )
    return create_app(
        engine,
        authenticator=authenticator,
        todo_config=todo_config,
        webhook_admin_roles=config.get("webhook_admin_roles") or None,
    )


def app_from_environment() -> Any:
    """uvicorn's app factory: the configuration comes from ``HAZARDFLOW_SERVE_CONFIG``."""
    raw = os.environ.get(CONFIG_ENV)
    if not raw:
        raise InvalidInput(CONFIG_ENV, "", "is unset: start the service with `hazardflow serve`")
    return app_from_config(json.loads(raw))
