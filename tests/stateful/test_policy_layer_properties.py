"""Random trees of policy layers and versions: composition, pins and migration against a plain model.

* the effective value of every rule, at every instant, is the one of the nearest layer up the tree (in force
  at that instant) that sets it, else the national baseline's;
* a case pins the chain it opened under and replays exactly;
* a migration to the layers in force moves exactly the cases whose effective rules changed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hazardflow import Actor, DeadlineSpec, Engine, SimulatedClock, replay
from hazardflow._jurisdiction import ancestors
from hazardflow.policies import Layer, NationalBaseline, PolicyRegistry
from hazardflow.policies.migration import MigrationPlan

PROVINCE, COUNTY_A, COUNTY_B = "500000", "500240", "500241"
TOWNS = ("500240204", "500240203", "500241100")
CODES = (PROVINCE, COUNTY_A, COUNTY_B, *TOWNS)
DATES = (None, date(2025, 1, 1), date(2026, 1, 1))
INSTANTS = (date(2024, 6, 1), date(2025, 6, 1), date(2026, 6, 1))

#: rule -> strategy of values a layer may state
RULES: dict[str, Any] = {
    "review": st.integers(1, 15),
    "stop_every_major": st.booleans(),
    "confirmation_level_count": st.integers(1, 3),
}


def _default(rule: str) -> Any:
    if rule == "review":
        return NationalBaseline.deadlines["review"]
    return getattr(NationalBaseline, rule)


def _value(rule: str, raw: Any) -> Any:
    return DeadlineSpec.working_days(raw, source="test") if rule == "review" else raw


rule_sets = st.dictionaries(st.sampled_from(sorted(RULES)), st.none(), max_size=3).flatmap(
    lambda keys: st.fixed_dictionaries({k: RULES[k] for k in keys})
)


@st.composite
def trees(draw: st.DrawFn) -> list[tuple[str, date | None, dict[str, Any]]]:
    """Layer versions: (code, effective_from, rules stated). Every layer's first version is always in force."""
    out = []
    for code in draw(st.lists(st.sampled_from(CODES), unique=True, max_size=len(CODES))):
        dates = draw(st.lists(st.sampled_from(DATES[1:]), unique=True, max_size=2))
        for when in (None, *sorted(dates)):
            out.append((code, when, draw(rule_sets)))
    return out


def _classes(tree: list[tuple[str, date | None, dict[str, Any]]]) -> list[type]:
    out = []
    for n, (code, when, rules) in enumerate(tree):
        ns: dict[str, Any] = {
            "policy_id": f"t.{code}",
            "policy_version": f"v{n}",
            "jurisdiction": code,
            "name": code,
            "effective_from": when,
        }
        for rule, raw in rules.items():
            if rule == "review":
                ns["deadlines"] = {"review": _value(rule, raw)}
            else:
                ns[rule] = raw
        out.append(type(f"L{n}", (Layer,), ns))
    return out


def _model(tree: list[tuple[str, date | None, dict[str, Any]]], code: str, day: date, rule: str) -> Any:
    """The nearest layer up the tree, in force on ``day``, that states ``rule``."""
    for anc in ancestors(code):
        versions = [(when or date.min, n) for n, (c, when, _) in enumerate(tree) if c == anc]
        in_force = [v for v in versions if v[0] <= day]
        if not in_force:
            continue
        _, n = max(in_force)
        if rule in tree[n][2]:
            return _value(rule, tree[n][2][rule])
    return _default(rule)


def _effective(policy: Any, rule: str) -> Any:
    return policy.deadlines["review"] if rule == "review" else getattr(policy, rule)


@settings(deadline=None)
@given(trees())
def test_the_effective_value_is_the_nearest_layer_that_sets_it(tree: Any) -> None:
    reg = PolicyRegistry(_classes(tree))
    for code in CODES:
        for day in INSTANTS:
            policy = reg.resolve(code, day)
            for rule in RULES:
                assert _effective(policy, rule) == _model(tree, code, day, rule), (code, day, rule)


def _open(engine: Engine, town: str) -> str:
    actor = Actor("e-insp", "检查员", {"inspector"}, "BU-1", town)
    case = engine.open_case(
        "hazard",
        actor=actor,
        jurisdiction=town,
        grade="general",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit="BU-1",
        location="车间",
        description="防护罩缺失",
    )
    return case.id


@settings(deadline=None, max_examples=15)
@given(trees(), st.sampled_from(INSTANTS[:2]), st.sampled_from(INSTANTS[1:]))
def test_cases_pin_replay_and_migrate_exactly_the_changed_ones(tree: Any, start: date, later: date) -> None:
    clock = SimulatedClock(datetime(start.year, start.month, start.day, 9).isoformat() + "+08:00")
    engine = Engine(clock=clock, policies=_classes(tree))
    opened = {town: _open(engine, town) for town in TOWNS}
    for town, cid in opened.items():
        case = engine.get(cid)
        assert case.policy_chain == engine.policies.chain_pins(town, start)
        assert all(ev.policy_chain == case.policy_chain for ev in engine.history(cid))
        assert replay(engine.history(cid)) == case
        for rule in RULES:
            assert _effective(engine.policy_for(case), rule) == _model(tree, town, start, rule)
    clock.advance(timedelta(days=(later - start).days))
    changed = {
        cid
        for town, cid in opened.items()
        if any(_model(tree, town, start, r) != _model(tree, town, later, r) for r in RULES)
    }
    plan = MigrationPlan.in_force(engine, plan_id="p", reason="new layers", approved_by="a")
    report = plan.dry_run()
    assert {c.case_id for c in report.movable} == changed
    assert not report.blocked
    result = plan.apply(report)
    assert set(result.migrated) == changed
    assert not result.failed
    for town, cid in opened.items():
        case = engine.get(cid)
        day = later if cid in changed else start
        for rule in RULES:
            assert _effective(engine.policy_for(case), rule) == _model(tree, town, day, rule)
        assert replay(engine.history(cid)) == case
    assert engine.verify_audit().ok
    assert plan.apply().migrated == ()
