"""Report figures (``hazardflow.reports.figures``): a hand-computed history, every store identical, and equal
to a plain recount from the audit events (replayed with :func:`hazardflow.replay`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazard_world import ORDER, People
from hazardflow import InvalidInput, replay
from hazardflow._calendar import SHANGHAI
from hazardflow.reports import CaseFilter, Figures, figures, figures_by
from hazardflow.reports._figures import OPEN_TERMINAL, OUTCOMES, _child
from reports_support import new_engine, play

# ── a hand-computed history ─────────────────────────────────────────────────────────────────────


def test_a_small_history_counted_by_hand(any_store: Any) -> None:
    engine, clock = new_engine(any_store)
    # 2024-03-04 (Mon): three hazards in 三星乡, one in 西沱镇.
    ids = play(
        engine,
        clock,
        [
            ("register", 0, False, 0, 0, 0),  # A: general, industry_trade
            ("register", 0, False, 1, 1, 0),  # B: general, construction
            ("register", 0, True, 0, 2, 400),  # C: major, found 400 days ago (stock)
            ("register", 1, False, 0, 0, 0),  # D: general, 西沱镇
        ],
    )
    a, b, _c, d = ids
    o = People.officer
    engine.fire(a, "set_deadline", actor=o, payload={**ORDER, "deadline": "2024-03-08"})
    engine.fire(b, "set_deadline", actor=o, payload={**ORDER, "deadline": "2024-03-29"})
    clock.advance(timedelta(days=2))  # 03-06: A fixed and closed on time
    engine.fire(a, "submit_review", actor=People.manager, payload={"evidence": ["x.jpg"], "rectified_by": "x"})
    engine.fire(a, "approve", actor=People.supervisor, payload={"opinion": "通过"})
    engine.fire(d, "void", actor=People.supervisor, payload={"reason": "重复登记"})
    clock.set("2024-04-02T10:00:00+08:00")  # B's deadline (03-29) has passed
    engine.run_due()  # B marked overdue, and the first rung of the ladder fires
    clock.advance(timedelta(hours=1))
    engine.fire(b, "submit_review", actor=People.manager, payload={"evidence": ["x.jpg"], "rectified_by": "x"})
    engine.fire(b, "approve", actor=People.supervisor, payload={"opinion": "通过"})  # closed late

    march = figures(engine, start="2024-03-01", end="2024-04-01", scope=CaseFilter(jurisdiction="500240"))
    assert (march.registered, march.closed, march.closed_on_time, march.voided) == (4, 1, 1, 1)
    assert (march.open, march.open_majors, march.open_majors_stock, march.open_majors_new) == (2, 1, 1, 0)
    assert march.overdue_open == 0  # B's deadline runs to the end of 03-29, marked when the timer fires 04-02
    assert march.on_time_rate == 1.0
    assert march.close_days == {2: 1}
    april = figures(engine, start="2024-04-01", end="2024-05-01", scope=CaseFilter(jurisdiction="500240"))
    assert (april.registered, april.closed, april.closed_on_time, april.open) == (0, 1, 0, 1)
    assert april.on_time_rate == 0.0
    assert april.close_days == {29: 1}
    assert april.rungs_reached == {1: 1}
    assert march.rungs_reached == {}
    # As of a moment when B was overdue and not yet closed:
    mid = figures(engine, start="2024-04-02T02:00:00+00:00", end="2024-04-02T02:30:00+00:00")
    assert (mid.overdue_open, mid.open_under_sanction, mid.rungs_reached) == (1, 1, {1: 1})
    assert mid.open_by_state == {"registered": 1, "rectifying": 1}
    by_town = figures_by(
        engine, "jurisdiction", start="2024-03-01", end="2024-04-01", scope=CaseFilter(jurisdiction="500240")
    )
    assert set(by_town) == {"500240204", "500240105"}
    assert by_town["500240105"].voided == 1
    assert by_town["500240105"].open == 0
    assert by_town["500240204"].open == 2
    by_grade = figures_by(engine, "grade", start="2024-03-01", end="2024-04-01")
    assert by_grade["major"].open_majors == 1
    assert by_grade["general"].registered == 3


def test_bad_arguments_are_refused(any_store: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        figures(any_store, start="2024-05-01", end="2024-04-01")
    assert info.value.field == "end"
    with pytest.raises(InvalidInput) as info:
        figures(any_store, start="2024-13-01", end="2024-04-01")
    assert info.value.field == "start"
    with pytest.raises(InvalidInput) as info:
        figures(any_store, start="2024-03-01", end="2024-04-01", scope=CaseFilter(state="closed"))
    assert info.value.field == "scope"
    with pytest.raises(InvalidInput) as info:
        figures_by(any_store, "state", start="2024-03-01", end="2024-04-01")  # type: ignore[arg-type]
    assert info.value.field == "group_by"
    with pytest.raises(InvalidInput) as info:
        figures(any_store, start="2024-03-01", end="2024-04-01", major_grades=[""])
    assert info.value.field == "major_grades"


# ── every store, and the recount ────────────────────────────────────────────────────────────────


def recount(
    store: Any, t0: datetime, t1: datetime, cut: datetime, scope: CaseFilter, group: str | None
) -> dict[Any, Figures]:
    """The figures by the plain road: replay each case's events before each instant, count in Python."""
    acc: dict[Any, dict[str, Any]] = {}
    for case in store.iter_cases():
        if not scope.matches(case) or case.opened_at >= t1:
            continue
        raw = case.fields.get("discovered_at")
        found = datetime.fromisoformat(raw) if raw else case.opened_at
        evs = store.load_events(case.id)
        at_end = replay([e for e in evs if e.occurred_at < t1])
        before_start = [e for e in evs if e.occurred_at < t0]
        rung0 = replay(before_start).sanction_rung if before_start else 0
        if group is None:
            g = None
        elif group == "jurisdiction":
            g = _child(case.jurisdiction, 9)
        elif group == "found_month":
            g = found.astimezone(SHANGHAI).strftime("%Y-%m")
        else:
            g = case.fields.get(group)
        a = acc.setdefault(
            g,
            {
                "n": Counter(),
                "grade": Counter(),
                "level": Counter(),
                "state": Counter(),
                "days": Counter(),
                "spot": Counter(),
                "rungs": Counter(),
            },
        )
        n = a["n"]
        wf = case.workflow
        # A case imported already closed or voided is a historical record, not a registration of the period.
        imported = case.fields.get("imported") or {}
        fresh = case.opened_at >= t0 and imported.get("state") not in ("closed", "voided")
        is_open = at_end.state not in OPEN_TERMINAL[wf]
        if wf == "hazard":
            n["registered"] += fresh
            n["registered_stock"] += fresh and found < cut
            for r in range(rung0 + 1, at_end.sanction_rung + 1):
                a["rungs"][r] += 1
            if is_open:
                major = case.fields.get("grade") == "major"
                n["open"] += 1
                a["grade"][case.fields.get("grade")] += 1
                a["state"][at_end.state] += 1
                n["open_majors"] += major
                n["open_majors_stock"] += major and found < cut
                n["open_majors_new"] += major and found >= cut
                n["open_majors_unplanned"] += major and at_end.state in ("registered", "confirming", "reporting")
                n["overdue_open"] += at_end.overdue
                n["overdue_open_majors"] += at_end.overdue and major
                if at_end.fields.get("listed") is True:
                    n["listed_open"] += 1
                    a["level"][case.fields["listing"]["level"]] += 1
                n["open_under_sanction"] += at_end.sanction_rung > 0
        elif wf == "escalation":
            n["escalations_proposed"] += fresh
            n["escalations_in_pool"] += at_end.state == "pooled"
        elif wf == "tipoff":
            n["tipoffs_received"] += fresh
        missed = False
        for e in evs:
            if e.occurred_at >= t1:
                break
            missed = missed or e.trigger == "mark_overdue"
            if e.occurred_at < t0 or e.from_state in (None, e.to_state) or e.to_state not in OUTCOMES:
                continue
            if wf == "hazard" and e.to_state == "closed":
                n["closed"] += 1
                n["closed_on_time"] += not missed
                tenths = (int(e.occurred_at.timestamp()) - int(case.opened_at.timestamp())) // 8640
                a["days"][tenths / 10] += 1
                if e.trigger == "fix_on_spot":
                    n["closed_on_spot"] += 1
                    a["spot"][tenths / 10] += 1
            elif wf == "hazard" and e.to_state == "voided":
                n["voided"] += 1
            elif wf == "tipoff" and e.to_state == "substantiated":
                n["tipoffs_substantiated"] += 1
            elif wf == "escalation" and e.to_state in ("pooled", "accepted", "returned"):
                n[f"escalations_{e.to_state}"] += 1
    out = {}
    for g, a in acc.items():
        out[g] = Figures(
            t0,
            t1,
            cut,
            **{k: int(v) for k, v in a["n"].items()},
            open_by_grade=dict(a["grade"]),
            listed_by_level=dict(a["level"]),
            open_by_state=dict(a["state"]),
            close_days=dict(a["days"]),
            close_days_on_spot=dict(a["spot"]),
            rungs_reached=dict(a["rungs"]),
        )
    return out


