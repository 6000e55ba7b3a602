"""Simulating into a database that already holds cases: advice that works for the store in hand.

On PostgreSQL ``--replace`` drops hazardflow's tables after the user confirms (``--yes`` in a script) and
leaves other applications' tables alone; without it the refusal says exactly that, and never advises the
SQLite-only ``--from``. A refused run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hazardflow import Engine
from hazardflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
SANXING = str(ROOT / "examples" / "scenarios" / "sanxing_2023.py")
ARGS = [SANXING, "--seed", "2", "--until", "2023-05-31", "--no-charts"]


def _simulate(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["simulate", *args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


def _cases(url: str) -> list[tuple[str, int]]:
    with Engine.from_url(url) as engine:
        return sorted((c.id, c.rev) for c in engine.cases())


def test_postgres_store_with_cases_gets_advice_that_works(
    tmp_path: Path, postgres_databases: Callable[[], str]
) -> None:
    url = postgres_databases()
    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE TABLE other_app (id int primary key)")
        conn.execute("INSERT INTO other_app VALUES (7)")
    out = str(tmp_path / "out")
    code, output = _simulate(*ARGS, "--store", url, "--out", out)
    assert code == 0, output
    before = _cases(url)
    assert before

    code, output = _simulate(*ARGS, "--store", url, "--out", out)
    assert code == 2
    assert "already holds cases" in output
    assert "--replace" in output
    assert "--yes" in output
    assert "--from" not in output  # SQLite-only: no use on PostgreSQL
    assert _cases(url) == before

    # Asked to replace with no one to confirm (not a terminal): refused, nothing dropped.
    code, output = _simulate(*ARGS, "--store", url, "--out", out, "--replace")
    assert code == 2
    assert "add --yes" in output
    assert _cases(url) == before

    code, output = _simulate(*ARGS, "--store", url, "--out", out, "--replace", "--yes")
    assert code == 0, output
    assert _cases(url) == before  # same seed, fresh tables, the same cases
    with Engine.from_url(url) as engine:
        assert engine.verify_audit().ok
    with psycopg.connect(plain, autocommit=True) as conn:
        assert conn.execute("SELECT id FROM other_app").fetchall() == [(7,)]  # not ours: left alone


def test_sqlite_store_with_cases_is_advised_about_its_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    out = str(tmp_path / "out")
    assert _simulate(*ARGS, "--store", url, "--out", out)[0] == 0
    code, output = _simulate(*ARGS, "--store", url, "--out", out)
    assert code == 2
    assert "add --replace to delete the file first" in output
    assert "--from" in output


def test_the_tipoff_example_reruns_on_the_database_it_made(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("tipoff_rerun", ROOT / "examples" / "tipoff_to_escalated_closure.py")
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert example.main(["example", url]) == 0
    assert example.main(["example", url]) == 0  # failed before: "the id generator returned the id of an existing case"
    engine = example.build_engine(url)
    try:
        report = engine.verify_audit()
        assert report.ok
        assert report.cases == 6
    finally:
        engine.close()


@pytest.mark.parametrize("taken", [set(), {"HZ-000001", "HZ-000002", "HZ-000004"}])
def test_sequential_ids_skip_the_taken_ones(taken: set[str]) -> None:
    from datetime import UTC, datetime

    from hazardflow import SequentialIds

    ids = SequentialIds(taken=taken.__contains__)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    got = [ids("HZ", now) for _ in range(3)]
    assert not set(got) & taken
    assert got == sorted(got)
    assert len(set(got)) == 3
