"""青屏街街道安全生产治本攻坚三年行动（2024—2026年）· 青屏街's three-year campaign.

新密市青屏街街道 (河南省郑州市) is an urban street office: its plan concentrates on crowded places and
warehouses (fire safety), construction sites, hazardous chemicals and town gas (六查一打), closes major
hazards only through review by the territorial supervising departments (审核把关销号), answers slow progress
with 函告、通报、约谈、曝光, and keeps the campaign's three targets [seed:001 一(二), items 2, 8, 9].

The unit counts, hazard rates and behaviour below are illustrative, not data from the seed. The rules are
青屏街's policy and 新密市's (``hazardflow_seed_policies``: every major hazard listed for supervision and
production stopped until review, the street's overdue ladder).

Run it (``pip install -e examples/policies`` first)::

    hazardflow simulate examples/scenarios/qingpingjie_2024_2026.py --seed 1
"""

from __future__ import annotations

from datetime import date

from hazardflow_seed_policies import QingpingjieStreet, XinmiCity

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

scenario = Scenario(
    name="青屏街街道安全生产治本攻坚三年行动（2024—2026年）",
    name_en="Qingpingjie street: three-year root-cause campaign 2024-2026",
    start=date(2024, 1, 1),
    end=date(2026, 12, 31),
    areas=[Area("410000", "河南省"), Area("410100", "郑州市"), Area("410183", "新密市")],
    townships=[
        Township(
            "410183001",
            "青屏街街道",
            units={
                "fire_safety": 180,
                "construction": 25,
                "gas": 12,
                "industry_trade": 35,
                "road_transport": 8,
                "chemicals": 3,
                "other": 20,
            },
            sizes={"small": 0.85, "medium": 0.12, "large": 0.03},
        )
    ],
    rates=Rates(
        per_unit_per_year={
            "fire_safety": 2.5,
            "construction": 8,
            "gas": 4,
            "industry_trade": 4,
            "road_transport": 3,
            "chemicals": 6,
            "other": 2,
        },
        major_share={
            "fire_safety": 0.01,
            "construction": 0.02,
            "gas": 0.03,
            "industry_trade": 0.008,
            "road_transport": 0.005,
            "chemicals": 0.03,
            "other": 0.005,
        },
        channels={
            "enterprise_self_inspection": 0.55,
            "supervisory_inspection": 0.25,
            "enforcement": 0.1,
            "tipoff": 0.1,
        },
    ),
    phases=[
        Phase(date(2024, 1, 1), date(2024, 12, 31), "大排查大整治", "screening and rectification", discovery=1.3),
        Phase(date(2025, 1, 1), date(2025, 12, 31), "巩固深化", "consolidation", discovery=1.1, major=0.8),
        Phase(date(2026, 1, 1), date(2026, 12, 31), "动态清零", "dynamic zeroing", major=0.6),
    ],
    backlog=Backlog(
        majors={"fire_safety": 3, "gas": 2, "construction": 1},
        generals={"fire_safety": 20, "construction": 5},
        found_from=date(2023, 1, 1),
        found_to=date(2023, 12, 31),
        planned_share=0.3,
    ),
    behaviour=Behaviour(spot_fix_share=0.55),
    policies=[XinmiCity, QingpingjieStreet],
    targets=[StockCleared(), InflowCurbed(), DynamicZero()],
)
