"""A jurisdiction guard written against ``hazardflow.CommandContext``, the contract every guard and effect sees.

``mypy --strict src tests/typing`` checks this file: the engine's own context, the engine and its policy registry
must satisfy the protocols of :mod:`hazardflow.abc` (the assignments in :func:`conforms`). It is also executed
(tests/unit/test_context_protocol.py runs :func:`main`), so it cannot rot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from hazardflow import Actor, CommandContext, Engine, GuardResult, SimulatedClock
from hazardflow import abc as contracts
from hazardflow._engine import CommandContext as EngineContext
from hazardflow._lifecycle import GuardFn
from hazardflow.policies import NationalBaseline

TOWN = "500240204"
UNIT = "BU-1"
INSPECTOR = Actor("e-insp", "检查员", {"inspector"}, UNIT, TOWN)
SEEN: list[tuple[str, str, str, bool, bool]] = []


def conforms(ctx: EngineContext, engine: Engine) -> None:
    """The engine's concrete classes satisfy the contracts (checked by mypy, never called)."""
    as_contract: contracts.CommandContext = ctx
    handle: contracts.EngineHandle = engine
    lookup: contracts.PolicyLookup = engine.policies
    del as_contract, handle, lookup


def description_named(ctx: CommandContext) -> GuardResult:
    """A state guard: reads the case, the actor, the policy and the engine through the contract only."""
    SEEN.append((ctx.trigger, ctx.actor.id, ctx.policy.policy_id, ctx.opening, TOWN in ctx.engine.jurisdictions))
    if not str(ctx.field("description", "")).strip():
        return GuardResult.deny("须描述隐患", "the hazard must be described")
    return GuardResult.allow()


class Township(NationalBaseline):
    policy_id: ClassVar[str] = "typing.context"
    policy_version: ClassVar[str] = "1"
    jurisdiction: ClassVar[str] = TOWN
    name: ClassVar[str] = "三星乡"
    extra_guards: ClassVar[Mapping[tuple[str, str], tuple[tuple[str, GuardFn], ...]]] = {
        ("hazard", "confirm_major"): (("description_named", description_named),),
    }


def main() -> None:
    SEEN.clear()
    engine = Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"), policies=[Township])
    case = engine.open_case(
        "hazard",
        actor=INSPECTOR,
        jurisdiction=TOWN,
        grade="major",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=UNIT,
        location="粉尘车间",
        description="除尘系统无泄爆",
    )
    manager = Actor("e-mgr", "安全员", {"safety_manager"}, UNIT, TOWN)
    engine.fire(case.id, "confirm_major", actor=manager, payload={"opinion": "确认"})
    assert ("confirm_major", "e-mgr", "typing.context", False, True) in SEEN


if __name__ == "__main__":
    main()
