"""Scenario building blocks: values, and every refusal with its field and wording."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import attrs
import pytest

from hazardflow import InvalidInput
from hazardflow.simulation import (
    Area,
    Backlog,
    Behaviour,
    Exponential,
    Fixed,
    InflowCurbed,
    LogNormal,
    Phase,
    Rates,
    Scenario,
    Township,
    Triangular,
    Uniform,
    load_policy,
    load_scenario,
)
from hazardflow.simulation._dist import uniform
from hazardflow.simulation._kpi import mean_of, median_of
from hazardflow.simulation._targets import month_ends, quarter_ends
from simulation_support import HAND


# ── distributions ──────────────────────────────────────────────────────────────────────────────────
def test_quantiles() -> None:
    assert Fixed(3).quantile(0.9) == 3.0
    assert Uniform(2, 6).quantile(0.25) == 3.0
    tri = Triangular(0, 5, 10)
    assert tri.quantile(0.5) == pytest.approx(5.0)
    assert tri.quantile(0.0) == 0.0
    assert tri.quantile(1.0) == 10.0
    ln = LogNormal(median=10, p90=30)
    assert ln.quantile(0.5) == pytest.approx(10.0)
    assert ln.quantile(0.9) == pytest.approx(30.0, rel=1e-6)
    assert Exponential(4).quantile(1 - math.exp(-1)) == pytest.approx(4.0)
    assert Triangular(3, 3, 3).quantile(0.7) == 3.0


def test_descriptions_in_both_languages() -> None:
    assert Triangular(1, 4, 14).describe("zh") == "三角 1/4/14 日"
    assert Triangular(1, 4, 14).describe() == "triangular 1/4/14 d"
    assert LogNormal(8, 25).describe() == "log-normal median 8 d, p90 25 d"
    assert Uniform(0, 0.5).describe("zh") == "均匀 0至0.5 日"


def test_uniform_draws_are_fixed_by_their_key() -> None:
    a = uniform(1, "3.7", "rectify")
    assert a == uniform(1, "3.7", "rectify")
    assert 0 < a < 1
    assert a != uniform(2, "3.7", "rectify")
    assert a != uniform(1, "3.8", "rectify")
    assert a != uniform(1, "3.7", "review")
    assert a != uniform(1, "3.7", "rectify", 1)
    draws = [uniform(0, str(i), "x") for i in range(4000)]
    assert 0.47 < sum(draws) / len(draws) < 0.53


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda: Fixed(-1), "days", "must be a finite number of days, zero or more"),
        (lambda: Fixed(math.inf), "days", "must be a finite number of days"),
        (lambda: Fixed("3"), "days", "must be a finite number of days"),
        (lambda: Uniform(5, 2), "high", "must not be below low (5)"),
        (lambda: Triangular(1, 9, 5), "mode", "must lie between low (1) and high (5)"),
        (lambda: LogNormal(0, 5), "median", "must be above zero"),
        (lambda: LogNormal(10, 5), "p90", "must not be below the median (10)"),
        (lambda: Exponential(-2), "mean", "zero or more"),
    ],
)
def test_bad_distributions(make: object, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        make()  # type: ignore[operator]
    assert err.value.field == field
    assert words in str(err.value)


# ── scenario pieces ────────────────────────────────────────────────────────────────────────────────
T = Township("500240204", "三星乡", {"industry_trade": 3})
R = Rates({"industry_trade": 2.0})


def scenario(**changes: object) -> Scenario:
    base: dict[str, object] = {
        "name": "测试",
        "name_en": "test",
        "start": date(2024, 1, 1),
        "end": date(2024, 12, 31),
        "townships": [T],
        "rates": R,
    }
    base.update(changes)
    return Scenario(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda: Township("500240", "石柱县", {}), "code", "must be a township code"),
        (lambda: Township("5002402", "x", {}), "jurisdiction", "must be an administrative-division code"),
        (lambda: Township("500240204", "x", {"steel": 3}), "units['steel']", "is not an industry of the glossary"),
        (lambda: Township("500240204", "x", {"industry_trade": -1}), "units['industry_trade']", "whole number"),
        (
            lambda: Township("500240204", "x", {}, sizes={"small": 0.5}),
            "sizes",
            "the shares must add up to 1 (they add up to 0.5)",
        ),
        (lambda: Township("500240204", "x", {}, sizes={"tiny": 1.0}), "sizes['tiny']", "is not a known name"),
        (lambda: Area("12", "x"), "jurisdiction", "must be an administrative-division code"),
        (lambda: Rates({}), "per_unit_per_year", "at least one industry"),
        (lambda: Rates({"industry_trade": -1.0}), "per_unit_per_year['industry_trade']", "finite rate"),
        (lambda: Rates({"industry_trade": 1.0}, major_share=1.5), "major_share", "between 0 and 1"),
        (lambda: Rates({"industry_trade": 1.0}, major_share={"mines": 0.1}), "major_share['mines']", "industry"),
        (lambda: Rates({"industry_trade": 1.0}, channels={"tipoff": 0.5}), "channels", "must add up to 1"),
        (
            lambda: Rates({"industry_trade": 1.0}, channels={"rumour": 1.0}),
            "channels['rumour']",
            "is not a known name",
        ),
        (lambda: Rates({"industry_trade": 1.0}, size_weight={"small": 1.0}), "size_weight", "needs a weight for"),
        (lambda: Phase(date(2024, 5, 1), date(2024, 4, 1), "x", "x"), "end", "must not be before start"),
        (lambda: Phase(date(2024, 1, 1), date(2024, 4, 1), "x", "x", discovery=-1), "discovery", "finite rate"),
        (lambda: Backlog(majors={"industry_trade": -2}), "majors['industry_trade']", "whole number"),
        (
            lambda: Backlog(found_from=date(2023, 5, 1), found_to=date(2023, 1, 1)),
            "found_to",
            "must not be before found_from",
        ),
        (lambda: Backlog(planned_share=2), "planned_share", "between 0 and 1"),
        (lambda: Behaviour(spot_fix_share=1.2), "spot_fix_share", "between 0 and 1"),
        (lambda: Behaviour(rectify_days=7), "rectify_days", "must be a distribution"),  # type: ignore[arg-type]
        (lambda: Behaviour(comply_at_rung=0), "comply_at_rung", "must be a ladder rung, 1 or more"),
        (lambda: Behaviour(escalated_rectify_factor=-0.5), "escalated_rectify_factor", "finite rate"),
        (lambda: InflowCurbed(ratio=0), "ratio", "must be above zero"),
        (lambda: scenario(end=date(2023, 12, 31)), "end", "must not be before start (2024-01-01)"),
        (lambda: scenario(townships=[]), "townships", "at least one township"),
        (lambda: scenario(townships=[T, T]), "townships", "a township is listed twice"),
        (lambda: scenario(townships=["500240204"]), "townships", "must hold Township objects"),
        (lambda: scenario(size_mix={"small": 1.0, "large": 0.5}), "size_mix", "must add up to 1"),
        (
            lambda: scenario(behaviour_by_industry={"industry_trade": 3}),
            "behaviour_by_industry['industry_trade']",
            "must be a Behaviour",
        ),
        (lambda: scenario(targets=["stock"]), "targets", "must be campaign targets"),
        (lambda: scenario(calendar_beyond_data="guess"), "calendar_beyond_data", "unknown behaviour"),
        (
            lambda: scenario(backlog=Backlog(majors={"chemicals": 1})),
            "backlog.majors['chemicals']",
            "no township of the scenario has business units of this industry",
        ),
    ],
)
def test_bad_scenario_pieces(make: object, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        make()  # type: ignore[operator]
    assert err.value.field == field
    assert words in str(err.value)


def test_scenario_helpers() -> None:
    sc = scenario(
        phases=[
            Phase(date(2024, 1, 1), date(2024, 6, 30), "一", "one", discovery=2.0),
            Phase(date(2024, 7, 1), date(2024, 12, 31), "二", "two", major=0.5),
        ],
        stock_before=date(2023, 6, 1),
    )
    assert sc.phase_multipliers(date(2024, 3, 1)) == (2.0, 1.0)
    assert sc.phase_multipliers(date(2024, 9, 1)) == (1.0, 0.5)
    assert sc.stock_cutoff == date(2023, 6, 1)
    assert scenario().stock_cutoff == date(2024, 1, 1)
    assert sc.unit_count == 3
    special = Behaviour(rectify_days=Fixed(2))
    assert scenario(behaviour_by_industry={"chemicals": special}).behaviour_for("chemicals") is special
    assert HAND.with_policies(()).policies == ()
    assert attrs.evolve(R, major_share={"industry_trade": 0.2}).major("industry_trade") == 0.2
    assert attrs.evolve(R, major_share={"industry_trade": 0.2}).major("chemicals") == 0.0


def test_calendar_helpers() -> None:
    assert month_ends(date(2024, 1, 15), date(2024, 4, 30)) == (
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    )
    assert quarter_ends(date(2024, 2, 1), date(2025, 1, 1)) == (
        date(2024, 3, 31),
        date(2024, 6, 30),
        date(2024, 9, 30),
        date(2024, 12, 31),
    )


def test_histogram_statistics() -> None:
    assert median_of({}) is None
    assert mean_of({}) is None
    assert median_of({1.0: 1, 5.0: 1}) == 3.0
    assert median_of({1.0: 3, 9.0: 1}) == 1.0
    assert mean_of({2.0: 2, 4.0: 2}) == 3.0


# ── loading scenarios and policies by name ─────────────────────────────────────────────────────────
def test_load_scenario_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "my_scenario.py"
    path.write_text("from simulation_support import HAND\nscenario = HAND\nother = HAND\n", encoding="utf-8")
    assert load_scenario(str(path)) is HAND
    assert load_scenario(f"{path}:other") is HAND
    assert load_scenario("simulation_support:HAND") is HAND


def test_load_scenario_refusals(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("from simulation_support import HAND as busy\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        load_scenario(str(path))
    assert err.value.field == "scenario"
    assert "defines no Scenario named 'scenario'" in str(err.value)
    assert err.value.allowed == ("busy",)
    with pytest.raises(InvalidInput) as err:
        load_scenario(str(tmp_path / "missing.py"))
    assert err.value.field == "path"
    assert "no such file" in str(err.value)
    assert err.value.allowed == ("empty.py",)  # the Python files that do exist there
    folder = tmp_path / "a_folder.py"
    folder.mkdir()
    with pytest.raises(InvalidInput) as err:
        load_scenario(str(folder))
    assert "is not a file" in str(err.value)
    with pytest.raises(InvalidInput) as err:
        load_scenario("no_such_module_here:scenario")
    assert err.value.field == "module"
    assert "cannot be imported" in str(err.value)


def test_load_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.py"
    path.write_text(
        "from hazardflow.policies import NationalBaseline\n"
        "class Strict(NationalBaseline):\n    policy_id = 'test.strict'\n",
        encoding="utf-8",
    )
    assert load_policy(str(path)).__name__ == "Strict"
    assert load_policy(f"{path}:Strict").policy_id == "test.strict"
    two = tmp_path / "two.py"
    two.write_text(
        "from hazardflow.policies import NationalBaseline\n"
        "class A(NationalBaseline):\n    pass\nclass B(NationalBaseline):\n    pass\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as err:
        load_policy(str(two))
    assert err.value.field == "policy"
    assert "defines 2 policy classes" in str(err.value)
    assert err.value.allowed == ("A", "B")
    with pytest.raises(InvalidInput) as err:
        load_policy(f"{two}:C")
    assert "has no attribute 'C'" in str(err.value)
