"""Each named guard of the hazard lifecycle (and the policy's extra guard) refuses with its reason, changing nothing.

Each row: the stage the case is walked to, the command, and the rule that must refuse it. A second test fires
the same command once the rule is satisfied, so no row passes just because something else refused first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from hazard_world import ORDER, PLAN, REPORT_BODY, TOWNSHIP, UNIT, People, StrictCounty, World, new_engine, refused
from hazardflow import Actor, Case, GuardRejected
from hazardflow.workflows.hazard import HAZARD


@attrs.frozen
class Row:
    guard: str
    trigger: str
    actor: Actor
    payload: dict[str, Any]
    stage: Callable[[World], Case]
    reason_zh: str
    strict: bool = False


BOSS_AND_MANAGER = Actor("e-wu", "吴厂长", {"principal_officer", "safety_manager"}, UNIT, TOWNSHIP)
SUBMIT = {"evidence": ["照片.jpg"], "rectified_by": People.manager.id}
EXTENSION = {"reason": "设备到货延迟", "requested_deadline": "2024-05-31", "interim_measures": ["停用储罐", "专人值守"]}


def _extension_requested(w: World) -> Case:
    case = w.governed()
    return w.fire(case, "request_extension", BOSS_AND_MANAGER, EXTENSION)


def _stopped_major(w: World) -> Case:
    return w.confirmed()  # StrictCounty stops production once the major hazard is confirmed


def _listed_by_city(w: World) -> Case:
    case = w.listed(by=People.city_committee)
    case = w.fire(case, "adopt_plan", People.boss, PLAN)
    payload = {"evidence": ["报告.pdf"], "rectified_by": People.manager.id, "evaluation_report": "已消除"}
    case = w.fire(case, "submit_review", People.boss, payload)
    return w.fire(case, "approve", People.supervisor, {"opinion": "通过"})


def _late_in_plan(w: World) -> Case:
    case = w.governed(listed=True)
    w.clock.set("2024-04-28T09:00:00+08:00")  # two days before the plan's deadline
    return case


ROWS = [
    Row(
        "grade_is_general",
        "set_deadline",
        People.officer,
        ORDER,
        lambda w: w.register("major", actor=People.supervisor),
        "重大事故隐患须经确认、报告并按治理方案整改",
    ),
    Row(
        "grade_is_general",
        "fix_on_spot",
        People.inspector,
        {"fixed_by": "e-chen", "measures": "更换"},
        lambda w: w.register("major", actor=People.supervisor),
        "重大事故隐患须经确认、报告并按治理方案整改",
    ),
    Row(
        "grade_is_major",
        "confirm_major",
        People.manager,
        {"opinion": "确认"},
        lambda w: w.register(),
        "仅重大事故隐患适用此程序",
    ),
    Row(
        "spot_fix_allowed",
        "fix_on_spot",
        People.inspector,
        {"fixed_by": "e-chen", "measures": "更换"},
        lambda w: w.register(industry="chemicals"),
        "化工企业隐患不得即查即改",
        strict=True,
    ),
    Row(
        "checker_not_fixer",
        "fix_on_spot",
        People.inspector,
        {"fixed_by": "e-zhang", "measures": "更换"},
        lambda w: w.register(),
        "即查即改须由现场检查人签字确认，不得由整改人本人确认",
    ),
    Row(
        "deadline_not_past",
        "set_deadline",
        People.officer,
        {**ORDER, "deadline": "2024-03-03"},
        lambda w: w.register(),
        "整改期限 2024-03-03 早于今天",
    ),
    Row(
        "confirmation_pending",
        "confirm_major",
        People.boss,
        {"opinion": "再确认"},
        lambda w: w.confirmed(),
        "确认已完成",
    ),
    Row(
        "distinct_confirmer",
        "confirm_major",
        People.manager,
        {"opinion": "再确认"},
        lambda w: w.fire(
            w.register("major", actor=People.supervisor), "confirm_major", People.manager, {"opinion": "确认"}
        ),
        "两级确认须由不同人员签署",
        strict=True,
    ),
    Row(
        "confirmations_complete",
        "report",
        People.boss,
        {"recipient": "supervising_department", **REPORT_BODY},
        lambda w: w.fire(
            w.register("major", actor=People.supervisor), "confirm_major", People.manager, {"opinion": "确认"}
        ),
        "重大事故隐患尚未完成2级确认（已确认1级）",
        strict=True,
    ),
    Row(
        "recipient_pending",
        "report",
        People.boss,
        {"recipient": "supervising_department", **REPORT_BODY},
        lambda w: w.fire(w.confirmed(), "report", People.boss, {"recipient": "supervising_department", **REPORT_BODY}),
        "已向该对象报告",
    ),
    Row(
        "report_outstanding",
        "report",
        People.boss,
        {"recipient": "workers_congress", **REPORT_BODY},
        lambda w: w.reported(),
        "已向全部报告对象报告",
    ),
    Row(
        "reported_to_all",
        "adopt_plan",
        People.boss,
        PLAN,
        lambda w: w.fire(w.confirmed(), "report", People.boss, {"recipient": "supervising_department", **REPORT_BODY}),
        "尚未向职工大会或职工代表大会报告",
    ),
    Row(
        "listed_if_required",
        "adopt_plan",
        People.boss,
        PLAN,
        lambda w: w.reported(),
        "本辖区重大事故隐患须先挂牌督办",
        strict=True,
    ),
    Row(
        "grade_is_major",
        "list_for_supervision",
        People.committee,
        {"document_no": "石安办〔2024〕4号"},
        lambda w: w.ordered(),
        "仅重大事故隐患适用此程序",
    ),
    Row(
        "not_listed",
        "list_for_supervision",
        People.committee,
        {"document_no": "石安办〔2024〕4号"},
        lambda w: w.listed(),
        "该隐患已挂牌督办",
    ),
    Row(
        "listing_level",
        "list_for_supervision",
        People.township_supervisor,
        {"document_no": "三星安〔2024〕1号"},
        lambda w: w.reported(),
        "挂牌督办须由县级以上作出（当前为乡级）",
    ),
    Row(
        "plan_valid",
        "adopt_plan",
        People.boss,
        {**PLAN, "funds_amount": 0},
        lambda w: w.reported(),
        "治理资金须落实（金额大于零）",
    ),
    Row(
        "plan_valid",
        "adopt_plan",
        People.boss,
        {**PLAN, "deadline": "2024-03-01"},
        lambda w: w.reported(),
        "治理时限 2024-03-01 早于今天",
    ),
    Row(
        "evaluation_for_major",
        "submit_review",
        People.boss,
        SUBMIT,
        lambda w: w.governed(),
        "重大事故隐患申请销号须附治理效果评估报告",
    ),
    Row(
        "reviewer_independent",
        "approve",
        People.manager,
        {"opinion": "同意"},
        lambda w: w.submitted(),
        "审核人不得是整改人或申请人",
    ),
    Row(
        "reviewer_independent",
        "reject",
        People.officer,
        {"reason": "不合格"},
        lambda w: w.submitted(rectified_by=People.officer.id),
        "审核人不得是整改人或申请人",
    ),
    Row(
        "delister_is_listing_authority",
        "delist",
        People.committee,
        {},
        _listed_by_city,
        "摘牌须由挂牌督办机关作出（挂牌机关：重庆市安委办）",
    ),
    Row(
        "extension_later",
        "request_extension",
        People.boss,
        {**EXTENSION, "requested_deadline": "2024-04-30"},
        lambda w: w.governed(),
        "申请的期限须晚于现有整改期限",
    ),
    Row(
        "decider_not_requester",
        "grant_extension",
        BOSS_AND_MANAGER,
        {"opinion": "同意"},
        _extension_requested,
        "延期申请人不得自行批准",
    ),
    Row(
        "decider_not_requester",
        "deny_extension",
        BOSS_AND_MANAGER,
        {"reason": "理由不足"},
        _extension_requested,
        "延期申请人不得自行批准",
    ),
    Row(
        "new_deadline_later",
        "grant_extension",
        People.officer,
        {"opinion": "同意", "new_deadline": "2024-03-01"},
        _extension_requested,
        "新期限 2024-03-01 早于今天",
    ),
    Row(
        "unit_voids_only_registered",
        "void",
        People.manager,
        {"reason": "误报"},
        lambda w: w.ordered(),
        "单位只能作废尚未处置的登记",
    ),
    Row(
        "deadline_not_past",
        "reopen",
        People.officer,
        {"finding": "fake_fix", "reason": "回头看发现虚假整改", "deadline": "2024-03-01"},
        lambda w: w.fire(w.submitted(), "approve", People.officer, {"opinion": "同意"}),
        "整改期限 2024-03-01 早于今天",
    ),
    Row(
        "stop_level_changes",
        "order_stop",
        People.officer,
        {"level": "partial", "reason": "整改"},
        lambda w: w.fire(w.ordered(), "order_stop", People.officer, {"level": "partial", "reason": "整改"}),
        "停产范围未变化",
    ),
    Row("is_stopped", "lift_stop", People.officer, {"reason": "已整改"}, lambda w: w.ordered(), "未处于停产状态"),
    Row(
        "stop_may_lift",
        "lift_stop",
        People.supervisor,
        {"reason": "申请复产"},
        _stopped_major,
        "重患必停：重大事故隐患审核销号前不得恢复生产",
        strict=True,
    ),
    Row(
        "department_changes",
        "assign_department",
        People.officer,
        {"department": "emergency_management"},
        lambda w: w.register(),
        "已推送至该部门",
    ),
    Row(
        "extension_lead_time",
        "request_extension",
        People.boss,
        EXTENSION,
        _late_in_plan,
        "延期申请须在期限届满5个工作日前提出",
        strict=True,
    ),
]


def _world(strict: bool) -> World:
    engine, clock = new_engine([StrictCounty()] if strict else None)
    return World(engine, clock)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.guard}-{r.trigger}" for r in ROWS])
def test_guard_refuses(row: Row) -> None:
    world = _world(row.strict)
    case = row.stage(world)
    err = refused(world.engine, GuardRejected, lambda: world.fire(case, row.trigger, row.actor, row.payload))
    assert err.code == "hazardflow.guard_rejected"
    assert (err.case_id, err.trigger, err.guard) == (case.id, row.trigger, row.guard)
    assert err.reason_zh == row.reason_zh
    assert err.reason_en
    label = {"fix_on_spot": "即查即改", "approve": "审核销号", "report": "报告重大隐患"}.get(row.trigger, "")
    msg = str(err)
    assert msg.startswith(f"cannot fire {row.trigger!r} (")
    assert f"on case {case.id!r}: rule {row.guard!r} refused: {err.reason_en} ({row.reason_zh})" in msg
    assert label in msg


def test_every_guard_of_the_lifecycle_has_a_refusal_test() -> None:
    # The two opening guards are refused in test_refusals_open.py (they run before the case exists); guards of
    # rows only the engine fires (supervision moving up) are the escalation workflow's tests' business.
    tested = {r.guard for r in ROWS} | {"source_needs_verification", "criteria_cited"}
    people_guards = {g for t in HAZARD.spec.transitions if t.scope != "system" for g in t.guards}
    assert people_guards <= tested, sorted(people_guards - tested)


# The same commands pass once each rule is satisfied (so the rows above test the rule, not an accident).
ACCEPTED: list[tuple[str, Callable[[World], Case], str, Actor, dict[str, Any], bool]] = [
    ("general order", lambda w: w.register(), "set_deadline", People.officer, ORDER, False),
    (
        "spot fix by the checker",
        lambda w: w.register(),
        "fix_on_spot",
        People.inspector,
        {"fixed_by": "e-chen", "measures": "更换"},
        False,
    ),
    (
        "spot fix elsewhere",
        lambda w: w.register(industry="industry_trade"),
        "fix_on_spot",
        People.inspector,
        {"fixed_by": "e-chen", "measures": "更换"},
        True,
    ),
    (
        "second confirmation",
        lambda w: w.fire(
            w.register("major", actor=People.supervisor), "confirm_major", People.manager, {"opinion": "确认"}
        ),
        "confirm_major",
        People.boss,
        {"opinion": "复核"},
        True,
    ),
    ("plan after both reports", lambda w: w.reported(), "adopt_plan", People.boss, PLAN, False),
    ("plan after listing", lambda w: w.listed(), "adopt_plan", People.boss, PLAN, True),
    (
        "county lists",
        lambda w: w.reported(),
        "list_for_supervision",
        People.committee,
        {"document_no": "石安办〔2024〕4号"},
        False,
    ),
    ("independent review", lambda w: w.submitted(), "approve", People.officer, {"opinion": "同意"}, False),
    (
        "major with evaluation",
        lambda w: w.governed(),
        "submit_review",
        People.boss,
        {**SUBMIT, "evaluation_report": "已消除"},
        False,
    ),
    ("city delists its listing", _listed_by_city, "delist", People.city_committee, {}, False),
    ("later extension", lambda w: w.governed(), "request_extension", People.boss, EXTENSION, False),
    (
        "another decides",
        _extension_requested,
        "grant_extension",
        People.officer,
        {"opinion": "同意", "new_deadline": "2024-05-20"},
        False,
    ),
    ("unit voids a fresh case", lambda w: w.register(), "void", People.manager, {"reason": "重复登记"}, False),
    (
        "lift after review",
        lambda w: w.fire(w.ordered(), "order_stop", People.officer, {"level": "full", "reason": "整改"}),
        "lift_stop",
        People.officer,
        {"reason": "已整改"},
        False,
    ),
    (
        "new department",
        lambda w: w.register(),
        "assign_department",
        People.officer,
        {"department": "fire_department"},
        False,
    ),
    ("extension in time", lambda w: w.governed(listed=True), "request_extension", People.boss, EXTENSION, True),
]


@pytest.mark.parametrize(
    ("name", "stage", "trigger", "actor", "payload", "strict"), ACCEPTED, ids=[a[0] for a in ACCEPTED]
)
def test_the_same_command_passes_when_the_rule_holds(
    name: str, stage: Callable[[World], Case], trigger: str, actor: Actor, payload: dict[str, Any], strict: bool
) -> None:
    world = _world(strict)
    case = stage(world)
    assert trigger in world.engine.allowed(case.id, actor)
    after = world.fire(case, trigger, actor, payload)
    assert after.rev == case.rev + 1
    assert world.engine.verify_audit().ok


# ── 挂牌督办 by X is 摘牌 by X ────────────────────────────────────────────────────────────────────────


def _approved_listed_by(w: World, by: Actor) -> Case:
    case = w.listed(by=by)
    case = w.fire(case, "adopt_plan", People.boss, PLAN)
    payload = {"evidence": ["报告.pdf"], "rectified_by": People.manager.id, "evaluation_report": "已消除"}
    case = w.fire(case, "submit_review", People.boss, payload)
    return w.fire(case, "approve", People.township_supervisor, {"opinion": "通过"})


def test_another_body_of_the_same_tier_may_not_delist() -> None:
    # The county 安委办 listed; the county 应急管理局 (a supervisor of the same county) may not take it off.
    engine, clock = new_engine()
    w = World(engine, clock)
    case = _approved_listed_by(w, People.committee)
    assert case.state == "awaiting_delisting"
    err = refused(engine, GuardRejected, lambda: w.fire(case, "delist", People.supervisor))
    assert err.guard == "delister_is_listing_authority"
    assert "石柱县安委办" in err.reason_zh
    assert "'石柱县安委办'" in err.reason_en
    # Nor may a higher tier's body that did not list it.
    refused(engine, GuardRejected, lambda: w.fire(case, "delist", People.city_committee))
    assert w.fire(case, "delist", People.committee).state == "closed"


def test_the_policy_may_name_another_delisting_body() -> None:
    class DelistedByTheBureau(StrictCounty):
        policy_id = "test.delisted-by-bureau"
        listing_rule = attrs.evolve(StrictCounty.listing_rule, delisted_by=frozenset({"石柱县应急管理局"}))

    engine, clock = new_engine([DelistedByTheBureau()])
    w = World(engine, clock)
    case = _approved_listed_by(w, People.committee)
    assert w.fire(case, "delist", People.supervisor).state == "closed"
