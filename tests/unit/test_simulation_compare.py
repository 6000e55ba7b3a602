"""Comparing two policies on one seed: same hazards, same people, differences only where the rule bites."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

import pytest

from hazardflow import DeadlineSpec, Engine, InvalidInput
from hazardflow.persistence.memory import MemoryStore
from hazardflow.policies import NationalBaseline
from hazardflow.simulation import Simulation, build_engine, compare
from hazardflow.simulation._compare import replace_policies
from simulation_support import BUSY

UNTIL = date(2024, 6, 30)


class FastReview(NationalBaseline):
    """The baseline with one change: a submitted fix is reviewed within 5 working days, not 10 days."""

    policy_id: ClassVar[str] = "test.fast_review"
    deadlines: ClassVar[Mapping[str, DeadlineSpec | None]] = {
        **NationalBaseline.deadlines,
        "review": DeadlineSpec.working_days(5, source="test"),
    }


def _histories(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    return {
        c.id: [(e.trigger, e.from_state, e.to_state, e.occurred_at, e.actor_id) for e in engine.history(c.id)]
        for c in engine.cases()
    }


def _run(policies: tuple[object, ...]) -> tuple[object, dict[str, list[tuple[object, ...]]]]:
    scenario = replace_policies(BUSY, policies) if policies else BUSY
    engine = build_engine(scenario, store=MemoryStore())
    result = Simulation(scenario, seed=9, engine=engine, until=UNTIL).run()
    return result, _histories(engine)


@pytest.fixture(scope="module")
def runs() -> tuple[object, dict[str, list[tuple[object, ...]]], object, dict[str, list[tuple[object, ...]]]]:
    return (*_run(()), *_run((FastReview,)))


def test_same_hazards_and_same_people(runs: tuple[object, ...]) -> None:
    base, _bh, fast, _fh = runs
    b, f = base.total, fast.total  # type: ignore[attr-defined]
    assert dict(b.flows.opened) == dict(f.flows.opened)
    for trigger in ("register", "fix_on_spot", "set_deadline", "confirm_major", "adopt_plan"):
        assert b.event_count("hazard", trigger) == f.event_count("hazard", trigger), trigger
    assert b.event_count("tipoff", "receive_tipoff") == f.event_count("tipoff", "receive_tipoff")


def test_only_the_review_stage_changes(runs: tuple[object, ...]) -> None:
    base, base_hist, fast, fast_hist = runs
    assert fast.total.flows.missed["review"] > base.total.flows.missed["review"]  # type: ignore[attr-defined]
    assert set(base_hist) == set(fast_hist)
    untouched = changed = 0
    for case_id, events in base_hist.items():
        other = fast_hist[case_id]
        reviewed = [i for i, e in enumerate(events) if e[2] == "under_review"]
        if not reviewed:
            # A case that never reached review lives exactly the same life under both policies ...
            assert events == other, case_id
            untouched += 1
        else:
            # ... and a reviewed one is identical up to and including its first submission.
            first = reviewed[0]
            assert events[: first + 1] == other[: first + 1], case_id
            changed += events != other
    assert untouched > 100
    assert changed > 0


def test_compare_reports_the_difference() -> None:
    cmp = compare(BUSY, [FastReview], seed=9, until=UNTIL)
    # Policies are named by id@version and 中文 name, as people know them (not by Python class name).
    assert cmp.other_label == "test.fast_review@2024.1 全国基线（16号令、安全生产法）"
    assert cmp.base_label == "cn.national@2024.1 全国基线（16号令、安全生产法）"
    diffs = {r.key: r for r in cmp.differences()}
    assert "2024.missed.review" in diffs
    assert diffs["2024.missed.review"].other > diffs["2024.missed.review"].base  # type: ignore[operator]
    assert "2024.opened" not in diffs
    data = cmp.to_json()
    assert data["base"]["result"]["audit_digest"] != data["other"]["result"]["audit_digest"]
    assert {t["id"] for t in data["targets"]} == {"stock_cleared", "inflow_curbed", "dynamic_zero"}


def test_compare_with_the_same_policy_changes_nothing() -> None:
    cmp = compare(BUSY, [NationalBaseline], seed=9, until=date(2024, 3, 31))
    assert cmp.differences() == []
    assert cmp.base.audit_digest == cmp.other.audit_digest


def test_compare_needs_a_policy() -> None:
    with pytest.raises(InvalidInput) as err:
        compare(BUSY, [], seed=1)
    assert err.value.field == "other_policies"
    assert "name at least one policy" in str(err.value)


def test_replace_policies_refuses_a_non_policy() -> None:
    with pytest.raises(InvalidInput) as err:
        replace_policies(BUSY, [object()])
    assert err.value.field == "policy"
    assert "with a jurisdiction" in str(err.value)
