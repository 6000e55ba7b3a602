"""Grouped counts (``hazardflow.reports.count_cases_by``): each cell equals ``count_cases`` of the narrowed
filter, the same on every store, and equal to a plain recount of the cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reports_query import STEPS

from hazardflow import InvalidInput, UnknownJurisdictionError
from hazardflow.persistence.sql import SqlStore
from hazardflow.reports import CaseFilter, child_division, count_cases, count_cases_by
from reports_support import new_engine, play

EDGES = [datetime(2024, 3, 1, tzinfo=UTC) + timedelta(days=14 * i) for i in range(8)]
CUTOFF = datetime(2024, 3, 20, tzinfo=UTC)
GROUPINGS: list[tuple[CaseFilter, tuple[str, ...]]] = [
    (CaseFilter(), ("workflow", "state")),
    (CaseFilter(jurisdiction="500240"), ("division", "state")),
    (CaseFilter(jurisdiction="500000"), ("division",)),
    (CaseFilter(jurisdiction="000000"), ("division", "grade")),
    (CaseFilter(workflow="hazard", open=True), ("department", "industry", "overdue")),
    (CaseFilter(workflow="hazard", state="closed"), ("industry", "grade")),
    (CaseFilter(workflow="hazard", grade="major"), ("found_before", "opened_bin")),
    (CaseFilter(workflow="hazard"), ("found_before", "closed_bin", "grade")),
    (CaseFilter(workflow="hazard", state="closed", jurisdiction="500240"), ("division", "on_time")),
    (CaseFilter(jurisdiction="500240204"), ("division", "source", "business_unit")),
]


def _narrow(flt: CaseFilter, key: str, value: Any) -> CaseFilter | None:
    """The filter of one cell, or None when a value is missing (no filter selects "no industry")."""
    if key == "division":
        return attrs.evolve(flt, jurisdiction=value)
    if key in ("workflow", "state", "grade", "industry", "department", "source", "business_unit"):
        return attrs.evolve(flt, **{key: value}) if value is not None else None
    if key == "overdue":
        return attrs.evolve(flt, overdue=value)
    return None  # bins, found_before, on_time: checked by the recount


def _recount(store: Any, flt: CaseFilter, by: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    """The plain-Python recount the grouped query must equal."""
    out: Counter[tuple[Any, ...]] = Counter()
    for case in store.iter_cases():
        if not flt.matches(case):
            continue
        row: list[Any] = []
        for k in by:
            if k in ("workflow", "state"):
                row.append(getattr(case, k))
            elif k == "overdue":
                row.append(case.overdue)
            elif k == "division":
                row.append(child_division(case.jurisdiction, flt.jurisdiction or "000000"))
            elif k in ("opened_bin", "closed_bin"):
                t = case.opened_at if k == "opened_bin" else case.closed_at
                row.append(next((i for i in range(len(EDGES) - 1) if t and EDGES[i] <= t < EDGES[i + 1]), None))
            elif k == "found_before":
                found = case.fields.get("discovered_at")
                row.append((datetime.fromisoformat(found) if found else case.opened_at) < CUTOFF)
            elif k == "on_time":
                row.append(len(case.fields.get("missed_deadlines", ())) == 0)
            else:
                row.append(case.fields.get(k))
        out[tuple(row)] += 1
    return dict(out)


def test_grouped_counts_equal_counts_and_a_recount_on_every_store(any_store: Any) -> None:
    engine, clock = new_engine(any_store)
    play(engine, clock, STEPS)
    reference, ref_clock = new_engine()
    play(reference, ref_clock, STEPS)
    for flt, by in GROUPINGS:
        got = count_cases_by(any_store, flt, by=by, edges=EDGES, cutoff=CUTOFF)
        assert got == _recount(reference.store, flt, by), (flt, by)
        assert sum(got.values()) == count_cases(any_store, flt)
        for key, n in got.items():
            cell = flt
            for k, v in zip(by, key, strict=True):
                narrowed = _narrow(cell, k, v) if cell is not None else None
                cell = narrowed
            if cell is not None:
                if "division" in by and key[by.index("division")] == flt.jurisdiction:
                    continue  # the parent's own row: its filter also selects the divisions below
                assert count_cases(any_store, cell) == n, (flt, by, key)
    assert sum(count_cases_by(any_store, CaseFilter(), by="state").values()) == count_cases(any_store)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(
                st.just("register"),
                st.integers(0, 2),
                st.booleans(),
                st.integers(0, 2),
                st.integers(0, 2),
                st.sampled_from([0, 40]),
            ),
            st.tuples(st.just("advance_case"), st.integers(0, 20)),
            st.tuples(st.just("advance"), st.integers(1, 25)),
            st.tuples(st.just("list"), st.integers(0, 20)),
            st.tuples(st.just("void"), st.integers(0, 20)),
        ),
        max_size=40,
    )
)
def test_sqlite_and_memory_group_alike(tmp_path_factory: pytest.TempPathFactory, steps: list[Any]) -> None:
    db = tmp_path_factory.mktemp("grouped") / "g.db"
    with SqlStore(f"sqlite:///{db}") as store:
        engine, clock = new_engine(store)
        play(engine, clock, steps)
        reference, ref_clock = new_engine()
        play(reference, ref_clock, steps)
        for flt, by in GROUPINGS:
            assert count_cases_by(store, flt, by=by, edges=EDGES, cutoff=CUTOFF) == count_cases_by(
                reference.store, flt, by=by, edges=EDGES, cutoff=CUTOFF
            )


def test_child_division() -> None:
    assert child_division("140581102", "140581") == "140581102"
    assert child_division("140581102", "140500") == "140581"
    assert child_division("140581102", "140000") == "140500"
    assert child_division("140581102", "000000") == "140000"
    assert child_division("140581", "140581") == "140581"
    assert child_division("140581102001", "140581102") == "140581102001"
    assert child_division("140581102000", "140581") == "140581102"
    assert child_division("140581102001", "140581102001") == "140581102001"


@pytest.mark.parametrize(
    ("kwargs", "field", "wording"),
    [
        ({"by": "colour"}, "by", "unknown key to group by"),
        ({"by": ()}, "by", "name at least one key"),
        ({"by": ("state", "state")}, "by", "a key may appear once"),
        ({"by": "division"}, "by", "needs the filter's jurisdiction"),
        ({"by": "state", "filter": "hazard"}, "filter", "expected a CaseFilter"),
        ({"by": "opened_bin"}, "edges", "at least two edges"),
        ({"by": "opened_bin", "edges": [datetime(2024, 1, 1), datetime(2024, 2, 1)]}, "edges", "timezone-aware"),
        ({"by": "closed_bin", "edges": [EDGES[1], EDGES[0]]}, "edges", "increase strictly"),
        ({"by": "found_before"}, "cutoff", "needs a timezone-aware cutoff"),
        ({"by": "found_before", "cutoff": datetime(2024, 1, 1)}, "cutoff", "needs a timezone-aware cutoff"),
    ],
)
def test_bad_groupings_are_refused(kwargs: dict[str, Any], field: str, wording: str) -> None:
    engine, _ = new_engine()
    flt = kwargs.pop("filter", None)
    with pytest.raises(InvalidInput) as err:
        count_cases_by(engine, flt, **kwargs)
    assert err.value.field == field
    assert wording in str(err.value)


def test_a_bad_division_code_is_refused() -> None:
    with pytest.raises(UnknownJurisdictionError):
        child_division("5002", "500240")
