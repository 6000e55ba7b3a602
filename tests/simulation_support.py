"""Small scenarios shared by the simulation tests (each runs in well under a second in memory)."""

from __future__ import annotations

from datetime import date

from hazardflow.simulation import (
    Area,
    Backlog,
    Behaviour,
    DynamicZero,
    Fixed,
    InflowCurbed,
    Rates,
    Scenario,
    StockCleared,
    Township,
)

TOWNSHIP = "500240204"
AREAS = (Area("500000", "重庆市"), Area("500240", "石柱土家族自治县"))

#: Every duration fixed and every choice certain: the figures of HAND can be worked out on paper.
CERTAIN = Behaviour(
    spot_fix_share=0.0,
    order_days=Fixed(0),
    order_deadline_days=Fixed(10),
    rectify_days=Fixed(7),
    review_days=Fixed(1),
    late_review_share=0.0,
    review_pass_rate=1.0,
    major_review_pass_rate=1.0,
    confirm_days=Fixed(1),
    report_days=Fixed(1),
    list_share=0.0,
    plan_days=Fixed(1),
    plan_deadline_days=Fixed(28),
    major_rectify_days=Fixed(35),
    extension_share=0.0,
    refusal_share=0.0,
)

#: Four general and two major hazards of 2023 on the ledger on Monday 2024-03-04, and nothing new.
HAND = Scenario(
    name="手算情景",
    name_en="hand-computed scenario",
    start=date(2024, 3, 4),
    end=date(2024, 6, 30),
    areas=AREAS,
    townships=[Township(TOWNSHIP, "三星乡", {"industry_trade": 1})],
    rates=Rates({"industry_trade": 0.0}),
    backlog=Backlog(majors={"industry_trade": 2}, generals={"industry_trade": 4}),
    behaviour=CERTAIN,
    targets=[StockCleared(by=date(2024, 3, 31)), StockCleared(by=date(2024, 4, 30), id="stock_cleared_april")],
)

#: A busy little township over one year: every behaviour in play (spot fixes, extensions, refusals, rejected
#: reviews, listings, tip-offs, escalations), several hundred cases.
BUSY = Scenario(
    name="繁忙的乡镇",
    name_en="busy township",
    start=date(2024, 1, 1),
    end=date(2024, 12, 31),
    areas=AREAS,
    townships=[Township(TOWNSHIP, "三星乡", {"industry_trade": 30, "chemicals": 4, "construction": 8})],
    rates=Rates({"industry_trade": 5, "chemicals": 10, "construction": 8}, major_share=0.04),
    backlog=Backlog(majors={"chemicals": 2, "industry_trade": 2}, generals={"industry_trade": 5}, planned_share=0.5),
    behaviour=Behaviour(refusal_share=0.1, escalation_share=0.5, list_share=0.5, late_review_share=0.3),
    targets=[StockCleared(), InflowCurbed(), DynamicZero()],
)
