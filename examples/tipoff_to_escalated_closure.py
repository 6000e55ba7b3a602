"""A tip-off in 三星乡 from receipt to a hazard closed by 石柱县 after escalation, with its audit trail.

举报受理 → 核查（24 小时）→ 查实，开出隐患 → 限期整改（此时一般隐患不能提级）→ 逾期（函告）→ 应急办提请纳入
县级蓄水池 → 分管领导、主要领导审批 → 县安委办接收（监管层级上移）→ 乡镇不能再销号 → 县级审核销号。

Run it from the repository root, with the example policies installed (``pip install -e examples/policies``)::

    python examples/tipoff_to_escalated_closure.py

It runs on a simulated clock and the in-memory store; pass a database URL (``sqlite:///demo.db``) as the first
argument to keep the record. Run it again on the same database and it adds a second walk-through beside the
first (new case numbers, the audit chain extended).
"""

from __future__ import annotations

import sys
from datetime import timedelta, timezone
from typing import Any

from hazardflow_seed_policies import ChongqingMunicipality, SanxingTownship, ShizhuCounty, jurisdiction_tree

from hazardflow import Actor, Engine, GuardRejected, HazardflowError, SequentialIds, SimulatedClock
from hazardflow.glossary import zh
from hazardflow.persistence.sql import SqlStore

TOWNSHIP, COUNTY, CITY = "500240204", "500240", "500000"
UNIT = "500240204-BU-0031"  # 三星乡场镇某商贸有限公司
BEIJING = timezone(timedelta(hours=8))

