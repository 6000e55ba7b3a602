"""To-do items (统一待办): one per (case, step, responsible party), stable ids, statuses, urgency, scoping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hazard_world import COUNTY, TOWNSHIP, UNIT, People, World, new_engine
from hazardflow import InvalidInput
from hazardflow.todos import TodoConfig, list_todos, todos_for, todos_for_case, todos_for_event


@pytest.fixture
def world() -> World:
    engine, clock = new_engine()
    return World(engine, clock)


def _items(world: World, case_id: str, config: TodoConfig | None = None) -> list[Any]:
    store = world.engine.store
    return todos_for_case(store.load_case(case_id), store.load_events(case_id), config)


def test_a_registered_case_is_pending_for_who_may_move_it_on(world: World) -> None:
    case = world.register()
    items = _items(world, case.id)
    assert {i.status for i in items} == {"pending"}
    assert {i.task_id for i in items} == {f"{case.id}:1"}
    receivers = {i.receiver for i in items}
    assert f"township_officer@{TOWNSHIP}" in receivers
    assert f"safety_manager@{UNIT}" in receivers  # an enterprise role is bound to the case's unit
    item = next(i for i in items if i.receiver_role == "township_officer")
    assert item.id == f"hazardflow:{case.id}:1:township_officer@{TOWNSHIP}"
    assert (item.step, item.step_name, item.step_name_en) == ("registered", "已登记", "registered")
    assert (item.sender_id, item.sender_name) == (People.inspector.id, People.inspector.name)
    assert item.title == f"事故隐患 {case.id}：已登记"
    assert (item.status_label, item.urgency, item.urgency_label) == ("待办", "normal", "一般")
    assert item.created_at == case.opened_at
    data = item.to_json()
    assert data["status_label"] == "待办"
    assert data["created_at"] == case.opened_at.isoformat()


def test_items_keep_their_ids_and_move_from_pending_to_done_to_closed(world: World) -> None:
    case = world.register()
    first = {i.id: i for i in _items(world, case.id)}
    case = world.fire(
        case, "set_deadline", People.officer, {"deadline": "2024-03-20", "measures": "m", "responsible": "r"}
    )
    second = {i.id: i for i in _items(world, case.id)}
    assert set(first) <= set(second)
    assert {second[i].status for i in first} == {"done"}
    pending = [i for i in second.values() if i.status == "pending"]
    assert {i.step for i in pending} == {"rectifying"}
    assert all(i.due_at == case.deadline.due_at for i in pending)  # type: ignore[union-attr]
    assert all(second[i].due_at is None for i in first)
    case = world.fire(case, "submit_review", People.manager, {"evidence": ["a.jpg"], "rectified_by": People.manager.id})
    case = world.fire(case, "approve", People.officer, {"opinion": "同意"})
    assert case.state == "closed"
    final = _items(world, case.id)
    assert {i.status for i in final} == {"closed"}
    assert {i.id for i in final} >= set(second)  # same ids: an OA updates, never duplicates
    assert list_todos(world.engine.store) == []


def test_an_event_pushes_the_items_it_ended_and_began(world: World) -> None:
    case = world.ordered()
    store = world.engine.store
    events = store.load_events(case.id)
    pushed = todos_for_event(store.load_case(case.id), events, 2)
    assert {(i.task_id, i.status) for i in pushed} == {(f"{case.id}:1", "done"), (f"{case.id}:2", "pending")}
    opened = todos_for_event(store.load_case(case.id), events, 1)
    assert {(i.task_id, i.status) for i in opened} == {(f"{case.id}:1", "pending")}
    assert todos_for_event(store.load_case(case.id), events, 99) == []


def test_urgency_follows_the_overdue_ladder_and_the_ids_stay(world: World) -> None:
    case = world.ordered()
    before = {i.id for i in _items(world, case.id) if i.status == "pending"}
    world.clock.set("2024-04-30T09:00:00+08:00")
    world.engine.run_due()
    case = world.engine.get(case.id)
    assert case.overdue
    after = [i for i in _items(world, case.id) if i.status == "pending"]
    assert {i.id for i in after} == before
    expected = ("normal", "urgent", "urgent", "very_urgent", "critical")[min(case.sanction_rung + 1, 4)]
    assert {i.urgency for i in after} == {expected}
    # the internal events (overdue, rungs) push the current items again with their new urgency
    events = world.engine.store.load_events(case.id)
    last = todos_for_event(case, events, events[-1].seq)
    assert {i.id for i in last} == before
    assert {i.urgency for i in last} == {expected}


def test_todos_for_an_actor_follow_roles_units_and_jurisdictions(world: World) -> None:
    world.register()
    store = world.engine.store
    mine = todos_for(store, People.officer)
    assert mine
    assert {i.receiver for i in mine} == {f"township_officer@{TOWNSHIP}"}
    assert todos_for(store, People.other_officer) == []
    assert {i.receiver for i in todos_for(store, People.manager)} == {f"safety_manager@{UNIT}"}
    assert todos_for(store, People.other_unit_manager) == []
    county = todos_for(store, People.supervisor)  # a county supervisor sees its townships' items
    assert {i.receiver for i in county} == {f"supervisor@{TOWNSHIP}"}
    assert todos_for(store, People.other_county_supervisor) == []
    assert COUNTY in People.supervisor.jurisdiction
    only = list_todos(store, receiver=f"supervisor@{TOWNSHIP}")
    assert [i.id for i in only] == [i.id for i in county]
    assert {i.receiver_role for i in list_todos(store, role="fire_rescue")} == {"fire_rescue"}


def test_url_templates_and_system_code() -> None:
    engine, clock = new_engine()
    world = World(engine, clock)
    case = world.register()
    config = TodoConfig(system_code="YHPC", pc_url="/h/{case_id}?task={task_id}", mobile_url="/m/{item_id}")
    item = next(i for i in _items(world, case.id, config) if i.receiver_role == "township_officer")
    assert item.id.startswith("YHPC:")
    assert item.pc_url == f"/h/{case.id}?task={case.id}:1"
    assert item.mobile_url == f"/m/{item.id}"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pc_url": "/h/{case}"}, "pc_url"),
        ({"mobile_url": "/h/{case_id"}, "mobile_url"),
        ({"pc_url": ""}, "pc_url"),
        ({"system_code": "a:b"}, "system_code"),
        ({"system_code": ""}, "system_code"),
    ],
)
def test_bad_configs_are_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        TodoConfig(**kwargs)
    assert err.value.field == field


def test_bad_queries_are_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        list_todos(world.engine.store, receiver="supervisor")
    assert err.value.field == "receiver"
    with pytest.raises(InvalidInput) as err:
        todos_for(world.engine.store, "t-liu")  # type: ignore[arg-type]
    assert err.value.field == "actor"


def test_a_tipoff_reporter_is_in_no_item(world: World) -> None:
    case = world.engine.open_case(
        "tipoff",
        actor=People.clerk,
        jurisdiction=TOWNSHIP,
        channel="public",
        category="blocked_fire_exit",
        description="某厂安全出口被堵",
        location="一号车间",
        reporter_name="举报人王秘密",
        reporter_contact="13800000000",
    )
    items = _items(world, case.id)
    assert items
    text = repr([i.to_json() for i in items])
    assert "王秘密" not in text
    assert "13800000000" not in text


STAGES = ("register", "ordered", "submitted", "confirmed", "reported", "listed", "governed")


@given(st.lists(st.sampled_from(STAGES), min_size=1, max_size=4))
def test_item_ids_are_unique_and_only_the_current_step_is_pending(stages: list[str]) -> None:
    engine, clock = new_engine()
    world = World(engine, clock)
    for stage in stages:
        case = getattr(world, stage)()
        items = _items(world, case.id)
        assert len({i.id for i in items}) == len(items)
        events = engine.store.load_events(case.id)
        last_step = max(e.seq for e in events if e.from_state != e.to_state)
        for i in items:
            assert (i.status == "pending") == (i.task_id == f"{case.id}:{last_step}")
            assert i.id == f"{i.system_code}:{i.task_id}:{i.receiver}"
