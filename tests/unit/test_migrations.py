"""Migrations: the migrated schema equals the SQLModel tables (autogenerate finds nothing) on SQLite and
PostgreSQL; the scripts go down and up again; ``hazardflow db upgrade|current`` work as documented."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from hazardflow.cli import app
from hazardflow.persistence import migrate
from hazardflow.persistence._tables import VERSION_TABLE, metadata
from hazardflow.persistence.sql import SqlStore

TABLES = {
    "hf_case",
    "hf_event",
    "hf_timer",
    "hf_idempotency",
    "hf_confidential",
    "hf_outbox",
    "hf_webhook_subscription",
    "hf_webhook_delivery",
}


def schema_diff(url: str) -> list[Any]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": VERSION_TABLE, "target_metadata": metadata}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revisions_match_the_shipped_scripts() -> None:
    assert migrate.script_revisions() == list(migrate.REVISIONS)
    assert migrate.REVISIONS[-1] == migrate.HEAD


def test_sqlite_migrated_schema_equals_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    assert migrate.upgrade(url) == migrate.HEAD
    assert table_names(url) == TABLES | {VERSION_TABLE}
    assert schema_diff(url) == []


@pytest.mark.postgres
def test_postgres_migrated_schema_equals_the_models(postgres_databases: Callable[[], str]) -> None:
    url = postgres_databases()
    assert migrate.upgrade(url) == migrate.HEAD
    assert table_names(url) == TABLES | {VERSION_TABLE}
    assert schema_diff(url) == []
    # The Chinese column comments are in the database (PostgreSQL keeps them; SQLite has no comments).
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("hf_case")}
        assert columns["rev"]["comment"].startswith("版本号")
        assert sa.inspect(engine).get_table_comment("hf_event")["text"].startswith("审计事件")
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_timer_table_leaves_room_for_in_place_lease_updates(postgres_databases: Callable[[], str]) -> None:
    url = postgres_databases()
    assert migrate.upgrade(url) == migrate.HEAD
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            options = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'hf_timer'")).scalar()
        assert options is not None
        assert "fillfactor=70" in options
        with engine.begin() as conn:
            command.downgrade(migrate._config(conn), "0002")
        with engine.connect() as conn:
            options = conn.execute(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'hf_timer'")).scalar()
        assert not options
    finally:
        engine.dispose()


def _down_and_up(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate._config(conn), "base")
        assert table_names(url) == {VERSION_TABLE}
        with engine.begin() as conn:
            assert migrate.revision_of(conn) is None
    finally:
        engine.dispose()
    assert migrate.upgrade(url) == migrate.HEAD
    assert schema_diff(url) == []


def test_sqlite_downgrade_then_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    SqlStore(url).close()
    _down_and_up(url)


@pytest.mark.postgres
def test_postgres_downgrade_then_upgrade(postgres_databases: Callable[[], str]) -> None:
    url = postgres_databases()
    SqlStore(url).close()
    _down_and_up(url)


def _pins_survive_0002_round_trip(url: str) -> None:
    """0002 moves pinned deadlines out of ``fields`` into their column, and back on downgrade."""
    from hazardflow import Actor, Engine, SequentialIds, SimulatedClock

    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    township = "500240204"
    officer = Actor("t-1", "刘安办", {"township_officer"}, "三星乡安办", township)
    with Engine(store=SqlStore(url), clock=clock, ids=SequentialIds()) as engine:
        case = engine.open_case(
            "hazard",
            actor=officer,
            jurisdiction=township,
            grade="general",
            source="supervisory_inspection",
            nature="unsafe_condition",
            industry="industry_trade",
            business_unit="BU-1",
            location="仓库",
            description="消防通道堆放杂物",
        )
        case = engine.fire(
            case.id,
            "set_deadline",
            actor=officer,
            payload={"deadline": "2024-03-15", "measures": "清理通道", "responsible": "李安全"},
        )
    assert case.deadline is case.pins["rectify"]
    engine_db = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine_db.begin() as conn:
            command.downgrade(migrate._config(conn), "0001")
        with engine_db.connect() as conn:
            stored = conn.execute(sa.text("SELECT fields FROM hf_case WHERE id = :i"), {"i": case.id}).scalar_one()
        fields = stored if isinstance(stored, dict) else json.loads(stored)
        assert fields["pins"]["rectify"] == case.pins["rectify"].to_json()
    finally:
        engine_db.dispose()
    assert migrate.upgrade(url) == migrate.HEAD
    assert schema_diff(url) == []
    with Engine(store=SqlStore(url), clock=clock) as engine:
        again = engine.get(case.id)
        assert again == case
        assert "pins" not in again.fields
        assert engine.verify_audit().ok


def test_sqlite_pins_move_between_fields_and_their_column(tmp_path: Path) -> None:
    _pins_survive_0002_round_trip(f"sqlite:///{tmp_path / 'hazards.db'}")


@pytest.mark.postgres
def test_postgres_pins_move_between_fields_and_their_column(postgres_databases: Callable[[], str]) -> None:
    _pins_survive_0002_round_trip(postgres_databases())


def test_store_opens_a_fresh_file_with_the_head_schema(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    with SqlStore(f"sqlite:///{path}") as store:
        assert store.schema_revision() == migrate.HEAD
    assert path.exists()


# ── the command line ─────────────────────────────────────────────────────────────────────────────
def test_cli_db_upgrade_and_current(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    res = runner.invoke(app, ["db", "current", "--url", url])
    assert res.exit_code == 2
    assert "no database file" in res.output
    res = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert res.exit_code == 0, res.output
    assert f"schema upgraded: none → {migrate.HEAD}" in res.output
    res = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert res.exit_code == 0
    assert "nothing to do" in res.output
    res = runner.invoke(app, ["db", "current", "--url", url])
    assert res.exit_code == 0
    assert res.output.strip() == f"{migrate.HEAD} (head)"
    # The URL may come from the environment.
    res = runner.invoke(app, ["db", "current"], env={"HAZARDFLOW_DATABASE_URL": url})
    assert res.exit_code == 0
    assert res.output.strip() == f"{migrate.HEAD} (head)"


def test_cli_db_reports_schema_problems(tmp_path: Path) -> None:
    import sqlite3

    runner = CliRunner()
    path = tmp_path / "hazards.db"
    sqlite3.connect(path).close()
    res = runner.invoke(app, ["db", "current", "--url", f"sqlite:///{path}"])
    assert res.exit_code == 1
    assert "no hazardflow schema" in res.output
    SqlStore(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hf_alembic_version SET version_num = '0099'")
    res = runner.invoke(app, ["db", "current", "--url", f"sqlite:///{path}"])
    assert res.exit_code == 1
    assert "0099 (newer than this release knows" in res.output
    res = runner.invoke(app, ["db", "upgrade", "--url", f"sqlite:///{path}"])
    assert res.exit_code == 2
    assert "newer than this release of hazardflow knows" in res.output
    res = runner.invoke(app, ["db", "upgrade", "--url", "mysql://x@y/z"])
    assert res.exit_code == 2
    assert "unsupported database 'mysql'" in res.output
    res = runner.invoke(app, ["db", "upgrade", "--url", f"sqlite:///{path}", "--revision", "9999"])
    assert res.exit_code == 2
    assert "is not a schema revision of this release" in res.output


@pytest.mark.postgres
def test_cli_db_upgrade_on_postgres(postgres_databases: Callable[[], str]) -> None:
    runner = CliRunner()
    url = postgres_databases()
    # The server trusts local connections, so a password in the URL is accepted and must never be shown.
    with_password = sa.make_url(url).set(password="pa55-secret").render_as_string(hide_password=False)
    res = runner.invoke(app, ["db", "current", "--url", with_password])
    assert res.exit_code == 1
    assert "no hazardflow schema" in res.output
    assert "pa55-secret" not in res.output
    assert "***" in res.output
    res = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["db", "current", "--url", url])
    assert res.output.strip() == f"{migrate.HEAD} (head)"