def _comparable(figs: dict[Any, Figures]) -> dict[Any, dict[str, Any]]:
    """Figures as dicts without zero entries (the recount leaves out what it never saw)."""
    out = {}
    for g, f in figs.items():
        d = f.to_json()
        for k in ("reports_filed", "reports_filed_late", "reports_overdue"):
            d.pop(k)
        out[g] = {k: ({kk: vv for kk, vv in v.items() if vv} if isinstance(v, dict) else v) for k, v in d.items()}
    return out


step = st.one_of(
    st.tuples(
        st.just("register"),
        st.integers(0, 2),
        st.booleans(),
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from([0, 0, 30, 400]),
    ),
    st.tuples(
        st.sampled_from(["advance_case", "advance_case", "advance_case", "list", "reject", "void"]), st.integers(0, 30)
    ),
    st.tuples(st.just("advance"), st.integers(1, 40)),
    st.tuples(st.sampled_from(["tipoff", "substantiate", "escalate"]), st.integers(0, 30)),
    st.tuples(st.just("import"), st.integers(0, 2), st.integers(0, 3), st.sampled_from([0, 30, 400])),
)


def _check_history(stores: list[Any], steps: list[Any], cuts: list[tuple[int, int]], group: str | None) -> None:
    engines = [new_engine(s) for s in stores]
    for engine, clock in engines:
        play(engine, clock, steps)
    origin = datetime(2024, 3, 1, tzinfo=UTC)
    scope = CaseFilter(jurisdiction="500240")
    for a, b in cuts:
        t0 = origin + timedelta(days=min(a, b))
        t1 = origin + timedelta(days=max(a, b), hours=7)
        results = [_comparable(figures_by(e, group, start=t0, end=t1, scope=scope)) for e, _ in engines]
        for r in results[1:]:
            assert r == results[0]
        expected = _comparable(recount(engines[0][0].store, t0, t1, t0, scope, group))
        assert results[0] == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(step, min_size=3, max_size=45),
    cuts=st.lists(st.tuples(st.integers(0, 150), st.integers(0, 150)), min_size=1, max_size=3),
    group=st.sampled_from([None, "jurisdiction", "grade", "industry", "source", "found_month"]),
)
def test_memory_figures_equal_the_recount_from_events(
    steps: list[Any], cuts: list[tuple[int, int]], group: str | None
) -> None:
    _check_history([None], [("register", 0, True, 0, 0, 400), *steps], cuts, group)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Callable[[], Any]]:
    """A factory of empty stores of one kind (each Hypothesis example gets its own)."""
    from hazardflow.persistence.sql import SqlStore

    made: list[Any] = []

    def make() -> Any:
        if request.param == "memory":
            return None
        if request.param == "sqlite":
            store = SqlStore(f"sqlite:///{tmp_path / f'figures{len(made)}.db'}")
        else:
            store = SqlStore(request.getfixturevalue("postgres_databases")())
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(step, min_size=3, max_size=40),
    cuts=st.lists(st.tuples(st.integers(0, 150), st.integers(0, 150)), min_size=1, max_size=2),
    group=st.sampled_from([None, "jurisdiction", "grade", "found_month"]),
)
def test_every_store_gives_the_same_figures(
    new_store: Callable[[], Any], steps: list[Any], cuts: list[tuple[int, int]], group: str | None
) -> None:
    _check_history([None, new_store()], [("register", 1, True, 1, 1, 30), *steps], cuts, group)


