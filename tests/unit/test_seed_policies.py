"""The seed jurisdictions' rules, driven through the real engine (one engine serves them all at once)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

import seed_support
from hazardflow import (
    Actor,
    Case,
    Engine,
    GuardRejected,
    NotAuthorized,
    SequentialIds,
    SimulatedClock,
    UnknownJurisdictionError,
)
from hazardflow._calendar import local_date, resolve

seeds = seed_support.seeds()

SANXING, SHIZHU = "500240204", "500240"
QINGPINGJIE, XINMI = "410183001", "410183"
SANJIA, GAOPING = "140581102", "140581"
HENGYANG = "430400"
DONGZHI = "341721"
UNIT = "BU-7"


def person(pid: str, role: str, where: str, org: str | None = None) -> Actor:
    return Actor(pid, f"姓名{pid}", {role}, org or f"org@{where}", where)


def engine_at(when: str = "2024-05-06T09:00:00+08:00") -> Engine:
    return Engine(
        clock=SimulatedClock(when),
        policies=seeds.POLICIES,
        jurisdictions=seeds.jurisdiction_tree(),
        ids=SequentialIds(),
    )


def register(engine: Engine, where: str, grade: str = "major", **over: Any) -> Case:
    fields: dict[str, Any] = {
        "grade": grade,
        "source": "supervisory_inspection",
        "nature": "unsafe_condition",
        "industry": "industry_trade",
        "business_unit": UNIT,
        "location": "车间",
        "description": "干式除尘系统无泄爆",
    }
    fields.update(over)
    if grade == "major" and "criteria" not in fields:
        fields["criteria"] = ["industry_trade_2023.6"]
    return engine.open_case("hazard", actor=person("insp", "inspector", where, UNIT), jurisdiction=where, **fields)


def confirm(engine: Engine, case: Case, where: str, *who: str) -> None:
    for pid in who or ("mgr",):
        engine.fire(
            case.id, "confirm_major", actor=person(pid, "safety_manager", where, UNIT), payload={"opinion": "确认"}
        )


def report(engine: Engine, case: Case, where: str, *recipients: str) -> None:
    for r in recipients:
        engine.fire(
            case.id,
            "report",
            actor=person("mgr", "safety_manager", where, UNIT),
            payload={"recipient": r, "status_and_cause": "现状", "harm_and_difficulty": "危害", "plan_summary": "方案"},
        )


def plan(engine: Engine, case: Case, where: str, deadline: date) -> Case:
    return engine.fire(
        case.id,
        "adopt_plan",
        actor=person("boss", "principal_officer", where, UNIT),
        payload={
            "goal_tasks": "消除隐患",
            "methods_measures": "加装泄爆片",
            "funds_materials": "专项资金",
            "funds_amount": 80000,
            "organization_people": "设备部",
            "responsible_person": "王厂长",
            "deadline": deadline.isoformat(),
            "safety_emergency_measures": "停用除尘系统",
        },
    )


def test_one_engine_serves_every_seed_jurisdiction() -> None:
    engine = engine_at()
    expected = {
        "500240204000": "cn.cq.shizhu.sanxing",
        QINGPINGJIE: "cn.ha.xinmi.qingpingjie",
        SANJIA: "cn.sx.gaoping.sanjia",
        HENGYANG: "cn.hn.hengyang",
        DONGZHI: "cn.ah.chizhou.dongzhi",
    }
    for code, policy_id in expected.items():
        assert register(engine, code).policy_id == policy_id
    with pytest.raises(UnknownJurisdictionError) as info:
        register(engine, "500240205")
    assert "500240204 三星乡" in info.value.allowed


# ── 三星乡 [seed:002] ──────────────────────────────────────────────────────────────────────────────
def test_sanxing_dual_report_includes_the_township() -> None:
    engine = engine_at()
    case = register(engine, SANXING)
    confirm(engine, case, SANXING)
    report(engine, case, SANXING, "supervising_department", "workers_congress")
    with pytest.raises(GuardRejected) as info:
        plan(engine, case, SANXING, date(2024, 8, 1))
    assert info.value.guard == "reported_to_all"
    assert "属地乡镇（街道）政府" in info.value.reason_zh
    report(engine, case, SANXING, "township_government")
    assert plan(engine, case, SANXING, date(2024, 8, 1)).state == "rectifying"


def test_sanxing_pool_admission_and_the_county_keeps_the_pool() -> None:
    engine = engine_at()
    general = register(engine, SANXING, grade="general")
    office = person("eo", "emergency_office", SANXING, "三星乡应急办")
    fields = {"reason": "high_risk", "explanation": "风险较大"}
    with pytest.raises(GuardRejected) as info:
        engine.open_case("escalation", actor=office, jurisdiction=SANXING, hazard_id=general.id, **fields)
    assert "立行立改" in info.value.reason_zh
    major = register(engine, SANXING)
    esc = engine.open_case("escalation", actor=office, jurisdiction=SANXING, hazard_id=major.id, **fields)
    with pytest.raises(NotAuthorized):
        engine.fire(esc.id, "approve_escalation", actor=person("h", "head", SANXING), payload={"opinion": "同意"})
    engine.fire(
        esc.id, "approve_escalation", actor=person("l", "leader_in_charge", SANXING), payload={"opinion": "同意"}
    )
    pooled = engine.fire(esc.id, "approve_escalation", actor=person("h", "head", SANXING), payload={"opinion": "同意"})
    assert pooled.state == "pooled"
    with pytest.raises(NotAuthorized):
        engine.fire(esc.id, "accept_escalation", actor=person("s", "supervisor", SHIZHU), payload={})
    accepted = engine.fire(
        esc.id, "accept_escalation", actor=person("o", "safety_committee_office", SHIZHU), payload={}
    )
    assert accepted.state == "accepted"
    assert engine.get(major.id).owning_jurisdiction == SHIZHU


def test_sanxing_reporting_calendar() -> None:
    policy = engine_at().policies.resolve(SANXING)
    obligations = {o.id: o for o in policy.reporting_obligations()}
    assert obligations["major_hazard_progress_notice"].period == "half_year"
    assert obligations["major_hazard_progress_notice"].party == "township"
    assert obligations["major_hazard_ledger_update"].period == "quarter"
    assert {o.source.split(" ")[0] for o in obligations.values()} >= {"seed:002", "S1"}


# ── 青屏街街道 [seed:001] ─────────────────────────────────────────────────────────────────────────────
def test_qingpingjie_stops_every_major_hazard_and_lists_it() -> None:
    engine = engine_at()
    case = register(engine, QINGPINGJIE)
    confirm(engine, case, QINGPINGJIE)
    assert engine.get(case.id).stop_production == "full"
    with pytest.raises(GuardRejected) as stop:
        engine.fire(case.id, "lift_stop", actor=person("s", "supervisor", XINMI), payload={"reason": "申请复产"})
    assert stop.value.guard == "stop_may_lift"
    report(engine, case, QINGPINGJIE, "supervising_department", "workers_congress")
    with pytest.raises(GuardRejected) as listing:
        plan(engine, case, QINGPINGJIE, date(2024, 8, 1))
    assert listing.value.guard == "listed_if_required"
    street_office = person("so", "safety_committee_office", QINGPINGJIE)
    engine.fire(case.id, "list_for_supervision", actor=street_office, payload={"document_no": "青安督〔2024〕1号"})
    assert plan(engine, case, QINGPINGJIE, date(2024, 8, 1)).state == "rectifying"


def test_qingpingjie_slow_progress_ladder() -> None:
    engine = engine_at()
    case = register(engine, QINGPINGJIE, grade="general")
    deadline = local_date(engine.now()) + timedelta(days=5)
    engine.fire(
        case.id,
        "set_deadline",
        actor=person("o", "township_officer", QINGPINGJIE),
        payload={"deadline": deadline.isoformat(), "measures": "整改", "responsible": "张三"},
    )
    engine.clock.advance(timedelta(days=60))  # type: ignore[attr-defined]
    engine.run_due()
    sanctions = [e.payload["sanction"] for e in engine.history(case.id) if e.trigger == "sanction"]
    assert sanctions == ["formal_letter", "circular_notice", "admonitory_talk", "public_exposure"]


# ── 三甲镇 [seed:000] ────────────────────────────────────────────────────────────────────────────────
def test_sanjia_two_level_confirmation() -> None:
    engine = engine_at()
    case = register(engine, SANJIA)
    confirm(engine, case, SANJIA, "mgr")
    with pytest.raises(GuardRejected) as same:
        confirm(engine, case, SANJIA, "mgr")
    assert same.value.guard == "distinct_confirmer"
    with pytest.raises(GuardRejected) as early:
        report(engine, case, SANJIA, "supervising_department")
    assert early.value.guard == "confirmations_complete"
    assert "2级确认" in early.value.reason_zh
    confirm(engine, case, SANJIA, "mgr2")
    report(engine, case, SANJIA, "supervising_department")
    assert engine.get(case.id).state == "reporting"


def test_sanjia_reports_by_the_29th_and_the_first_of_december() -> None:
    policy = engine_at().policies.resolve(SANJIA)
    obligations = {o.id: o for o in policy.reporting_obligations()}
    monthly, annual = obligations["monthly_progress"].due, obligations["annual_summary"].due
    feb = resolve(monthly, engine_at("2025-02-03T09:00:00+08:00").now(), policy.calendar).due_at
    assert local_date(feb - timedelta(seconds=1)) == date(2025, 2, 28)  # no 29th: the month's last day
    march = resolve(monthly, engine_at("2025-03-03T09:00:00+08:00").now(), policy.calendar).due_at
    assert local_date(march - timedelta(seconds=1)) == date(2025, 3, 29)
    dec = resolve(annual, engine_at("2025-03-03T09:00:00+08:00").now(), policy.calendar).due_at
    assert local_date(dec - timedelta(seconds=1)) == date(2025, 12, 1)
    assert {m.id: m.due for m in policy.campaign_milestones()}["evaluation_report"] == date(2026, 11, 5)


def test_sanjia_grading_major_cites_the_industry_list() -> None:
    engine = engine_at()
    with pytest.raises(GuardRejected) as info:
        register(engine, SANJIA, criteria=[])
    assert info.value.guard == "criteria_cited"


# ── 衡阳市 [seed:003] ────────────────────────────────────────────────────────────────────────────────
def test_hengyang_one_list_four_systems() -> None:
    where = "430405"  # a district of 衡阳市: the city's policy governs it
    tree = seeds.jurisdiction_tree(strict=False)
    engine = Engine(clock=SimulatedClock("2024-05-06T09:00:00+08:00"), policies=seeds.POLICIES, jurisdictions=tree)
    case = register(engine, where)
    assert case.policy_id == "cn.hn.hengyang"
    confirm(engine, case, where)
    report(engine, case, where, "supervising_department", "workers_congress")
    with pytest.raises(GuardRejected) as missing:
        plan(engine, case, where, date(2024, 9, 1))
    assert "行业主管部门" in missing.value.reason_zh
    report(engine, case, where, "sector_department")
    county_level = person("c", "safety_committee_office", where)
    with pytest.raises(GuardRejected) as level:
        engine.fire(case.id, "list_for_supervision", actor=county_level, payload={"document_no": "衡安督1号"})
    assert level.value.guard == "listing_level"
    city = person("m", "safety_committee_office", HENGYANG)
    engine.fire(case.id, "list_for_supervision", actor=city, payload={"document_no": "衡安督〔2024〕1号"})
    assert plan(engine, case, where, date(2024, 9, 1)).state == "rectifying"
    policy = engine.policy_for(case)
    assert next(r.sanction for r in policy.ladder("rectify", case)) == "circular_notice"
    assert policy.reward_tipoff(_tipoff("public"))
    assert policy.reward_tipoff(_tipoff("internal_whistleblower"))


def _tipoff(channel: str) -> Case:
    from hazardflow._model import FrozenDict

    now = SimulatedClock("2024-05-06T09:00:00+08:00").now()
    return Case("T", "tipoff", "verifying", 1, HENGYANG, HENGYANG, "p", "1", now, now, FrozenDict({"channel": channel}))


# ── 东至县 [seed:004] ────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("today", "found", "deadline", "ok"),
    [
        ("2024-05-06", "2023-06-01", date(2025, 3, 1), False),
        ("2024-05-06", "2023-06-01", date(2024, 12, 1), True),
        ("2024-05-06", "2024-02-01", date(2025, 3, 1), True),
        ("2025-01-06", "2023-06-01", date(2025, 3, 1), True),
    ],
)
def test_dongzhi_backlog_target_binds_plans(today: str, found: str, deadline: date, ok: bool) -> None:
    engine = engine_at(f"{today}T09:00:00+08:00")
    case = register(engine, DONGZHI, discovered_at=f"{found}T10:00:00+08:00")
    assert case.policy_id == "cn.ah.chizhou.dongzhi"
    confirm(engine, case, DONGZHI)
    report(engine, case, DONGZHI, "supervising_department", "workers_congress")
    if ok:
        assert plan(engine, case, DONGZHI, deadline).state == "rectifying"
        return
    rev = engine.get(case.id).rev
    with pytest.raises(GuardRejected) as info:
        plan(engine, case, DONGZHI, deadline)
    assert info.value.guard == "backlog_plan_by_target"
    assert "2024-12-31" in info.value.reason_zh
    assert engine.get(case.id).rev == rev


# ── the fire-safety rule set [S10 §19-22] ──────────────────────────────────────────────────────────
def test_fire_cases_run_on_working_days() -> None:
    engine = engine_at("2024-09-27T09:00:00+08:00")  # a Friday before the National Day holiday
    fire = register(engine, SANXING, grade="general", industry="fire_safety")
    other = register(engine, SANXING, grade="general")
    for case in (fire, other):
        engine.fire(
            case.id,
            "set_deadline",
            actor=person("o", "township_officer", SANXING),
            payload={"deadline": "2024-09-28", "measures": "清理通道", "responsible": "李四"},
        )
        engine.fire(
            case.id,
            "submit_review",
            actor=person("m", "safety_manager", SANXING, UNIT),
            payload={"evidence": ["照片"], "rectified_by": "w-1"},
        )
    fire_due = engine.get(fire.id).deadline
    other_due = engine.get(other.id).deadline
    assert fire_due is not None
    assert fire_due.spec.source == "S10 §20"
    # 3 working days after Friday 27 September 2024: 29 and 30 September, then 8 October (National Day).
    assert local_date(fire_due.due_at - timedelta(seconds=1)) == date(2024, 10, 8)
    assert other_due is not None
    assert other_due.spec.source == "S1 §23 verify"
    policy = engine.policy_for(fire)
    confirming = _fire_case("confirming")
    assert policy.deadline("confirm", confirming).amount == 7  # type: ignore[union-attr]
    with_experts = _fire_case("confirming", experts_convened=True)
    assert policy.deadline("confirm", with_experts).amount == 17  # type: ignore[union-attr]
    assert policy.deadline("fire_order_notice", confirming).source == "S10 §19"  # type: ignore[union-attr]
    assert policy.lead_department("fire_safety") == "fire_department"


def _fire_case(state: str, **fields: Any) -> Case:
    from hazardflow._model import FrozenDict

    now = SimulatedClock("2024-05-06T09:00:00+08:00").now()
    data = FrozenDict({"industry": "fire_safety", "grade": "major", **fields})
    return Case("F", "hazard", state, 1, SANXING, SANXING, "p", "1", now, now, data)
