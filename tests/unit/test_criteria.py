"""Industry criteria as data (一行业一清单): editions, effective dates, placeholders, citations at registration."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

import pytest

from hazardflow import Actor, Engine, GuardRejected, SimulatedClock
from hazardflow.policies import NATIONAL_CRITERIA, CriteriaCatalog, CriteriaSet, Criterion, NationalBaseline

TOWN = "500240204"
UNIT = "BU-1"
INSPECTOR = Actor("e-1", "检查员", {"inspector"}, UNIT, TOWN)


def test_the_catalog_holds_the_six_industries_with_dates() -> None:
    by_id = {s.id: s for s in NATIONAL_CRITERIA}
    assert {s.industry for s in NATIONAL_CRITERIA} == {
        "industry_trade",
        "chemicals",
        "coal_mine",
        "metal_nonmetal_mine",
        "construction",
        "fire_safety",
    }
    assert by_id["industry_trade_2023"].effective_from == date(2023, 5, 15)
    assert by_id["industry_trade_2023"].doc_no == "应急管理部令第10号"
    assert by_id["coal_mine_2020"].effective_from == date(2021, 1, 1)
    assert by_id["metal_nonmetal_mine_2022"].effective_from == date(2022, 9, 1)
    assert by_id["fire_gb35181_2025"].effective_from == date(2025, 11, 1)
    assert by_id["fire_gb35181_2017"].superseded_on == date(2025, 11, 1)
    ids = [i.id for s in NATIONAL_CRITERIA for i in s.items]
    assert len(ids) == len(set(ids))
    assert all(i.summary_zh and i.summary_en and i.article for s in NATIONAL_CRITERIA for i in s.items)


def test_placeholders_mark_superseded_text() -> None:
    by_id = {s.id: s for s in NATIONAL_CRITERIA}
    fire_2025 = by_id["fire_gb35181_2025"]
    assert fire_2025.items
    assert all(i.placeholder and i.placeholder_from == "fire_gb35181_2017" for i in fire_2025.items)
    assert all(i.placeholder and i.placeholder_from == "construction_2022" for i in by_id["construction_2024"].items)
    assert not any(i.placeholder for i in by_id["industry_trade_2023"].items)


def test_editions_in_force_by_day() -> None:
    catalog = CriteriaCatalog()
    assert [s.id for s in catalog.in_force("fire_safety", date(2025, 10, 31))] == ["fire_gb35181_2017"]
    assert [s.id for s in catalog.in_force("fire_safety", date(2025, 11, 1))] == ["fire_gb35181_2025"]
    assert catalog.in_force("industry_trade", date(2023, 5, 14)) == []


@pytest.mark.parametrize(
    ("items", "industry", "day", "expected"),
    [
        (["industry_trade_2023.6"], "industry_trade", date(2024, 1, 1), None),
        (["industry_trade_2023.66"], "industry_trade", date(2024, 1, 1), "did you mean 'industry_trade_2023.6'"),
        (["coal_mine_2020.2"], "industry_trade", date(2024, 1, 1), "belongs to the 'coal_mine' list"),
        (["fire_gb35181_2017.2"], "fire_safety", date(2026, 1, 5), "superseded on 2025-11-01"),
        (["fire_gb35181_2025.2"], "fire_safety", date(2025, 1, 5), "not yet in force (from 2025-11-01)"),
    ],
)
def test_citation_checks(items: list[str], industry: str, day: date, expected: str | None) -> None:
    problem = CriteriaCatalog().check(items, industry, day)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        zh, en = problem
        assert expected in en
        assert zh


class Strict(NationalBaseline):
    policy_id: ClassVar[str] = "test.criteria"
    policy_version: ClassVar[str] = "1"
    jurisdiction: ClassVar[str] = TOWN
    require_criteria_for_major: ClassVar[bool] = True
    criteria_must_match_catalog: ClassVar[bool] = True
    local_criteria: ClassVar[tuple[CriteriaSet, ...]] = (
        CriteriaSet(
            "local_gas_2024",
            "gas",
            "本地燃气重大隐患清单",
            "local gas list",
            "inference",
            "本地",
            date(2024, 1, 1),
            (Criterion("local_gas_2024.1", "一", "餐饮场所未安装燃气泄漏报警装置", "no gas alarm in a restaurant"),),
        ),
    )


def _register(engine: Engine, **over: object) -> str:
    fields: dict[str, object] = {
        "grade": "major",
        "source": "enterprise_self_inspection",
        "nature": "unsafe_condition",
        "industry": "industry_trade",
        "business_unit": UNIT,
        "location": "粉尘车间",
        "description": "干式除尘无泄爆",
    }
    fields.update(over)
    return engine.open_case("hazard", actor=INSPECTOR, jurisdiction=TOWN, **fields).id


def _engine() -> Engine:
    return Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"), policies=[Strict()])


def test_major_grade_cites_matching_items_in_force() -> None:
    engine = _engine()
    cid = _register(engine, criteria=["industry_trade_2023.6"])
    assert engine.get(cid).fields["criteria"] == ("industry_trade_2023.6",)
    assert _register(engine, industry="gas", criteria=["local_gas_2024.1"])


@pytest.mark.parametrize(
    ("over", "guard", "wording"),
    [
        ({}, "criteria_cited", "grading a hazard major must cite the matched criteria items"),
        ({"criteria": ["industry_trade_2023.99"]}, "criteria_cited", "is not in the lists this jurisdiction uses"),
        ({"criteria": ["chemicals_2017.1"]}, "criteria_cited", "belongs to the 'chemicals' list"),
        (
            {"criteria": ["industry_trade_2023.6"], "grade": "general"},
            "criteria_cited",
            "a hazard that matches a major-hazard criterion must be graded major",
        ),
        (
            {"criteria": ["industry_trade_2023.6"], "discovered_at": "2023-01-05T10:00:00+08:00"},
            "criteria_cited",
            "does not apply on 2023-01-05",
        ),
    ],
)
def test_bad_citations_are_refused_and_change_nothing(over: dict[str, object], guard: str, wording: str) -> None:
    engine = _engine()
    with pytest.raises(GuardRejected) as info:
        _register(engine, **over)
    assert info.value.guard == guard
    assert wording in info.value.reason_en
    assert info.value.reason_zh
    assert list(engine.cases()) == []


def test_without_catalog_matching_any_citation_is_recorded() -> None:
    engine = Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"))
    cid = _register(engine, criteria=["GB 35181 4.1"])
    assert engine.get(cid).fields["criteria"] == ("GB 35181 4.1",)
