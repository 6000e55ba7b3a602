"""Policy versions: cases pin their version; a MigrationPlan moves open cases with a dry run, then audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hazardflow import (
    Actor,
    DeadlineSpec,
    Engine,
    InvalidInput,
    NotAuthorized,
    SimulatedClock,
    replay,
)
from hazardflow._calendar import local_date
from hazardflow.policies import NationalBaseline, amend
from hazardflow.policies.migration import MigrationPlan

TOWN = "500240204"
UNIT = "BU-1"
INSPECTOR = Actor("e-insp", "检查员", {"inspector"}, UNIT, TOWN)
MANAGER = Actor("e-mgr", "安全员", {"safety_manager"}, UNIT, TOWN)
BOSS = Actor("e-boss", "厂长", {"principal_officer"}, UNIT, TOWN)
OFFICER = Actor("t-1", "乡安办", {"township_officer"}, "三星乡安办", TOWN)
SUPERVISOR = Actor("c-1", "县执法", {"supervisor"}, "县应急局", "500240")


class Old(NationalBaseline):
    policy_id = "test.town"
    policy_version = "2023.1"
    jurisdiction = TOWN


class New(Old):
    policy_version = "2024.1"
    effective_from = date(2024, 1, 1)
    # The review limit changes from 10 natural days to 3 working days [test rule].
    deadlines = amend(Old.deadlines, review=DeadlineSpec.working_days(3, source="test"))
    report_recipients = (*Old.report_recipients, "township_government")


class Later(Old):
    policy_version = "2030.1"
    effective_from = date(2030, 1, 1)


class Elsewhere(NationalBaseline):
    policy_id = "test.elsewhere"
    policy_version = "1"
    jurisdiction = "410183001"


def _engine() -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    return Engine(clock=clock, policies=[Old()]), clock


def _general(engine: Engine) -> str:
    case = engine.open_case(
        "hazard",
        actor=INSPECTOR,
        jurisdiction=TOWN,
        grade="general",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=UNIT,
        location="车间",
        description="防护罩缺失",
    )
    return case.id


def _under_review(engine: Engine) -> str:
    cid = _general(engine)
    today = local_date(engine.now())
    engine.fire(
        cid,
        "set_deadline",
        actor=MANAGER,
        payload={"deadline": str(today + timedelta(days=10)), "measures": "加装", "responsible": "张三"},
    )
    engine.fire(cid, "submit_review", actor=MANAGER, payload={"evidence": ["照片"], "rectified_by": "e-fix"})
    return cid


def _major_reporting(engine: Engine) -> str:
    case = engine.open_case(
        "hazard",
        actor=INSPECTOR,
        jurisdiction=TOWN,
        grade="major",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=UNIT,
        location="粉尘车间",
        description="除尘系统无泄爆",
    )
    engine.fire(case.id, "confirm_major", actor=MANAGER, payload={"opinion": "确认"})
    return case.id


def _plan(engine: Engine, **kw: object) -> MigrationPlan:
    args: dict[str, object] = {
        "plan_id": "三星府发〔2024〕1号",
        "reason": "新行动方案",
        "approved_by": "谭华祥",
    }
    args.update(kw)
    return MigrationPlan(engine, ("test.town", "2023.1"), ("test.town", "2024.1"), **args)  # type: ignore[arg-type]


def test_new_cases_pin_the_version_in_force_and_old_cases_keep_theirs() -> None:
    engine, _clock = _engine()
    old_case = _under_review(engine)
    engine.policies.register(New())
    new_case = _general(engine)
    assert engine.get(old_case).policy_version == "2023.1"
    assert engine.get(new_case).policy_version == "2024.1"
    assert {e.policy_version for e in engine.history(old_case)} == {"2023.1"}
    # The old case still runs under its own review limit: 10 natural days from submission.
    assert engine.get(old_case).deadline is not None
    assert engine.get(old_case).deadline.spec.amount == 10  # type: ignore[union-attr]


def test_dry_run_reports_moves_recomputed_deadlines_and_writes_nothing() -> None:
    engine, _clock = _engine()
    reviewing = _under_review(engine)
    rectifying = _general(engine)
    day = local_date(engine.now()) + timedelta(days=20)
    engine.fire(
        rectifying,
        "set_deadline",
        actor=MANAGER,
        payload={"deadline": str(day), "measures": "m", "responsible": "r"},
    )
    major = _major_reporting(engine)
    engine.policies.register(New())
    before = {c.id: (c.rev, c.policy_version) for c in engine.cases()}
    report = _plan(engine).dry_run()
    assert {c.id: (c.rev, c.policy_version) for c in engine.cases()} == before
    by_id = {c.case_id: c for c in report.cases}
    assert set(by_id) == {reviewing, rectifying, major}
    assert report.blocked == ()
    review = by_id[reviewing]
    assert review.deadline_changed
    assert review.deadline_before is not None
    assert review.deadline_after is not None
    # Recomputed from the instant the stage started (2024-03-04, a Monday): 3 working days → Thursday 24:00.
    assert review.deadline_after.start == review.deadline_before.start
    assert local_date(review.deadline_after.due_at - timedelta(seconds=1)) == date(2024, 3, 7)
    # A deadline set by an order is pinned: the new version does not touch it.
    assert not by_id[rectifying].deadline_changed
    assert by_id[rectifying].deadline_after == by_id[rectifying].deadline_before
    # The major hazard now owes a report to the township government too.
    assert any("township_government" in n.en for n in by_id[major].notes)
    assert [c.case_id for c in report.recomputed] == [reviewing]
    zh_text = report.render("zh")
    assert "可迁移 3 件（其中期限重算 1 件），不能迁移 0 件" in zh_text
    assert "新增双报告对象：属地乡镇（街道）政府" in zh_text
    assert "3 case(s) can move (1 with a recomputed deadline), 0 cannot" in report.render("en")


def test_apply_moves_cases_as_audited_system_events_and_rearms_timers() -> None:
    engine, clock = _engine()
    cid = _under_review(engine)
    engine.policies.register(New())
    result = _plan(engine).apply()
    assert result.ok
    assert result.migrated == (cid,)
    case = engine.get(cid)
    assert (case.policy_id, case.policy_version) == ("test.town", "2024.1")
    assert case.state == "under_review"
    assert case.deadline is not None
    assert case.deadline.spec.unit == "working_day"
    event = engine.history(cid)[-1]
    assert event.type == "case.policy_migrated"
    assert event.trigger == "migrate_policy"
    assert event.actor_id == "system"
    assert event.policy_version == "2023.1"  # judged under the version the case was in
    assert event.changes["policy_version"] == "2024.1"
    assert event.payload["plan_id"] == "三星府发〔2024〕1号"
    assert event.payload["approved_by"] == "谭华祥"
    assert event.reason == "新行动方案"
    assert replay(engine.history(cid)) == case
    assert engine.verify_audit().ok
    deadline_timers = [t for t in engine.store.armed_timers(cid) if t.kind == "deadline"]
    assert [t.due_at for t in deadline_timers] == [case.deadline.due_at]
    # The new deadline fires on time under the new version.
    clock.advance(timedelta(days=4))
    engine.run_due()
    assert engine.get(cid).overdue


def test_apply_twice_moves_nothing_more() -> None:
    engine, _ = _engine()
    cid = _under_review(engine)
    engine.policies.register(New())
    plan = _plan(engine)
    assert plan.apply().migrated == (cid,)
    rev = engine.get(cid).rev
    again = plan.apply()
    assert again.migrated == ()
    assert again.blocked == ()
    assert again.failed == ()
    assert engine.get(cid).rev == rev


def test_blocked_cases_say_why() -> None:
    engine, clock = _engine()
    closed = _general(engine)
    engine.fire(closed, "fix_on_spot", actor=INSPECTOR, payload={"fixed_by": "e-fix", "measures": "已修"})
    overdue = _under_review(engine)
    clock.advance(timedelta(days=12))
    engine.run_due()
    assert engine.get(overdue).overdue
    engine.policies.register(New())
    report = _plan(engine, cases=[closed, overdue]).dry_run()
    reasons = {c.case_id: c.blocked for c in report.cases}
    assert reasons[closed] is not None
    assert "finished" in reasons[closed].en
    assert reasons[overdue] is not None
    assert "overdue" in reasons[overdue].en
    assert "逾期" in reasons[overdue].zh
    assert "不能迁移 2 件" in report.render("zh")
    result = _plan(engine, cases=[closed, overdue]).apply()
    assert result.migrated == ()
    assert len(result.blocked) == 2
    assert engine.get(overdue).policy_version == "2023.1"


def test_target_not_in_force_or_elsewhere_blocks() -> None:
    engine, _ = _engine()
    cid = _under_review(engine)
    engine.policies.register(Later())
    engine.policies.register(Elsewhere())
    later = MigrationPlan(
        engine, ("test.town", "2023.1"), ("test.town", "2030.1"), plan_id="p", reason="r", approved_by="a"
    ).dry_run()
    assert later.cases[0].blocked is not None
    assert "2030-01-01" in later.cases[0].blocked.en
    elsewhere = MigrationPlan(
        engine, ("test.town", "2023.1"), ("test.elsewhere", "1"), plan_id="p", reason="r", approved_by="a"
    ).dry_run()
    assert elsewhere.cases[0].case_id == cid
    assert elsewhere.cases[0].blocked is not None
    assert "410183001" in elsewhere.cases[0].blocked.en


def test_a_case_that_changed_since_the_dry_run_is_refused_in_its_transaction() -> None:
    engine, clock = _engine()
    cid = _under_review(engine)
    engine.policies.register(New())
    plan = _plan(engine)
    report = plan.dry_run()
    clock.advance(timedelta(days=12))
    engine.run_due()  # overdue since the dry run
    rev = engine.get(cid).rev
    result = plan.apply(report)
    assert result.migrated == ()
    assert [cid_ for cid_, _ in result.failed] == [cid]
    assert "overdue" in result.failed[0][1]
    assert engine.get(cid).rev == rev


def test_apply_moves_only_the_reviewed_cases() -> None:
    engine, _ = _engine()
    first, second = _under_review(engine), _under_review(engine)
    engine.policies.register(New())
    report = _plan(engine, cases=[first]).dry_run()
    # The whole-jurisdiction plan, applied with the report that was reviewed, moves the reviewed case only.
    assert _plan(engine).apply(report).migrated == (first,)
    assert engine.get(second).policy_version == "2023.1"


def test_people_cannot_fire_the_internal_transition() -> None:
    engine, _ = _engine()
    cid = _under_review(engine)
    engine.policies.register(New())
    rev = engine.get(cid).rev
    with pytest.raises(NotAuthorized) as info:
        engine.fire(cid, "migrate_policy", actor=SUPERVISOR, payload=_plan(engine).payload())
    assert info.value.required_roles == ("system",)
    assert engine.get(cid).rev == rev


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"plan_id": ""}, "plan_id"),
        ({"reason": "  "}, "reason"),
        ({"approved_by": ""}, "approved_by"),
    ],
)
def test_plan_arguments_are_checked(kw: dict[str, str], field: str) -> None:
    engine, _ = _engine()
    engine.policies.register(New())
    with pytest.raises(InvalidInput) as info:
        _plan(engine, **kw)
    assert info.value.field == field


def test_unknown_versions_are_refused_with_the_known_ones() -> None:
    engine, _ = _engine()
    with pytest.raises(InvalidInput) as info:
        MigrationPlan(
            engine, ("test.town", "2023.1"), ("test.town", "2099.9"), plan_id="p", reason="r", approved_by="a"
        )
    assert info.value.value == "test.town@2099.9"
    assert "test.town@2023.1" in info.value.allowed
    with pytest.raises(InvalidInput) as same:
        MigrationPlan(
            engine, ("test.town", "2023.1"), ("test.town", "2023.1"), plan_id="p", reason="r", approved_by="a"
        )
    assert same.value.field == "target"


def test_a_foreign_report_is_refused() -> None:
    engine, _ = _engine()
    _under_review(engine)
    engine.policies.register(New())
    report = _plan(engine, plan_id="other").dry_run()
    with pytest.raises(InvalidInput) as info:
        _plan(engine).apply(report)
    assert info.value.field == "report"
