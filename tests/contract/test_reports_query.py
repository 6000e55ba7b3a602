"""Case lists (``hazardflow.reports.find_cases``): the same pages on every store, keyset cursors, refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hazardflow import InvalidInput, UnknownJurisdictionError
from hazardflow.reports import CaseFilter, count_cases, find_cases
from reports_support import new_engine, play

STEPS: list[tuple[Any, ...]] = []
for i in range(24):
    STEPS.append(("register", i % 3, i % 5 == 0, i, i // 2, (i % 4) * 40))
    STEPS.append(("advance_case", i))
    if i % 3 == 0:
        STEPS.append(("advance", 9))
for rnd in range(7):
    STEPS += [("advance_case", i) for i in range(rnd, 24, 2)]
    STEPS += [("list", 0), ("list", 10), ("advance", 6)]
STEPS += [("void", 7), ("advance", 40)]


def _all_pages(store: Any, flt: CaseFilter, order: Any, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = find_cases(store, flt, cursor=cursor, limit=limit, order=order)
        ids += [c.id for c in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


FILTERS = [
    CaseFilter(),
    CaseFilter(workflow="hazard", jurisdiction="500240204"),
    CaseFilter(jurisdiction="500240"),
    CaseFilter(jurisdiction="500240105", grade="major"),
    CaseFilter(state=("rectifying", "registered"), industry="construction"),
    CaseFilter(open=True, overdue=True),
    CaseFilter(open=False),
    CaseFilter(listed=True),
    CaseFilter(listed=False, source=("enforcement",)),
    CaseFilter(min_rung=1),
    CaseFilter(opened_from="2024-03-10", opened_until="2024-04-01"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("order", ["opened", "-opened", "deadline"])
def test_every_store_lists_the_same_pages(any_store: Any, order: Any) -> None:
    engine, clock = new_engine(any_store)
    play(engine, clock, STEPS)
    reference, ref_clock = new_engine()
    play(reference, ref_clock, STEPS)
    for flt in FILTERS:
        expected = _all_pages(reference.store, flt, order, 1000)
        # The plain recount: every case the filter matches, once.
        assert sorted(expected) == sorted(c.id for c in reference.store.iter_cases() if flt.matches(c))
        for limit in (1, 4, 7):
            assert _all_pages(any_store, flt, order, limit) == expected, (flt, limit)
        assert count_cases(any_store, flt) == len(expected)


def test_filters_select_what_they_say() -> None:
    engine, clock = new_engine()
    play(engine, clock, STEPS)
    store = engine.store
    everything = list(store.iter_cases())
    assert {c.jurisdiction for c in find_cases(store, CaseFilter(jurisdiction="500240"), limit=1000).items} == {
        c.jurisdiction for c in everything
    }
    township = find_cases(store, CaseFilter(jurisdiction="500240204"), limit=1000).items
    assert township
    assert all(c.jurisdiction == "500240204" for c in township)
    overdue = find_cases(store, CaseFilter(open=True, overdue=True), limit=1000).items
    assert overdue
    assert all(c.overdue and c.closed_at is None for c in overdue)
    soon = clock.now() + timedelta(days=30)
    due = find_cases(store, CaseFilter(open=True, deadline_before=soon), order="deadline", limit=1000).items
    dues = [c.deadline.due_at for c in due if c.deadline is not None]
    assert len(dues) == len(due)
    assert dues == sorted(dues)


def test_a_page_does_not_move_when_cases_are_added(any_store: Any) -> None:
    engine, clock = new_engine(any_store)
    play(engine, clock, STEPS[:20])
    first = find_cases(any_store, CaseFilter(workflow="hazard"), limit=3)
    assert first.next_cursor is not None
    rest_before = _all_pages(any_store, CaseFilter(workflow="hazard"), "opened", 1000)[3:]
    play(engine, clock, [("register", 0, False, 1, 1, 0), ("register", 1, True, 2, 2, 0)])
    page = find_cases(any_store, CaseFilter(workflow="hazard"), cursor=first.next_cursor, limit=1000)
    assert [c.id for c in page.items][: len(rest_before)] == rest_before
    assert len(page.items) == len(rest_before) + 2


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: find_cases(s, limit=0), "limit"),
        (lambda s: find_cases(s, limit=1001), "limit"),
        (lambda s: find_cases(s, order="state"), "order"),
        (lambda s: find_cases(s, cursor="not-a-cursor"), "cursor"),
        (lambda s: find_cases(s, cursor="WyJvcGVuZWQiLDFd"), "cursor"),  # ["opened",1]
        (lambda s: find_cases(s, CaseFilter(workflow="hazzard")), "workflow"),
        (lambda s: find_cases(s, CaseFilter(open="yes")), "open"),  # type: ignore[arg-type]
        (lambda s: find_cases(s, CaseFilter(min_rung=-1)), "min_rung"),
        (lambda s: find_cases(s, {"state": "closed"}), "filter"),  # type: ignore[arg-type]
        (lambda s: count_cases(s, {"state": "closed"}), "filter"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_refused_naming_them(any_store: Any, call: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        call(any_store)
    assert info.value.field == field


def test_a_cursor_of_another_order_is_refused() -> None:
    engine, clock = new_engine()
    play(engine, clock, STEPS[:10])
    page = find_cases(engine, limit=1, order="deadline")
    assert page.next_cursor is not None
    with pytest.raises(InvalidInput, match="order 'opened'"):
        find_cases(engine, cursor=page.next_cursor, order="opened")


def test_bad_filter_values_are_refused() -> None:
    with pytest.raises(UnknownJurisdictionError):
        CaseFilter(jurisdiction="5002")
    with pytest.raises(InvalidInput, match="timezone-aware"):
        CaseFilter(opened_from=__import__("datetime").datetime(2024, 1, 1))
    with pytest.raises(InvalidInput):
        CaseFilter(grade=("",))
