"""Every way ``Engine.open_case`` refuses: type, structured fields, code, wording, and no change at all."""

from __future__ import annotations

from datetime import datetime

import pytest

from hazard_world import REGISTER, TOWNSHIP, UNIT, People, World, new_engine, refused
from hazardflow import (
    Actor,
    GuardRejected,
    InvalidInput,
    JurisdictionTree,
    NotAuthorized,
    UnknownJurisdictionError,
)
from hazardflow._exceptions import preview


def open_general(world: World, actor: Actor = People.inspector, **over: object) -> object:
    fields = {**REGISTER, "grade": "general", **over}
    return lambda: world.engine.open_case("hazard", actor=actor, jurisdiction=TOWNSHIP, **fields)


def test_unknown_workflow_names_the_known_ones_and_suggests(world: World) -> None:
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.engine.open_case("hazrd", actor=People.inspector, jurisdiction=TOWNSHIP, **REGISTER),
    )
    assert err.code == "hazardflow.invalid_input"
    assert (err.field, err.value) == ("workflow", "hazrd")
    assert "hazard" in err.allowed
    assert list(err.allowed) == sorted(err.allowed)
    assert str(err).startswith("invalid value for 'workflow': 'hazrd'; is not a workflow of this engine; allowed: ")
    assert str(err).endswith("; did you mean 'hazard'?")


@pytest.mark.parametrize("code", ["5002402", "abc", "", "50024020"])
def test_malformed_jurisdiction(world: World, code: str) -> None:
    err = refused(
        world.engine,
        UnknownJurisdictionError,
        lambda: world.engine.open_case("hazard", actor=People.inspector, jurisdiction=code, **REGISTER),
    )
    assert err.code == "hazardflow.unknown_jurisdiction"
    assert isinstance(err, InvalidInput)
    assert (err.field, err.value) == ("jurisdiction", code)
    assert f"invalid value for 'jurisdiction': {code!r}" in str(err)
    assert "administrative-division code of 6 (county), 9 or 12 (township/village) digits" in str(err)


def test_strict_tree_refuses_unknown_codes_with_near_matches() -> None:
    tree = JurisdictionTree([("500240", "石柱县"), ("500240204", "三星乡"), ("500240105", "西沱镇")], strict=True)
    engine, _ = new_engine(jurisdictions=tree)
    world = World(engine, _)
    err = refused(
        engine,
        UnknownJurisdictionError,
        lambda: engine.open_case("hazard", actor=People.inspector, jurisdiction="500240203", **REGISTER),
    )
    assert err.value == "500240203"
    assert "is not a jurisdiction this engine serves" in err.rule
    assert "500240204 三星乡" in err.allowed
    assert "500240204 三星乡" in str(err)
    # The known township is served.
    assert world.register().jurisdiction == TOWNSHIP


@pytest.mark.parametrize(
    "missing", ["grade", "source", "nature", "industry", "business_unit", "location", "description"]
)
def test_missing_required_field(world: World, missing: str) -> None:
    fields = {**REGISTER, "grade": "general"}
    del fields[missing]
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.engine.open_case("hazard", actor=People.inspector, jurisdiction=TOWNSHIP, **fields),
    )
    assert (err.field, err.value, err.problem) == (missing, None, "missing")
    assert str(err) == f"missing field {missing!r}: is required by opening a 'hazard' (事故隐患) case"


