"""``hazardflow db upgrade|current --url URL``: create, upgrade and inspect a database's schema (数据库结构)."""

from __future__ import annotations

import typer

#: Where the URL comes from when ``--url`` is not given.
URL_ENV = "HAZARDFLOW_DATABASE_URL"
_URL_HELP = (
    "Database URL: sqlite:///hazards.db (a file, created if missing) or postgresql+psycopg://user@host/db. "
    f"Defaults to ${URL_ENV}."
)


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Create, upgrade and inspect the database schema (数据库结构与迁移).", no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command("upgrade")
    def upgrade(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        revision: str = typer.Option("head", "--revision", help="Target revision (default: this release's head)."),
    ) -> None:
        """Create the schema, or migrate it to this release's revision (back up a production database first)."""
        from .._exceptions import HazardflowError
        from ..persistence import migrate
        from ..persistence.sql import SqlStore

        try:
            with SqlStore(url, create=True, check_schema=False) as store:
                before = store.schema_revision()
                after = store.upgrade_schema(revision)
        except HazardflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if before == after:
            typer.echo(f"schema already at revision {after} (head {migrate.HEAD}); nothing to do")
        else:
            typer.echo(f"schema upgraded: {before or 'none'} → {after} (head {migrate.HEAD})")

    @db.command("current")
    def current(url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP)) -> None:
        """Print the schema revision of a database (exit 1 when it is not this release's head)."""
        from .._exceptions import HazardflowError
        from ..persistence import migrate

        try:
            found = migrate.current(url)
        except HazardflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if found is None:
            typer.echo(f"no hazardflow schema; create it with: hazardflow db upgrade --url {_shown(url)}")
            raise typer.Exit(1)
        if found == migrate.HEAD:
            typer.echo(f"{found} (head)")
            return
        if found in migrate.REVISIONS:
            typer.echo(f"{found} (older than this release's head {migrate.HEAD}; run hazardflow db upgrade)")
        else:
            typer.echo(f"{found} (newer than this release knows; its head is {migrate.HEAD})")
        raise typer.Exit(1)


def _shown(url: str) -> str:
    """The URL with its password hidden, for messages."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
