"""The public API as a host application uses it. ``mypy --strict src tests/typing`` must pass on this file.

It is also executed (tests/unit/test_public_api.py runs :func:`main`), so it cannot rot.
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_type

from hazardflow import (
    Actor,
    AuditEvent,
    AuditReport,
    Case,
    CaseNotFoundError,
    CommandRefused,
    ConcurrentUpdateError,
    Engine,
    GuardRejected,
    GuardResult,
    HazardflowError,
    InvalidInput,
    NotAuthorized,
    RunDueReport,
    SequentialIds,
    SimulatedClock,
    TransitionNotAllowed,
    replay,
)
from hazardflow.abc import JurisdictionPolicy, Store
from hazardflow.policies import NationalBaseline
from hazardflow.testing import MemoryStore, capture_audit, snapshot_store

TOWNSHIP = "500240204"
UNIT = "500240204-BU-0001"


class Sanxing(NationalBaseline):
    """A township's policy: the national rules plus two-level confirmation."""

    policy_id = "cq.shizhu.sanxing"
    policy_version = "2024.1"
    jurisdiction = TOWNSHIP
    name = "三星乡"
    confirmation_level_count = 2

    def on_the_spot_fix(self, case: Case) -> GuardResult:
        if case.industry == "chemicals":
            return GuardResult.deny("化工隐患不得即查即改", "chemicals hazards are never fixed on the spot")
        return super().on_the_spot_fix(case)


def build() -> Engine:
    store: Store = MemoryStore()
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    engine = Engine(store=store, clock=clock, policies=[Sanxing()], ids=SequentialIds())
    policy: JurisdictionPolicy = engine.policies.resolve(TOWNSHIP)
    assert_type(policy.policy_id, str)
    return engine


def message_for(error: HazardflowError) -> str:
    """What a host shows: its own text per stable code, with the structured details."""
    if isinstance(error, TransitionNotAllowed):
        return f"{error.code}: {error.state} → allowed {', '.join(error.allowed) or '-'}"
    if isinstance(error, NotAuthorized):
        return f"{error.code}: {error.actor_id} lacks {sorted(error.required_roles)}"
    if isinstance(error, GuardRejected):
        return f"{error.code}: {error.guard}: {error.reason_zh}"
    if isinstance(error, InvalidInput):
        return f"{error.code}: {error.field}={error.value!r} ({error.rule})"
    if isinstance(error, CaseNotFoundError | ConcurrentUpdateError):
        return f"{error.code}: {error.case_id}"
    return f"{error.code}: {error}"


def main() -> list[str]:
    engine = build()
    inspector = Actor("e-zhang", "张检查", {"inspector"}, UNIT, TOWNSHIP)
    officer = Actor("t-liu", "刘安办", frozenset({"township_officer"}), "三星乡安办", TOWNSHIP)
    manager = Actor("e-li", "李安全", {"safety_manager"}, UNIT, TOWNSHIP)
    shown: list[str] = []

    seen: list[tuple[str, int]] = []

    def on_commit(case: Case, event: AuditEvent) -> None:
        seen.append((case.id, event.seq))

    unsubscribe = engine.subscribe(on_commit)
    case = engine.open_case(
        "hazard",
        actor=inspector,
        jurisdiction=TOWNSHIP,
        grade="general",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=UNIT,
        location="一号车间",
        description="砂轮机防护罩缺失",
    )
    assert_type(case, Case)
    assert_type(case.state, str)
    assert_type(case.deadline is None, bool)
    triggers: list[str] = engine.allowed(case.id, officer)
    assert "set_deadline" in triggers

    try:
        engine.fire(case.id, "approve", actor=officer, payload={"opinion": "同意"})
    except CommandRefused as refused:
        shown.append(message_for(refused))

    before = snapshot_store(engine.store)
    try:
        engine.fire(case.id, "set_deadline", actor=inspector, payload={"deadline": "2024-03-20"})
    except HazardflowError as error:
        shown.append(message_for(error))
    assert snapshot_store(engine.store) == before

    with capture_audit(engine) as events:
        ordered = engine.fire(
            case.id,
            "set_deadline",
            actor=officer,
            payload={"deadline": "2024-03-20", "measures": "加装防护罩", "responsible": "李安全"},
            idempotency_key="order-1",
        )
    assert [e.type for e in events] == ["case.deadline_set"]
    assert ordered.deadline is not None
    due: datetime = ordered.deadline.due_at

    with engine.batch():
        engine.fire(
            case.id,
            "submit_review",
            actor=manager,
            payload={"evidence": ["照片.jpg"], "rectified_by": manager.id},
        )
    closed = engine.fire(case.id, "approve", actor=officer, payload={"opinion": "现场复核通过"})
    unsubscribe()

    history: list[AuditEvent] = engine.history(closed.id)
    assert replay(history) == engine.get(closed.id)
    report: AuditReport = engine.verify_audit()
    assert report.ok
    sweep: RunDueReport = engine.run_due(due)
    shown.append(f"{closed.state} after {len(history)} events; {sweep.fired} timer(s) fired; {len(seen)} commits seen")
    return shown


if __name__ == "__main__":
    for line in main():
        print(line)
