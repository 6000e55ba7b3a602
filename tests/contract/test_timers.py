"""Durable timers on every store: armed and cancelled with the command, fired once, caught up when late.

DESIGN invariant 5 and DOMAIN §e: deadlines, reminders (non-interrupting) and the overdue ladder
(函告 → 通报 → 约谈 → 曝光 → 移送), each rung an audited event against a named party.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest
import structlog.testing

from hazardflow import (
    CalendarDataMissing,
    Case,
    ConcurrentUpdateError,
    Delay,
    Engine,
    InvalidInput,
    SimulatedClock,
    Unit,
)
from hazardflow._calendar import SHANGHAI, end_of_local_day
from hazardflow._sweep import _SKIPPED, RunDueReport
from hazardflow.policies import NationalBaseline
from hazardflow.policies.base import Rung
from hazardflow.testing import snapshot_store
from timer_support import (
    BOSS,
    COMMITTEE,
    HAZARD_FIELDS,
    MANAGER,
    OFFICER,
    TOWNSHIP,
    events_of,
    make_engine,
    open_general,
    submit,
)


@pytest.fixture
def store(any_store: Any) -> Any:
    return any_store


def armed(engine: Engine, case_id: str) -> list[tuple[str, str, datetime]]:
    return [(t.kind, t.key, t.due_at) for t in engine.store.armed_timers(case_id)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


# ── arming and cancelling in the command's own transaction ─────────────────────────────────────────
def test_entering_a_stage_arms_its_deadline_and_reminders(store: Any) -> None:
    engine, _ = make_engine(store)
    case = open_general(engine, "2024-03-15")
    assert case.deadline is not None
    assert case.deadline.due_at == end_of_local_day(date(2024, 3, 15))  # 24:00 on the ordered day
    assert case.deadline.spec.source == "order"
    assert armed(engine, case.id) == [
        ("reminder", "rectify", end_of_local_day(date(2024, 3, 12))),  # 3 days before [policy]
        ("deadline", "rectify", end_of_local_day(date(2024, 3, 15))),
    ]
    after = submit(engine, case.id)
    # Leaving the stage cancels its timers; the review stage arms its own 10 日 deadline (rolled) [S1 §23].
    assert after.deadline is not None
    assert after.deadline.key == "review"
    assert armed(engine, case.id) == [
        ("reminder", "review", end_of_local_day(date(2024, 3, 12))),
        ("deadline", "review", end_of_local_day(date(2024, 3, 14))),
    ]
    cancelled = engine.store.get_timer(f"{case.id}/2/d")
    assert cancelled is not None
    assert cancelled.status == "cancelled"


def test_a_refused_command_arms_and_cancels_nothing(store: Any) -> None:
    engine, _ = make_engine(store)
    case = open_general(engine, "2024-03-15")
    before = armed(engine, case.id)
    with pytest.raises(InvalidInput):
        engine.fire(case.id, "submit_review", actor=MANAGER, payload={"evidence": []})
    assert armed(engine, case.id) == before
    assert engine.get(case.id).rev == case.rev


def test_a_failed_commit_leaves_timers_as_they_were(store: Any) -> None:
    engine, clock = make_engine(store)
    other = Engine(store=store, clock=clock)
    case = open_general(engine, "2024-03-15")
    before = armed(engine, case.id)

    def racing_batch() -> None:
        with engine.batch():
            submit(engine, case.id)  # would cancel the rectify timers and arm the review ones
            # Meanwhile another process changes the case: the batch's commit must fail as a whole.
            other.fire(case.id, "order_stop", actor=OFFICER, payload={"level": "partial", "reason": "整改期间"})

    with pytest.raises(ConcurrentUpdateError):
        racing_batch()
    assert armed(engine, case.id) == before
    assert engine.get(case.id).state == "rectifying"


def test_closing_cancels_every_timer(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    submit(engine, case.id)
    engine.fire(case.id, "approve", actor=OFFICER, payload={"opinion": "通过"})
    assert armed(engine, case.id) == []
    clock.set("2024-12-31T00:00:00+08:00")
    assert engine.run_due().fired == 0
    assert [e.trigger for e in engine.history(case.id)][-1] == "approve"


# ── firing: once, idempotent, as the system ────────────────────────────────────────────────────────
def test_run_due_fires_each_timer_once_and_is_idempotent(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-13T08:00:00+08:00")
    first = engine.run_due()
    assert (first.fired, first.late) == (1, 1)
    reminded = events_of(engine, case.id, "remind")
    assert len(reminded) == 1
    assert reminded[0].actor_id == "system"
    assert reminded[0].actor_role == "system"
    assert reminded[0].type == "case.reminded"
    assert reminded[0].payload["due_at"] == end_of_local_day(date(2024, 3, 12)).isoformat()
    again = engine.run_due()
    assert again.fired == 0
    assert engine.run_due(clock.now()).fired == 0
    assert len(engine.history(case.id)) == 3
    # The reminder changes nothing on the case (non-interrupting).
    assert engine.get(case.id).state == "rectifying"
    assert not engine.get(case.id).overdue


def test_the_deadline_fires_exactly_at_24_00(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-15T23:59:59+08:00")
    engine.run_due()
    assert not engine.get(case.id).overdue
    clock.set("2024-03-16T00:00:00+08:00")
    report = engine.run_due()
    cur = engine.get(case.id)
    assert cur.overdue
    assert cur.sanction_rung == 1  # 函告 has no delay in the baseline ladder
    assert report.late == 0
    overdue = events_of(engine, case.id, "mark_overdue")
    assert len(overdue) == 1
    assert overdue[0].late_seconds == 0.0
    assert overdue[0].type == "case.overdue"
    assert cur.fields["missed_deadlines"] == ("rectify",)


def test_a_stage_left_before_its_deadline_never_fires_it(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    submit(engine, case.id)
    engine.fire(case.id, "reject", actor=OFFICER, payload={"reason": "证据不足"})
    # Back in rectifying: the rectify deadline is re-armed from the pinned date; the old timers are gone.
    timers = engine.store.armed_timers(case.id)
    assert [(t.kind, t.armed_seq) for t in timers] == [("reminder", 4), ("deadline", 4)]
    clock.set("2024-03-16T00:00:00+08:00")
    report = engine.run_due()
    assert report.fired == 2  # the re-armed deadline once (never the cancelled copy), then rung 1 (no delay)
    assert len(events_of(engine, case.id, "mark_overdue")) == 1
    assert engine.store.get_timer(f"{case.id}/2/d").status == "cancelled"  # type: ignore[union-attr]
    assert engine.store.get_timer(f"{case.id}/4/d").status == "fired"  # type: ignore[union-attr]


def test_a_found_timer_whose_case_moves_on_before_its_claim_is_never_fired(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-16T00:00:00+08:00")
    found = engine.store.due_timers(clock.now(), limit=10)
    assert [t.kind for t in found] == ["reminder", "deadline"]
    # Before the slow worker claims them, the unit submits the fix: the command cancels the found timers.
    submit(engine, case.id)
    report = RunDueReport(now=clock.now())
    for timer in found:
        engine._fire_timer(timer, clock.now(), "slow-worker", timedelta(seconds=60), report)
    assert (report.fired, report.cancelled, report.skipped) == (0, 0, 2)
    assert events_of(engine, case.id, "mark_overdue") == []
    clock.advance(minutes=5)
    assert engine.run_due().fired == 0


def test_a_worker_with_a_stale_find_never_fires_a_timer_twice(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-16T00:00:00+08:00")
    stale = [t for t in engine.store.due_timers(clock.now(), limit=10) if t.kind == "deadline"]
    report = engine.run_due(owner="w2")  # w2 fires everything first
    assert report.fired == 2
    assert engine.store.get_timer(f"{case.id}/2/d").status == "fired"  # type: ignore[union-attr]
    # w1 wakes up and tries to fire from its stale find: not claimed, nothing written.
    late_report = RunDueReport(now=clock.now())
    assert engine._fire_timer(stale[0], clock.now(), "w1", timedelta(seconds=60), late_report) == _SKIPPED
    assert (late_report.fired, late_report.skipped) == (0, 1)
    assert len(events_of(engine, case.id, "mark_overdue")) == 1


def test_a_timer_another_worker_is_firing_is_skipped_and_the_sweep_walks_on(store: Any) -> None:
    if getattr(store, "dialect", None) == "sqlite":
        pytest.skip("on SQLite a claim holds the write lock: see test_timer_claims.py")
    engine, clock = make_engine(store)
    ids = [open_general(engine, "2024-03-15").id for _ in range(6)]
    clock.set("2024-03-13T08:00:00+08:00")  # the six reminders are due
    first = engine.store.due_timers(clock.now(), limit=10)
    assert len(first) == 6
    # Another worker is in the middle of firing the earliest one.
    other = engine.store.claim_timer(first[0].id, clock.now())
    assert other is not None
    try:
        report = engine.run_due(owner="w1")
        assert (report.fired, report.skipped) == (5, 1)
        assert engine.store.get_timer(first[0].id).status == "armed"  # type: ignore[union-attr]
    finally:
        other.close()
    # The other worker died before committing: its claim ended with it, and the next sweep fires it at once.
    assert engine.run_due(owner="w1").fired == 1
    assert all(len(events_of(engine, cid, "remind")) == 1 for cid in ids)


# ── late catch-up ──────────────────────────────────────────────────────────────────────────────────
def test_a_late_sweep_catches_up_in_order_and_records_how_late(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-05-20T09:00:00+08:00")  # the worker was down for two months
    report = engine.run_due()
    evs = engine.history(case.id)[2:]
    assert [e.trigger for e in evs] == ["mark_overdue", "sanction", "sanction", "sanction", "sanction"]
    assert [e.payload.get("sanction") for e in evs[1:]] == [
        "formal_letter",
        "circular_notice",
        "admonitory_talk",
        "public_exposure",
    ]
    deadline = end_of_local_day(date(2024, 3, 15))
    # Each rung keeps the ladder's own schedule (counted from the deadline), however late it fired:
    # 10 working days after 03-15 = 03-29; +10 = 04-15 (清明 04-04..06 off, Sunday 04-07 worked);
    # +20 = 05-14 (五一 05-01..05 off, Sunday 04-28 and Saturday 05-11 worked).
    due = [deadline, deadline, end_of_local_day(date(2024, 3, 29)), end_of_local_day(date(2024, 4, 15))]
    due.append(end_of_local_day(date(2024, 5, 14)))
    now = at("2024-05-20T09:00")
    assert [e.late_seconds for e in evs] == [(now - d).total_seconds() for d in due]
    assert all(e.occurred_at == now for e in evs)
    assert (report.fired, report.late, report.cancelled) == (5, 5, 1)  # the reminder was superseded
    assert report.max_late_seconds == (now - deadline).total_seconds()
    assert events_of(engine, case.id, "remind") == []
    cur = engine.get(case.id)
    assert cur.sanction_rung == 4
    # The last rung (移送) is still ahead, on schedule: 20 working days after 05-14 (端午 06-10 off).
    assert armed(engine, case.id) == [("sanction", "rectify", end_of_local_day(date(2024, 6, 12)))]


def test_sweeps_in_batches_miss_nothing(store: Any) -> None:
    engine, clock = make_engine(store)
    ids = [open_general(engine, "2024-03-15").id for _ in range(23)]
    clock.set("2024-03-16T08:00:00+08:00")
    report = engine.run_due(limit=4)
    # 23 deadlines and 23 first rungs (no delay) fire; the 23 reminders, swept only after their deadline,
    # are cancelled as superseded.
    assert report.fired == 46
    assert report.cancelled == 23
    for cid in ids:
        assert len(events_of(engine, cid, "mark_overdue")) == 1
        assert len(events_of(engine, cid, "sanction")) == 1


# ── the ladder: named parties, highest rung, stops on close or extension, never repeats ──────────────
def test_each_rung_names_its_party_and_the_case_shows_the_highest(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-16T00:00:00+08:00")
    engine.run_due()
    clock.set("2024-03-30T00:00:00+08:00")
    engine.run_due()
    sanctions = events_of(engine, case.id, "sanction")
    assert [(e.payload["rung"], e.payload["sanction"], e.payload["party"]) for e in sanctions] == [
        (1, "formal_letter", "business_unit"),
        (2, "circular_notice", "business_unit"),
    ]
    assert {e.payload["party_id"] for e in sanctions} == {"500240204-BU-0001"}
    assert all(e.type == "case.sanctioned" for e in sanctions)
    assert engine.get(case.id).sanction_rung == 2


def test_closing_stops_the_ladder(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-16T00:00:00+08:00")
    engine.run_due()
    submit(engine, case.id)
    engine.fire(case.id, "approve", actor=OFFICER, payload={"opinion": "通过"})
    clock.set("2024-12-31T00:00:00+08:00")
    engine.run_due()
    closed = engine.get(case.id)
    assert closed.state == "closed"
    assert closed.sanction_rung == 1  # the highest rung reached stays on record
    assert len(events_of(engine, case.id, "sanction")) == 1


def test_an_extension_stops_the_ladder_and_a_new_deadline_starts_a_new_one(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-16T00:00:00+08:00")
    engine.run_due()
    engine.fire(
        case.id,
        "request_extension",
        actor=BOSS,
        payload={"reason": "设备到货延迟", "requested_deadline": "2024-04-30", "interim_measures": ["专人值守"]},
    )
    engine.fire(case.id, "grant_extension", actor=OFFICER, payload={"opinion": "同意延期"})
    cur = engine.get(case.id)
    assert not cur.overdue
    assert cur.deadline is not None
    assert cur.deadline.due_at == end_of_local_day(date(2024, 4, 30))
    assert [k for k, _, _ in armed(engine, case.id)] == ["reminder", "deadline"]
    clock.set("2024-04-30T12:00:00+08:00")
    engine.run_due()
    assert len(events_of(engine, case.id, "sanction")) == 1  # nothing more while the extension runs
    clock.set("2024-05-01T00:00:00+08:00")
    engine.run_due()
    # The new deadline is missed too: a new ladder from rung 1 for that deadline.
    assert [e.payload["rung"] for e in events_of(engine, case.id, "sanction")] == [1, 1]
    assert engine.get(case.id).fields["missed_deadlines"] == ("rectify", "rectify")


def test_leaving_and_re_entering_with_the_same_missed_deadline_resumes_the_ladder(store: Any) -> None:
    engine, clock = make_engine(store)
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-30T00:00:00+08:00")
    engine.run_due()
    assert engine.get(case.id).sanction_rung == 2
    engine.fire(
        case.id,
        "request_extension",
        actor=BOSS,
        payload={"reason": "资金未到位", "requested_deadline": "2024-05-30", "interim_measures": ["设置警示"]},
    )
    assert not engine.get(case.id).overdue  # the extension decision stage runs its own deadline
    clock.set("2024-04-01T10:00:00+08:00")
    engine.fire(case.id, "deny_extension", actor=OFFICER, payload={"reason": "理由不充分"})
    # Back to rectifying under the old, missed deadline: overdue again at the next sweep, and the ladder
    # resumes where it stood (rung 3 next, 10 working days after rung 2), never repeating 函告 or 通报.
    engine.run_due()
    cur = engine.get(case.id)
    assert cur.overdue
    assert len(events_of(engine, case.id, "mark_overdue")) == 2
    assert cur.fields["missed_deadlines"] == ("rectify",)
    assert [e.payload["rung"] for e in events_of(engine, case.id, "sanction")] == [1, 2]
    assert armed(engine, case.id) == [("sanction", "rectify", end_of_local_day(date(2024, 4, 15)))]
    clock.set("2024-04-16T00:00:00+08:00")
    engine.run_due()
    assert [e.payload["rung"] for e in events_of(engine, case.id, "sanction")] == [1, 2, 3]


def test_re_pinning_an_overdue_deadline_clears_overdue_and_restarts(store: Any) -> None:
    engine, clock = make_engine(store)
    case = engine.open_case(
        "hazard",
        actor=SUPERVISOR_OF_COUNTY,
        jurisdiction=TOWNSHIP,
        grade="major",
        source="enforcement",
        nature="unsafe_condition",
        industry="chemicals",
        business_unit="500240204-BU-0001",
        location="储罐区",
        description="储罐区未设置紧急切断装置",
    )
    engine.fire(case.id, "confirm_major", actor=MANAGER, payload={"opinion": "确认"})
    for recipient in ("supervising_department", "workers_congress"):
        engine.fire(
            case.id,
            "report",
            actor=BOSS,
            payload={
                "recipient": recipient,
                "status_and_cause": "切断阀缺失",
                "harm_and_difficulty": "需停产改造",
                "plan_summary": "加装紧急切断",
            },
        )
    engine.fire(case.id, "adopt_plan", actor=BOSS, payload=PLAN)
    clock.set("2024-04-01T00:00:00+08:00")
    engine.run_due()
    assert engine.get(case.id).overdue
    # The county lists it with a completion date: the deadline is re-pinned in the same stage.
    engine.fire(
        case.id,
        "list_for_supervision",
        actor=COMMITTEE,
        payload={"document_no": "石安办〔2024〕3号", "deadline": "2024-06-30"},
    )
    cur = engine.get(case.id)
    assert not cur.overdue
    assert cur.deadline is not None
    assert cur.deadline.due_at == end_of_local_day(date(2024, 6, 30))
    assert cur.deadline.spec.source == "listing"
    assert [k for k, _, _ in armed(engine, case.id)] == ["reminder", "deadline"]  # the rung timers are gone
    clock.set("2024-06-30T23:00:00+08:00")
    engine.run_due()
    assert len(events_of(engine, case.id, "sanction")) == 1


SUPERVISOR_OF_COUNTY = COMMITTEE.__class__("c-zhao", "赵执法", {"supervisor"}, "石柱县应急管理局", "500240")
PLAN = {
    "goal_tasks": "消除储罐区无紧急切断隐患",
    "methods_measures": "加装紧急切断阀",
    "funds_materials": "专项资金",
    "funds_amount": 350000,
    "organization_people": "设备部",
    "responsible_person": "王厂长",
    "deadline": "2024-03-20",
    "safety_emergency_measures": "停用储罐",
}


# ── reminders ──────────────────────────────────────────────────────────────────────────────────────
class ReminderHeavy(NationalBaseline):
    policy_id = "test.reminders"
    jurisdiction = TOWNSHIP
    reminder_offsets: ClassVar = {
        "rectify": (Delay(0), Delay(2, Unit.WORKING_DAY), Delay(10), Delay(5, Unit.HOUR)),
    }


def test_reminders_at_or_after_the_deadline_or_already_past_are_not_armed(store: Any) -> None:
    engine, _ = make_engine(store, policies=[ReminderHeavy()])
    case = open_general(engine, "2024-03-08")  # Friday; now is Monday 03-04 09:00
    assert armed(engine, case.id) == [
        # Delay(10) would be 02-27 (past): not armed. Delay(0) is the deadline itself: not armed.
        ("reminder", "rectify", end_of_local_day(date(2024, 3, 6))),  # 2 working days (Thu, Fri) left
        ("reminder", "rectify", at("2024-03-08T19:00")),  # 5 hours before 24:00
        ("deadline", "rectify", end_of_local_day(date(2024, 3, 8))),
    ]


# ── failures are held back and retried, never dropped; graceful stop leaves nothing held ────────────
class FlakyLadder(NationalBaseline):
    policy_id = "test.flaky"
    jurisdiction = TOWNSHIP
    broken = False

    def ladder(self, key: str, case: Any) -> Any:
        if FlakyLadder.broken:
            raise RuntimeError("ladder service unavailable")
        return super().ladder(key, case)


def test_a_failing_firing_writes_nothing_is_held_back_and_retried_after_the_hold(store: Any) -> None:
    engine, clock = make_engine(store, policies=[FlakyLadder()])
    case = open_general(engine, "2024-03-15")
    clock.set("2024-03-16T00:00:00+08:00")
    FlakyLadder.broken = True
    try:
        with structlog.testing.capture_logs() as logs:
            first = engine.run_due(hold_seconds=120)
        assert (first.fired, first.failed, first.cancelled) == (0, 1, 1)  # the reminder was superseded
        assert [(e["event"], e["log_level"], e["timer_id"]) for e in logs] == [
            ("timer.fire_failed", "error", f"{case.id}/2/d")
        ]
        assert not engine.get(case.id).overdue
        assert len(engine.history(case.id)) == 2  # the failed firing wrote nothing
        timer = engine.store.get_timer(f"{case.id}/2/d")
        assert timer is not None
        assert timer.status == "armed"
        assert (timer.lease_owner, timer.lease_expires_at) == (engine.worker_id, clock.now() + timedelta(seconds=120))
        clock.advance(seconds=60)
        # Held back: no sweep finds it (it is not retried on every sweep), no claim takes it.
        held = engine.run_due(owner="other")
        assert (held.fired, held.failed, held.skipped) == (0, 0, 0)
        assert engine.store.claim_timer(timer.id, clock.now()) is None
        FlakyLadder.broken = False
        clock.advance(seconds=60)
        retry = engine.run_due(owner="other")
        assert retry.fired == 2  # the deadline, then rung 1
        assert len(events_of(engine, case.id, "mark_overdue")) == 1
        fired = engine.store.get_timer(timer.id)
        assert fired is not None
        assert (fired.status, fired.lease_owner, fired.lease_expires_at) == ("fired", None, None)
    finally:
        FlakyLadder.broken = False


def test_stop_interrupts_a_sweep_and_leaves_nothing_held(store: Any) -> None:
    engine, clock = make_engine(store)
    for _ in range(5):
        open_general(engine, "2024-03-15")
    clock.set("2024-03-13T00:00:00+08:00")
    assert engine.run_due().fired == 5  # the reminders
    clock.set("2024-03-16T00:00:00+08:00")
    calls = iter(range(100))
    report = engine.run_due(stop=lambda: next(calls) >= 2)
    assert report.interrupted
    assert (report.fired, report.cancelled) == (2, 0)
    # What it had not fired fires at once in the next sweep, by any worker.
    assert engine.run_due(owner="another").fired == 8


def test_a_department_rung_without_a_department_still_fires(store: Any) -> None:
    class DepartmentLadder(NationalBaseline):
        policy_id = "test.department"
        jurisdiction = TOWNSHIP
        overdue_ladder = (Rung("formal_letter", Delay(0), "department"), Rung("circular_notice", Delay(1), "township"))

    engine, clock = make_engine(store, policies=[DepartmentLadder()])
    case = engine.open_case(
        "hazard",
        actor=OFFICER,
        jurisdiction=TOWNSHIP,
        grade="general",
        source="supervisory_inspection",
        nature="unsafe_condition",
        industry="other",
        business_unit="500240204-BU-0001",
        location="仓库",
        description="杂物",
    )
    engine.fire(
        case.id,
        "set_deadline",
        actor=OFFICER,
        payload={"deadline": "2024-03-15", "measures": "清理", "responsible": "李安全"},
    )
    clock.set("2024-03-18T00:00:00+08:00")
    engine.run_due()
    sanctions = events_of(engine, case.id, "sanction")
    assert [(e.payload["party"], e.payload.get("party_id")) for e in sanctions] == [
        ("department", "emergency_management"),  # the lead department of the industry [S3 §3]
        ("township", TOWNSHIP),
    ]


# ── time zones and bad input to run_due ─────────────────────────────────────────────────────────────
def test_run_due_refuses_bad_arguments_and_changes_nothing(store: Any) -> None:
    engine, _ = make_engine(store)
    case = open_general(engine, "2024-03-15")
    for kwargs, field, words in [
        ({"now": datetime(2024, 4, 1)}, "now", "timezone-aware"),
        ({"limit": 0}, "limit", "positive integer"),
        ({"limit": True}, "limit", "positive integer"),
        ({"hold_seconds": 0}, "hold_seconds", "positive number"),
    ]:
        with pytest.raises(InvalidInput) as info:
            engine.run_due(**kwargs)
        assert info.value.field == field
        assert words in str(info.value)
    assert len(engine.history(case.id)) == 2
    assert engine.store.get_timer(f"{case.id}/2/d").lease_owner is None  # type: ignore[union-attr]


def test_an_explicit_now_in_any_zone_is_stored_as_utc(store: Any) -> None:
    engine, _ = make_engine(store)
    case = open_general(engine, "2024-03-15")
    report = engine.run_due(datetime.fromisoformat("2024-03-16T08:00:00+08:00"))
    assert report.now == datetime(2024, 3, 16, 0, tzinfo=UTC)
    assert report.now.tzinfo is UTC
    ev = events_of(engine, case.id, "mark_overdue")[0]
    assert ev.occurred_at == datetime(2024, 3, 16, 0, tzinfo=UTC)
    assert ev.late_seconds == 8 * 3600.0


# ── years without holiday data ──────────────────────────────────────────────────────────────────────
class Provisional(NationalBaseline):
    policy_id = "test.provisional"
    jurisdiction = TOWNSHIP
    calendar_missing_year = "weekdays"


def test_a_deadline_in_a_year_without_data_is_recorded_provisional(store: Any) -> None:
    engine, clock = make_engine(store, start="2026-12-20T09:00:00+08:00", policies=[Provisional()])
    case = open_general(engine, "2026-12-25")
    clock.set("2026-12-24T09:00:00+08:00")
    review = submit(engine, case.id)
    # 10 日 from 12-24 is 2027-01-03 (a Sunday by the weekday fallback): rolled to Monday, provisional.
    assert review.deadline is not None
    assert review.deadline.provisional
    assert review.deadline.due_at == end_of_local_day(date(2027, 1, 4))
    changes = events_of(engine, case.id, "submit_review")[0].changes
    assert changes["deadline"]["provisional"] is True


def test_a_year_without_data_refuses_the_command_under_the_default_policy(store: Any) -> None:
    engine, clock = make_engine(store, start="2026-12-20T09:00:00+08:00")
    case = open_general(engine, "2026-12-25")
    clock.set("2026-12-24T09:00:00+08:00")
    with pytest.raises(CalendarDataMissing) as info:
        submit(engine, case.id)
    assert info.value.year == 2027
    assert engine.get(case.id).state == "rectifying"
    assert len(engine.history(case.id)) == 2
    assert [k for k, _, _ in armed(engine, case.id)] == ["reminder", "deadline"]


def test_a_missing_year_never_stops_the_ladder_when_the_policy_counts_weekdays(store: Any) -> None:
    engine, clock = make_engine(store, start="2026-12-01T09:00:00+08:00", policies=[Provisional()])
    case = open_general(engine, "2026-12-25")
    clock.set("2026-12-26T00:00:00+08:00")
    report = engine.run_due()
    assert report.failed == 0
    cur = engine.get(case.id)
    assert cur.overdue
    assert cur.sanction_rung == 1
    # Rung 2 is 10 working days into 2027, counted Monday-Friday for want of data.
    assert armed(engine, case.id) == [("sanction", "rectify", end_of_local_day(date(2027, 1, 8)))]


def test_a_rung_needing_a_year_without_data_is_held_back_under_the_default_policy(store: Any) -> None:
    # missing_year="error" applies to the ladder too: rung 2 would count 10 working days of 2027, so the firing of
    # rung 1 (which arms it) fails, writes nothing, and is held back and retried; never counted Monday-Friday.
    engine, clock = make_engine(store, start="2026-12-01T09:00:00+08:00")
    case = open_general(engine, "2026-12-25")
    clock.set("2026-12-26T00:00:00+08:00")
    with structlog.testing.capture_logs() as logs:
        report = engine.run_due()
    assert (report.fired, report.failed) == (1, 1)  # the deadline; rung 1 failed
    cur = engine.get(case.id)
    assert cur.overdue
    assert cur.sanction_rung == 0
    assert [e["event"] for e in logs] == ["timer.fire_failed"]
    timer = engine.store.get_timer(f"{case.id}/3/s1")
    assert timer is not None
    assert timer.status == "armed"
    assert timer.lease_expires_at is not None  # held back, retried after the hold


class WorkingDayReminder(NationalBaseline):
    """The baseline with a reminder two working days before the rectification deadline."""

    policy_id = "test.working-day-reminder"
    jurisdiction = TOWNSHIP
    reminder_offsets: ClassVar = {"rectify": (Delay(2, Unit.WORKING_DAY),)}


def test_a_reminder_in_a_year_without_data_refuses_the_deadline_under_the_default_policy(store: Any) -> None:
    # A fixed date in 2027 needs no calendar, but its "2 working days before" reminder does (missing_year="error").
    engine, _ = make_engine(store, start="2026-12-01T09:00:00+08:00", policies=[WorkingDayReminder()])
    case = engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **HAZARD_FIELDS)
    before = snapshot_store(engine.store)
    with pytest.raises(CalendarDataMissing) as info:
        open_general_order(engine, case.id, "2027-03-10")
    assert info.value.year == 2027
    assert snapshot_store(engine.store) == before


def open_general_order(engine: Engine, case_id: str, deadline: str) -> Case:
    return engine.fire(
        case_id,
        "set_deadline",
        actor=OFFICER,
        payload={"deadline": deadline, "measures": "清理通道", "responsible": "李安全"},
    )


def test_clock_zone_never_leaks_into_storage(store: Any) -> None:
    class Beijing:
        def __init__(self) -> None:
            self.inner = SimulatedClock("2024-03-04T09:00:00+08:00")

        def now(self) -> datetime:
            return self.inner.now().astimezone(SHANGHAI)

    clock = Beijing()
    engine = Engine(store=store, clock=clock)
    case = open_general(engine, "2024-03-15")
    assert case.opened_at.tzinfo is UTC
    assert all(e.occurred_at.tzinfo is UTC for e in engine.history(case.id))
    assert all(t.due_at.tzinfo is UTC for t in engine.store.armed_timers(case.id))
    assert timedelta(0) == case.opened_at.utcoffset()
