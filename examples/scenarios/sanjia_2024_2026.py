"""三甲镇安全生产治本攻坚三年行动（2024—2026年）· 三甲镇's three-year campaign.

高平市三甲镇 (山西省晋城市) adopted the national campaign [S16] with its three targets — the stock found in
2023 or earlier basically cleared by the end of 2024, new major hazards curbed by the end of 2025, dynamic
zeroing by the end of 2026 — and four phases: mobilisation to the end of February 2024, concentrated
work from March 2024 to December 2025, root-cause improvement from January to September 2026, evaluation
from October to December 2026 [seed:000 一(二), 四]. A coal-mining town: its plan names mines, hazardous
chemicals, industry and trade, construction, transport and gas [seed:000 item 26].

The unit counts, hazard rates and behaviour below are illustrative, not data from the seed. The rules are
三甲镇's policy and the layers above it (``hazardflow_seed_policies``: Shanxi's two-level confirmation of a
major hazard, 高平市's criteria citations and review-gated closure).

Run it (``pip install -e examples/policies`` first)::

    hazardflow simulate examples/scenarios/sanjia_2024_2026.py --seed 1
"""

from __future__ import annotations

from datetime import date

from hazardflow_seed_policies import GaopingCity, SanjiaTown, ShanxiProvince

from hazardflow.simulation import (
    Area,
    Backlog,
    Behaviour,
    DynamicZero,
    InflowCurbed,
    LogNormal,
    Phase,
    Rates,
    Scenario,
    StockCleared,
    Township,
)

_default = Behaviour()

# A third of the major hazards go up to 高平市's pool (蓄水池) once their plan is adopted: the town cannot
# bring the departments and funds a coal mine's or a gas network's fix needs on its own [inference].
_escalating = Behaviour(escalation_share=0.35)

scenario = Scenario(
    name="三甲镇安全生产治本攻坚三年行动（2024—2026年）",
    name_en="Sanjia town: three-year root-cause campaign 2024-2026",
    start=date(2024, 1, 1),
    end=date(2026, 12, 31),
    areas=[Area("140000", "山西省"), Area("140500", "晋城市"), Area("140581", "高平市")],
    townships=[
        Township(
            "140581102",
            "三甲镇",
            units={
                "coal_mine": 3,
                "metal_nonmetal_mine": 2,
                "chemicals": 2,
                "industry_trade": 40,
                "construction": 12,
                "fire_safety": 45,
                "road_transport": 15,
                "gas": 6,
            },
        )
    ],
    rates=Rates(
        per_unit_per_year={
            "coal_mine": 12,
            "metal_nonmetal_mine": 8,
            "chemicals": 8,
            "industry_trade": 5,
            "construction": 7,
            "fire_safety": 3,
            "road_transport": 3,
            "gas": 5,
        },
        major_share={
            "coal_mine": 0.04,
            "metal_nonmetal_mine": 0.04,
            "chemicals": 0.03,
            "industry_trade": 0.008,
            "construction": 0.02,
            "fire_safety": 0.008,
            "road_transport": 0.005,
            "gas": 0.03,
        },
    ),
    phases=[
        Phase(date(2024, 1, 1), date(2024, 2, 29), "动员部署", "mobilisation"),
        Phase(date(2024, 3, 1), date(2025, 12, 31), "集中攻坚", "concentrated work", discovery=1.3),
        Phase(date(2026, 1, 1), date(2026, 9, 30), "治本提升", "root-cause improvement", major=0.6),
        Phase(date(2026, 10, 1), date(2026, 12, 31), "总结评估", "evaluation", discovery=0.9, major=0.5),
    ],
    backlog=Backlog(
        majors={"coal_mine": 2, "industry_trade": 2, "fire_safety": 1, "construction": 1},
        generals={"industry_trade": 10, "fire_safety": 8},
        found_from=date(2023, 1, 1),
        found_to=date(2023, 12, 31),
        planned_share=0.5,
    ),
    behaviour=_escalating,
    # A coal mine's major hazard takes months of engineering work, and half of them go up to the pool.
    behaviour_by_industry={
        "coal_mine": Behaviour(
            major_rectify_days=LogNormal(90, 200),
            plan_deadline_days=_default.plan_deadline_days,
            escalation_share=0.5,
        )
    },
    policies=[ShanxiProvince, GaopingCity, SanjiaTown],
    targets=[StockCleared(), InflowCurbed(), DynamicZero()],
)
