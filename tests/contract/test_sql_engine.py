"""The real engine on SQL stores behaves exactly as on the memory store: same cases, same hash-chained events,
same timers, same outbox; bulk batches; restarts; confidential values kept apart; paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hazardflow import Actor, ConcurrentUpdateError, Engine, SequentialIds, SimulatedClock
from hazardflow.cli.demo import run_demo
from hazardflow.persistence.memory import MemoryStore
from hazardflow.persistence.sql import SqlStore
from hazardflow.persistence.sql import _store as sql_module
from hazardflow.testing import snapshot_store

TOWNSHIP = "500240204"
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
START = "2024-03-04T09:00:00+08:00"
FIELDS: dict[str, Any] = {
    "grade": "general",
    "source": "supervisory_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": "BU-1",
    "location": "仓库",
    "description": "消防通道堆放杂物",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hazards.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_url")


def engine_on(store: Any, **kwargs: Any) -> Engine:
    return Engine(store=store, clock=SimulatedClock(START), ids=SequentialIds(), outbox=True, **kwargs)


def all_timer_ids(url: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.exec_driver_sql("SELECT id FROM hf_timer ORDER BY id")]
    finally:
        engine.dispose()


def test_demo_matches_the_memory_store(url: str) -> None:
    memory = engine_on(MemoryStore())
    expected_log = run_demo(memory)
    with SqlStore(url) as store:
        durable = engine_on(store)
        assert run_demo(durable) == expected_log
        mine, theirs = snapshot_store(store), snapshot_store(memory.store)
        assert mine == theirs, "; ".join(mine.diff(theirs))
        assert list(store.iter_events()) == list(memory.store.iter_events())
        ids = all_timer_ids(url)
        assert len(ids) == 11
        assert [store.get_timer(t) for t in ids] == [memory.store.get_timer(t) for t in ids]
        assert durable.verify_audit().ok
        assert store.event_column_problems() == []
    # A fresh process (a new store on the same database) sees the same thing.
    with SqlStore(url) as again:
        assert snapshot_store(again) == snapshot_store(memory.store)


def _tipoff_to_hazard(engine: Engine) -> None:
    """A tip-off keeps its verification deadline from receipt through verification, then opens a hazard."""
    tip = engine.open_case(
        "tipoff",
        actor=OFFICER,
        jurisdiction=TOWNSHIP,
        channel="public",
        category="blocked_fire_exit",
        description="商场安全出口被锁",
        location="南宾路商场",
        business_unit="BU-1",
        industry="fire_safety",
        reporter_name="王某",
        reporter_contact="13800000000",
    )
    engine.fire(tip.id, "start_verification", actor=OFFICER, payload={"verifier": OFFICER.id})
    engine.fire(
        tip.id,
        "substantiate",
        actor=OFFICER,
        payload={"findings": "现场查实，安全出口上锁", "grade": "general", "nature": "unsafe_condition"},
    )


def test_events_do_not_depend_on_the_store(url: str) -> None:
    # A case read back from a database holds equal, not identical, deadline objects; what a command records
    # must be the same as on the memory store (the same stage deadline carried over is not a change).
    memory = engine_on(MemoryStore())
    _tipoff_to_hazard(memory)
    with SqlStore(url) as store:
        durable = engine_on(store)
        _tipoff_to_hazard(durable)

        def by_case(events: Any) -> list[Any]:
            return sorted(events, key=lambda e: (e.case_id, e.seq))

        assert by_case(store.iter_events()) == by_case(memory.store.iter_events())
        started = next(e for e in store.iter_events() if e.trigger == "start_verification")
        assert "deadline" not in started.changes
        assert durable.verify_audit().ok


def test_bulk_batch_matches_one_by_one(url: str) -> None:
    def workload(engine: Engine) -> None:
        refused = 0
        for i in range(120):
            case = engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, case_id=f"HZ-{i:04d}", **FIELDS)
            engine.fire(
                case.id,
                "set_deadline",
                actor=OFFICER,
                payload={"deadline": "2024-03-15", "measures": "清理通道", "responsible": "李安全"},
                idempotency_key=f"order-{i}",
            )
            if i % 10 == 0:
                # A refused command inside a batch writes nothing and the batch carries on.
                try:
                    engine.fire(case.id, "approve", actor=OFFICER, payload={"opinion": "同意"})
                except Exception:
                    refused += 1
        assert refused == 12

    memory = engine_on(MemoryStore())
    workload(memory)
    with SqlStore(url) as store:
        durable = engine_on(store)
        with durable.batch():
            workload(durable)
            assert store.count()["cases"] == 0  # nothing reaches the database before the batch commits
        assert store.count() == {"cases": 120, "events": 240, "armed_timers": 240, "timers": 240}
        mine, theirs = snapshot_store(store), snapshot_store(memory.store)
        assert mine == theirs, "; ".join(mine.diff(theirs)[:5])
        assert durable.verify_audit().ok
        # Idempotency keys written in bulk answer a retry after a restart.
        first = durable.get("HZ-0007")
    with SqlStore(url) as store:
        again = engine_on(store)
        retried = again.fire(
            "HZ-0007",
            "set_deadline",
            actor=OFFICER,
            payload={"deadline": "2024-03-15", "measures": "清理通道", "responsible": "李安全"},
            idempotency_key="order-7",
        )
        assert retried == first
        assert len(again.history("HZ-0007")) == 2


def test_batch_that_fails_to_commit_writes_nothing(url: str) -> None:
    with SqlStore(url) as store:
        engine = engine_on(store)
        engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, case_id="HZ-1", **FIELDS)
        before = snapshot_store(store)

        def colliding_batch() -> None:
            with engine.batch():
                engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, case_id="HZ-2", **FIELDS)
                engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, case_id="HZ-3", **FIELDS)
                # Another process takes the id HZ-3 before this batch commits: the batch collides at commit.
                other = engine_on(store)
                other.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, case_id="HZ-3", **FIELDS)

        with pytest.raises(ConcurrentUpdateError, match="already exists") as info:
            colliding_batch()
        assert (info.value.case_id, info.value.expected_rev) == ("HZ-3", 0)
        after = snapshot_store(store)
        assert set(after.cases) == {"HZ-1", "HZ-3"}
        assert after.events["HZ-1"] == before.events["HZ-1"]
        assert store.load_case("HZ-2") is None


def test_confidential_values_stay_out_of_cases_and_events(url: str) -> None:
    desk = Actor("d-1", "受理员", {"complaint_officer"}, "三星乡安办", TOWNSHIP)
    with SqlStore(url) as store:
        engine = engine_on(store)
        tip = engine.open_case(
            "tipoff",
            actor=desk,
            jurisdiction=TOWNSHIP,
            channel="public",
            category="blocked_fire_exit",
            description="仓库安全出口被货物堵死",
            location="三星乡场镇某仓库",
            business_unit="BU-1",
            industry="fire_safety",
            reporter_name="举报人甲",
            reporter_contact="13900001111",
        )
        assert store.read_confidential(tip.id) == {"reporter_name": "举报人甲", "reporter_contact": "13900001111"}
    raw = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with raw.connect() as conn:
            for table in ("hf_case", "hf_event", "hf_outbox", "hf_timer", "hf_idempotency"):
                text = " ".join(str(row) for row in conn.exec_driver_sql(f"SELECT * FROM {table}"))
                assert "举报人甲" not in text, table
                assert "13900001111" not in text, table
            rows = conn.exec_driver_sql("SELECT name FROM hf_confidential ORDER BY name").fetchall()
            assert [r[0] for r in rows] == ["reporter_contact", "reporter_name"]
    finally:
        raw.dispose()


def test_paging_through_many_rows(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_module, "_PAGE", 7)
    with SqlStore(url) as store:
        engine = engine_on(store)
        with engine.batch():
            for i in range(30):
                jurisdiction = TOWNSHIP if i % 3 else "500240105"
                engine.open_case("hazard", actor=_officer(jurisdiction), jurisdiction=jurisdiction, **FIELDS)
        cases = list(store.iter_cases())
        assert len(cases) == 30
        assert len({c.id for c in cases}) == 30
        assert len(list(store.iter_cases(jurisdiction=TOWNSHIP))) == 20
        assert len(list(store.iter_cases(jurisdiction="500240"))) == 30
        assert len(list(store.iter_events())) == 30
        assert len(store.read_outbox(limit=1000)) == 30
        assert store.event_column_problems() == []


def _officer(jurisdiction: str) -> Actor:
    return Actor("t-x", "安办", {"township_officer"}, "安办", jurisdiction)


def test_threads_share_one_store(url: str) -> None:
    """A web server's threads firing through one engine and one store at once."""
    import threading

    with SqlStore(url) as store:
        engine = engine_on(store)
        ids = [
            engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, case_id=f"HZ-T{i}", **FIELDS).id
            for i in range(4)
        ]
        errors: list[BaseException] = []

        def work(case_id: str) -> None:
            try:
                for k in range(10):
                    department = ("fire_department", "emergency_management")[k % 2]
                    engine.fire(case_id, "assign_department", actor=OFFICER, payload={"department": department})
                    engine.get(case_id)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(cid,)) for cid in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert all(store.load_case(cid).rev == 11 for cid in ids)  # type: ignore[union-attr]
        assert engine.verify_audit().ok


def test_json_columns_are_stored_as_text_readable_by_sql(tmp_path: Path) -> None:
    """SQLite is handed the JSON as bytes and casts it: the columns hold TEXT that SQL's JSON functions read."""
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    with SqlStore(url) as store:
        engine = engine_on(store)
        case = engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **FIELDS)
        with engine.batch():
            engine.fire(case.id, "assign_department", actor=OFFICER, payload={"department": "fire_department"})
    engine_sa = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine_sa.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT typeof(fields), json_extract(fields, '$.department'), json_extract(fields, '$.location') "
                "FROM hf_case"
            ).one()
            assert tuple(row) == ("text", "fire_department", "仓库")
            kinds = conn.exec_driver_sql("SELECT DISTINCT typeof(body) FROM hf_event").all()
            assert [k[0] for k in kinds] == ["text"]
            trigger = conn.exec_driver_sql("SELECT json_extract(body, '$.trigger') FROM hf_event WHERE seq = 2").one()
            assert trigger[0] == "assign_department"
    finally:
        engine_sa.dispose()
    with SqlStore(url) as store:
        again = store.load_case(case.id)
        assert again is not None
        assert again.fields["department"] == "fire_department"
        assert engine_on(store).verify_audit().ok
