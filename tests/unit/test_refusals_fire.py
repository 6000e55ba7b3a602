"""Every way ``Engine.fire`` refuses (except the lifecycle's named guards, in test_guards.py), and the reads."""

from __future__ import annotations

from typing import Any

import pytest

from hazard_world import COUNTY, ORDER, TOWNSHIP, People, World, new_engine, refused
from hazardflow import (
    Actor,
    CaseNotFoundError,
    ConcurrentUpdateError,
    Engine,
    InvalidInput,
    NotAuthorized,
    TransitionNotAllowed,
)
from hazardflow.testing import snapshot_store

# ── unknown cases ─────────────────────────────────────────────────────────────────────────────────────


def test_fire_on_an_unknown_case(world: World) -> None:
    err = refused(world.engine, CaseNotFoundError, lambda: world.fire("HZ-404", "approve", People.officer))
    assert err.code == "hazardflow.case_not_found"
    assert err.case_id == "HZ-404"
    assert str(err) == "no case with id 'HZ-404' (案件不存在)"


@pytest.mark.parametrize("read", ["get", "history"])
def test_reads_of_an_unknown_case(world: World, read: str) -> None:
    world.register()
    err = refused(world.engine, CaseNotFoundError, lambda: getattr(world.engine, read)("HZ-999999"))
    assert err.case_id == "HZ-999999"


def test_allowed_on_an_unknown_case_and_for_a_non_actor(world: World) -> None:
    case = world.register()
    err = refused(world.engine, CaseNotFoundError, lambda: world.engine.allowed("HZ-404", People.officer))
    assert err.case_id == "HZ-404"
    bad = refused(world.engine, InvalidInput, lambda: world.engine.allowed(case.id, "t-liu"))  # type: ignore[arg-type]
    assert (bad.field, bad.value) == ("actor", "str")


def test_history_of_a_case_lists_only_its_events(world: World) -> None:
    a = world.ordered()
    b = world.register()
    assert [e.type for e in world.engine.history(a.id)] == ["case.registered", "case.deadline_set"]
    assert [e.type for e in world.engine.history(b.id)] == ["case.registered"]


# ── triggers and states ───────────────────────────────────────────────────────────────────────────────


def test_unknown_trigger_suggests_the_near_one(world: World) -> None:
    case = world.submitted()
    err = refused(world.engine, TransitionNotAllowed, lambda: world.fire(case, "aprove", People.officer))
    assert err.code == "hazardflow.transition_not_allowed"
    assert (err.case_id, err.trigger, err.state, err.workflow) == (case.id, "aprove", "under_review", "hazard")
    # What this actor could fire on this case now, guards applied: the very list engine.allowed() gives
    # (lift_stop and list_for_supervision are not offered: no stop order is in force, a general hazard is not listed).
    assert err.allowed == tuple(world.engine.allowed(case.id, People.officer))
    assert err.allowed == ("approve", "assign_department", "order_stop", "reject", "void")
    assert err.hint == "'aprove' is not a trigger of workflow 'hazard'; did you mean 'approve'?"
    assert str(err) == (
        "cannot fire 'aprove' on case 'HZ-000001': it is in state 'under_review' (待审核销号); allowed here: "
        "'approve' (审核销号), 'assign_department' (推送行业部门), 'order_stop' (责令停产停业), 'reject' (审核不通过), "
        "'void' (作废); 'aprove' is not a trigger of workflow 'hazard'; did you mean 'approve'?"
    )


def test_refusal_lists_what_engine_allowed_lists_for_every_actor(world: World) -> None:
    """Whoever is refused, "allowed here" is engine.allowed() for that actor; an actor with none is told so."""
    case = world.submitted()
    for actor in (People.officer, People.manager, People.inspector):
        err = refused(world.engine, TransitionNotAllowed, lambda a=actor: world.fire(case, "set_deadline", a))
        assert err.allowed == tuple(world.engine.allowed(case.id, actor)), actor.id
        if not err.allowed:
            assert "allowed here: none for this actor now" in str(err)


