"""What the single run gained with ensembles: reporting obligations filed on time or late, 回头看 reopenings,
and open tip-offs and escalations of a forecast database carried on."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from ensemble_scenarios import SMALL
from hazardflow import InvalidInput
from hazardflow.persistence.memory import MemoryStore
from hazardflow.simulation import Behaviour, Fixed, LookBack, Simulation, build_engine, simulate
from simulation_support import BUSY

UNITS = sum(SMALL.townships[0].units.values())


def _filings(late_share: float) -> object:
    beh = attrs.evolve(SMALL.behaviour, late_filing_share=late_share, late_filing_days=Fixed(10))
    return simulate(attrs.evolve(SMALL, filings=True, behaviour=beh), seed=2)


def test_every_unit_files_its_quarterly_statistics_and_on_time_ones_are_never_overdue() -> None:
    # 16号令 §14: the 2024 Q1 statistics are due by 15 April; Q2's (due 15 July) fall after the run's end.
    r = _filings(0.0)
    total = r.total.to_json()  # type: ignore[attr-defined]
    assert total["filings"] == {"filed": UNITS, "overdue": 0}
    q2 = r.period("2024Q2").to_json()  # type: ignore[attr-defined]
    assert q2["filings"]["filed"] == UNITS  # filed in April, before the 15th
    assert total["refused_commands"] == {}


def test_late_filings_go_overdue_and_start_the_ladder() -> None:
    r = _filings(1.0)
    total = r.total.to_json()  # type: ignore[attr-defined]
    assert total["filings"] == {"filed": UNITS, "overdue": UNITS}
    assert r.total.event_count("report_obligation", "sanction") >= UNITS  # type: ignore[attr-defined]


def test_filings_leave_the_hazards_alone() -> None:
    plain = simulate(SMALL, seed=2)
    with_filings = _filings(0.3)
    for label in ("2024Q1", "2024Q2", "total"):
        a, b = plain.period(label).to_json(), with_filings.period(label).to_json()  # type: ignore[attr-defined]
        for key in ("opened", "closed", "on_time_rate", "days_to_close", "levels"):
            assert a[key] == b[key]


def _conserved(r: object) -> None:
    """Found + carried in - closed - voided + reopened = hazards open at the end (no adopted cases)."""
    t = r.total.to_json()  # type: ignore[attr-defined]
    found = t["opened"]["total"] + t["opened"]["carried_in"]
    closed = t["closed"]["total"]
    voided = sum(t["voided"].values())
    reopened = t["look_back"]["reopened"]
    assert found - closed - voided + reopened == sum(t["levels"]["open"].values())


def test_look_back_reopens_closed_hazards_and_the_levels_count_them_open_again() -> None:
    lb = LookBack(check_share=0.5, fail_share=0.5, after_days=Fixed(20), deadline_days=Fixed(10))
    r = simulate(attrs.evolve(SMALL, look_back=lb), seed=3)
    reopened = r.total.to_json()["look_back"]["reopened"]
    assert reopened > 5
    _conserved(r)
    plain = simulate(SMALL, seed=3)
    _conserved(plain)
    assert plain.total.to_json()["look_back"]["reopened"] == 0
    # the hazards found are the same; what differs is what the look-back sent back to rectification
    assert r.total.total_opened() == plain.total.total_opened()
    assert r.total.closed() > plain.total.closed()


def test_a_look_back_limited_to_majors_reopens_only_majors() -> None:
    lb = LookBack(check_share=1.0, fail_share=1.0, after_days=Fixed(5), majors_only=True)
    r = simulate(attrs.evolve(BUSY, look_back=lb, end=date(2024, 6, 30)), seed=1)
    _conserved(r)
    assert r.total.event_count("hazard", "reopen") > 0
    # every reopened case is a major: the second closures are all majors
    general_closures = r.total.closed("general")
    plain = simulate(attrs.evolve(BUSY, end=date(2024, 6, 30)), seed=1)
    assert general_closures == plain.total.closed("general")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"check_share": 1.5}, "look_back.check_share"),
        ({"fail_share": -0.1}, "look_back.fail_share"),
        ({"after_days": 3}, "look_back.after_days"),
    ],
)
def test_bad_look_back_settings_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        LookBack(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_bad_late_filing_share_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        Behaviour(late_filing_share=2.0)
    assert info.value.field == "late_filing_share"


def test_a_forecast_carries_on_open_tipoffs_and_escalations() -> None:
    # slow checks of tip-offs, so some are still under verification when the first run stops
    busy = attrs.evolve(BUSY, behaviour=attrs.evolve(BUSY.behaviour, verify_days=Fixed(20), pool_days=Fixed(40)))
    engine = build_engine(busy, store=MemoryStore())
    Simulation(busy, seed=3, engine=engine, until=date(2024, 8, 14)).run()
    tipoffs = {c.id for c in engine.cases(workflow="tipoff", open_only=True)}
    escalations = {c.id for c in engine.cases(workflow="escalation", open_only=True)}
    assert tipoffs
    assert escalations
    later = attrs.evolve(busy, start=date(2024, 8, 15), backlog=None, targets=[])
    second = Simulation(later, seed=3, engine=engine).run()
    assert second.stats.adopted_tipoffs == len(tipoffs)
    assert second.stats.adopted_escalations == len(escalations)
    still = {c.id for c in engine.cases(open_only=True)}
    assert not tipoffs & still  # every carried tip-off was verified: substantiated or dismissed
    assert len(escalations & still) < len(escalations)
    assert engine.verify_audit().problems == ()


def test_weekly_and_half_monthly_reports_are_opened_once_each() -> None:
    # 衡阳市's enforcement statistics are weekly and its scheduling half-monthly [seed:003 item 6].
    import io
    import json

    from hazardflow_seed_policies import HengyangCity, HunanProvince

    from hazardflow.simulation import Area, Rates, Scenario, Township

    sc = Scenario(
        name="衡阳",
        name_en="Hengyang",
        start=date(2024, 1, 1),
        end=date(2024, 6, 30),
        areas=[Area("430000", "湖南省"), Area("430400", "衡阳市"), Area("430407", "石鼓区")],
        townships=[Township("430407100", "人民街道", {"industry_trade": 5})],
        rates=Rates({"industry_trade": 3}),
        policies=[HunanProvince, HengyangCity],
        filings=True,
    )
    log = io.StringIO()
    r = simulate(sc, seed=1, audit_log=log)
    opened = [
        (e["payload"]["obligation"], e["payload"]["party_id"], e["payload"]["period"])
        for e in map(json.loads, log.getvalue().splitlines())
        if e["trigger"] == "open_obligation"
    ]
    assert len(opened) == len(set(opened))
    weeks = {p for ob, _party, p in opened if ob == "weekly_enforcement_statistics"}
    assert weeks == {f"2024-W{w:02d}" for w in range(1, 27)}  # 1 January 2024 is a Monday
    halves = {p for ob, _party, p in opened if ob == "half_monthly_scheduling"}
    assert len(halves) == 12
    assert r.total.to_json()["refused_commands"] == {}


def test_cases_reopened_and_closed_again_within_a_quarter_are_counted_once_each_time() -> None:
    # Every closed hazard fails its look-back five days later: many cases close, reopen and close again inside
    # one quarter, their histories handed over by the store more than once; the figures still balance.
    lb = LookBack(check_share=1.0, fail_share=1.0, after_days=Fixed(5))
    r = simulate(attrs.evolve(BUSY, look_back=lb, end=date(2024, 6, 30)), seed=1)
    assert r.total.to_json()["look_back"]["reopened"] > r.total.total_opened()  # type: ignore[attr-defined]
    _conserved(r)
