"""``hazardflow webhooks add|list|remove|deliveries|redeliver`` and ``hazardflow deliver`` (Webhook 订阅与投递).

Subscriptions live in the database beside the cases. ``deliver`` runs the delivery worker: it hands new outbox
rows to the subscriptions and POSTs signed messages (Standard Webhooks 1.0) until SIGTERM or Ctrl-C; several
may run against one PostgreSQL database. Exit status 2 when the database cannot be opened or an argument is
refused (the message says which and why).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import typer

from .._clock import SystemClock
from .db import URL_ENV

_URL_HELP = f"Database URL (defaults to ${URL_ENV})."


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


def _store(url: str) -> Any:
    from ..persistence.sql import SqlStore

    return SqlStore(url, create=False)


def deliverer_options(system_code: str, pc_url: str, mobile_url: str, dead_after_hours: float) -> tuple[Any, Any]:
    """The to-do config and retry policy from command-line options (shared by ``deliver`` and ``worker``)."""
    from ..todos import TodoConfig
    from ..webhooks import RetryPolicy

    config = TodoConfig(system_code=system_code, pc_url=pc_url, mobile_url=mobile_url)
    retry = RetryPolicy(dead_after=timedelta(hours=dead_after_hours))
    return config, retry


def register(app: typer.Typer) -> None:
    hooks = typer.Typer(help="Manage webhook subscriptions and deliveries (Webhook 订阅).", no_args_is_help=True)
    app.add_typer(hooks, name="webhooks")

    @hooks.command("add")
    def add(
        target: str = typer.Argument(..., help="The receiver's URL (http:// or https://)."),
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        event_type: list[str] = typer.Option(
            [], "--type", "-t", help="Event type pattern (repeatable): hazard.*, hazard.approve, todo.updated, *."
        ),
        jurisdiction: str | None = typer.Option(
            None, "--jurisdiction", "-j", help="Only cases in this division code's subtree."
        ),
        secret: str | None = typer.Option(
            None, "--secret", help="A whsec_ secret to use (default: a new random one, printed once)."
        ),
    ) -> None:
        """Add a subscription; prints it as JSON with its secret (shown only now)."""
        from .._exceptions import HazardflowError
        from ..webhooks import webhook_store

        try:
            store = _store(url)
            try:
                sub = webhook_store(store).add_subscription(
                    target, now=SystemClock().now(), event_types=event_type, jurisdiction=jurisdiction, secret=secret
                )
            finally:
                store.close()
        except HazardflowError as exc:
            raise _fail(exc) from None
        typer.echo(json.dumps(sub.to_json(show_secret=True), ensure_ascii=False))

    @hooks.command("list")
    def list_(url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP)) -> None:
        """List the subscriptions (one JSON object a line; secrets not shown)."""
        from .._exceptions import HazardflowError
        from ..webhooks import webhook_store

        try:
            store = _store(url)
            try:
                subs = webhook_store(store).list_subscriptions()
            finally:
                store.close()
        except HazardflowError as exc:
            raise _fail(exc) from None
        for sub in subs:
            typer.echo(json.dumps(sub.to_json(), ensure_ascii=False))

    @hooks.command("remove")
    def remove(
        subscription_id: str = typer.Argument(..., help="The subscription id (sub_…)."),
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
    ) -> None:
        """Remove a subscription and its deliveries."""
        from .._exceptions import HazardflowError
        from ..webhooks import webhook_store

        try:
            store = _store(url)
            try:
                webhook_store(store).remove_subscription(subscription_id)
            finally:
                store.close()
        except HazardflowError as exc:
            raise _fail(exc) from None
        typer.echo(f"removed {subscription_id}")

    @hooks.command("deliveries")
    def deliveries(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        status: str | None = typer.Option(None, "--status", help="pending, delivered or dead."),
        subscription: str | None = typer.Option(None, "--subscription", help="Only this subscription's."),
        limit: int = typer.Option(100, "--limit", min=1),
    ) -> None:
        """List deliveries (one JSON object a line, body left out) and the counts per status on stderr."""
        from .._exceptions import HazardflowError
        from ..webhooks import webhook_store

        try:
            store = _store(url)
            try:
                hooks_ = webhook_store(store)
                rows = hooks_.list_deliveries(status=status, subscription_id=subscription, limit=limit)
                counts = hooks_.counts()
            finally:
                store.close()
        except HazardflowError as exc:
            raise _fail(exc) from None
        for d in rows:
            data = d.to_json()
            del data["body"]
            typer.echo(json.dumps(data, ensure_ascii=False))
        typer.echo(json.dumps(counts), err=True)

    @hooks.command("redeliver")
    def redeliver(
        delivery_id: str = typer.Argument(..., help="The delivery's webhook-id (msg_…)."),
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
    ) -> None:
        """Queue a delivery again (a dead letter, or one to replay), with the same webhook-id."""
        from .._exceptions import HazardflowError
        from ..webhooks import webhook_store

        try:
            store = _store(url)
            try:
                webhook_store(store).redeliver(delivery_id, SystemClock().now())
            finally:
                store.close()
        except HazardflowError as exc:
            raise _fail(exc) from None
        typer.echo(f"queued {delivery_id}")

    @app.command()
    def deliver(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        interval: float = typer.Option(1.0, "--interval", min=0.01, help="Seconds to rest after an idle round."),
        batch: int = typer.Option(50, "--batch", min=1, help="Deliveries claimed at a time."),
        concurrency: int = typer.Option(4, "--concurrency", min=1, max=256, help="Requests in flight at once."),
        timeout: float = typer.Option(15.0, "--timeout", min=0.1, help="Seconds a receiver has to answer."),
        lease: float = typer.Option(60.0, "--lease", min=1.0, help="Seconds a claim lasts (longer than --timeout)."),
        dead_after: float = typer.Option(
            72.0, "--dead-after", min=0.0001, help="Hours after the first attempt when a delivery is given up."
        ),
        system_code: str = typer.Option("hazardflow", "--system-code", help="To-do items' system code."),
        pc_url: str = typer.Option("/cases/{case_id}", "--pc-url", help="To-do PC URL template."),
        mobile_url: str = typer.Option("/m/cases/{case_id}", "--mobile-url", help="To-do mobile URL template."),
        name: str | None = typer.Option(None, "--name", help="Worker name (default host:pid:…)."),
        once: bool = typer.Option(False, "--once", help="One round, then exit."),
    ) -> None:
        """Deliver the outbox as signed webhooks (Standard Webhooks 1.0) until SIGTERM or Ctrl-C."""
        import signal

        import structlog

        from .._exceptions import HazardflowError
        from ..webhooks import WebhookDeliverer
        from .worker import configure_json_logging

        configure_json_logging("info")
        log = structlog.get_logger("hazardflow.deliver")
        try:
            config, retry = deliverer_options(system_code, pc_url, mobile_url, dead_after)
            store = _store(url)
        except HazardflowError as exc:
            raise _fail(exc) from None
        try:
            with WebhookDeliverer(
                store,
                name=name,
                retry=retry,
                timeout=timeout,
                lease=timedelta(seconds=lease),
                batch=batch,
                concurrency=concurrency,
                todo_config=config,
            ) as deliverer:

                def on_signal(signum: int, _frame: object) -> None:
                    log.info("deliver.signal", signal=signal.Signals(signum).name, name=deliverer.name)
                    deliverer.stop()

                signal.signal(signal.SIGTERM, on_signal)
                signal.signal(signal.SIGINT, on_signal)
                log.info("deliver.start", name=deliverer.name)
                if once:
                    report = deliverer.run_once()
                    import attrs

                    log.info("deliver.round", **attrs.asdict(report))
                else:
                    deliverer.run(interval=interval)
        except HazardflowError as exc:
            log.error("deliver.failed", error=str(exc), code=exc.code)
            raise typer.Exit(2) from None
        finally:
            store.close()
