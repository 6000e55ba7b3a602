"""``hazardflow serve --url URL``: the HTTP service for OA systems (FastAPI on uvicorn; extra ``server``).

Authentication is required (deny by default): give a JWT key (``--jwt-secret-env`` for HS256 or
``--jwt-public-key`` for RS256) and/or the addresses of a trusted gateway (``--trusted-gateway``).
Exit status 2 when the configuration, the database or the policies cannot be loaded.
"""

from __future__ import annotations

import json
import os

import typer

from .db import URL_ENV


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=f"Database URL (defaults to ${URL_ENV})."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
        workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes."),
        jwt_secret_env: str | None = typer.Option(
            None, "--jwt-secret-env", help="Environment variable holding the HS256 secret (>= 32 bytes)."
        ),
        jwt_public_key: str | None = typer.Option(
            None, "--jwt-public-key", help="PEM file of the identity provider's public key (RS256)."
        ),
        jwt_algorithm: str | None = typer.Option(
            None, "--jwt-algorithm", help="JWT algorithm (default HS256 with a secret, RS256 with a public key)."
        ),
        jwt_issuer: str | None = typer.Option(None, "--jwt-issuer", help="Required 'iss' claim."),
        jwt_audience: str | None = typer.Option(None, "--jwt-audience", help="Required 'aud' claim."),
        jwt_claim: list[str] = typer.Option(
            [], "--jwt-claim", help="FIELD=CLAIM (repeatable): id, name, roles, org, jurisdiction; dotted paths."
        ),
        trusted_gateway: list[str] = typer.Option(
            [], "--trusted-gateway", help="Address or network of a trusted gateway (repeatable; off by default)."
        ),
        gateway_header: list[str] = typer.Option(
            [], "--gateway-header", help="FIELD=HEADER (repeatable): the gateway's header for an actor field."
        ),
        policy: list[str] = typer.Option([], "--policy", help="Extra policy as module:attribute (repeatable)."),
        key_env: str = typer.Option(
            "HAZARDFLOW_AUDIT_KEY", "--key-env", help="Environment variable holding the HMAC audit key, if any."
        ),
        todo_system_code: str = typer.Option("hazardflow", "--todo-system-code", help="System code of to-do items."),
        todo_pc_url: str = typer.Option(
            "/cases/{case_id}", "--todo-pc-url", help="PC URL template of to-do items ({case_id}, {task_id} ...)."
        ),
        todo_mobile_url: str = typer.Option(
            "/m/cases/{case_id}", "--todo-mobile-url", help="Mobile URL template of to-do items."
        ),
        webhook_admin_role: list[str] = typer.Option(
            [],
            "--webhook-admin-role",
            help="Role that manages webhook subscriptions (repeatable; default: "
            "safety_committee_office, emergency_office).",
        ),
        outbox: bool = typer.Option(True, "--outbox/--no-outbox", help="Write an outbox row per event (webhooks)."),
        log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
        access_log: bool = typer.Option(False, "--access-log/--no-access-log", help="Log every request."),
    ) -> None:
        """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) over the database."""
        try:
            import uvicorn

            from ..server._serve import CONFIG_ENV, app_from_config, authenticator_from_config
        except ImportError as exc:
            typer.echo(
                f'error: the service needs the "server" extra: pip install "hazardflow[server]" ({exc})', err=True
            )
            raise typer.Exit(2) from None
        from .._exceptions import HazardflowError
        from .worker import configure_json_logging

        if log_level not in ("debug", "info", "warning", "error"):
            typer.echo("error: --log-level must be one of debug, info, warning, error", err=True)
            raise typer.Exit(2)
        config = {
            "url": url,
            "jwt_secret_env": jwt_secret_env,
            "jwt_public_key": jwt_public_key,
            "jwt_algorithm": jwt_algorithm,
            "jwt_issuer": jwt_issuer,
            "jwt_audience": jwt_audience,
            "jwt_claims": jwt_claim,
            "trusted_gateways": trusted_gateway,
            "gateway_headers": gateway_header,
            "policies": policy,
            "audit_key_env": key_env,
            "outbox": outbox,
            "todo": {"system_code": todo_system_code, "pc_url": todo_pc_url, "mobile_url": todo_mobile_url},
            "webhook_admin_roles": webhook_admin_role,
        }
        try:
            if authenticator_from_config(config) is None:
                typer.echo(
                    "error: no authentication configured (deny by default): give --jwt-secret-env, --jwt-public-key "
                    "or --trusted-gateway",
                    err=True,
                )
                raise typer.Exit(2)
            app_from_config(config).state.hazardflow.engine.store.close()  # fail fast, before forking workers
        except HazardflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        configure_json_logging(log_level)
        os.environ[CONFIG_ENV] = json.dumps(config)
        uvicorn.run(
            "hazardflow.server._serve:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=access_log,
            proxy_headers=False,
            server_header=False,
        )
