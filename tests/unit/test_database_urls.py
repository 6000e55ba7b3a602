"""Database URLs and faults at open, alike at every entry point (``Engine.from_url``, ``hazardflow demo --store``,
``hazardflow audit verify --url``, ``hazardflow simulate --store``, ``hazardflow db``).

``postgres://`` and ``postgresql://`` are read as psycopg 3 (``postgresql+psycopg://``); every URL the library
cannot use, and every database that cannot be opened (missing directory, corrupt or read-only file, wrong port,
user or database), gives one typed error naming it: no traceback in the command line, nothing written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from hazard_world import REGISTER, TOWNSHIP, People
from hazardflow import DatabaseReadOnly, DatabaseUnavailable, Engine, PersistenceError
from hazardflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "examples" / "scenarios" / "sanxing_2023.py"


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def spelled(url: str, scheme: str) -> str:
    return scheme + url.split("://", 1)[1]


def assert_one_clean_error(res: Result, *words: str) -> None:
    """Exit 2 with the error on one line: no exception escaped the command."""
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    for w in words:
        assert w in res.output, res.output


# ── postgres:// and postgresql:// ───────────────────────────────────────────────────────────────────


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_engine_from_url_reads_both_spellings(postgres_databases: Callable[[], str], scheme: str) -> None:
    with Engine.from_url(spelled(postgres_databases(), scheme)) as engine:
        assert engine.store.url.startswith("postgresql+psycopg://")  # type: ignore[attr-defined]
        assert engine.verify_audit().ok


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_demo_and_audit_read_both_spellings(postgres_databases: Callable[[], str], scheme: str) -> None:
    url = spelled(postgres_databases(), scheme)
    res = cli("demo", "--store", url)
    assert res.exit_code == 0, res.output
    assert "audit OK" in res.output
    res = cli("audit", "verify", "--url", url)
    assert res.exit_code == 0, res.output
    assert res.output.startswith("audit OK: 3 case(s)")
    res = cli("db", "current", "--url", url)
    assert res.exit_code == 0, res.output


@pytest.mark.postgres
def test_simulate_reads_the_short_spelling(postgres_databases: Callable[[], str], tmp_path: Path) -> None:
    url = spelled(postgres_databases(), "postgres://")
    res = cli("simulate", str(SCENARIO), "--store", url, "--out", str(tmp_path / "out"), "--no-charts", "--json")
    assert res.exit_code == 0, res.output
    with Engine.from_url(url, create=False) as engine:
        assert next(iter(engine.cases()), None) is not None


# ── URLs the library cannot use ─────────────────────────────────────────────────────────────────────

UNUSABLE = [
    ("http://127.0.0.1/x", "unsupported database 'http'"),
    ("mysql://u@127.0.0.1/db", "unsupported database 'mysql'"),
    ("sqlite+aiosqlite:///x.db", "unsupported SQLite driver 'aiosqlite'"),
    ("postgresql+asyncpg://u@127.0.0.1/db", "unsupported PostgreSQL driver 'asyncpg'"),
    ("not a url", "cannot parse the database URL"),
    ("   ", "cannot parse the database URL"),
    ("sqlite:///x\x00.db", "cannot parse the database URL"),
]


@pytest.mark.parametrize(("url", "words"), UNUSABLE)
def test_an_unusable_url_is_one_typed_error_at_every_entry_point(
    url: str, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseUnavailable) as info:
        Engine.from_url(url)
    assert words in str(info.value)
    assert_one_clean_error(cli("demo", "--store", url), words)
    assert_one_clean_error(cli("audit", "verify", "--url", url), words)
    assert_one_clean_error(cli("db", "upgrade", "--url", url), words)
    res = cli("simulate", str(SCENARIO), "--store", url, "--out", str(tmp_path / "out"), "--no-charts")
    assert_one_clean_error(res, "hazardflow.database_unavailable", words)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


def test_an_unparseable_url_hides_its_password() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        Engine.from_url("postgres://user:s3cret@127.0.0.1:5432/db with spaces?x=%zz")
    assert "s3cret" not in str(info.value)


# ── faults at open ──────────────────────────────────────────────────────────────────────────────────


def check_fault(url: str, error: type[PersistenceError], *words: str) -> None:
    """``url`` refused at every entry point with ``error`` naming the problem."""
    with pytest.raises(error) as info:
        Engine.from_url(url)
    assert type(info.value) is error
    for w in words:
        assert w in str(info.value)
    assert_one_clean_error(cli("demo", "--store", url), *words)
    assert_one_clean_error(cli("audit", "verify", "--url", url), *words)
    assert_one_clean_error(cli("db", "current", "--url", url), *words)


def test_missing_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'hazards.db'}"
    check_fault(url, DatabaseUnavailable, f"the directory {str(tmp_path / 'nowhere')!r} does not exist")
    assert not (tmp_path / "nowhere").exists()


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "hazards.db"
    junk = b"this is not a database, just some bytes " * 100
    path.write_bytes(junk)
    check_fault(f"sqlite:///{path}", DatabaseUnavailable, "not a SQLite database")
    assert path.read_bytes() == junk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hazards.db"]


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
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
    url = f"sqlite:///{path}"
    Engine.from_url(url).close()
    before = path.read_bytes()
    with immutable(path):
        res = cli("demo", "--store", url)
        assert_one_clean_error(res, "database is read-only", "permissions")
        with Engine.from_url(url) as engine:
            assert engine.verify_audit().ok  # reading works
        res = cli("simulate", str(SCENARIO), "--store", url, "--replace", "--out", str(tmp_path / "o"), "--no-charts")
        assert res.exit_code == 2, res.output
        assert "cannot delete" in res.output
    assert path.read_bytes() == before
    with Engine.from_url(url) as engine:
        assert list(engine.cases()) == []
    with immutable(path), Engine.from_url(url) as engine:
        fields = {**REGISTER, "grade": "general"}
        with pytest.raises(DatabaseReadOnly):
            engine.open_case("hazard", actor=People.inspector, jurisdiction=TOWNSHIP, **fields)
        assert list(engine.cases()) == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"port": 1}, "port 1 failed"),
        ({"database": "hf_no_such_database"}, 'database "hf_no_such_database" does not exist'),
        ({"username": "hf_no_such_role", "password": "wrong"}, 'role "hf_no_such_role" does not exist'),
    ],
)
def test_postgres_faults_at_open(postgres_url: str, change: dict[str, object], words: str) -> None:
    url = sa.make_url(postgres_url).set(**change).render_as_string(hide_password=False)  # type: ignore[arg-type]
    check_fault(url, DatabaseUnavailable, words)
    res = cli("audit", "verify", "--url", url)
    assert "wrong" not in res.output  # the password is never shown
