"""A jurisdiction policy as its author writes it. ``mypy --strict src tests/typing`` must pass on this file.

It is also executed (tests/unit/test_policy_typing.py runs :func:`main`), so it cannot rot.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, assert_type

from hazardflow import Case, DeadlineSpec, Delay, Engine, GuardResult, SimulatedClock, Unit
from hazardflow.abc import JurisdictionPolicy
from hazardflow.policies import (
    FireSafetyRules,
    ListingRule,
    MigrationPlan,
    MigrationReport,
    NationalBaseline,
    Permission,
    PolicyRegistry,
    ReportingObligation,
    Rung,
    Separation,
    amend,
)
from hazardflow.policies.validation import check_policy, check_sources


class County(NationalBaseline):
    policy_id: ClassVar[str] = "typing.county"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "500240"
    jurisdiction_name: ClassVar[str] = "石柱土家族自治县"
    name: ClassVar[str] = "石柱土家族自治县"

    listing_rule: ClassVar[ListingRule] = ListingRule(required=True, level="county", source="example")
    permissions = amend(
        NationalBaseline.permissions, {("escalation", "accept_escalation"): Permission({"safety_committee_office"})}
    )
    rule_sources = amend(NationalBaseline.rule_sources, permissions="example")


class Township(FireSafetyRules, County):
    policy_id: ClassVar[str] = "typing.township"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = "500240204"
    name: ClassVar[str] = "三星乡"
    effective_from: ClassVar[date | None] = date(2024, 1, 1)

    grades: ClassVar[tuple[str, ...]] = ("general", "significant", "major")
    grade_map = amend(County.grade_map, significant="general")
    deadlines = amend(County.deadlines, report=DeadlineSpec.working_days(5, source="example"))
    overdue_ladder: ClassVar[tuple[Rung, ...]] = (
        Rung("formal_letter", Delay(0), "business_unit", "example"),
        Rung("admonitory_talk", Delay(5, Unit.WORKING_DAY), "township", "example"),
    )
    obligations: ClassVar[tuple[ReportingObligation, ...]] = (
        *County.obligations,
        ReportingObligation(
            "monthly",
            "月报",
            "monthly report",
            "month",
            DeadlineSpec.months(1, source="example"),
            "township",
            "example",
        ),
    )
    separations: ClassVar[tuple[Separation, ...]] = (
        Separation(
            "hazard", "approve", ("registered_by",), "登记人不得审核销号", "the registrar may not approve", "example"
        ),
    )
    rule_sources = amend(County.rule_sources, grades="example", grade_map="example")

    def on_the_spot_fix(self, case: Case) -> GuardResult:
        if case.grade == "significant":
            return GuardResult.deny("较大事故隐患不得即查即改", "a significant hazard is not fixed on the spot")
        return super().on_the_spot_fix(case)


def main() -> None:
    engine = Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"), policies=[County, Township])
    registry: PolicyRegistry = engine.policies
    policy: JurisdictionPolicy = registry.resolve("500240204000")
    assert_type(policy, JurisdictionPolicy)
    assert policy.policy_id == "typing.township"
    assert check_policy(Township(), engine) == []
    assert check_sources(Township()) == []

    class Township2025(Township):
        policy_version: ClassVar[str] = "2025.1"

    registry.register(Township2025)
    plan = MigrationPlan(
        engine, ("typing.township", "2024.1"), ("typing.township", "2025.1"), plan_id="p", reason="r", approved_by="a"
    )
    report = plan.dry_run()
    assert_type(report, MigrationReport)
    assert report.cases == ()


if __name__ == "__main__":
    main()
