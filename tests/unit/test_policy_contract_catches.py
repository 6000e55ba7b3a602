"""The policy contract fails for policies that break the invariants (so a passing contract means something)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from hazardflow import Case
from hazardflow.policies import NationalBaseline
from hazardflow.testing import PolicyContract


class Town(NationalBaseline):
    policy_id: ClassVar[str] = "test.town"
    policy_version: ClassVar[str] = "1"
    jurisdiction: ClassVar[str] = "500240204"


def _contract(policy: type, **attrs: object) -> PolicyContract:
    cls = type("Check", (PolicyContract,), {"policy": policy, **attrs})
    return cls()  # type: ignore[no-any-return]


def test_a_sound_policy_passes_every_check() -> None:
    contract = _contract(Town, examples=5)
    contract.test_definition_is_sound()
    contract.test_every_rule_is_sourced()
    contract.test_grades_map_onto_the_national_scale()
    contract.test_major_hazard_rules()
    contract.test_reporter_identity_is_kept_from_enterprises()
    contract.test_deadlines_resolve_forward()
    contract.test_random_cases_keep_the_invariants()


def test_an_enterprise_closing_its_own_major_hazard_fails() -> None:
    class SelfClosing(Town):
        major_reviewer_roles: ClassVar[frozenset[str]] = frozenset({"principal_officer", "supervisor"})

    with pytest.raises(AssertionError, match="principal_officer"):
        _contract(SelfClosing).test_major_hazard_rules()


def test_a_leaky_reporter_rule_fails() -> None:
    class Leaky(Town):
        reporter_roles: ClassVar[frozenset[str]] = frozenset({"complaint_officer", "safety_manager"})

    with pytest.raises(AssertionError):
        _contract(Leaky).test_reporter_identity_is_kept_from_enterprises()


def test_an_unsourced_rule_fails_the_review() -> None:
    class Untagged(Town):
        stop_every_major: ClassVar[bool] = True

    with pytest.raises(AssertionError, match="stop_every_major"):
        _contract(Untagged).test_every_rule_is_sourced()


def test_grades_out_of_order_fail() -> None:
    class Upside(Town):
        grades: ClassVar[tuple[str, ...]] = ("major", "general")

    with pytest.raises(AssertionError):
        _contract(Upside).test_grades_map_onto_the_national_scale()
    with pytest.raises(AssertionError):
        _contract(Upside).test_definition_is_sound()


def test_recipients_that_shift_after_governance_starts_are_caught_by_the_random_cases() -> None:
    class Shifty(Town):
        def dual_report_recipients(self, case: Case) -> Sequence[str]:
            extra = ("township_government",) if case.state != "reporting" else ()
            return (*self.report_recipients, *extra)

    with pytest.raises(AssertionError, match="rectification began before reporting"):
        _contract(Shifty, examples=60, shrink=False).test_random_cases_keep_the_invariants()


def test_a_three_grade_scale_keeps_the_invariants() -> None:
    """一般 / 较大 / 重大 (DOMAIN §h Q8): the middle grade counts as 一般 nationally."""
    from hazardflow.policies import amend

    class ThreeGrades(Town):
        policy_id: ClassVar[str] = "test.three-grades"
        grades: ClassVar[tuple[str, ...]] = ("general", "significant", "major")
        grade_map = amend(Town.grade_map, significant="general")
        rule_sources = amend(Town.rule_sources, grades="DOMAIN §h Q8", grade_map="DOMAIN §h Q8")

    contract = _contract(ThreeGrades, examples=8)
    contract.test_definition_is_sound()
    contract.test_every_rule_is_sourced()
    contract.test_grades_map_onto_the_national_scale()
    contract.test_major_hazard_rules()
    contract.test_random_cases_keep_the_invariants()
