"""Database faults become typed PersistenceError subclasses with clear messages, and nothing partial is written.

Provoked for real where the machine allows it: a URL that cannot be parsed or names no supported database, a
server that does not answer, a missing database or directory, a read-only file, a full database
(``max_page_count``), a schema missing, older or newer than this release.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hazardflow import (
    DatabaseReadOnly,
    DatabaseUnavailable,
    InvalidInput,
    PersistenceError,
    SchemaVersionError,
    StorageFull,
)
from hazardflow.persistence import migrate
from hazardflow.persistence.sql import SqlStore
from hazardflow.testing import WriteFactory, snapshot_store

T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def seeded(path: Path, cases: int = 2) -> WriteFactory:
    f = WriteFactory()
    with SqlStore(sqlite_url(path)) as store:
        for i in range(cases):
            store.commit([f.open(f"HZ-{i}")])
    return f


# ── URLs and reachability ────────────────────────────────────────────────────────────────────────
def test_unparseable_url() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore("not a database url")
    err = info.value
    assert err.code == "hazardflow.database_unavailable"
    assert err.url == "not a database url"
    assert "cannot parse the database URL" in err.detail
    assert "sqlite:///path/to/file.db" in str(err)
    assert str(err).startswith("database unavailable (数据库不可用) (not a database url): ")


def test_unsupported_database() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore("mysql://app@db.example/hazards")
    assert "unsupported database 'mysql'" in info.value.detail
    assert "postgresql" in info.value.detail
    assert "sqlite" in info.value.detail


def test_unsupported_driver() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore("postgresql+asyncpg://app@db.example/hazards")
    assert "unsupported PostgreSQL driver 'asyncpg'" in info.value.detail
    assert "psycopg" in info.value.detail


def test_unreachable_server_hides_the_password() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore("postgresql+psycopg://app:s3cret-pw@127.0.0.1:1/hazards")
    err = info.value
    assert "s3cret-pw" not in str(err)
    assert "***" in err.url
    assert "connecting" in err.detail or "opening" in err.detail
    assert isinstance(err, PersistenceError)


@pytest.mark.postgres
def test_missing_postgres_database(postgres_url: str) -> None:
    import sqlalchemy as sa

    url = sa.make_url(postgres_url).set(database="hf_no_such_database").render_as_string(hide_password=False)
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore(url)
    assert "hf_no_such_database" in str(info.value)


def test_missing_directory(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "no" / "such" / "dir" / "hazards.db")
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore(url)
    assert f"the directory {str(tmp_path / 'no' / 'such' / 'dir')!r} does not exist" in info.value.detail
    assert not (tmp_path / "no").exists()


def test_missing_file_without_create(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore(sqlite_url(path), create=False)
    assert f"no database file at {str(path)!r}" in info.value.detail
    assert "hazardflow db upgrade" in info.value.detail
    assert not path.exists()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    path.write_bytes(b"this is a spreadsheet, not a database" * 100)
    with pytest.raises(DatabaseUnavailable) as info:
        SqlStore(sqlite_url(path))
    assert "not a SQLite database" in info.value.detail
    assert path.read_bytes().startswith(b"this is a spreadsheet")


# ── bad arguments ────────────────────────────────────────────────────────────────────────────────
def test_bad_arguments(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "a.db")
    with pytest.raises(InvalidInput) as info:
        SqlStore(123)  # type: ignore[arg-type]
    assert (info.value.field, info.value.value) == ("url", "int")
    with pytest.raises(InvalidInput) as info:
        SqlStore(url, synchronous="extra")  # type: ignore[arg-type]
    assert info.value.field == "synchronous"
    assert info.value.allowed == ("full", "normal")
    assert "allowed: 'full', 'normal'" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        SqlStore(url + "?synchronous=off")
    assert (info.value.field, info.value.value) == ("synchronous", "off")
    with pytest.raises(InvalidInput) as info:
        SqlStore(url, busy_timeout=-1)
    assert info.value.field == "busy_timeout"
    with pytest.raises(InvalidInput) as info:
        SqlStore(url, sqlite_pragmas={"cache_size; DROP TABLE hf_case": 1})
    assert info.value.field == "sqlite_pragmas"
    assert not (tmp_path / "a.db").exists()
    with SqlStore(url) as store:
        with pytest.raises(InvalidInput) as info:
            store.due_timers(datetime(2024, 1, 1), limit=10)
        assert info.value.field == "now"
        with pytest.raises(InvalidInput) as info:
            store.due_timers(T0, limit=0)
        assert (info.value.field, info.value.value) == ("limit", 0)
        with pytest.raises(InvalidInput) as info:
            store.claim_timer("HZ-1/1/d", datetime(2024, 1, 1))
        assert info.value.field == "now"
        with pytest.raises(InvalidInput) as info:
            store.hold_timer("HZ-1/1/d", owner="w", until=datetime(2024, 1, 1))
        assert info.value.field == "until"


def test_synchronous_setting_reaches_the_connection(tmp_path: Path) -> None:
    for url, kwargs, expected in (
        (sqlite_url(tmp_path / "n.db"), {}, 1),
        (sqlite_url(tmp_path / "f.db") + "?synchronous=FULL", {}, 2),
        (sqlite_url(tmp_path / "g.db"), {"synchronous": "full"}, 2),
    ):
        with SqlStore(url, **kwargs) as store:  # type: ignore[arg-type]
            conn = store._get()
            try:
                assert conn.dbapi.execute("PRAGMA synchronous").fetchone()[0] == expected
                assert conn.dbapi.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert conn.dbapi.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            finally:
                store._put(conn)


def test_closed_store_refuses(tmp_path: Path) -> None:
    store = SqlStore(sqlite_url(tmp_path / "a.db"))
    store.close()
    store.close()  # idempotent
    with pytest.raises(PersistenceError) as info:
        store.load_case("HZ-1")
    assert "the store is closed" in str(info.value)


# ── schema versions ──────────────────────────────────────────────────────────────────────────────
def test_no_schema_without_create(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(SchemaVersionError) as info:
        SqlStore(sqlite_url(path), create=False)
    assert info.value.code == "hazardflow.schema_version"
    assert "no hazardflow schema" in info.value.detail
    assert "hazardflow db upgrade --url" in info.value.detail
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def _stamp(path: Path, revision: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE hf_alembic_version SET version_num = ?", (revision,))


def test_schema_newer_than_the_code(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    f = seeded(path)
    _stamp(path, "0099")
    with pytest.raises(SchemaVersionError) as info:
        SqlStore(sqlite_url(path))
    assert "revision '0099', newer than this release of hazardflow knows" in info.value.detail
    assert f"(its newest is {migrate.HEAD!r})" in info.value.detail
    # Neither an upgrade request nor the migration command touches it.
    with pytest.raises(SchemaVersionError):
        SqlStore(sqlite_url(path), upgrade=True)
    with pytest.raises(SchemaVersionError):
        migrate.upgrade(sqlite_url(path))
    assert migrate.current(sqlite_url(path)) == "0099"
    _stamp(path, migrate.HEAD)
    with SqlStore(sqlite_url(path)) as store:
        assert sorted(c.id for c in store.iter_cases()) == sorted(f.heads)


def test_schema_older_than_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hazards.db"
    seeded(path)
    head = migrate.HEAD
    monkeypatch.setattr(migrate, "REVISIONS", (*migrate.REVISIONS, "0099"))
    monkeypatch.setattr(migrate, "HEAD", "0099")
    with pytest.raises(SchemaVersionError) as info:
        SqlStore(sqlite_url(path))
    assert f"revision {head!r}, older than this release expects ('0099')" in info.value.detail
    assert "hazardflow db upgrade --url" in info.value.detail


@pytest.mark.postgres
def test_postgres_schema_newer_than_the_code(postgres_databases: object) -> None:
    import psycopg
    import sqlalchemy as sa

    url = postgres_databases()  # type: ignore[operator]
    SqlStore(url).close()
    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("UPDATE hf_alembic_version SET version_num = '0099'")
    with pytest.raises(SchemaVersionError) as info:
        SqlStore(url)
    assert "newer than this release" in info.value.detail


# ── read-only file ───────────────────────────────────────────────────────────────────────────────
@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` read-only for real: immutable for root (chattr +i), mode 0444 for everyone else."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(path)], check=False).returncode != 0:
            pytest.skip("running as root without a working `chattr +i`: cannot make a file read-only")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)


def test_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    f = seeded(path)
    assert not (tmp_path / "hazards.db-wal").exists()  # checkpointed on close: everything is in the file
    before_bytes = path.read_bytes()
    with read_only(path), SqlStore(sqlite_url(path)) as store:
        # Reading works.
        assert store.load_case("HZ-0") == f.heads["HZ-0"]
        before = snapshot_store(store)
        with pytest.raises(DatabaseReadOnly) as info:
            store.commit([f.step("HZ-0", state="rectifying"), f.open("HZ-NEW")])
        err = info.value
        assert err.code == "hazardflow.database_read_only"
        assert "readonly database" in err.detail
        assert "permissions" in err.detail
        assert str(err).startswith("database is read-only (数据库只读)")
        assert snapshot_store(store) == before
    assert path.read_bytes() == before_bytes


# ── full database / disk ─────────────────────────────────────────────────────────────────────────
def test_full_database_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    f = seeded(path)
    with sqlite3.connect(path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with SqlStore(sqlite_url(path), sqlite_pragmas={"max_page_count": pages + 2}) as store:
        before = snapshot_store(store)
        big = {"description": "储罐区未设置紧急切断装置" * 400}
        writes = [f.step("HZ-0", fields=big, outbox=True)] + [f.open(f"HZ-B{i}", fields=big) for i in range(40)]
        with pytest.raises(StorageFull) as info:
            store.commit(writes)
        err = info.value
        assert err.code == "hazardflow.storage_full"
        assert "database or disk is full" in err.detail
        assert "nothing was written" in err.detail
        assert str(err).startswith("storage full (存储空间不足)")
        assert snapshot_store(store) == before
        # A small command still fits afterwards: the store carries on.
        f.forget("HZ-0", before.cases["HZ-0"])
        store.commit([f.step("HZ-0", state="rectifying")])
        assert store.load_case("HZ-0").state == "rectifying"  # type: ignore[union-attr]


# ── append-only events ───────────────────────────────────────────────────────────────────────────
def test_events_are_append_only_in_the_database(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    seeded(path)
    with sqlite3.connect(path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE hf_event SET actor_id = 'someone-else'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM hf_event WHERE seq = 1")
        assert conn.execute("SELECT count(*) FROM hf_event").fetchone()[0] == 2


@pytest.mark.postgres
def test_events_are_append_only_on_postgres(fresh_postgres_url: str) -> None:
    import psycopg
    import sqlalchemy as sa

    f = WriteFactory()
    with SqlStore(fresh_postgres_url) as store:
        store.commit([f.open("HZ-1")])
    plain = sa.make_url(fresh_postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
            conn.execute("UPDATE hf_event SET actor_id = 'someone-else'")
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
            conn.execute("DELETE FROM hf_event")
        assert conn.execute("SELECT count(*) FROM hf_event").fetchone()[0] == 1  # type: ignore[index]


def test_a_timestamp_must_be_aware(tmp_path: Path) -> None:
    import attrs

    w = WriteFactory().open("HZ-1", at=T0)
    w = w._replace(case=attrs.evolve(w.case, opened_at=datetime(2024, 3, 4, 9, 0)))
    with SqlStore(sqlite_url(tmp_path / "a.db")) as store:
        with pytest.raises(InvalidInput) as info:
            store.commit([w])
        assert info.value.field == "timestamp"
        assert "must be timezone-aware" in str(info.value)
        assert store.load_case("HZ-1") is None


@pytest.mark.postgres
def test_read_only_postgres_database(postgres_databases: object) -> None:
    import psycopg
    import sqlalchemy as sa

    url = postgres_databases()  # type: ignore[operator]
    f = WriteFactory()
    with SqlStore(url) as store:
        store.commit([f.open("HZ-0")])
    name = sa.make_url(url).database
    admin = sa.make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    try:
        with SqlStore(url) as store:
            assert store.load_case("HZ-0") == f.heads["HZ-0"]
            before = snapshot_store(store)
            with pytest.raises(DatabaseReadOnly) as info:
                store.commit([f.step("HZ-0", state="rectifying", outbox=True), f.open("HZ-NEW")])
            assert "read-only transaction" in info.value.detail
            assert snapshot_store(store) == before
            with pytest.raises(DatabaseReadOnly):
                store.claim_timer("HZ-0/1/d", T0)
            with pytest.raises(DatabaseReadOnly):
                store.hold_timer("HZ-0/1/d", owner="w", until=T0)
            assert store.due_timers(T0, limit=10) == []  # finding is a read
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


@pytest.mark.postgres
def test_a_statement_failing_mid_pipeline_ends_the_pipeline_cleanly(
    fresh_postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A value the server refuses in the middle of a large commit (written past the engine's checks, straight to
    # the store): the pipeline ends without psycopg's "error ignored terminating <psycopg.Pipeline [INERROR]>"
    # warning, the error is typed and nothing is written. Where the server's error surfaces depends on how much
    # was sent before it, so several sizes are tried.
    f = WriteFactory()
    with SqlStore(fresh_postgres_url) as store:
        before = snapshot_store(store)
        for n in (20, 60, 100, 150):
            writes = [f.open(f"HZ-{n}-{i}") for i in range(n)]
            writes += [f.open(f"HZ-{n}-NUL", fields={"description": "bad\x00"})]
            writes += [f.open(f"HZ-{n}-B{i}") for i in range(n)]
            with caplog.at_level("WARNING", logger="psycopg"), pytest.raises(PersistenceError) as info:
                store.commit(writes)
            assert "Unicode" in str(info.value)
        assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []
        assert snapshot_store(store) == before
        store.commit([f.open("HZ-AFTER")])  # the connection is usable again
        assert store.load_case("HZ-AFTER") is not None
