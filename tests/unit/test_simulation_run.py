"""The simulator against hand-computed figures, the engine's invariants, and its own determinism."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from hazardflow import Engine
from hazardflow.persistence.memory import MemoryStore
from hazardflow.simulation import Fixed, Simulation, StockCleared, build_engine, simulate
from simulation_support import BUSY, HAND

SHANGHAI_OFFSET = timedelta(hours=8)


def local(day: str, hhmmss: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmmss}+08:00").astimezone(UTC)


# ── hand-computed figures ──────────────────────────────────────────────────────────────────────────
def test_hand_computed_scenario_matches_paper() -> None:
    # On paper (national baseline, Monday 2024-03-04 09:00, one second between registrations):
    # generals: order at once with a deadline of 2024-03-14, fixed in 7 days (Mon 03-11), reviewed the next day
    # (Tue 03-12): closed in exactly 8 days, on time.
    # majors: confirmed Tue 03-05, reported to the two recipients Wed and Thu, plan Fri 03-08 with a deadline 28
    # days later (Fri 04-05, so overdue at 2024-04-06 00:00 with rung 1 函告 at once); fixed 35 days after the
    # plan (Fri 04-12) and reviewed a day later, which is a Saturday: Monday 04-15. Rung 2 (10 working days
    # later) never comes. Each major: 42 days, not on time.
    result = simulate(HAND, seed=7)
    total = result.total
    # The six hazards are the backlog, found before the run and registered on its first day: carried in from
    # the stock, never counted as found (新发现) in the period they were registered in.
    assert total.opened("grade") == {}
    assert total.carried_in_by("grade") == {"general": 4, "major": 2}
    assert total.closed("general") == 4
    assert total.closed("major") == 2
    assert total.on_time_rate(grade="general") == 1.0
    assert total.on_time_rate(grade="major") == 0.0
    assert total.on_time_rate() == pytest.approx(4 / 6, abs=1e-4)
    assert total.days_to_close("general") == {"n": 4, "mean": 8.0, "median": 8.0}
    assert total.days_to_close("major") == {"n": 2, "mean": 42.0, "median": 42.0}
    assert dict(total.flows.missed) == {"rectify": 2}
    assert dict(total.flows.reached) == {1: 2}
    assert total.sanctions() == {"formal_letter": 2}
    march, april = result.period("2024Q1").levels, result.period("2024Q2").levels
    assert (march.open_majors_stock, march.open_majors_new) == (2, 0)
    assert march.overdue == {}
    assert april.open_majors == 0
    by_month = {lv.at: lv for lv in result.levels}
    assert by_month[date(2024, 4, 30)].open_majors == 0
    assert [(t.id, t.passed, t.value) for t in result.targets] == [
        ("stock_cleared", False, 2.0),
        ("stock_cleared_april", True, 0.0),
    ]
    assert result.stats.refused == 0
    assert result.stats.stuck == 0


def test_hand_computed_instants_in_the_audit_log() -> None:
    engine = build_engine(HAND, store=MemoryStore())
    result = Simulation(HAND, seed=7, engine=engine).run()
    major = engine.history("HZ-000001")
    assert [(e.trigger, e.occurred_at) for e in major] == [
        ("register", local("2024-03-04", "09:00:00")),
        ("confirm_major", local("2024-03-05", "09:00:00")),
        ("report", local("2024-03-06", "09:00:00")),
        ("report", local("2024-03-07", "09:00:00")),
        ("adopt_plan", local("2024-03-08", "09:00:00")),
        ("remind", local("2024-04-03", "00:00:00")),
        ("mark_overdue", local("2024-04-06", "00:00:00")),
        ("sanction", local("2024-04-06", "00:00:00")),
        ("submit_review", local("2024-04-12", "09:00:00")),
        ("approve", local("2024-04-15", "09:00:00")),
    ]
    general = engine.history("HZ-000003")
    assert [e.trigger for e in general] == ["register", "set_deadline", "submit_review", "approve"]
    assert general[1].payload["deadline"] == "2024-03-14"
    assert result.audit_digest == simulate(HAND, seed=7).audit_digest


def test_longer_fix_changes_only_what_it_should() -> None:
    # Generals now take 12 days against a 10-day deadline: each misses its deadline (rung 1), the majors do not move.
    slower = attrs.evolve(HAND, behaviour=attrs.evolve(HAND.behaviour, rectify_days=Fixed(14)))
    total = simulate(slower, seed=7).total
    assert total.on_time_rate(grade="general") == 0.0
    assert dict(total.flows.missed) == {"rectify": 6}
    assert total.days_to_close("major") == {"n": 2, "mean": 42.0, "median": 42.0}
    assert total.days_to_close("general")["median"] == 15.0  # fixed Mon 03-18, reviewed Tue 03-19


# ── invariants over every simulated case ───────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def busy_run() -> tuple[Engine, object]:
    engine = build_engine(BUSY, store=MemoryStore())
    snapshots: list[tuple[date, list[str]]] = []

    def check_deadlines(progress: object) -> None:
        # At the end of each simulated month: no open case has lost its deadline.
        day = progress.day  # type: ignore[attr-defined]
        if (day + timedelta(days=1)).day == 1:
            snapshots.append((day, lost_deadlines(engine)))

    result = Simulation(BUSY, seed=3, engine=engine, progress=check_deadlines).run()
    return engine, (result, snapshots)


def test_busy_run_exercises_every_behaviour(busy_run: tuple[Engine, object]) -> None:
    _engine, (result, _snaps) = busy_run  # type: ignore[misc]
    total = result.total
    events = total.flows.events
    for wf, trigger in [
        ("hazard", "fix_on_spot"),
        ("hazard", "set_deadline"),
        ("hazard", "reject"),
        ("hazard", "request_extension"),
        ("hazard", "grant_extension"),
        ("hazard", "list_for_supervision"),
        ("hazard", "delist"),
        ("hazard", "sanction"),
        ("tipoff", "substantiate"),
        ("tipoff", "dismiss"),
        ("escalation", "accept_escalation"),
        ("hazard", "transfer_supervision"),
    ]:
        assert events[(wf, trigger)] > 0, (wf, trigger)
    assert result.stats.refused == 0
    assert result.stats.stuck == 0


def test_every_closed_case_was_reviewed(busy_run: tuple[Engine, object]) -> None:
    engine, _ = busy_run
    closed = list(engine.cases(workflow="hazard", state="closed"))
    assert len(closed) > 200
    for case in closed:
        triggers = [e.trigger for e in engine.history(case.id)]
        assert case.fields.get("reviewed_by"), case.id
        assert case.fields["reviewed_by"] not in (case.fields.get("rectified_by"), case.fields.get("submitted_by"))
        if case.fields.get("review_kind") == "on_spot_check":
            assert triggers[-1] == "fix_on_spot"
        else:
            assert "approve" in triggers, case.id
        if case.fields.get("listing"):
            assert triggers[-1] == "delist"


def lost_deadlines(engine: Engine) -> list[str]:
    """Open cases whose deadline has no timer: one armed at the deadline until it passes, then the ladder's."""
    lost = []
    for case in engine.cases(open_only=True):
        timers = engine.store.armed_timers(case.id)
        deadlines = [t for t in timers if t.kind == "deadline"]
        if case.deadline is None:
            ok = not deadlines
        elif not case.overdue:
            ok = len(deadlines) == 1 and deadlines[0].due_at == case.deadline.due_at
        else:
            rungs = engine.policy_for(case).ladder(case.deadline.key, case)
            sanctions = [t for t in timers if t.kind == "sanction"]
            ok = not deadlines and len(sanctions) == (1 if case.sanction_rung < len(rungs) else 0)
        if not ok:
            lost.append(case.id)
    return lost


