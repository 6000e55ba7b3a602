"""``hazardflow dashboard export --url DB --jurisdiction CODE -o 挂图.html``: the board as one HTML file.

The file holds its data, script, style and Apache ECharts inline: it opens in any browser, on a machine
with no network, and can be mailed around. Exit status 0 when written, 2 on a bad argument or an
unreadable database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from .db import URL_ENV


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date or instant (e.g. 2026-06-30 or 2026-06-30T18:00+08:00)",
            param_hint="--as-of",
        ) from None
    if value.tzinfo is None:
        from .._calendar import SHANGHAI

        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(UTC)


def open_engine(url: str, policy: list[str]) -> Any:
    """A read-only view of the database at ``url``: its store, with the installed policies naming the
    divisions and the overdue ladders."""
    from .._engine import Engine
    from ..persistence.sql import SqlStore
    from ..policies.registry import PolicyRegistry
    from .worker import load_policies

    registry = PolicyRegistry.installed(*load_policies(policy))
    store = SqlStore(url, create=False)
    try:
        return Engine(store=store, policies=registry)
    except BaseException:
        store.close()
        raise


def register(app: typer.Typer) -> None:
    dashboard = typer.Typer(help="The board (挂图作战) of a jurisdiction.", no_args_is_help=True)
    app.add_typer(dashboard, name="dashboard")

    @dashboard.command("export")
    def export(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=f"Database URL (defaults to ${URL_ENV})."),
        jurisdiction: str = typer.Option(..., "--jurisdiction", help="Division code of the board (its subtree)."),
        out: Path = typer.Option(Path("挂图.html"), "-o", "--out", help="HTML file to write."),
        lang: str = typer.Option("zh", "--lang", help="zh or en."),
        as_of: str | None = typer.Option(
            None, "--as-of", help="The instant the board is drawn at (month, due-soon window); default now."
        ),
        soon_days: int = typer.Option(3, "--soon-days", help="Days before a deadline a case shows as 临期 (blue)."),
        rows: str | None = typer.Option(None, "--rows", help="Matrix rows: division or department (default: auto)."),
        policy: list[str] = typer.Option(
            [], "--policy", help="Extra policy as module:attribute (repeatable); installed policies load too."
        ),
    ) -> None:
        """Write the board as one self-contained HTML file (data and ECharts inlined; nothing fetched)."""
        from .._exceptions import HazardflowError
        from ..dashboard import export_board

        when = _as_of(as_of)
        try:
            engine = open_engine(url, policy)
        except HazardflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        try:
            path = export_board(engine, jurisdiction, out, lang=lang, now=when, soon_days=soon_days, rows=rows)
        except HazardflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        finally:
            engine.close()
        typer.echo(f"written {path}")
