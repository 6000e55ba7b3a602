"""``Engine.prefetch``: a batch reads the cases it will touch together, with the same guarantees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hazardflow import Actor, ConcurrentUpdateError, Engine, InvalidInput, SequentialIds, SimulatedClock
from hazardflow.persistence.sql import SqlStore

TOWNSHIP = "500240204"
OFFICER = Actor("t-1", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
REGISTER = {
    "grade": "general",
    "source": "supervisory_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": "BU-1",
    "location": "仓库",
    "description": "消防通道堆放杂物",
}


class CountingStore(SqlStore):
    """The real SQLite store, counting the reads the engine asks of it."""

    single = 0
    many = 0

    def load_case(self, case_id: str):  # type: ignore[no-untyped-def]
        CountingStore.single += 1
        return super().load_case(case_id)

    def load_cases(self, case_ids):  # type: ignore[no-untyped-def]
        CountingStore.many += 1
        return super().load_cases(case_ids)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hazards.db'}"


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    CountingStore.single = CountingStore.many = 0
    with Engine(store=CountingStore(url), clock=SimulatedClock("2024-03-04T09:00:00+08:00"), ids=SequentialIds()) as e:
        yield e


def _open(engine: Engine, n: int) -> list[str]:
    with engine.batch():
        return [engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **REGISTER).id for _ in range(n)]


def test_prefetched_cases_are_not_read_again(engine: Engine) -> None:
    ids = _open(engine, 30)
    CountingStore.single = 0
    with engine.batch():
        assert engine.prefetch([*ids, "HZ-404"]) == 30
        for cid in ids:
            engine.fire(cid, "assign_department", actor=OFFICER, payload={"department": "fire_department"})
    assert CountingStore.many == 1
    assert CountingStore.single == 0
    assert all(engine.get(cid).department == "fire_department" for cid in ids)
    assert engine.verify_audit().ok


def test_prefetch_never_hides_a_write_of_the_same_batch(engine: Engine) -> None:
    (cid,) = _open(engine, 1)
    with engine.batch():
        engine.fire(cid, "assign_department", actor=OFFICER, payload={"department": "fire_department"})
        assert engine.prefetch([cid]) == 0  # already written in this batch: the batch's own version wins
        engine.fire(cid, "assign_department", actor=OFFICER, payload={"department": "transport"})
    assert engine.get(cid).department == "transport"
    assert engine.get(cid).rev == 3


def test_a_case_changed_elsewhere_after_prefetch_refuses_the_batch(engine: Engine, url: str) -> None:
    ids = _open(engine, 2)
    other = Engine(store=SqlStore(url), clock=SimulatedClock("2024-03-04T10:00:00+08:00"))
    before = [engine.get(cid) for cid in ids]

    def run_batch() -> None:
        with engine.batch():
            engine.prefetch(ids)
            other.fire(ids[0], "assign_department", actor=OFFICER, payload={"department": "transport"})
            for cid in ids:
                engine.fire(cid, "assign_department", actor=OFFICER, payload={"department": "fire_department"})

    with pytest.raises(ConcurrentUpdateError):
        run_batch()
    other.close()
    # Nothing of the refused batch was written: the first case carries only the other engine's command.
    assert engine.get(ids[0]).department == "transport"
    assert engine.get(ids[1]) == before[1]
    assert engine.verify_audit().ok


def test_prefetch_outside_a_batch_reads_nothing(engine: Engine) -> None:
    ids = _open(engine, 3)
    assert engine.prefetch(ids) == 0
    assert CountingStore.many == 0


def test_prefetch_refuses_ids_that_are_not_strings(engine: Engine) -> None:
    with engine.batch(), pytest.raises(InvalidInput) as info:
        engine.prefetch(["HZ-000001", 7])  # type: ignore[list-item]
    assert engine.store.load_cases(["HZ-000001"]) == []  # nothing was opened
    assert info.value.field == "case_ids"
    assert "must be a string" in str(info.value)


@pytest.mark.parametrize("value", ["HZ-000001", 7, None])
def test_prefetch_refuses_a_single_value(engine: Engine, value: object) -> None:
    with engine.batch(), pytest.raises(InvalidInput) as info:
        engine.prefetch(value)  # type: ignore[arg-type]
    assert info.value.field == "case_ids"
    assert "iterable of case ids" in str(info.value)
