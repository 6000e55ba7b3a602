"""Histories for the report tests: the same steps run on every store through the real engine.

A history is a list of steps (plain tuples, so Hypothesis can draw them); :func:`play` runs them on an engine
and skips a step the lifecycle refuses (the figures must hold for whatever the engine accepted). The people
and places are those of ``hazard_world`` (三星乡 and 西沱镇 in 石柱县, plus a county-level case).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from hazard_world import ORDER, PLAN, REGISTER, REPORT_BODY, People
from hazardflow import Actor, CommandRefused, Engine, InvalidInput, SequentialIds, SimulatedClock
from hazardflow.abc import Store
from workflow_support import OFFICER, escalate, receive

PLACES = ("500240204", "500240105", "500240")
INDUSTRIES = ("industry_trade", "construction", "chemicals")
SOURCES = ("enterprise_self_inspection", "supervisory_inspection", "enforcement")
START = "2024-03-04T09:00:00+08:00"

Step = tuple[Any, ...]


def officer_for(place: str) -> Actor:
    return Actor(f"t-{place}", f"安办{place}", {"township_officer"}, f"安办@{place}", place)


def new_engine(store: Store | None = None) -> tuple[Engine, SimulatedClock]:
    clock = SimulatedClock(START)
    return Engine(store=store, clock=clock, ids=SequentialIds()), clock


def play(engine: Engine, clock: SimulatedClock, steps: Sequence[Step]) -> list[str]:
    """Run ``steps``; returns the hazard ids opened (in order). Refused steps are skipped.

    Besides hazards: ``("tipoff", _)`` receives a public tip-off in 三星乡, ``("substantiate", i)`` verifies
    and substantiates the i-th tip-off (opening a hazard), ``("escalate", i)`` proposes the i-th hazard for the
    county's pool, admits it and has the county accept it; ``("import", place, state, found_days)`` imports a
    general hazard from a ledger row, registered, rectifying, closed or voided.
    """
    ids: list[str] = []
    tips: list[str] = []
    for step in steps:
        kind = step[0]
        try:
            if kind == "tipoff":
                tips.append(receive(engine).id)
                continue
            if kind == "substantiate":
                if tips:
                    tip = tips[step[1] % len(tips)]
                    engine.fire(tip, "start_verification", actor=OFFICER)
                    payload = {"findings": "现场核实属实", "grade": "general", "nature": "unsafe_condition"}
                    done = engine.fire(tip, "substantiate", actor=OFFICER, payload=payload)
                    ids.append(done.fields["hazard_id"])
                continue
            if kind == "escalate":
                if ids:
                    escalate(engine, ids[step[1] % len(ids)])
                continue
            if kind == "register":
                _, place, major, industry, source, found_days = step
                data: dict[str, Any] = {
                    **REGISTER,
                    "grade": "major" if major else "general",
                    "industry": INDUSTRIES[industry % len(INDUSTRIES)],
                    "source": SOURCES[source % len(SOURCES)],
                }
                if major:
                    data["criteria"] = ["工贸行业重大事故隐患判定标准 第四条第（一）项"]
                if found_days:
                    data["discovered_at"] = (clock.now() - timedelta(days=found_days)).isoformat()
                actor = People.supervisor if major else officer_for(PLACES[place % len(PLACES)])
                case = engine.open_case("hazard", actor=actor, jurisdiction=PLACES[place % len(PLACES)], **data)
                ids.append(case.id)
            elif kind == "import":
                # A ledger row imported in the state it records (Engine.import_case).
                _, place, which, found_days = step
                where = PLACES[place % len(PLACES)]
                state = ("registered", "rectifying", "closed", "voided")[which % 4]
                today = clock.now().date()
                found = today - timedelta(days=found_days)
                data = {**REGISTER, "grade": "general", "discovered_at": f"{found.isoformat()}T08:00:00+08:00"}
                case = engine.import_case(
                    "hazard",
                    actor=officer_for(where),
                    jurisdiction=where,
                    state=state,
                    origin={"file": "台账.xlsx", "row": len(ids) + 4},
                    pins={"rectify": today + timedelta(days=20)} if state == "rectifying" else None,
                    registered_on=found,
                    closed_on=today if state in ("closed", "voided") else None,
                    **data,
                )
                ids.append(case.id)
            elif kind == "advance":
                clock.advance(timedelta(days=step[1]))
                engine.run_due()
            elif ids:
                _progress(engine, ids[step[1] % len(ids)], kind)
        except (CommandRefused, InvalidInput):
            continue
    return ids


def _progress(engine: Engine, case_id: str, kind: str) -> None:
    case = engine.get(case_id)
    fire = engine.fire
    if kind == "advance_case":
        if case.grade == "major":
            if case.state == "registered":
                fire(case_id, "confirm_major", actor=People.manager, payload={"opinion": "确认"})
            elif case.state in ("confirming", "reporting"):
                policy = engine.policy_for(case)
                try:
                    for r in policy.dual_report_recipients(case):
                        if r not in case.fields.get("reported_to", ()):
                            fire(case_id, "report", actor=People.boss, payload={"recipient": r, **REPORT_BODY})
                            return
                except CommandRefused:
                    if case.state == "confirming":
                        fire(case_id, "confirm_major", actor=People.boss, payload={"opinion": "复核确认"})
                        return
                    raise
                plan = {**PLAN, "deadline": (engine.clock.now() + timedelta(days=60)).date().isoformat()}
                fire(case_id, "adopt_plan", actor=People.boss, payload=plan)
            elif case.state == "rectifying":
                payload = {"evidence": ["验收.pdf"], "rectified_by": People.manager.id, "evaluation_report": "已消除"}
                fire(case_id, "submit_review", actor=People.boss, payload=payload)
            elif case.state == "under_review":
                fire(case_id, "approve", actor=People.supervisor, payload={"opinion": "通过"})
            elif case.state == "awaiting_delisting":
                fire(case_id, "delist", actor=People.committee, payload={})
        elif case.state == "registered":
            order = {**ORDER, "deadline": (engine.clock.now() + timedelta(days=20)).date().isoformat()}
            fire(case_id, "set_deadline", actor=officer_for(case.jurisdiction), payload=order)
        elif case.state == "rectifying":
            fire(
                case_id, "submit_review", actor=People.manager, payload={"evidence": ["照片.jpg"], "rectified_by": "x"}
            )
        elif case.state == "under_review":
            fire(case_id, "approve", actor=People.supervisor, payload={"opinion": "通过"})
    elif kind == "list":
        fire(case_id, "list_for_supervision", actor=People.committee, payload={"document_no": "石安办〔2024〕3号"})
    elif kind == "reject":
        fire(case_id, "reject", actor=People.supervisor, payload={"reason": "整改不到位"})
    elif kind == "void":
        fire(case_id, "void", actor=People.supervisor, payload={"reason": "重复登记"})