def test_unknown_field_suggests_the_near_one(world: World) -> None:
    err = refused(world.engine, InvalidInput, open_general(world, locaton="二号车间"))
    assert (err.field, err.problem) == ("locaton", "unknown")
    assert "location" in err.allowed
    assert list(err.allowed) == sorted(err.allowed)
    msg = str(err)
    assert msg.startswith("unknown field 'locaton': is not a field of opening a 'hazard' (事故隐患) case")
    assert "did you mean 'location'?" in msg
    assert "二号车间" not in msg  # the value of an unknown field is never echoed


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("location", 42, "must be a non-empty string"),
        ("location", "   ", "must be a non-empty string"),
        ("description", "x" * 5001, "must be at most 5000 characters (got 5001)"),
        ("criteria", "第四条", "must be a list of non-empty strings"),
        ("criteria", ["第四条", ""], "must be a list of non-empty strings"),
        ("discovered_at", "2024-03-04T08:00:00", "must carry a timezone (e.g. +08:00)"),
        ("discovered_at", "yesterday", "must be an ISO datetime with a timezone"),
        ("discovered_at", datetime(2024, 3, 4, 8, 0), "must carry a timezone (e.g. +08:00)"),
    ],
)
def test_wrong_typed_field_shows_value_and_rule(world: World, field: str, value: object, rule: str) -> None:
    err = refused(world.engine, InvalidInput, open_general(world, **{field: value}))
    assert (err.field, err.value, err.rule, err.problem) == (field, value, rule, "invalid")
    assert str(err).startswith(f"invalid value for {field!r}: {preview(value)}; {rule}")


@pytest.mark.parametrize(
    ("field", "value", "suggestion", "some_allowed", "label"),
    [
        ("source", "self_inspection", "enterprise_self_inspection", "supervisory_inspection", "督导检查发现"),
        ("nature", "unsafe_conditon", "unsafe_condition", "management_defect", "管理上的缺陷"),
        ("industry", "chemical", "chemicals", "coal_mine", "煤矿"),
        ("grade", "majr", "major", "general", "一般事故隐患"),
        ("department", "fire", None, "fire_department", "消防救援机构"),
        ("grade", 2, None, "major", "重大事故隐患"),
    ],
)
def test_wrong_choice_lists_the_allowed_values_with_labels(
    world: World, field: str, value: object, suggestion: str | None, some_allowed: str, label: str
) -> None:
    err = refused(world.engine, InvalidInput, open_general(world, **{field: value}))
    assert (err.field, err.value) == (field, value)
    assert some_allowed in err.allowed
    assert list(err.allowed) == sorted(err.allowed)
    msg = str(err)
    assert msg.startswith(f"invalid value for {field!r}: {value!r}; is not one of the allowed values")
    assert f"'{some_allowed}' ({label})" in msg
    if suggestion is not None:
        assert f"did you mean {suggestion!r}?" in msg


def test_role_that_may_not_register(world: World) -> None:
    err = refused(world.engine, NotAuthorized, open_general(world, actor=People.clerk))
    assert err.code == "hazardflow.not_authorized"
    assert (err.case_id, err.trigger, err.actor_id) == ("", "register", People.clerk.id)
    assert err.actor_roles == ("complaint_officer",)
    assert "inspector" in err.required_roles
    assert "township_officer" in err.required_roles
    msg = str(err)
    assert msg.startswith("actor 't-xu' may not fire 'register' (登记隐患) on a new case:")
    assert "none of the actor's roles may fire it under the policy" in msg
    assert "'complaint_officer' (举报受理人员)" in msg
    assert "'inspector' (隐患排查人员)" in msg


def test_enterprise_role_registers_only_for_its_own_unit(world: World) -> None:
    err = refused(world.engine, NotAuthorized, open_general(world, actor=People.other_unit_manager))
    assert "acts only for its own unit ('500240204-BU-0002'), not '500240204-BU-0001'" in err.reason
    assert "'safety_manager' (安全管理人员)" in str(err)


def test_government_role_registers_only_inside_its_jurisdiction(world: World) -> None:
    err = refused(world.engine, NotAuthorized, open_general(world, actor=People.other_officer))
    assert err.reason == ("the case's jurisdiction (500240204) is outside the actor's jurisdiction (500240105)")


@pytest.mark.parametrize("roles", [{"system"}, {"system", "supervisor"}])
def test_the_system_role_is_reserved(world: World, roles: set[str]) -> None:
    impostor = Actor("x-1", "冒充", roles, "hazardflow", "000000")
    err = refused(world.engine, NotAuthorized, open_general(world, actor=impostor))
    assert err.reason == "the system role is reserved for the engine's own timers and follow-ups"
    assert err.required_roles == ()


