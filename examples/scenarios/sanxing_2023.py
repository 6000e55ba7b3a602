"""三星乡重大事故隐患专项排查整治2023行动 · 三星乡's 2023 special action on major hazards.

石柱土家族自治县三星乡 (重庆市) issued its action plan on 2023-05-18 [seed:002]: a 集中排查 phase to the end of
August (ledger of every problem, 任务清单/责任清单/时限进度清单), a 重点整治 phase to the end of November with
every major hazard under 措施、责任、资金、时限和预案 "五落实", and hard problems pushed from the township's
全量库 to the county's 蓄水池 under the admission procedure (分管领导, then 主要领导) [seed:002 (八)]. The plan
names the industries it focuses on: rural road transport, construction, fireworks, industry and trade, gas
and fire safety [seed:002 一].

The unit counts, hazard rates and behaviour below are illustrative (a small mountain township), not data
from the seed. The rules are 三星乡's policy and the layers above it (``hazardflow_seed_policies``: 双报告
to three recipients, criteria citations for a major grading, the 蓄水池 admission procedure, the county pool).

Run it (``pip install -e examples/policies`` first)::

    hazardflow simulate examples/scenarios/sanxing_2023.py --seed 1
"""

from __future__ import annotations

from datetime import date

from hazardflow_seed_policies import ChongqingMunicipality, SanxingTownship, ShizhuCounty

from hazardflow.simulation import (
    Area,
    Backlog,
    Behaviour,
    MajorsGoverned,
    Phase,
    Rates,
    Scenario,
    Township,
    Triangular,
)

scenario = Scenario(
    name="三星乡重大事故隐患专项排查整治2023行动",
    name_en="Sanxing township: 2023 special action on major hazards",
    start=date(2023, 5, 18),
    end=date(2023, 12, 31),
    areas=[Area("500000", "重庆市"), Area("500240", "石柱土家族自治县")],
    townships=[
        Township(
            "500240204",
            "三星乡",
            units={
                "road_transport": 12,
                "construction": 6,
                "fireworks": 4,
                "industry_trade": 10,
                "gas": 3,
                "fire_safety": 30,
            },
        )
    ],
    rates=Rates(
        per_unit_per_year={
            "road_transport": 4,
            "construction": 8,
            "fireworks": 6,
            "industry_trade": 6,
            "gas": 5,
            "fire_safety": 3,
        },
        major_share={
            "road_transport": 0.01,
            "construction": 0.03,
            "fireworks": 0.05,
            "industry_trade": 0.01,
            "gas": 0.04,
            "fire_safety": 0.01,
        },
    ),
    phases=[
        Phase(date(2023, 5, 18), date(2023, 5, 31), "动员部署", "mobilisation"),
        Phase(date(2023, 6, 1), date(2023, 8, 31), "集中排查", "concentrated screening", discovery=2.0),
        Phase(date(2023, 9, 1), date(2023, 11, 30), "重点整治", "focused rectification", discovery=1.2),
        Phase(date(2023, 12, 1), date(2023, 12, 31), "巩固提升", "consolidation", discovery=0.8),
    ],
    backlog=Backlog(
        majors={"construction": 1, "gas": 1, "industry_trade": 1},
        generals={"fire_safety": 6, "road_transport": 4},
        found_from=date(2023, 1, 1),
        found_to=date(2023, 5, 17),
    ),
    # Hard problems go from the township's 全量库 to the county's 蓄水池 [seed:002 (八)].
    behaviour=Behaviour(escalation_share=0.3, plan_deadline_days=Triangular(20, 45, 90)),
    policies=[ChongqingMunicipality, ShizhuCounty, SanxingTownship],
    targets=[MajorsGoverned(found_by=date(2023, 8, 31), by=date(2023, 11, 30))],
)
