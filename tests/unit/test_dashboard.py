"""The board's figures (``hazardflow.dashboard.build_board``): each number is ``count_cases`` of the filter it
links to, the matrix adds up, the lists hold what their filters select, and bad arguments are refused."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hazardflow import InvalidInput, UnknownJurisdictionError
from hazardflow.dashboard import Figure, build_board, export_board, filter_from_query, filter_to_query, render_board
from hazardflow.reports import CaseFilter, count_cases, count_cases_by, figures, figures_by
from reports_support import new_engine, play

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))
from test_reports_query import STEPS


@pytest.fixture(scope="module")
def engine() -> Any:
    eng, clock = new_engine()
    play(eng, clock, STEPS)
    return eng


def _figures(value: Any) -> list[Figure]:
    if isinstance(value, Figure):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _figures(v)]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _figures(v)]
    return []


def _count(engine: Any, fig: Figure) -> int:
    flt = filter_from_query(fig.query)
    if fig.exact:
        assert flt.jurisdiction is not None
        return count_cases_by(engine, flt, by="division").get((flt.jurisdiction,), 0)
    return count_cases(engine, flt)


@pytest.mark.parametrize(("code", "rows"), [("500240", None), ("500240", "department"), ("500240204", None)])
def test_every_linked_number_is_the_count_of_its_filter(engine: Any, code: str, rows: str | None) -> None:
    board = build_board(engine, code, rows=rows)
    figures = _figures(
        [
            board.kpis,
            board.status,
            board.matrix,
            board.trend,
            board.on_time_by_industry,
            board.on_time_by_division,
            dict(board.on_time),
        ]
    )
    linked = [f for f in figures if f.query]
    assert len(linked) > 40
    for fig in linked:
        assert _count(engine, fig) == fig.n, fig
    # Only the majors series goes without links (levels as of a past month's end, and the 存量/增量 split by
    # discovery date, are read from the audit events, not a filter); its current open count links.
    unlinked = {id(f) for f in figures if not f.query}
    series = {id(m[k]) for m in board.trend for k in ("stock", "new", "open")}
    assert unlinked == series - {id(board.trend[-1]["open"])}


def test_the_matrix_adds_up_and_colours_are_disjoint(engine: Any) -> None:
    board = build_board(engine, "500240")
    assert board.rows_by == "division"
    assert {r["id"] for r in board.matrix} >= {"500240", "500240204", "500240105"}
    assert sum(r["total"]["all"].n for r in board.matrix) == board.kpis["open"].n
    for colour in ("overdue", "behind", "due_soon"):
        assert sum(r["total"][colour].n for r in board.matrix) == board.status[colour].n
    for row in board.matrix:
        assert sum(c["all"].n for c in row["cells"]) == row["total"]["all"].n
        for c in row["cells"]:
            assert c["overdue"].n + c["behind"].n + c["due_soon"].n <= c["all"].n
    this_level = [r for r in board.matrix if r["this_level"]]
    assert [r["id"] for r in this_level] == ["500240"]
    assert this_level[0]["drill"] is None
    assert {r["drill"] for r in board.matrix if not r["this_level"]} == {"500240204", "500240105"}


def test_lists_hold_the_cases_their_filters_select(engine: Any) -> None:
    board = build_board(engine, "500240")
    overdue_ids = {c.id for c in engine.store.iter_cases() if c.workflow == "hazard" and c.overdue and not c.closed_at}
    assert overdue_ids
    assert overdue_ids <= {r["id"] for r in board.watch}
    assert [r["id"] for r in board.watch if r["overdue"]] == sorted(
        (r["id"] for r in board.watch if r["overdue"]),
        key=lambda i: (engine.get(i).deadline.due_at, i),
    )
    listed = {c.id for c in engine.store.iter_cases() if c.fields.get("listed") and c.closed_at is None}
    assert {r["id"] for r in board.listed} == listed
    assert all(r["listing_level"] == "county" for r in board.listed)
    late = [r for r in board.watch if r["rung"]]
    assert late
    for r in late:
        case = engine.get(r["id"])
        assert r["sanction"] == engine.policy_for(case).overdue_ladder[case.sanction_rung - 1].sanction


@pytest.mark.parametrize("code", ["500240", "500240204"])
def test_figures_are_those_of_the_reports(engine: Any, code: str) -> None:
    """The board's fast grouped counts equal hazardflow.reports.figures, month by month."""
    now = engine.now()
    until = now + timedelta(microseconds=1)
    board = build_board(engine, code, now=now, campaign_start=date(2024, 4, 1))
    assert len(board.trend) == 12
    scope = CaseFilter(jurisdiction=code)
    months = [date.fromisoformat(m["month"] + "-01") for m in board.trend]
    ends: list[Any] = [*months[1:], until]
    for m, start, end in zip(board.trend, months, ends, strict=True):
        f = figures(engine, start=start, end=end, scope=scope, stock_before="2024-04-01")
        assert (m["stock"].n, m["new"].n, m["open"].n) == (f.open_majors_stock, f.open_majors_new, f.open_majors)
    if code == "500240":  # the county's series has both kinds (the comparison is not between zeros)
        assert {m["stock"].n for m in board.trend} != {0}
        assert {m["new"].n for m in board.trend} != {0}
    at_now = figures(engine, start=months[-1], end=until, scope=scope)
    assert board.kpis["open"].n == at_now.open
    assert board.kpis["open_major"].n == at_now.open_majors
    assert board.kpis["overdue"].n == at_now.overdue_open
    assert board.kpis["listed"].n == at_now.listed_open
    assert board.kpis["pooled"].n == at_now.escalations_in_pool
    assert board.kpis["opened_month"].n == at_now.registered
    # The matrix's stages are the figures' open hazards by state, division by division.
    if board.rows_by == "division":
        by_division = figures_by(engine, "jurisdiction", start=months[-1], end=until, scope=scope)
        for row in board.matrix:
            if not row["this_level"]:
                shown = {c["state"]: c["all"].n for c in row["cells"] if c["all"].n}
                assert shown == dict(by_division[row["id"]].open_by_state)
    # On-time closure over the last twelve months, by industry and in all.
    year = figures_by(engine, "industry", start=months[0], end=until, scope=scope)
    rates = {r["id"]: r for r in board.on_time_by_industry}
    assert {k for k, f in year.items() if f.closed} == set(rates)
    for k, r in rates.items():
        assert (r["closed"].n, r["on_time"]) == (year[k].closed, year[k].closed_on_time)
    total = figures(engine, start=months[0], end=until, scope=scope)
    assert (board.on_time["closed"].n, board.on_time["on_time"]) == (total.closed, total.closed_on_time)


