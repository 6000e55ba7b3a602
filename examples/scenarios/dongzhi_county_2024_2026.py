"""东至县安全生产治本攻坚三年行动（2024—2026年）· a county-scale run: 15 townships, 5,000 units, ~100,000 cases.

东至县 (安徽省池州市) adopted the campaign's three targets and phases in April 2024 [seed:004 四, 七]. This
scenario runs the whole county: its 15 towns and townships, about 5,000 business units, and some 100,000
hazard cases over the three years — the size the simulator is benchmarked on (``benchmarks/simulation.py``).
香隅镇 hosts the county's chemical park, so its mix leans to chemicals.

The township names are the county's; their division codes are numbered in list order under the county's
code for this example and are not the official 统计用区划代码. Unit counts, rates and behaviour are
illustrative. The rules are 东至县's policy and the layers above it (``hazardflow_seed_policies``; from 2024-04-11
the county refuses a plan for a stock major hazard that would end after 2024).

Run it (``pip install -e examples/policies`` first; about a minute in memory)::

    hazardflow simulate examples/scenarios/dongzhi_county_2024_2026.py --seed 1
"""

from __future__ import annotations

from datetime import date

from hazardflow_seed_policies import AnhuiProvince, ChizhouCity, DongzhiCounty

from hazardflow.simulation import (
    Area,
    Backlog,
    DynamicZero,
    InflowCurbed,
    Phase,
    Rates,
    Scenario,
    StockCleared,
    Township,
)

#: Towns and townships with their number of business units (尧渡镇 is the county seat).
_PLACES = (
    ("尧渡镇", 900),
    ("东流镇", 450),
    ("大渡口镇", 450),
    ("胜利镇", 300),
    ("张溪镇", 300),
    ("洋湖镇", 300),
    ("葛公镇", 300),
    ("香隅镇", 350),
    ("官港镇", 250),
    ("昭潭镇", 250),
    ("龙泉镇", 250),
    ("泥溪镇", 250),
    ("花园里乡", 200),
    ("木塔乡", 200),
    ("青山乡", 250),
)
_MIX = {
    "industry_trade": 0.30,
    "fire_safety": 0.35,
    "construction": 0.10,
    "road_transport": 0.10,
    "gas": 0.05,
    "chemicals": 0.02,
    "metal_nonmetal_mine": 0.03,
    "other": 0.05,
}
_CHEMICAL_PARK = {**_MIX, "chemicals": 0.25, "industry_trade": 0.20, "fire_safety": 0.22}


def _units(total: int, mix: dict[str, float]) -> dict[str, int]:
    counts = {k: int(total * v) for k, v in mix.items()}
    counts["industry_trade"] += total - sum(counts.values())
    return counts


scenario = Scenario(
    name="东至县安全生产治本攻坚三年行动（2024—2026年）",
    name_en="Dongzhi county: three-year root-cause campaign 2024-2026",
    start=date(2024, 1, 1),
    end=date(2026, 12, 31),
    areas=[Area("340000", "安徽省"), Area("341700", "池州市"), Area("341721", "东至县")],
    townships=[
        Township(f"341721{100 + i:03d}", name, _units(n, _CHEMICAL_PARK if name == "香隅镇" else _MIX))
        for i, (name, n) in enumerate(_PLACES)
    ],
    rates=Rates(
        per_unit_per_year={
            "industry_trade": 4.3,
            "fire_safety": 3.35,
            "construction": 5.7,
            "road_transport": 2.9,
            "gas": 3.8,
            "chemicals": 8.6,
            "metal_nonmetal_mine": 6.7,
            "other": 2.4,
        },
        major_share={
            "industry_trade": 0.006,
            "fire_safety": 0.005,
            "construction": 0.012,
            "road_transport": 0.004,
            "gas": 0.02,
            "chemicals": 0.025,
            "metal_nonmetal_mine": 0.03,
            "other": 0.004,
        },
    ),
    phases=[
        Phase(date(2024, 1, 1), date(2024, 4, 30), "部署", "deployment"),
        Phase(date(2024, 5, 1), date(2025, 12, 31), "八大行动", "eight actions", discovery=1.15),
        Phase(date(2026, 1, 1), date(2026, 9, 30), "专项整治攻坚", "focused rectification", major=0.7),
        Phase(date(2026, 10, 1), date(2026, 12, 31), "总结提升", "summing up", discovery=0.9, major=0.6),
    ],
    backlog=Backlog(
        majors={"chemicals": 12, "industry_trade": 10, "construction": 6, "metal_nonmetal_mine": 4, "gas": 4},
        generals={"industry_trade": 200, "fire_safety": 200},
        found_from=date(2023, 1, 1),
        found_to=date(2023, 12, 31),
        planned_share=0.4,
    ),
    policies=[AnhuiProvince, ChizhouCity, DongzhiCounty],
    targets=[StockCleared(), InflowCurbed(), DynamicZero()],
)