def test_trigger_from_the_wrong_state_lists_what_is_possible(world: World) -> None:
    case = world.register()
    err = refused(world.engine, TransitionNotAllowed, lambda: world.fire(case, "approve", People.officer))
    assert err.state == "registered"
    assert err.hint == ""
    assert "approve" not in err.allowed
    assert "set_deadline" in err.allowed
    assert "mark_overdue" not in err.allowed  # timers' triggers are never offered to people
    msg = str(err)
    assert msg.startswith("cannot fire 'approve' (审核销号) on case 'HZ-000001': it is in state 'registered' (已登记)")
    assert "'set_deadline' (限期整改)" in msg
    assert "'fix_on_spot' (即查即改)" in msg


def test_a_terminal_state_says_so(world: World) -> None:
    case = world.register()
    voided = world.fire(case, "void", People.officer, {"reason": "重复登记"})
    assert voided.state == "voided"
    err = refused(world.engine, TransitionNotAllowed, lambda: world.fire(case, "reopen", People.officer))
    assert err.allowed == ()
    assert "it is in state 'voided' (已作废); allowed here: none (terminal state)" in str(err)


@pytest.mark.parametrize("trigger", ["mark_overdue", "remind", "sanction", "transfer_supervision", "link_tipoff"])
def test_engine_only_triggers_are_refused_to_people(world: World, trigger: str) -> None:
    case = world.ordered()
    err = refused(world.engine, NotAuthorized, lambda: world.fire(case, trigger, People.supervisor))
    assert err.required_roles == ("system",)
    assert err.reason == "only the engine fires this trigger (timers and follow-ups)"


# ── authorization ─────────────────────────────────────────────────────────────────────────────────────


def test_missing_role(world: World) -> None:
    case = world.register()
    err = refused(world.engine, NotAuthorized, lambda: world.fire(case, "set_deadline", People.inspector, ORDER))
    assert (err.case_id, err.trigger, err.actor_id, err.actor_roles) == (
        case.id,
        "set_deadline",
        "e-zhang",
        ("inspector",),
    )
    assert "inspector" not in err.required_roles
    assert "safety_manager" in err.required_roles
    assert list(err.required_roles) == sorted(err.required_roles)
    assert str(err).startswith(
        "actor 'e-zhang' may not fire 'set_deadline' (限期整改) on case 'HZ-000001': none of the actor's roles may "
        "fire it under the policy; actor roles: 'inspector' (隐患排查人员); roles the policy allows: "
    )
    assert "'safety_manager' (安全管理人员)" in str(err)


def test_wrong_organisation(world: World) -> None:
    case = world.ordered()
    payload = {"evidence": ["照片.jpg"], "rectified_by": "e-sun"}
    err = refused(
        world.engine, NotAuthorized, lambda: world.fire(case, "submit_review", People.other_unit_manager, payload)
    )
    assert err.reason == (
        "as 'safety_manager' (安全管理人员) the actor acts only for its own unit ('500240204-BU-0002'), "
        "not '500240204-BU-0001'"
    )


def test_jurisdiction_outside(world: World) -> None:
    case = world.register()
    err = refused(world.engine, NotAuthorized, lambda: world.fire(case, "set_deadline", People.other_officer, ORDER))
    assert err.reason == "the case's jurisdiction (500240204) is outside the actor's jurisdiction (500240105)"
    other_county = refused(
        world.engine, NotAuthorized, lambda: world.fire(case, "set_deadline", People.other_county_supervisor, ORDER)
    )
    assert "(500241)" in other_county.reason


@pytest.mark.parametrize("roles", [{"system"}, {"system", "township_officer"}])
def test_the_system_role_is_reserved(world: World, roles: set[str]) -> None:
    case = world.ordered()
    impostor = Actor("x-1", "冒充", roles, "hazardflow", TOWNSHIP)
    payload = {"key": "rectify", "due_at": "2024-03-21T00:00:00+08:00"}
    err = refused(world.engine, NotAuthorized, lambda: world.fire(case, "mark_overdue", impostor, payload))
    assert err.reason == "the system role is reserved for the engine's own timers and follow-ups"


