"""池州市安全生产治本攻坚三年行动（2024—2026年）· a city of four counties, run county by county in parallel.

池州市 (安徽省) has four county-level divisions: 贵池区 (341702), 东至县 (341721), 石台县 (341722) and 青阳县
(341723); those codes are the real 统计用区划代码. The towns and townships below are the counties' own, but
their codes are numbered in list order under each county's code for this example (not the official codes),
as in ``dongzhi_county_2024_2026.py``. Unit counts, rates and behaviour are illustrative: about 10,000
business units and some 200,000 hazard cases over the three years.

Escalations cross tiers: a township pushes hard cases up to its county's pool (蓄水池), and a county pushes some
of what it accepted on to the city's pool (``escalation_onward_share``). Run as its counties in parallel
(``--partition county``), each county is one task whose engine holds the whole tree, so the city decides a
county's escalations inside that county's task, exactly as in one run of the whole city (see
:mod:`hazardflow.simulation._partition` and the docs page "How sure is this result?").

Run it (``pip install -e examples/policies`` first)::

    hazardflow simulate examples/scenarios/chizhou_city_2024_2026.py --seeds 1-4 --partition county
"""

from __future__ import annotations

from datetime import date

from hazardflow_seed_policies import AnhuiProvince, ChizhouCity, DongzhiCounty

from hazardflow.simulation import (
    Area,
    Backlog,
    Behaviour,
    DynamicZero,
    InflowCurbed,
    Phase,
    Rates,
    Scenario,
    StockCleared,
    Township,
)

#: County code, name, and its towns and townships with their number of business units.
_COUNTIES = (
    (
        "341702",
        "贵池区",
        (
            ("秋浦街道", 420),
            ("池阳街道", 380),
            ("江口街道", 300),
            ("里山街道", 220),
            ("梅龙街道", 260),
            ("墩上街道", 180),
            ("马衙街道", 200),
            ("梅街镇", 160),
            ("殷汇镇", 180),
            ("牛头山镇", 160),
            ("乌沙镇", 140),
            ("唐田镇", 120),
            ("涓桥镇", 120),
            ("棠溪镇", 100),
        ),
    ),
    (
        "341721",
        "东至县",
        (
            ("尧渡镇", 450),
            ("东流镇", 225),
            ("大渡口镇", 225),
            ("胜利镇", 150),
            ("张溪镇", 150),
            ("洋湖镇", 150),
            ("葛公镇", 150),
            ("香隅镇", 175),
            ("官港镇", 125),
            ("昭潭镇", 125),
            ("龙泉镇", 125),
            ("泥溪镇", 125),
            ("花园里乡", 100),
            ("木塔乡", 100),
            ("青山乡", 125),
        ),
    ),
    (
        "341722",
        "石台县",
        (
            ("仁里镇", 200),
            ("七都镇", 120),
            ("横渡镇", 100),
            ("丁香镇", 100),
            ("小河镇", 110),
            ("仙寓镇", 90),
            ("矶滩乡", 70),
            ("大演乡", 70),
        ),
    ),
    (
        "341723",
        "青阳县",
        (
            ("蓉城镇", 450),
            ("木镇镇", 160),
            ("陵阳镇", 150),
            ("新河镇", 180),
            ("丁桥镇", 160),
            ("朱备镇", 120),
            ("杜村乡", 100),
            ("酉华镇", 110),
            ("庙前镇", 120),
            ("杨田镇", 100),
            ("乔木乡", 90),
        ),
    ),
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
_CHEMICAL_PARKS = {"香隅镇", "江口街道"}
_PARK_MIX = {**_MIX, "chemicals": 0.25, "industry_trade": 0.20, "fire_safety": 0.22}


def _units(total: int, mix: dict[str, float]) -> dict[str, int]:
    counts = {k: int(total * v) for k, v in mix.items()}
    counts["industry_trade"] += total - sum(counts.values())
    return counts


scenario = Scenario(
    name="池州市安全生产治本攻坚三年行动（2024—2026年）",
    name_en="Chizhou city: three-year root-cause campaign 2024-2026, four counties",
    start=date(2024, 1, 1),
    end=date(2026, 12, 31),
    areas=[
        Area("340000", "安徽省"),
        Area("341700", "池州市"),
        *(Area(code, name) for code, name, _places in _COUNTIES),
    ],
    townships=[
        Township(f"{code}{100 + i:03d}", place, _units(n, _PARK_MIX if place in _CHEMICAL_PARKS else _MIX))
        for code, _name, places in _COUNTIES
        for i, (place, n) in enumerate(places)
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
        majors={"chemicals": 30, "industry_trade": 24, "construction": 14, "metal_nonmetal_mine": 10, "gas": 10},
        generals={"industry_trade": 500, "fire_safety": 500},
        found_from=date(2023, 1, 1),
        found_to=date(2023, 12, 31),
        planned_share=0.4,
    ),
    behaviour=Behaviour(escalation_share=0.15, escalation_onward_share=0.3),
    policies=[AnhuiProvince, ChizhouCity, DongzhiCounty],
    targets=[StockCleared(), InflowCurbed(), DynamicZero()],
)
