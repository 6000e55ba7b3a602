"""``hazardflow audit verify --url URL [--case ID]``: check the tamper-evident audit record (审计校验).

Exit status 0 when every hash chain verifies, every case replays to its stored row and every event's columns
agree with its hashed body; 1 with the first bad event named when anything was altered or deleted; 2 when
the database cannot be read.
"""

from __future__ import annotations

import os

import typer

from .db import URL_ENV


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="Check the audit record (审计记录).", no_args_is_help=True)
    app.add_typer(audit, name="audit")

    @audit.command("verify")
    def verify(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=f"Database URL (defaults to ${URL_ENV})."),
        case: str | None = typer.Option(None, "--case", help="Check one case only."),
        key_env: str = typer.Option(
            "HAZARDFLOW_AUDIT_KEY",
            "--key-env",
            help="Environment variable holding the HMAC audit key (UTF-8), when the engine signs with one.",
        ),
    ) -> None:
        """Verify hash chains, revisions and replay; name the first bad event (exit 1) if anything was altered."""
        from .._engine import Engine
        from .._exceptions import HazardflowError
        from ..persistence.sql import SqlStore

        key = os.environ.get(key_env)
        try:
            with SqlStore(url, create=False) as store:
                if case is not None and store.load_case(case) is None:
                    typer.echo(f"error: no case with id {case!r} (案件不存在) in {store.url}", err=True)
                    raise typer.Exit(2)
                engine = Engine(store=store, audit_key=key.encode() if key else None)
                report = engine.verify_audit(case)
        except HazardflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if report.ok:
            typer.echo(str(report))
            return
        cases = len({p.case_id for p in report.problems})
        first = report.problems[0]
        typer.echo(
            f"audit FAILED (审计校验失败): {cases} case(s) with problems; first bad event: case {first.case_id!r} "
            f"seq {first.seq}: {first.problem}"
        )
        for p in report.problems:
            typer.echo(f"  case {p.case_id!r} seq {p.seq}: {p.problem}")
        raise typer.Exit(1)