def test_owner_scope_after_supervision_moved_up(world: World) -> None:
    engine = world.engine
    case = world.submitted()
    moved = world.escalated(case)
    assert moved.owning_jurisdiction == COUNTY
    assert moved.jurisdiction == TOWNSHIP
    # The township that could have closed its own general hazard no longer can.
    township = refused(engine, NotAuthorized, lambda: world.fire(case, "approve", People.officer2, {"opinion": "同意"}))
    assert township.reason == (
        "the tier that owns supervision of the case (500240) is outside the actor's jurisdiction (500240204)"
    )
    manager = Actor("e-gao", "高安全", {"safety_manager"}, case.business_unit or "", TOWNSHIP)
    unit = refused(engine, NotAuthorized, lambda: world.fire(case, "void", manager, {"reason": "误报"}))
    assert unit.reason == "supervision of the case moved to '500240'; the unit can no longer close or void it"
    # Case-scoped triggers stay with the township; the county now approves.
    world.fire(case, "order_stop", People.officer, {"level": "partial", "reason": "整改期间"})
    assert world.fire(case, "approve", People.supervisor, {"opinion": "县级复核通过"}).state == "closed"


# ── payloads ──────────────────────────────────────────────────────────────────────────────────────────


def test_payload_must_be_a_mapping(world: World) -> None:
    case = world.submitted()
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.engine.fire(case.id, "approve", actor=People.officer, payload=["同意"]),  # type: ignore[arg-type]
    )
    assert (err.field, err.value) == ("payload", "list")
    assert "must be a mapping of field names to values" in str(err)


@pytest.mark.parametrize(
    ("trigger", "actor", "payload", "field", "problem", "message"),
    [
        (
            "approve",
            People.officer,
            {},
            "opinion",
            "missing",
            "missing field 'opinion': is required by trigger 'approve' (审核销号)",
        ),
        (
            "approve",
            People.officer,
            {"opinion": "同意", "opinon": "同意"},
            "opinon",
            "unknown",
            "unknown field 'opinon': is not a field of trigger 'approve' (审核销号); did you mean 'opinion'?; "
            "allowed: 'opinion'",
        ),
        (
            "approve",
            People.officer,
            {"opinion": ""},
            "opinion",
            "invalid",
            "invalid value for 'opinion': ''; must be a non-empty string",
        ),
        (
            "reject",
            People.officer,
            {"reason": ["不合格"]},
            "reason",
            "invalid",
            "invalid value for 'reason': ['不合格']; must be a non-empty string",
        ),
    ],
)
def test_review_payloads(
    world: World, trigger: str, actor: Actor, payload: dict[str, Any], field: str, problem: str, message: str
) -> None:
    case = world.submitted()
    err = refused(world.engine, InvalidInput, lambda: world.fire(case, trigger, actor, payload))
    assert (err.field, err.problem) == (field, problem)
    assert str(err) == message


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {**ORDER, "deadline": "2024-02-30"},
            "deadline",
            "invalid value for 'deadline': '2024-02-30'; must be an ISO date YYYY-MM-DD",
        ),
        (
            {**ORDER, "deadline": 20240320},
            "deadline",
            "invalid value for 'deadline': 20240320; must be an ISO date YYYY-MM-DD",
        ),
        (
            {**ORDER, "responsible": None},
            "responsible",
            "missing field 'responsible': is required by trigger 'set_deadline' (限期整改)",
        ),
    ],
)
def test_order_payloads(world: World, payload: dict[str, Any], field: str, message: str) -> None:
    case = world.register()
    err = refused(world.engine, InvalidInput, lambda: world.fire(case, "set_deadline", People.officer, payload))
    assert err.field == field
    assert str(err) == message