def test_no_deadline_is_ever_lost(busy_run: tuple[Engine, object]) -> None:
    engine, (_result, snapshots) = busy_run  # type: ignore[misc]
    assert len(snapshots) == 12
    assert all(missing == [] for _day, missing in snapshots), snapshots
    assert lost_deadlines(engine) == []
    overdue = [c for c in engine.cases(open_only=True) if c.overdue]
    assert overdue, "the scenario should leave overdue cases on the ladder"


def test_audit_chains_and_replay_hold(busy_run: tuple[Engine, object]) -> None:
    engine, _ = busy_run
    report = engine.verify_audit()
    assert report.problems == ()
    assert report.cases > 300


def test_figures_agree_with_the_store(busy_run: tuple[Engine, object]) -> None:
    engine, (result, _s) = busy_run  # type: ignore[misc]
    hazards = list(engine.cases(workflow="hazard"))
    # every hazard case is either found during the run (新发现) or carried in from the stock found before it
    assert result.total.total_opened() + result.total.carried_in() == len(hazards)
    assert result.total.closed() == sum(1 for c in hazards if c.state == "closed")
    end = result.levels[-1]
    open_majors = [c for c in hazards if c.closed_at is None and c.grade == "major"]
    assert end.open_majors == len(open_majors)
    assert sum(end.overdue.values()) == sum(1 for c in hazards if c.closed_at is None and c.overdue)


