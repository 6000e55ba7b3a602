"""Scenarios for the ensemble tests, loaded *by reference* in worker processes (``tests/ensemble_scenarios.py:NAME``).

``BINOMIAL`` is built so that a figure has a known distribution: 20 general hazards of 2023 are on the
ledger on the first morning and nothing new is found; each is fixed on the spot with probability 0.3 (an
independent draw per hazard), and a hazard not fixed on the spot waits 200 days for its fix, long past the
end of the quarter. So the hazards closed in the quarter are Binomial(20, 0.3), and the target "at most 15
general hazards open at the end" is met with probability P(Binomial(20, 0.3) >= 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from math import comb
from pathlib import Path

import attrs

from hazardflow.simulation import (
    Area,
    Backlog,
    Behaviour,
    DynamicZero,
    Fixed,
    InflowCurbed,
    Levels,
    Rates,
    Scenario,
    StockCleared,
    TargetOutcome,
    Township,
)

HERE = Path(__file__).resolve()
AREAS = (Area("500000", "重庆市"), Area("500240", "石柱土家族自治县"))
TOWNSHIP = "500240204"

N_HAZARDS = 20
SPOT_SHARE = 0.3
ALLOWED_OPEN = 15


def binomial_tail(n: int, p: float, k: int) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


#: The probability that BINOMIAL meets its target.
TARGET_P = binomial_tail(N_HAZARDS, SPOT_SHARE, N_HAZARDS - ALLOWED_OPEN)


@attrs.frozen
class OpenGeneralsAtMost:
    """At most ``allowed`` general hazards open at the end of ``by``."""

    by: date
    allowed: int
    id: str = "open_generals_at_most"

    def checkpoints(self) -> tuple[date, ...]:
        return (self.by,)

    def evaluate(self, levels: Mapping[date, Levels]) -> TargetOutcome:
        lv = levels[self.by]
        value = lv.open.get("general", 0)
        return TargetOutcome(
            self.id,
            f"期末一般隐患不超过 {self.allowed} 项",
            f"at most {self.allowed} general hazards open",
            value <= self.allowed,
            float(value),
            float(self.allowed),
            f"{value} 项",
            f"{value} open",
            "test",
            self.by,
        )


BINOMIAL = Scenario(
    name="二项分布情景",
    name_en="binomial scenario",
    start=date(2024, 1, 1),
    end=date(2024, 3, 31),
    areas=AREAS,
    townships=[Township(TOWNSHIP, "三星乡", {"industry_trade": 5})],
    rates=Rates({"industry_trade": 0.0}),
    backlog=Backlog(generals={"industry_trade": N_HAZARDS}),
    behaviour=Behaviour(
        spot_fix_share=SPOT_SHARE,
        spot_fix_days=Fixed(0.05),
        order_days=Fixed(0.1),
        order_deadline_days=Fixed(300),
        rectify_days=Fixed(200),
        extension_share=0.0,
        refusal_share=0.0,
    ),
    targets=[OpenGeneralsAtMost(date(2024, 3, 31), ALLOWED_OPEN)],
)

#: A small township over half a year with every behaviour in play (a fraction of a second a seed).
SMALL = Scenario(
    name="小乡镇",
    name_en="small township",
    start=date(2024, 1, 1),
    end=date(2024, 6, 30),
    areas=AREAS,
    townships=[Township(TOWNSHIP, "三星乡", {"industry_trade": 12, "chemicals": 3, "construction": 4})],
    rates=Rates({"industry_trade": 5, "chemicals": 10, "construction": 8}, major_share=0.06),
    backlog=Backlog(majors={"chemicals": 2, "industry_trade": 1}, generals={"industry_trade": 5}, planned_share=0.5),
    behaviour=Behaviour(refusal_share=0.1, escalation_share=0.5, list_share=0.5, late_review_share=0.3),
    targets=[StockCleared(by=date(2024, 3, 31)), InflowCurbed(by=date(2024, 6, 30), baseline=date(2024, 3, 31))],
)

#: Two counties of 池州市 (real division codes for the city and the counties; township codes numbered for
#: the test), with escalations to the county pools, for the partitioned runs.
TWO_COUNTIES = Scenario(
    name="两县",
    name_en="two counties",
    start=date(2024, 1, 1),
    end=date(2024, 9, 30),
    areas=[Area("340000", "安徽省"), Area("341700", "池州市"), Area("341721", "东至县"), Area("341722", "石台县")],
    townships=[
        Township("341721100", "尧渡镇", {"industry_trade": 15, "chemicals": 3}),
        Township("341721101", "东流镇", {"industry_trade": 8, "fire_safety": 8}),
        Township("341722100", "仁里镇", {"industry_trade": 12, "chemicals": 4}),
    ],
    rates=Rates({"industry_trade": 5, "chemicals": 10, "fire_safety": 3}, major_share=0.06),
    backlog=Backlog(majors={"chemicals": 4}, generals={"industry_trade": 12}),
    # Many rejected fixes, back under deadlines already past: their timers fire at once, which must not
    # depend on what the other county's cases do.
    behaviour=Behaviour(
        escalation_share=0.6,
        escalation_onward_share=0.6,
        refusal_share=0.05,
        review_pass_rate=0.5,
        late_review_share=0.4,
    ),
    targets=[StockCleared(by=date(2024, 6, 30)), DynamicZero(first=date(2024, 7, 1), last=date(2024, 9, 30))],
)


def ref(name: str) -> str:
    """The reference a worker loads: this file and the scenario's name."""
    return f"{HERE}:{name}"


def crashing() -> Scenario:
    """SMALL in the process that starts an ensemble; in a worker process it kills the worker, every time."""
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return SMALL
