"""Administrative-division codes: canonical township forms, the tree, near matches, resolution."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hazardflow import Actor, Engine, JurisdictionTree, SimulatedClock, UnknownJurisdictionError
from hazardflow._jurisdiction import ancestors, canonical, is_within, level_of, parent_code, subtree_prefix
from hazardflow.policies import NationalBaseline, PolicyRegistry

# Verified codes (统计用区划代码): 重庆市 500000 / 石柱土家族自治县 500240 / 三星乡 500240204.
SANXING, SHIZHU, CHONGQING = "500240204", "500240", "500000"

townships = st.builds(
    lambda p, c, d, t: f"{p:02d}{c:02d}{d:02d}{t:03d}",
    st.integers(11, 65),
    st.integers(1, 99),
    st.integers(1, 99),
    st.integers(1, 599),
)


def test_twelve_digit_township_is_its_nine_digit_form() -> None:
    assert canonical("500240204000") == SANXING
    assert canonical(SANXING) == SANXING
    assert canonical("500240204201") == "500240204201"  # a village keeps its 12 digits
    assert canonical(SHIZHU) == SHIZHU
    assert ancestors("500240204000") == ancestors(SANXING) == (SANXING, SHIZHU, "500200", CHONGQING, "000000")
    assert level_of("500240204000") == level_of(SANXING) == "township"
    assert parent_code("500240204201") == SANXING


@given(townships)
def test_township_forms_are_interchangeable(code9: str) -> None:
    code12 = code9 + "000"
    assert canonical(code12) == code9
    assert is_within(code12, code9)
    assert is_within(code9, code12)
    assert ancestors(code12) == ancestors(code9)
    assert subtree_prefix(code12) == subtree_prefix(code9) == code9
    village = code9 + "201"
    assert is_within(village, code12)
    assert is_within(village, code9)
    assert not is_within(code9, village)
    assert is_within(code12, code9[:6])
    assert is_within(code12, code9[:2] + "0000")


def test_is_within_respects_the_tree() -> None:
    assert is_within(SANXING, SHIZHU)
    assert is_within(SANXING, "000000")
    assert not is_within(SHIZHU, SANXING)
    assert not is_within("410183001", SHIZHU)


@pytest.mark.parametrize("bad", ["50024", "5002402041", "abcdef", "", "500240204-00"])
def test_malformed_codes_are_refused(bad: str) -> None:
    with pytest.raises(UnknownJurisdictionError) as info:
        canonical(bad)
    err = info.value
    assert err.field == "jurisdiction"
    assert err.value == bad
    assert "6 (county), 9 or 12" in str(err)


def _tree(strict: bool = True) -> JurisdictionTree:
    return JurisdictionTree(
        [
            (CHONGQING, "重庆市"),
            (SHIZHU, "石柱土家族自治县"),
            (SANXING + "000", "三星乡"),
            ("500240203", "黎场乡"),
            ("500240205", "六塘乡"),
        ],
        strict=strict,
    )


def test_tree_stores_canonical_codes() -> None:
    tree = _tree()
    assert SANXING in tree
    assert "500240204000" in tree
    assert tree.get("500240204000") == tree.get(SANXING)
    assert tree.name("500240204000") == "三星乡"
    assert tree.check("500240204000") == SANXING
    assert tree.path("500240204000") == "重庆市 / 石柱土家族自治县 / 三星乡"
    assert [j.code for j in tree.children(SHIZHU)] == ["500240203", SANXING, "500240205"]
    assert "junk" not in tree


def test_strict_tree_refuses_unknown_code_with_near_matches() -> None:
    with pytest.raises(UnknownJurisdictionError) as info:
        _tree().check("500240206")
    err = info.value
    assert err.code == "hazardflow.unknown_jurisdiction"
    assert err.value == "500240206"
    assert err.rule == "is not a jurisdiction this engine serves"
    assert any(a.startswith("500240205 六塘乡") for a in err.allowed)
    assert any(a.startswith("500240 石柱土家族自治县") for a in err.allowed)
    assert "500240206" in str(err)
    assert "六塘乡" in str(err)


def test_a_name_instead_of_a_code_suggests_the_code() -> None:
    with pytest.raises(UnknownJurisdictionError) as info:
        _tree(strict=False).check("三星乡")
    assert info.value.allowed[0] == "500240204 三星乡"


def test_non_strict_tree_accepts_any_wellformed_code() -> None:
    assert _tree(strict=False).check("410183001000") == "410183001"


def test_registry_resolves_either_township_form() -> None:
    class Sanxing(NationalBaseline):
        policy_id = "test.sanxing"
        policy_version = "1"
        jurisdiction = "500240204000"  # registered in 12-digit form

    reg = PolicyRegistry([Sanxing])
    assert reg.resolve(SANXING).policy_id == "test.sanxing"
    assert reg.resolve("500240204000").policy_id == "test.sanxing"
    assert reg.resolve("500240204201").policy_id == "test.sanxing"
    assert reg.resolve("500240203").policy_id == "cn.national"


def test_engine_stores_the_canonical_code_and_authorizes_either_form() -> None:
    engine = Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"), jurisdictions=_tree())
    unit = "BU-1"
    inspector = Actor("i1", "检查员", {"inspector"}, unit, "500240204000")
    case = engine.open_case(
        "hazard",
        actor=inspector,
        jurisdiction="500240204000",
        grade="general",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=unit,
        location="车间",
        description="防护罩缺失",
    )
    assert case.jurisdiction == SANXING
    officer = Actor("t1", "乡安办", {"township_officer"}, "三星乡安办", "500240204000")
    assert "set_deadline" in engine.allowed(case.id, officer)
    assert [c.id for c in engine.cases(jurisdiction="500240204000")] == [case.id]


def test_engine_refuses_unknown_code_and_writes_nothing() -> None:
    engine = Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"), jurisdictions=_tree())
    actor = Actor("i1", "检查员", {"inspector"}, "BU-1", "500240206")
    with pytest.raises(UnknownJurisdictionError) as info:
        engine.open_case(
            "hazard",
            actor=actor,
            jurisdiction="500240206",
            grade="general",
            source="enterprise_self_inspection",
            nature="unsafe_condition",
            industry="industry_trade",
            business_unit="BU-1",
            location="x",
            description="y",
        )
    assert "500240205 六塘乡" in info.value.allowed
    assert list(engine.cases()) == []