def test_a_long_fixed_history_on_every_store(any_store: Any) -> None:
    steps: list[Any] = []
    for i in range(30):
        steps.append(("register", i % 3, i % 4 == 0, i, i // 3, (i % 3) * 200))
        if i % 2:
            steps.append(("advance", 5))
    for rnd in range(8):
        steps += [("advance_case", i) for i in range(rnd % 2, 30, 2)]
        steps += [("list", 0), ("list", 4), ("reject", 3), ("advance", 9)]
    steps += [("tipoff", 0), ("tipoff", 0), ("substantiate", 0), ("escalate", -1), ("escalate", 3), ("escalate", 0)]
    steps += [("void", 5), ("advance", 60)]
    _check_history([None, any_store], steps, [(0, 30), (10, 70), (40, 160), (0, 200)], "jurisdiction")
    _check_history([any_store], [], [(0, 200)], None)
    whole = figures(any_store, start="2024-03-01", end="2025-03-01")
    assert (whole.tipoffs_received, whole.tipoffs_substantiated) == (2, 1)
    assert whole.escalations_proposed >= 1
    assert whole.escalations_accepted >= 1


def test_several_dimensions_split_the_same_totals(any_store: Any) -> None:
    engine, clock = new_engine(any_store)
    steps: list[Any] = [("register", i % 3, i % 3 == 0, i, i, (i % 4) * 100) for i in range(18)]
    steps += [("advance_case", i) for i in range(18)] + [("advance", 45)] + [("advance_case", i) for i in range(9)]
    play(engine, clock, steps)
    kw: dict[str, Any] = {"start": "2024-03-01", "end": "2024-06-01", "stock_before": "2024-01-01"}
    cube = figures_by(engine, ("grade", "industry", "found_month"), **kw)
    assert all(isinstance(k, tuple) and len(k) == 3 for k in cube)
    by_grade = figures_by(engine, "grade", **kw)
    total = figures(engine, **kw)
    for name in ("registered", "closed", "open", "open_majors", "open_majors_stock", "open_majors_unplanned"):
        assert sum(getattr(f, name) for f in cube.values()) == getattr(total, name), name
        for grade, f in by_grade.items():
            assert sum(getattr(x, name) for k, x in cube.items() if k[0] == grade) == getattr(f, name)
    assert total.open_majors_stock > 0
    assert total.open_majors_new > 0
    reference, ref_clock = new_engine()
    play(reference, ref_clock, steps)
    assert figures_by(reference, ("grade", "industry", "found_month"), **kw) == cube
    with pytest.raises(InvalidInput):
        figures_by(engine, ("grade", "grade"), **kw)  # type: ignore[arg-type]
