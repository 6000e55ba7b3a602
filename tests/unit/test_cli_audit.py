"""``hazardflow audit verify``: exit 0 on an intact record; exit 1 naming the first bad event when a stored
event (or the case row) was altered or deleted behind the engine's back; exit 2 when it cannot read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hazardflow import Engine, SequentialIds, SimulatedClock
from hazardflow.cli import app
from hazardflow.cli.demo import run_demo

Tamper = Callable[[str], None]


def demo_database(url: str, audit_key: bytes | None = None) -> dict[str, int]:
    """Run the demo's sample cases on ``url``; return each case's number of events."""
    engine = Engine.from_url(
        url, clock=SimulatedClock("2024-03-04T09:00:00+08:00"), ids=SequentialIds(), audit_key=audit_key
    )
    with engine:
        run_demo(engine)
        assert engine.verify_audit().ok
        counts = {c.id: len(engine.history(c.id)) for c in engine.cases()}
    assert sorted(counts) == ["HZ-000001", "HZ-000002", "HZ-000003"]
    assert min(counts.values()) >= 2
    assert counts["HZ-000003"] >= 5
    return counts


def run_sql(url: str, *statements: str) -> None:
    """Edit the database directly, as an administrator could (getting past the append-only triggers)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS hf_event_no_update")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS hf_event_no_delete")
            else:
                # A superuser can switch triggers off for a transaction without changing the schema.
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def verify(url: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["audit", "verify", "--url", url, *args], env=env)
    return res.exit_code, res.output


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hazards.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_url")


def test_intact_record_verifies(url: str) -> None:
    counts = demo_database(url)
    code, out = verify(url)
    assert code == 0, out
    assert out.strip() == f"audit OK: 3 case(s), {sum(counts.values())} event(s), hash chains verify"
    code, out = verify(url, "--case", "HZ-000003")
    assert code == 0
    assert f"audit OK: 1 case(s), {counts['HZ-000003']} event(s)" in out


def test_altered_event_body(url: str) -> None:
    demo_database(url)
    run_sql(
        url,
        'UPDATE hf_event SET body = replace(body, \'"actor_name":"\', \'"actor_name":"假\') '
        "WHERE case_id = 'HZ-000002' AND seq = 2",
    )
    code, out = verify(url)
    assert code == 1
    assert "first bad event: case 'HZ-000002' seq 2: content does not match its hash (altered)" in out
    assert "1 case(s) with problems" in out
    # The other cases still verify on their own.
    assert verify(url, "--case", "HZ-000001")[0] == 0
    assert verify(url, "--case", "HZ-000002")[0] == 1


def test_deleted_middle_event(url: str) -> None:
    demo_database(url)
    run_sql(url, "DELETE FROM hf_event WHERE case_id = 'HZ-000003' AND seq = 4")
    code, out = verify(url)
    assert code == 1
    assert "first bad event: case 'HZ-000003' seq 4: event seq 4 is missing (found 5)" in out


def test_deleted_newest_event(url: str) -> None:
    last = demo_database(url)["HZ-000001"]
    run_sql(url, f"DELETE FROM hf_event WHERE case_id = 'HZ-000001' AND seq = {last}")
    code, out = verify(url)
    assert code == 1
    assert f"case 'HZ-000001' seq {last}: case is at revision {last} but {last - 1} event(s) are stored" in out


def test_altered_column_beside_the_body(url: str) -> None:
    demo_database(url)
    run_sql(url, "UPDATE hf_event SET actor_id = 'someone-else' WHERE case_id = 'HZ-000002' AND seq = 2")
    code, out = verify(url)
    assert code == 1
    assert "case 'HZ-000002' seq 2: column 'actor_id' disagrees with the hashed event body (altered)" in out


def test_altered_case_row(url: str) -> None:
    last = demo_database(url)["HZ-000003"]
    run_sql(url, "UPDATE hf_case SET state = 'rectifying' WHERE id = 'HZ-000003'")
    code, out = verify(url)
    assert code == 1
    assert f"case 'HZ-000003' seq {last}: replaying the events does not reproduce the stored case" in out


def test_rewritten_chain_needs_the_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    demo_database(url, audit_key=b"county-secret")
    assert verify(url, env={"HAZARDFLOW_AUDIT_KEY": "county-secret"})[0] == 0
    code, out = verify(url, env={"HAZARDFLOW_AUDIT_KEY": "forged"})
    assert code == 1
    assert "content does not match its hash" in out
    code, out = verify(url, "--key-env", "MY_KEY", env={"MY_KEY": "county-secret"})
    assert code == 0, out


def test_unreadable_or_unknown(tmp_path: Path) -> None:
    code, out = verify(f"sqlite:///{tmp_path / 'missing.db'}")
    assert code == 2
    assert "no database file" in out
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    demo_database(url)
    code, out = verify(url, "--case", "HZ-404")
    assert code == 2
    assert "no case with id 'HZ-404'" in out


@pytest.mark.parametrize(
    ("statement", "column"),
    [
        ("UPDATE hf_event SET actor_name = '某人' WHERE case_id = 'HZ-000002' AND seq = 2", "actor_name"),
        ("UPDATE hf_event SET actor_org = '别的单位' WHERE case_id = 'HZ-000003' AND seq = 3", "actor_org"),
        ("UPDATE hf_event SET trigger = 'approve' WHERE case_id = 'HZ-000001' AND seq = 1", "trigger"),
    ],
)
def test_the_api_finds_what_the_cli_finds(url: str, statement: str, column: str) -> None:
    demo_database(url)
    run_sql(url, statement)
    code, out = verify(url)
    with Engine.from_url(url, create=False) as engine:
        report = engine.verify_audit()
    assert code == 1
    assert not report.ok
    problem = report.problems[0]
    assert problem.problem == f"column {column!r} disagrees with the hashed event body (altered)"
    line = f"case {problem.case_id!r} seq {problem.seq}: {problem.problem}"
    assert line in out
    assert str(report).startswith("audit FAILED: 1 case(s) with problems")
    with Engine.from_url(url, create=False) as engine:
        assert not engine.verify_audit(problem.case_id).ok