def test_wrong_choice_in_a_payload_lists_labelled_values(world: World) -> None:
    case = world.confirmed()
    payload = {"recipient": "workers_union", "status_and_cause": "a", "harm_and_difficulty": "b", "plan_summary": "c"}
    err = refused(world.engine, InvalidInput, lambda: world.fire(case, "report", People.boss, payload))
    assert err.allowed == ("supervising_department", "workers_congress")
    assert str(err) == (
        "invalid value for 'recipient': 'workers_union'; is not one of the allowed values; did you mean "
        "'workers_congress'?; allowed: 'supervising_department' (负有安全生产监督管理职责的部门), "
        "'workers_congress' (职工大会或职工代表大会)"
    )


def test_a_plan_needs_a_number_for_its_funds(world: World) -> None:
    from hazard_world import PLAN

    case = world.reported()
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.fire(case, "adopt_plan", People.boss, {**PLAN, "funds_amount": "三十万"}),
    )
    assert str(err) == "invalid value for 'funds_amount': '三十万'; must be a number"
    err = refused(
        world.engine, InvalidInput, lambda: world.fire(case, "adopt_plan", People.boss, {**PLAN, "funds_amount": True})
    )
    assert err.rule == "must be a number"


# ── idempotency and concurrency ───────────────────────────────────────────────────────────────────────


def test_idempotency_key_reused_for_another_command(world: World) -> None:
    case = world.register()
    first = world.engine.fire(case.id, "set_deadline", actor=People.officer, payload=ORDER, idempotency_key="k1")
    events = world.engine.history(case.id)
    # The same command again: the first result, nothing appended.
    again = world.engine.fire(case.id, "set_deadline", actor=People.officer, payload=ORDER, idempotency_key="k1")
    assert again == first
    assert world.engine.history(case.id) == events
    # Another command under the same key: refused, nothing changed.
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.engine.fire(
            case.id,
            "set_deadline",
            actor=People.officer,
            payload={**ORDER, "deadline": "2024-03-25"},
            idempotency_key="k1",
        ),
    )
    assert (err.field, err.value) == ("idempotency_key", "k1")
    assert str(err) == (
        "invalid value for 'idempotency_key': 'k1'; was already used for a different command on this case; "
        "use a new key for a new command"
    )


@pytest.mark.parametrize("key", ["", "k" * 201, 5])
def test_malformed_idempotency_key(world: World, key: object) -> None:
    case = world.register()
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.engine.fire(case.id, "set_deadline", actor=People.officer, payload=ORDER, idempotency_key=key),  # type: ignore[arg-type]
    )
    assert err.field == "idempotency_key"
    assert "must be a non-empty string of at most 200 characters" in str(err)


def test_concurrent_update_one_wins_the_other_writes_nothing() -> None:
    engine, clock = new_engine()
    world = World(engine, clock)
    case = world.submitted()
    other = Engine(store=engine.store, clock=clock)  # another process on the same store
    seen = []

    def lose() -> None:
        with engine.batch():
            engine.fire(case.id, "approve", actor=People.officer, payload={"opinion": "同意"})
            other.fire(case.id, "reject", actor=People.officer2, payload={"reason": "照片不清"})
            seen.append(snapshot_store(engine.store))

    with pytest.raises(ConcurrentUpdateError) as info:
        lose()
    err = info.value
    assert err.code == "hazardflow.concurrent_update"
    assert (err.case_id, err.expected_rev) == (case.id, case.rev)
    assert err.detail == f"stored revision is {case.rev + 1}"
    assert str(err) == (
        f"case 'HZ-000001' was changed by another command since revision {case.rev} was read (并发修改); nothing "
        f"was written, reload and retry (stored revision is {case.rev + 1})"
    )
    assert snapshot_store(engine.store) == seen[0]
    assert engine.get(case.id).state == "rectifying"
    assert engine.verify_audit().ok
