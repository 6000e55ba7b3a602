"""Policy validation at engine build: one PolicyDefinitionError listing every problem, with hints."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from hazardflow import Case, DeadlineSpec, Delay, Engine, PolicyDefinitionError
from hazardflow.policies import ListingRule, NationalBaseline, Permission, Rung, Separation, amend
from hazardflow.policies.validation import MAX_LADDER_RUNGS, check_policy, check_sources


class County(NationalBaseline):
    policy_id: ClassVar[str] = "test.county"
    policy_version: ClassVar[str] = "1"
    jurisdiction: ClassVar[str] = "500240"
    name: ClassVar[str] = "测试县"


def _problems(policy: Any) -> tuple[str, ...]:
    with pytest.raises(PolicyDefinitionError) as info:
        Engine(policies=[policy])
    err = info.value
    assert err.code == "hazardflow.policy_definition"
    assert all(p.startswith(f"{policy.policy_id}@{policy.policy_version}: ") for p in err.problems)
    assert f"{len(err.problems)} problem(s)" in str(err)
    return err.problems


def test_sound_policies_pass() -> None:
    engine = Engine(policies=[County()])
    assert check_policy(County(), engine) == []
    assert check_policy(NationalBaseline(), engine) == []
    assert check_sources(NationalBaseline()) == []


def test_every_problem_is_listed_at_once_with_hints() -> None:
    class Broken(County):
        grades: ClassVar[tuple[str, ...]] = ("general", "majr")
        report_recipients: ClassVar[tuple[str, ...]] = ("supervising_department", "township_goverment")
        permissions = amend(
            County.permissions,
            {
                ("hazard", "aprove"): Permission({"supervisor"}),
                ("hazard", "delist"): Permission({"supervsor"}),
                ("hazrd", "register"): Permission({"inspector"}),
            },
        )
        listing_rule: ClassVar[ListingRule] = ListingRule(required=True, level="coutny", source="test")

    problems = "\n".join(_problems(Broken()))
    for expected in (
        "grade 'majr' has no glossary label; did you mean 'major'?",
        "no grade maps onto the national 'major'",
        "unknown report recipient 'township_goverment'; did you mean 'township_government'?",
        "permission for unknown trigger hazard.aprove; did you mean 'approve'?",
        "names unknown role 'supervsor'; did you mean 'supervisor'?",
        "permission for unknown workflow 'hazrd'; did you mean 'hazard'?",
        "listing level 'coutny' is unknown; did you mean 'county'?",
    ):
        assert expected in problems


def test_supervised_stage_without_a_deadline() -> None:
    class NoReview(County):
        deadlines = amend(County.deadlines, review=None)

    (problem,) = _problems(NoReview())
    assert "state hazard.under_review is supervised but deadline 'review' gives no time limit" in problem


def test_deadline_key_typo_and_unanswered_key() -> None:
    class Typo(County):
        deadlines = amend(
            {k: v for k, v in County.deadlines.items() if k != "delist"},
            reveiw=DeadlineSpec.natural_days(3, source="test"),
        )

    problems = "\n".join(_problems(Typo()))
    assert "deadline key 'reveiw' is used by no workflow; did you mean 'review'?" in problems
    # A layer's table cannot drop a key (the national baseline answers it); a policy checked on its own can.
    alone = "\n".join(check_policy(Typo(), Engine()))
    assert "state hazard.awaiting_delisting runs deadline 'delist' that the policy never answers" in alone


def test_a_state_with_no_authorized_way_out() -> None:
    class Stuck(County):
        permissions = amend(
            County.permissions,
            {
                ("hazard", "approve"): Permission({"system"}, "system"),
                ("hazard", "reject"): Permission({"system"}, "system"),
                ("hazard", "void"): Permission({"system"}, "system"),
            },
        )

    problems = "\n".join(_problems(Stuck()))
    assert "state hazard.under_review" in problems
    assert "has no authorized way out" in problems
    assert "approve, reject, void" in problems


def test_an_empty_permission_is_refused() -> None:
    class Nobody(County):
        permissions = amend(County.permissions, {("hazard", "delist"): Permission(frozenset())})

    problems = "\n".join(_problems(Nobody()))
    assert "permission hazard.delist names no role: nobody could fire it" in problems
    assert "state hazard.awaiting_delisting" in problems


def test_a_ladder_that_never_ends() -> None:
    class Forever(County):
        def ladder(self, key: str, case: Case) -> Sequence[Rung]:
            return itertools.cycle(self.overdue_ladder)  # type: ignore[return-value]

    problems = "\n".join(_problems(Forever()))
    assert "is an unbounded iterator (cycle): it never ends" in problems

    class TooLong(County):
        overdue_ladder: ClassVar[tuple[Rung, ...]] = tuple(
            Rung("circular_notice", Delay(1), "business_unit", "test") for _ in range(MAX_LADDER_RUNGS + 1)
        )

    assert f"has {MAX_LADDER_RUNGS + 1} rungs" in "\n".join(_problems(TooLong()))


def test_unknown_sanction_and_party_in_the_ladder() -> None:
    class Odd(County):
        overdue_ladder: ClassVar[tuple[Rung, ...]] = (
            Rung("formal_leter", Delay(0), "business_unit", "test"),
            Rung("circular_notice", Delay(1), "unit", "test"),  # type: ignore[arg-type]
        )

    problems = "\n".join(_problems(Odd()))
    assert "ladder rung 'formal_leter' has no glossary label; did you mean 'formal_letter'?" in problems
    assert "names unknown party 'unit'" in problems


def test_statutory_dual_report_pair_cannot_be_dropped() -> None:
    class NoCongress(County):
        report_recipients: ClassVar[tuple[str, ...]] = ("supervising_department", "township_government")

    problems = "\n".join(_problems(NoCongress()))
    assert "dual-report recipients must include 'workers_congress' [S3 §41]" in problems
    assert "drops dual-report recipient(s) 'workers_congress' that cn.national@2024.1 requires" in problems


def test_layers_must_nest_and_have_their_own_id() -> None:
    class Elsewhere(County):
        jurisdiction: ClassVar[str] = "410183001"

    problems = "\n".join(_problems(Elsewhere()))
    assert "jurisdiction 410183001 is outside its parent layer County's jurisdiction 500240" in problems
    assert "policy_id 'test.county' is its parent layer County's" in problems


def test_separation_and_guard_triggers_are_checked() -> None:
    class Seps(County):
        separations: ClassVar[tuple[Separation, ...]] = (
            Separation("hazard", "aprove", ("registered_by",), "登记人不得审核", "the registrar may not review", "t"),
        )
        extra_guards = amend(County.extra_guards, {("hazard", "delst"): ()})

    problems = "\n".join(_problems(Seps()))
    assert "separation for unknown trigger hazard.aprove; did you mean 'approve'?" in problems
    assert "guard for unknown trigger hazard.delst; did you mean 'delist'?" in problems


def test_obligations_and_lead_departments_are_checked() -> None:
    from hazardflow.policies import ReportingObligation

    class Reports(County):
        obligations: ClassVar[tuple[ReportingObligation, ...]] = (
            ReportingObligation("x", "报", "report", "month", DeadlineSpec.months(1, source="t"), "township", "t"),
            ReportingObligation("x", "报", "report", "fortnight", DeadlineSpec.months(1, source="t"), "unit", "t"),  # type: ignore[arg-type]
        )
        lead_departments = amend(County.lead_departments, chemicals="emergency_managment", mining="mine_safety")

    problems = "\n".join(_problems(Reports()))
    assert "reporting obligation 'x' is declared twice" in problems
    assert "has unknown period 'fortnight'" in problems
    assert "names unknown party 'unit'" in problems
    assert "lead department 'emergency_managment' is unknown; did you mean 'emergency_management'?" in problems
    assert "lead department for unknown industry 'mining'" in problems


def test_problems_of_several_policies_come_in_one_error() -> None:
    class A(County):
        policy_id: ClassVar[str] = "test.a"
        grades: ClassVar[tuple[str, ...]] = ("general",)

    class B(NationalBaseline):
        policy_id: ClassVar[str] = "test.b"
        jurisdiction: ClassVar[str] = "410183"
        report_recipients: ClassVar[tuple[str, ...]] = ("workers_congress",)

    with pytest.raises(PolicyDefinitionError) as info:
        Engine(policies=[A(), B()])
    assert info.value.policy == "test.a@1, test.b@2024.1"
    assert any(p.startswith("test.a@1: ") for p in info.value.problems)
    assert any(p.startswith("test.b@2024.1: ") for p in info.value.problems)


def test_unsourced_rules_are_listed_by_the_strict_review() -> None:
    class Untagged(County):
        stop_every_major: ClassVar[bool] = True
        listing_rule: ClassVar[ListingRule] = ListingRule(required=True)
        deadlines = amend(County.deadlines, report=DeadlineSpec.working_days(5))

    problems = check_sources(Untagged())
    assert "Untagged sets stop_every_major without a source tag in rule_sources" in problems
    assert "Untagged sets listing_rule without a source" in problems
    assert "Untagged sets deadlines.report without a source" in problems


def test_a_policy_that_cannot_be_built_is_reported() -> None:
    class BadDay(County):
        local_holidays: ClassVar[tuple[str, ...]] = ("2024-02-30",)

    with pytest.raises((PolicyDefinitionError, ValueError)):
        Engine(policies=[BadDay])


def test_a_version_registered_after_the_engine_is_built_is_checked() -> None:
    engine = Engine(policies=[County()])

    class Next(County):
        policy_version: ClassVar[str] = "2"
        deadlines = amend(County.deadlines, review=None)

    with pytest.raises(PolicyDefinitionError) as info:
        engine.policies.register(Next)
    assert info.value.policy == "test.county@2"
    assert "deadline 'review' gives no time limit" in info.value.problems[0]
    assert ("test.county", "2") not in engine.policies