desk = Actor("sx-desk", "谭受理", {"complaint_officer"}, "三星乡应急办", TOWNSHIP)
officer = Actor("sx-officer", "马安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
emergency_office = Actor("sx-eo", "冉应急", {"emergency_office"}, "三星乡应急办", TOWNSHIP)
leader = Actor("sx-leader", "秦分管", {"leader_in_charge"}, "三星乡人民政府", TOWNSHIP)
head = Actor("sx-head", "向乡长", {"head"}, "三星乡人民政府", TOWNSHIP)
manager = Actor("bu-manager", "陈安全", {"safety_manager"}, UNIT, TOWNSHIP)
county_office = Actor("sz-office", "黄安委办", {"safety_committee_office"}, "石柱县安委办", COUNTY)
county_supervisor = Actor("sz-fire", "刘消防", {"supervisor"}, "石柱县消防救援大队", COUNTY)


def build_engine(url: str | None = None) -> Engine:
    """The engine for the walk-through: the seed policies of 重庆市 → 石柱县 → 三星乡, a clock at 2024-03-04 09:00.

    三星乡's policy (``examples/policies``) supplies the admission procedure (分管领导 then 主要领导), the county
    safety committee office as keeper of the county's pool, and the rule that only major hazards and general ones
    whose fix got stuck go up [seed:002 (八)].
    """
    kwargs: dict[str, Any] = {
        "clock": SimulatedClock("2024-03-04T09:00:00+08:00"),
        "jurisdictions": jurisdiction_tree(),
        "policies": [ChongqingMunicipality, ShizhuCounty, SanxingTownship],
    }
    if not url:
        return Engine(ids=SequentialIds(), **kwargs)
    # Run again on the same database: the new cases are numbered after the ones it already holds.
    store = SqlStore(url)
    return Engine(store=store, ids=SequentialIds(taken=lambda i: store.load_case(i) is not None), **kwargs)


def run(engine: Engine) -> dict[str, str]:
    """Walk the case; return the ids of the tip-off, the hazard and the escalation."""
    clock: SimulatedClock = engine.clock  # type: ignore[assignment]

    # 1. A call to the 12350 hotline: the market's fire hydrants are dry and the sprinkler pump is switched off.
    tip = engine.open_case(
        "tipoff",
        actor=desk,
        jurisdiction=TOWNSHIP,
        channel="public",
        category="fire_system_disabled",
        description="场镇农贸市场消火栓无水，喷淋泵长期关闭",
        location="三星乡场镇农贸市场",
        business_unit=UNIT,
        industry="fire_safety",
        reporter_name="（群众，留有电话）",
        reporter_contact="139-0000-0000",
    )
    # 2. Checked on site the same afternoon, inside the 24-hour limit, and found true: a hazard opens.
    clock.advance(hours=5)
    engine.fire(tip.id, "start_verification", actor=officer, payload={"plan": "会同消防专职队现场检查"})
    tip = engine.fire(
        tip.id,
        "substantiate",
        actor=officer,
        payload={
            "findings": "消火栓管网漏损无水，喷淋泵控制柜处于手动停止状态",
            "grade": "general",
            "nature": "unsafe_condition",
            "title": "农贸市场消防设施损坏停用",
        },
    )
    hazard_id = tip.fields["hazard_id"]
    # 3. Ordered fixed within 15 days.
    engine.fire(
        hazard_id,
        "set_deadline",
        actor=officer,
        payload={"deadline": "2024-03-19", "measures": "修复消防管网，恢复喷淋泵自动状态", "responsible": "市场负责人"},
    )
    # 4. A general hazard is the township's to fix: proposing it for the county's pool now is refused.
    proposal = {
        "actor": emergency_office,
        "jurisdiction": TOWNSHIP,
        "hazard_id": hazard_id,
        "reason": "beyond_capacity",
        "explanation": "管网改造需资金约80万元，超出乡镇和企业能力，需县级统筹",
    }
    try:
        engine.open_case("escalation", **proposal)
    except GuardRejected as refused:
        print(f"提级被拒绝 / escalation refused: {refused.guard}: {refused.reason_zh}")
    # 5. The deadline passes: the pipe network needs a rebuild the market and the township cannot fund.
    clock.set("2024-03-25T09:00:00+08:00")
    engine.run_due()
    # 6. Now its fix has proved hard: the emergency office proposes it; the leader in charge, then the head, agree.
    esc = engine.open_case("escalation", **proposal)
    engine.fire(esc.id, "approve_escalation", actor=leader, payload={"opinion": "同意提请县级蓄水池"})
    engine.fire(esc.id, "approve_escalation", actor=head, payload={"opinion": "同意"})
    # 7. The county safety committee office accepts it: supervision of the hazard moves to the county.
    clock.advance(days=2)
    engine.fire(
        esc.id, "accept_escalation", actor=county_office, payload={"opinion": "纳入县级蓄水池，县消防救援大队督办"}
    )
    # 8. The unit fixes it with county funds and submits; the township can no longer close it, the county does.
    clock.set("2024-05-06T10:00:00+08:00")
    engine.fire(
        hazard_id,
        "submit_review",
        actor=manager,
        payload={"evidence": ["管网改造验收单.pdf", "喷淋泵联动测试记录.pdf"], "rectified_by": "施工单位"},
    )
    try:
        engine.fire(hazard_id, "approve", actor=officer, payload={"opinion": "同意销号"})
    except HazardflowError as refused:
        print(f"乡镇销号被拒绝 / township approval refused: {refused.code}")
    engine.fire(hazard_id, "approve", actor=county_supervisor, payload={"opinion": "现场复核，消防设施恢复正常"})
    # 9. The complaint officer reads the reporter's identity to pay the reward; the reading is audited.
    engine.reporter(tip.id, desk, purpose="发放举报奖励")
    return {"tipoff": tip.id, "hazard": hazard_id, "escalation": esc.id}


def _detail(engine: Engine, trigger: str, payload: Any) -> str:
    if trigger == "sanction":
        return zh("sanction", payload["sanction"])
    if trigger == "transfer_supervision":
        return f"监管移交至{engine.jurisdictions.name(payload['owning_jurisdiction'])}"
    if trigger == "record_escalation":
        return f"{zh('workflow', 'escalation')} {payload['escalation_id']}：{zh('state', payload['status'])}"
    if trigger == "propose_escalation":
        return zh("escalation_reason", payload["reason"])
    return ""


def print_trail(engine: Engine, ids: dict[str, str]) -> None:
    """Print each case's audit trail: time (Beijing), event, from → to, who (role), reason."""
    for what, case_id in ids.items():
        case = engine.get(case_id)
        print(
            f"\n== {case_id} {zh('workflow', case.workflow)} ({what}) — {zh('state', case.state)}, "
            f"监管层级 {engine.jurisdictions.name(case.owning_jurisdiction)}"
        )
        for ev in engine.history(case_id):
            when = ev.occurred_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
            move = (
                zh("state", ev.to_state)
                if ev.from_state in (None, ev.to_state)
                else (f"{zh('state', ev.from_state)} → {zh('state', ev.to_state)}")
            )
            who = f"{ev.actor_name}（{zh('role', ev.actor_role)}）"
            line = f"  {ev.seq:>2} | {when} | {zh('trigger', ev.trigger)} | {move} | {who}"
            detail = _detail(engine, ev.trigger, ev.payload)
            if detail:
                line += f" | {detail}"
            if ev.reason:
                line += f" | 理由：{ev.reason}"
            print(line)
    print()
    print(engine.verify_audit())


def main(argv: list[str]) -> int:
    engine = build_engine(argv[1] if len(argv) > 1 else None)
    ids = run(engine)
    print_trail(engine, ids)
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