def test_not_an_actor(world: World) -> None:
    err = refused(
        world.engine,
        InvalidInput,
        lambda: world.engine.open_case("hazard", actor="e-zhang", jurisdiction=TOWNSHIP, **REGISTER),  # type: ignore[arg-type]
    )
    assert (err.field, err.value) == ("actor", "str")
    assert "must be a hazardflow.Actor" in str(err)


@pytest.mark.parametrize("source", ["public_report_verified", "internal_whistleblower"])
def test_a_reported_hazard_is_opened_only_by_its_tipoff(world: World, source: str) -> None:
    err = refused(world.engine, GuardRejected, open_general(world, actor=People.officer, source=source))
    assert err.code == "hazardflow.guard_rejected"
    assert (err.case_id, err.trigger, err.guard) == ("", "register", "source_needs_verification")
    assert err.reason_zh == "举报线索须经核查属实后由举报案件转为隐患"
    assert str(err) == (
        "cannot fire 'register' (登记隐患) on a new case: rule 'source_needs_verification' refused: a reported "
        "hazard is opened only by substantiating its tip-off (举报线索须经核查属实后由举报案件转为隐患)"
    )


def test_the_tipoff_link_is_set_by_the_system(world: World) -> None:
    err = refused(world.engine, GuardRejected, open_general(world, actor=People.officer, tipoff_id="TO-1"))
    assert err.guard == "source_needs_verification"
    assert err.reason_en == "the tip-off link is set by the tip-off workflow"


def test_major_grading_must_cite_criteria_where_the_policy_says(strict: World) -> None:
    err = refused(
        strict.engine, GuardRejected, lambda: strict.register("major", actor=People.supervisor, criteria=None)
    )
    assert err.guard == "criteria_cited"
    assert "判定为重大事故隐患须引用判定标准条目" in str(err)
    assert strict.register("major", actor=People.supervisor).grade == "major"


def test_an_existing_case_id_is_refused(world: World) -> None:
    first = world.register(case_id="HZ-IMPORT-1")
    err = refused(world.engine, InvalidInput, lambda: world.register(case_id="HZ-IMPORT-1"))
    assert (err.field, err.value) == ("case_id", first.id)
    assert "a case with this id already exists" in str(err)


@pytest.mark.parametrize("case_id", ["", "   ", "x" * 65, 7])
def test_malformed_case_id(world: World, case_id: object) -> None:
    err = refused(world.engine, InvalidInput, lambda: world.register(case_id=case_id))
    assert err.field == "case_id"
    assert "must be a non-empty string of at most 64 characters" in str(err)


def test_idempotency_key_reused_for_another_opening(world: World) -> None:
    first = world.register(idempotency_key="import-42")
    events = world.engine.history(first.id)
    again = world.register(idempotency_key="import-42")
    assert again == first
    assert world.engine.history(first.id) == events
    err = refused(world.engine, InvalidInput, lambda: world.register(idempotency_key="import-42", location="二号车间"))
    assert (err.field, err.value) == ("idempotency_key", "import-42")
    assert "was already used for a different command" in str(err)


def test_refused_openings_use_up_no_case_id(world: World) -> None:
    with pytest.raises(InvalidInput):
        world.register(source="nope")
    with pytest.raises(NotAuthorized):
        world.register(actor=People.clerk)
    with pytest.raises(GuardRejected):
        world.register(actor=People.officer, source="public_report_verified")
    assert world.register().id == "HZ-000001"
    assert [c.id for c in world.engine.cases()] == ["HZ-000001"]


def test_the_unit_field_is_what_enterprise_roles_are_bound_to(world: World) -> None:
    # Same unit: accepted; the unit field decides, not the actor's jurisdiction.
    case = world.register(actor=People.manager)
    assert case.business_unit == UNIT