# ── determinism ────────────────────────────────────────────────────────────────────────────────────
def _audit_log(seed: int) -> tuple[str, bytes]:
    buf = io.StringIO()
    result = Simulation(BUSY, seed=seed, audit_log=buf, until=date(2024, 4, 30)).run()
    return result.audit_digest, buf.getvalue().encode()


def test_same_seed_gives_a_byte_identical_audit_log() -> None:
    digest_a, log_a = _audit_log(11)
    digest_b, log_b = _audit_log(11)
    assert digest_a == digest_b
    assert hashlib.sha256(log_a).hexdigest() == hashlib.sha256(log_b).hexdigest()
    lines = log_a.decode().splitlines()
    assert len(lines) > 300
    first = json.loads(lines[0])
    assert first["trigger"] == "register"
    assert first["case_id"] == "HZ-000001"


def test_another_seed_gives_another_log() -> None:
    assert _audit_log(11)[0] != _audit_log(12)[0]


def test_sqlite_run_writes_the_same_log_as_memory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    until = date(2024, 3, 31)
    in_memory = simulate(BUSY, seed=5, until=until)
    on_disk = simulate(BUSY, seed=5, until=until, url=url)
    assert on_disk.store == url
    assert on_disk.audit_digest == in_memory.audit_digest
    assert on_disk.to_json(timing=False)["periods"] == in_memory.to_json(timing=False)["periods"]
    # The database opens with the plain engine and verifies.
    with Engine.from_url(url) as engine:
        report = engine.verify_audit()
        assert report.problems == ()
        assert report.events == on_disk.stats.commands


@pytest.mark.postgres
def test_postgresql_run_writes_the_same_log_as_memory(fresh_postgres_url: str) -> None:
    until = date(2024, 1, 31)
    in_memory = simulate(BUSY, seed=6, until=until)
    on_server = simulate(BUSY, seed=6, until=until, url=fresh_postgres_url)
    assert on_server.audit_digest == in_memory.audit_digest
    with Engine.from_url(fresh_postgres_url) as engine:
        assert engine.verify_audit().problems == ()


# ── forecasting from a store that already holds cases ──────────────────────────────────────────────
def test_forecast_adopts_open_cases() -> None:
    engine = build_engine(BUSY, store=MemoryStore())
    Simulation(BUSY, seed=4, engine=engine, until=date(2024, 6, 30)).run()
    still_open = {c.id for c in engine.cases(workflow="hazard", open_only=True)}
    open_majors = {c.id for c in engine.cases(workflow="hazard", open_only=True) if c.grade == "major"}
    assert still_open
    assert open_majors
    # Forecast the second half-year from that state: majors found before July are now the stock.
    stock = StockCleared(by=date(2024, 12, 31), found_before=date(2024, 7, 1))
    later = attrs.evolve(BUSY, start=date(2024, 7, 1), backlog=None, targets=[stock])
    second = Simulation(later, seed=4, engine=engine).run()
    assert second.stats.adopted == len(still_open)
    july = second.levels[0]
    assert july.at == date(2024, 7, 31)
    assert july.open_majors_stock <= len(open_majors)
    left = {c.id for c in engine.cases(workflow="hazard", open_only=True)} & still_open
    assert len(left) < len(still_open) / 2
    assert second.targets[0].value == float(len({c for c in left if c in open_majors}))
    assert engine.verify_audit().problems == ()


# ── bad input ──────────────────────────────────────────────────────────────────────────────────────
def test_engine_clock_past_the_start_is_refused() -> None:
    from hazardflow import InvalidInput

    engine = build_engine(HAND)
    engine.clock.set("2024-05-01T00:00:00+08:00")  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as err:
        Simulation(HAND, seed=1, engine=engine)
    assert err.value.field == "engine"
    assert "past the scenario's start" in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"seed": "1"}, "seed", "must be an integer"),
        ({"seed": True}, "seed", "must be an integer"),
        ({"seed": 1, "until": date(2024, 1, 1)}, "until", "must not be before the scenario's start"),
        ({"seed": 1, "until": date(2025, 1, 1)}, "until", "must not be after the scenario's end"),
    ],
)
def test_bad_run_arguments(kwargs: dict[str, object], field: str, words: str) -> None:
    from hazardflow import InvalidInput

    with pytest.raises(InvalidInput) as err:
        Simulation(HAND, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    assert words in str(err.value)


def test_a_simulation_runs_once() -> None:
    from hazardflow import InvalidInput

    sim = Simulation(HAND, seed=1, until=date(2024, 3, 10))
    sim.run()
    with pytest.raises(InvalidInput, match="has already run"):
        sim.run()