def test_filter_query_round_trip() -> None:
    flt = CaseFilter(
        workflow="hazard",
        jurisdiction="500240",
        state=("rectifying", "registered"),
        open=True,
        overdue=False,
        min_rung=2,
        deadline_before=datetime.fromisoformat("2024-06-01T00:00:00+08:00"),
    )
    assert filter_from_query(filter_to_query(flt)) == flt
    assert filter_to_query(CaseFilter()) == {}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"open": "yes"}, "open"),
        ({"min_rung": "-1"}, "min_rung"),
        ({"deadline_before": "tomorrow"}, "deadline_before"),
        ({"opened_from": "2024-06-01T00:00:00"}, "opened_from"),
        ({"state": ","}, "state"),
        ({"workflow": "ticket"}, "workflow"),
    ],
)
def test_bad_link_parameters_are_refused(query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        filter_from_query(query)
    assert err.value.field == field


def test_bad_board_arguments_are_refused(engine: Any, tmp_path: Path) -> None:
    with pytest.raises(UnknownJurisdictionError):
        build_board(engine, "5002")
    with pytest.raises(InvalidInput) as err:
        build_board(engine, 500240)  # type: ignore[arg-type]
    assert err.value.field == "jurisdiction"
    for kwargs, field in (
        ({"soon_days": -1}, "soon_days"),
        ({"soon_days": True}, "soon_days"),
        ({"rows": "village"}, "rows"),
        ({"now": datetime(2024, 6, 1)}, "now"),
    ):
        with pytest.raises(InvalidInput) as err:
            build_board(engine, "500240", **kwargs)
        assert err.value.field == field
    with pytest.raises(InvalidInput) as err:
        render_board(build_board(engine, "500240"), lang="fr")
    assert err.value.field == "lang"
    with pytest.raises(InvalidInput) as err:
        export_board(engine, "500240", tmp_path)
    assert err.value.field == "out"
    assert list(tmp_path.iterdir()) == []


def test_due_soon_window_moves_cases_from_behind_and_none_to_blue(engine: Any) -> None:
    now = engine.now()
    narrow = build_board(engine, "500240", soon_days=0, now=now)
    wide = build_board(engine, "500240", soon_days=60, now=now)
    assert narrow.status["due_soon"].n <= wide.status["due_soon"].n
    assert narrow.status["overdue"].n == wide.status["overdue"].n
    soon = now + timedelta(days=60)
    expected = sum(
        1
        for c in engine.store.iter_cases()
        if c.workflow == "hazard"
        and c.closed_at is None
        and not c.overdue
        and c.deadline is not None
        and c.deadline.due_at < soon
    )
    assert wide.status["due_soon"].n == expected


def test_export_is_one_file_with_everything_inlined(engine: Any, tmp_path: Path) -> None:
    path = export_board(engine, "500240", tmp_path / "挂图.html")
    html = path.read_text(encoding="utf-8")
    assert "<script src=" not in html
    assert '<link rel="stylesheet"' not in html
    assert "Apache Software Foundation" in html  # ECharts' licence header travels with it
    assert 'id="hf-data"' in html
    assert "/cases?" not in html  # no links to a service the reader may not reach
    en = export_board(engine, "500240", tmp_path / "board.html", lang="en")
    assert "hazard campaign board" in en.read_text(encoding="utf-8")


def test_embedded_json_cannot_close_its_script(engine: Any) -> None:
    board = build_board(engine, "500240")
    html = render_board(board)
    start = html.index('<script type="application/json" id="hf-data">')
    end = html.index("</script>", start)
    assert "<" not in html[start + 48 : end]


def test_the_service_serves_the_boards_unless_told_not_to(engine: Any) -> None:
    import httpx

    from hazardflow.server import DenyAll, create_app

    async def get(app: Any, path: str) -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
            return (await c.get(path)).status_code

    import asyncio

    served = create_app(engine, authenticator=DenyAll())
    assert asyncio.run(get(served, "/dashboard/500240")) == 401  # the service's authentication, deny by default
    assert asyncio.run(get(served, "/dashboard/static/board.js")) == 200  # no data: no authentication
    assert "/dashboard/{jurisdiction}" not in served.openapi()["paths"]  # pages, not API
    plain = create_app(engine, authenticator=DenyAll(), dashboard=False)
    assert asyncio.run(get(plain, "/dashboard/static/board.js")) == 404
