"""``hazardflow worker --url URL``: fire due timers on time, for as long as it runs (计时器工作进程).

Deadlines, reminders and overdue-ladder rungs live in the database's timer table; this process wakes at the
next due instant (or every ``--interval`` seconds), fires what is due as the system, and records each firing
in the audit log. Run one per host, or several against one database: each firing claims its timer in its own
transaction, so each timer fires once. SIGTERM (or Ctrl-C) stops it gracefully. Logs are JSON lines on
stdout; ``--health-file`` holds the latest health record for a liveness probe.

Exit status: 0 after a graceful stop (or a ``--once`` sweep), 2 when the database or the policies cannot be
loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from .db import URL_ENV

_LEVELS = ("debug", "info", "warning", "error")


def configure_json_logging(level: str = "info") -> None:
    """structlog as JSON lines on stdout (the command configures logging; the library never does)."""
    import json
    import logging
    import sys

    import structlog

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(serializer=json.dumps, ensure_ascii=False, default=str),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )


def load_policies(specs: list[str]) -> list[Any]:
    """Import ``module:attribute`` policy specs (a class, an instance or an iterable of them)."""
    import importlib

    from .._exceptions import InvalidInput

    out: list[Any] = []
    for spec in specs:
        module_name, sep, attr = spec.partition(":")
        if not sep or not module_name or not attr:
            raise InvalidInput("policy", spec, "must be written module:attribute (e.g. my_county.policies:Sanxing)")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise InvalidInput("policy", spec, f"cannot be imported: {type(exc).__name__}: {exc}") from None
        if isinstance(obj, list | tuple):
            out.extend(obj)
        else:
            out.append(obj)
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help="Database URL."),
        interval: float = typer.Option(
            30.0,
            "--interval",
            min=0.05,
            metavar="<seconds>",
            help="Seconds between polls (a timer armed elsewhere is seen this late).",
        ),
        batch: int = typer.Option(500, "--batch", min=1, metavar="<count>", help="Due timers looked up at a time."),
        hold: float = typer.Option(
            300.0,
            "--hold",
            min=1.0,
            metavar="<seconds>",
            help="Seconds a timer whose firing failed is held back before a retry.",
        ),
        health_file: Path | None = typer.Option(None, "--health-file", help="Write the health record (JSON) here."),
        health_interval: float = typer.Option(
            60.0, "--health-interval", min=0.05, metavar="<seconds>", help="Seconds between health lines."
        ),
        worker_id: str | None = typer.Option(None, "--worker-id", help="Worker name (default host:pid:random)."),
        policy: list[str] = typer.Option(
            [],
            "--policy",
            help="Extra policy as module:attribute (repeatable); installed entry-point policies load too.",
        ),
        key_env: str = typer.Option(
            "HAZARDFLOW_AUDIT_KEY", "--key-env", help="Environment variable holding the HMAC audit key, if any."
        ),
        log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
        once: bool = typer.Option(False, "--once", help="Sweep once and exit (for cron)."),
    ) -> None:
        """Fire due deadlines, reminders and ladder rungs on time (APScheduler wakes it; the database decides)."""
        import signal

        import structlog

        from .._engine import Engine
        from .._exceptions import HazardflowError
        from ..persistence.sql import SqlStore
        from ..policies.registry import PolicyRegistry
        from ..timers import TimerWorker

        if log_level not in _LEVELS:
            typer.echo(f"error: --log-level must be one of {', '.join(_LEVELS)}", err=True)
            raise typer.Exit(2)
        configure_json_logging(log_level)
        log = structlog.get_logger("hazardflow.worker")
        key = os.environ.get(key_env)
        try:
            registry = PolicyRegistry.installed(*load_policies(policy))
            store = SqlStore(url, create=False)
        except HazardflowError as exc:
            log.error("worker.failed_to_start", error=str(exc), code=exc.code)
            raise typer.Exit(2) from None
        try:
            engine = Engine(
                store=store, policies=registry, audit_key=key.encode() if key else None, worker_id=worker_id
            )
            if once:
                report = engine.run_due(limit=batch, hold_seconds=hold)
                log.info(
                    "worker.sweep",
                    worker_id=engine.worker_id,
                    fired=report.fired,
                    cancelled=report.cancelled,
                    conflicts=report.conflicts,
                    failed=report.failed,
                    skipped=report.skipped,
                    late=report.late,
                    max_late_seconds=report.max_late_seconds,
                )
                return
            runner = TimerWorker(
                engine,
                interval=interval,
                limit=batch,
                hold_seconds=hold,
                health_file=health_file,
                health_interval=health_interval,
            )

            def on_signal(signum: int, _frame: object) -> None:
                log.info("worker.signal", signal=signal.Signals(signum).name, worker_id=engine.worker_id)
                runner.request_stop()

            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            runner.run()
        except HazardflowError as exc:
            log.error("worker.failed", error=str(exc), code=exc.code)
            raise typer.Exit(2) from None
        finally:
            store.close()
