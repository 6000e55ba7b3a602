"""The guard/effect contract (``hazardflow.abc.CommandContext``) and the system-command path policy tooling uses."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest

import hazardflow
from hazardflow import SYSTEM, Actor, CaseNotFoundError, Engine, InvalidInput, SimulatedClock, abc
from hazardflow._engine import CommandContext as EngineContext
from hazardflow.policies import NationalBaseline
from hazardflow.policies.migration import MIGRATE_TRIGGER

TOWN = "500240204"
UNIT = "BU-1"
INSPECTOR = Actor("e-insp", "检查员", {"inspector"}, UNIT, TOWN)


class Old(NationalBaseline):
    policy_id = "test.context"
    policy_version = "1"
    jurisdiction = TOWN


class New(Old):
    policy_version = "2"
    effective_from = date(2024, 1, 1)
    report_recipients = (*Old.report_recipients, "township_government")


def _engine() -> Engine:
    return Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"), policies=[Old()])


def _open(engine: Engine) -> str:
    return engine.open_case(
        "hazard",
        actor=INSPECTOR,
        jurisdiction=TOWN,
        grade="general",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=UNIT,
        location="车间",
        description="防护罩缺失",
    ).id


def _migrate_payload() -> dict[str, str]:
    return {
        "policy_id": "test.context",
        "policy_version": "2",
        "plan_id": "p-1",
        "reason": "新版本",
        "approved_by": "谭华祥",
    }


def test_context_usage_example_runs() -> None:
    path = Path(__file__).resolve().parents[1] / "typing" / "context_usage.py"
    spec = importlib.util.spec_from_file_location("context_usage", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()


def test_the_contract_is_exported_and_documents_every_member() -> None:
    assert hazardflow.CommandContext is abc.CommandContext
    members = [name for name in vars(abc.CommandContext) if not name.startswith("_")]
    for name in (
        *("engine", "case", "actor", "role", "policy", "payload", "now", "trigger", "opening", "timer", "parent"),
        *("updates", "pins", "pin", "follow", "spawn", "confidential", "owning_jurisdiction", "set_overdue"),
        *("rung", "policy_pin", "restage", "restaged_deadline", "field", "load"),
    ):
        assert name in members, name
    for name in members:
        value = vars(abc.CommandContext)[name]
        fn = value.fget if isinstance(value, property) else value
        assert (fn.__doc__ or "").strip(), f"CommandContext.{name} has no docstring"
    # The engine's own context keeps its slots (no per-command __dict__) and every member the contract names.
    assert "__dict__" not in vars(EngineContext)
    slots_and_members = set(EngineContext.__slots__) | set(vars(EngineContext))
    for name in members:
        assert name in slots_and_members, name


def test_fire_system_moves_a_case_once_per_key() -> None:
    engine = _engine()
    cid = _open(engine)
    engine.policies.register(New())
    before = len(engine.history(cid))
    moved = engine.fire_system(cid, MIGRATE_TRIGGER, payload=_migrate_payload(), idempotency_key="migrate:p-1")
    assert moved is not None
    assert moved.policy_version == "2"
    event = engine.history(cid)[-1]
    assert event.actor_id == SYSTEM.id
    assert len(engine.history(cid)) == before + 1
    again = engine.fire_system(cid, MIGRATE_TRIGGER, payload=_migrate_payload(), idempotency_key="migrate:p-1")
    assert again is None
    assert len(engine.history(cid)) == before + 1


def test_fire_system_refuses_a_trigger_people_fire_and_writes_nothing() -> None:
    engine = _engine()
    cid = _open(engine)
    before = engine.history(cid)
    with pytest.raises(InvalidInput) as err:
        engine.fire_system(cid, "set_deadline", payload={"deadline": "2024-03-20", "measures": "m", "responsible": "r"})
    assert err.value.field == "trigger"
    assert MIGRATE_TRIGGER in err.value.allowed
    with pytest.raises(InvalidInput):
        engine.fire_system(cid, "no_such_trigger")
    with pytest.raises(CaseNotFoundError):
        engine.fire_system("HZ-404", MIGRATE_TRIGGER, payload=_migrate_payload())
    with pytest.raises(InvalidInput):
        engine.fire_system(cid, MIGRATE_TRIGGER, payload=_migrate_payload(), now=engine.now().replace(tzinfo=None))
    assert engine.history(cid) == before
