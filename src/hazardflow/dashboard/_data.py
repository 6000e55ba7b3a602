"""What a board shows, assembled from :mod:`hazardflow.reports` (no figure is computed here).

Every number on the board is a :class:`Figure`: the count and the :class:`~hazardflow.reports.CaseFilter`
that produced it, written as query parameters, so the page links each number to the list of the cases
behind it (the list is ``find_cases`` of the same filter, its total ``count_cases`` of it). Grouped figures
(the matrix, the monthly series, the rates by industry and division) come from
:func:`~hazardflow.reports.count_cases_by`, one query per table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from .._calendar import SHANGHAI
from .._clock import SystemClock
from .._exceptions import InvalidInput
from .._jurisdiction import canonical, level_of
from ..reports import CaseFilter, count_cases, count_cases_by, find_cases
from ..reports._query import store_of

__all__ = [
    "OPEN_STAGES",
    "Board",
    "Figure",
    "build_board",
    "filter_from_query",
    "filter_to_query",
]

#: The stages of an open hazard, in lifecycle order: the matrix's columns.
OPEN_STAGES = (
    "registered",
    "confirming",
    "reporting",
    "rectifying",
    "extension_requested",
    "under_review",
    "awaiting_delisting",
)
#: The overdue ladder of the national baseline, used to name a rung when the case's policy is not at hand.
_BASE_LADDER = ("formal_letter", "circular_notice", "admonitory_talk", "public_exposure", "enforcement_referral")
#: The colours of 三色督办, worst first.
STATUSES = ("overdue", "behind", "due_soon")
LIST_LIMIT = 50
TREND_MONTHS = 12
DEFAULT_SOON_DAYS = 3
#: The 存量 cutoff: major hazards found before it are the stock the 治本攻坚 campaign must clear, those found
#: since are the inflow it must curb [seed:000 一(二): "2023年及以前排查发现的重大事故隐患存量"].
CAMPAIGN_START = date(2024, 1, 1)

# CaseFilter fields a link may carry, and how each is read back from a query string.
_TEXT = ("workflow", "state", "grade", "industry", "department", "source", "business_unit")
_BOOL = ("open", "overdue", "listed")
_INSTANT = (
    "deadline_before",
    "deadline_after",
    "opened_from",
    "opened_until",
    "closed_from",
    "closed_until",
)
QUERY_FIELDS = ("jurisdiction", "owning_jurisdiction", *_TEXT, *_BOOL, "min_rung", *_INSTANT)


def filter_to_query(flt: CaseFilter) -> dict[str, str]:
    """The filter as query parameters (only the fields it sets; tuples joined by commas)."""
    out: dict[str, str] = {}
    for name in QUERY_FIELDS:
        value = getattr(flt, name)
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            out[name] = ",".join(value)
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            out[name] = value.astimezone(UTC).isoformat()
        else:
            out[name] = str(value)
    return out


def filter_from_query(params: Mapping[str, str]) -> CaseFilter:
    """The :class:`CaseFilter` a link names; a bad parameter raises :class:`~hazardflow.InvalidInput`."""
    kwargs: dict[str, Any] = {}
    for name, raw in params.items():
        if name not in QUERY_FIELDS:
            continue
        if name in _TEXT:
            kwargs[name] = tuple(v for v in raw.split(",") if v) or None
            if kwargs[name] is None:
                raise InvalidInput(name, raw, "must name at least one value (comma-separated)")
        elif name in _BOOL:
            if raw not in ("true", "false"):
                raise InvalidInput(name, raw, "must be true or false", ("false", "true"))
            kwargs[name] = raw == "true"
        elif name == "min_rung":
            if not raw.isdigit():
                raise InvalidInput(name, raw, "a rung of the overdue ladder is a whole number >= 0")
            kwargs[name] = int(raw)
        elif name in _INSTANT:
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                raise InvalidInput(name, raw, "must be an ISO 8601 instant with its offset") from None
            if when.tzinfo is None:
                raise InvalidInput(name, raw, "must be an ISO 8601 instant with its offset")
            kwargs[name] = when
        else:
            kwargs[name] = raw
    return CaseFilter(**kwargs)


@attrs.frozen
class Figure:
    """A number on the board and the filter of the cases behind it (``query``: its link parameters).

    ``exact`` marks a count of the cases registered at the jurisdiction itself (the 本级 row), which the
    case list narrows to that code.
    """

    n: int
    query: Mapping[str, str]
    exact: bool = False

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "q": dict(self.query)}
        if self.exact:
            out["exact"] = True
        return out


def _fig(n: int, flt: CaseFilter, *, exact: bool = False) -> Figure:
    return Figure(n, filter_to_query(flt), exact)


@attrs.frozen
class Board:
    """Everything one board shows, as plain values (``as_json()`` is what the page and the export embed)."""

    jurisdiction: str
    name: str
    path: str
    level: str
    as_of: datetime
    soon_days: int
    rows_by: str
    kpis: Mapping[str, Figure]
    status: Mapping[str, Figure]
    matrix: list[dict[str, Any]]
    watch: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    on_time_by_industry: list[dict[str, Any]]
    on_time_by_division: list[dict[str, Any]]
    listed: list[dict[str, Any]]
    pool: list[dict[str, Any]]
    has_divisions: bool
    on_time: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        def figs(d: Mapping[str, Figure]) -> dict[str, Any]:
            return {k: v.as_json() for k, v in d.items()}

        def deep(value: Any) -> Any:
            if isinstance(value, Figure):
                return value.as_json()
            if isinstance(value, dict):
                return {k: deep(v) for k, v in value.items()}
            if isinstance(value, list):
                return [deep(v) for v in value]
            if isinstance(value, datetime):
                return value.isoformat()
            return value

        return {
            "jurisdiction": self.jurisdiction,
            "name": self.name,
            "path": self.path,
            "level": self.level,
            "as_of": self.as_of.isoformat(),
            "soon_days": self.soon_days,
            "rows_by": self.rows_by,
            "has_divisions": self.has_divisions,
            "kpis": figs(self.kpis),
            "status": figs(self.status),
            "matrix": deep(self.matrix),
            "watch": deep(self.watch),
            "trend": deep(self.trend),
            "on_time_by_industry": deep(self.on_time_by_industry),
            "on_time_by_division": deep(self.on_time_by_division),
            "listed": deep(self.listed),
            "pool": deep(self.pool),
            "on_time": deep(dict(self.on_time)),
        }


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _percent(part: int, whole: int) -> float | None:
    """``part / whole`` in per cent, one decimal (the one rounding every view shows); None when ``whole`` is 0."""
    return round(100 * part / whole, 1) if whole else None


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def _local_midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).astimezone(UTC)


def _names(engine: Any) -> Any:
    return getattr(engine, "jurisdictions", None)


def _name(tree: Any, code: str) -> str:
    return str(tree.name(code)) if tree is not None else code


def _rung_sanction(engine: Any, case: Any) -> str | None:
    rung = case.sanction_rung
    if not rung:
        return None
    ladder: tuple[str, ...] = _BASE_LADDER
    policy_for = getattr(engine, "policy_for", None)
    if policy_for is not None:
        try:
            ladder = tuple(r.sanction for r in policy_for(case).overdue_ladder)
        except Exception:  # a case pinned to a policy this process does not have: the base ladder names it
            ladder = _BASE_LADDER
    return ladder[min(rung, len(ladder)) - 1] if ladder else None


def _case_row(engine: Any, tree: Any, case: Any, now: datetime) -> dict[str, Any]:
    due = case.deadline.due_at if case.deadline is not None else None
    late = (now - due).total_seconds() / 86400 if due is not None and case.overdue else None
    listing = case.fields.get("listing") or {}
    return {
        "id": case.id,
        "unit": case.fields.get("business_unit"),
        "division": case.jurisdiction,
        "division_name": _name(tree, case.jurisdiction),
        "department": case.fields.get("department"),
        "state": case.state,
        "grade": case.fields.get("grade"),
        "industry": case.fields.get("industry"),
        "due": due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if due is not None else None,
        "days_late": int(late) if late is not None and late >= 0 else None,
        "overdue": bool(case.overdue),
        "rung": case.sanction_rung,
        "sanction": _rung_sanction(engine, case),
        "listing_level": listing.get("level") if case.fields.get("listed") else None,
        "document_no": listing.get("document_no") if case.fields.get("listed") else None,
        "owner": case.owning_jurisdiction,
        "owner_name": _name(tree, case.owning_jurisdiction),
    }


def _check_jurisdiction(code: Any) -> str:
    if not isinstance(code, str):
        raise InvalidInput("jurisdiction", code, "must be an administrative-division code")
    return canonical(code)  # a malformed code raises UnknownJurisdictionError naming the rule


def build_board(
    store_or_engine: Any,
    jurisdiction: str,
    *,
    now: datetime | None = None,
    soon_days: int = DEFAULT_SOON_DAYS,
    rows: str | None = None,
    campaign_start: date = CAMPAIGN_START,
) -> Board:
    """Assemble the board of ``jurisdiction`` (and every division below it) from :mod:`hazardflow.reports`.

    ``now`` (default: the engine clock, else the wall clock) fixes the current month and the due-soon
    window of ``soon_days`` days; ``campaign_start`` is the 存量 cutoff of the majors series (major hazards
    found before it are the stock, those found since the inflow). ``rows`` is ``"division"`` or
    ``"department"`` (default: divisions when cases lie in a division below, else departments). Bad
    arguments raise :class:`~hazardflow.InvalidInput` naming them.
    """
    code = _check_jurisdiction(jurisdiction)
    if isinstance(soon_days, bool) or not isinstance(soon_days, int) or not 0 <= soon_days <= 60:
        raise InvalidInput("soon_days", soon_days, "the due-soon window is a whole number of days from 0 to 60")
    if rows is not None and rows not in ("division", "department"):
        raise InvalidInput("rows", rows, "the matrix rows are divisions or departments", ("department", "division"))
    engine = store_or_engine
    store = store_of(store_or_engine)
    if now is None:
        now_fn = getattr(engine, "now", None)
        now = now_fn() if callable(now_fn) else SystemClock().now()
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidInput("now", now, "must be a timezone-aware datetime")
    if not isinstance(campaign_start, date) or isinstance(campaign_start, datetime):
        raise InvalidInput("campaign_start", campaign_start, "must be a date (the first day of the campaign)")
    tree = _names(engine)
    local_today = now.astimezone(SHANGHAI).date()
    month0 = _local_midnight(_month_start(local_today))
    soon = now + timedelta(days=soon_days)
    # Periods end just after ``now``: what happened at ``now`` itself (a timer fired on the dot) counts.
    until = now + timedelta(microseconds=1)

    hz = CaseFilter(workflow="hazard", jurisdiction=code)
    open_ = attrs.evolve(hz, open=True)
    red = attrs.evolve(open_, overdue=True)
    blue = attrs.evolve(open_, overdue=False, deadline_before=soon)
    yellow = attrs.evolve(open_, overdue=False, min_rung=1, deadline_after=soon)
    year0 = _local_midnight(_add_months(_month_start(local_today), -(TREND_MONTHS - 1)))
    closed_year = attrs.evolve(hz, state="closed", closed_from=year0, closed_until=until)
    stock_cutoff = _local_midnight(campaign_start)

    def count(flt: CaseFilter) -> Figure:
        return _fig(count_cases(store, flt), flt)

    status = {"overdue": count(red), "behind": count(yellow), "due_soon": count(blue)}
    kpis = {
        "open": count(open_),
        "opened_month": count(attrs.evolve(hz, opened_from=month0, opened_until=until)),
        "closed_month": count(attrs.evolve(hz, state="closed", closed_from=month0, closed_until=until)),
        "open_major": count(attrs.evolve(open_, grade="major")),
        "listed": count(attrs.evolve(open_, listed=True)),
        **status,
        "pooled": count(CaseFilter(workflow="escalation", state="pooled", owning_jurisdiction=code)),
    }

    # ── the matrix: rows x stages, one grouped count per colour ──────────────────────────────────────
    level = level_of(code)
    divisions = count_cases_by(store, open_, by="division") if level != "village" else {}
    below = {d for (d,) in divisions}
    has_divisions = bool(below - {code})
    rows_by = rows or ("division" if has_divisions else "department")
    key = "division" if rows_by == "division" else "department"
    cells: dict[str, dict[tuple[Any, ...], int]] = {
        "all": count_cases_by(store, open_, by=(key, "state")),
        "overdue": count_cases_by(store, red, by=(key, "state")),
        "behind": count_cases_by(store, yellow, by=(key, "state")),
        "due_soon": count_cases_by(store, blue, by=(key, "state")),
    }
    row_ids: set[Any] = {k[0] for k in cells["all"]}
    if rows_by == "division" and tree is not None:
        row_ids |= {j.code for j in tree.children(code)}
    matrix: list[dict[str, Any]] = []
    for rid in sorted(row_ids, key=lambda r: (r is None, str(r))):
        exact = rows_by == "division" and rid == code

        def narrowed(flt: CaseFilter, state: str | None = None, rid: Any = rid, exact: bool = exact) -> CaseFilter:
            if rows_by == "division":
                flt = attrs.evolve(flt, jurisdiction=rid)
            elif rid is not None:
                flt = attrs.evolve(flt, department=rid)
            if state is not None:
                flt = attrs.evolve(flt, state=state)
            return flt

        row_cells = []
        for st in OPEN_STAGES:
            cell: dict[str, Any] = {"state": st}
            for colour, flt in (("all", open_), ("overdue", red), ("behind", yellow), ("due_soon", blue)):
                n = cells[colour].get((rid, st), 0)
                cell[colour] = _fig(n, narrowed(flt, st), exact=exact)
            row_cells.append(cell)
        totals = {
            colour: _fig(sum(v for k, v in cells[colour].items() if k[0] == rid), narrowed(flt), exact=exact)
            for colour, flt in (("all", open_), ("overdue", red), ("behind", yellow), ("due_soon", blue))
        }
        if rows_by == "division":
            label = _name(tree, rid)
            drill = None if exact or level_of(rid) == level else rid
        else:
            label = rid
            drill = None
        matrix.append(
            {"id": rid, "label": label, "this_level": exact, "drill": drill, "cells": row_cells, "total": totals}
        )

    # ── lists: overdue and due soon (soonest deadline first), listed, pooled escalations ─────────────────
    watch = [_case_row(engine, tree, c, now) for c in find_cases(store, red, limit=LIST_LIMIT, order="deadline").items]
    watch += [
        _case_row(engine, tree, c, now)
        for c in find_cases(store, blue, limit=LIST_LIMIT, order="deadline").items
        if len(watch) < LIST_LIMIT
    ][: LIST_LIMIT - len(watch)]
    listed = [
        _case_row(engine, tree, c, now)
        for c in find_cases(store, attrs.evolve(open_, listed=True), limit=LIST_LIMIT, order="deadline").items
    ]
    pool_filter = CaseFilter(workflow="escalation", state="pooled", owning_jurisdiction=code)
    pool = []
    for c in find_cases(store, pool_filter, limit=LIST_LIMIT, order="opened").items:
        row = _case_row(engine, tree, c, now)
        row["hazard"] = c.fields.get("hazard_id")
        row["reason"] = c.fields.get("reason")
        row["target"] = c.owning_jurisdiction
        pool.append(row)

    # ── open majors month by month: 存量 (found before the campaign began) and 增量 (found since), at each
    # month's end (the current month: now). One grouped count by registration and closure month gives every
    # level: open at t = registered before t - closed before t (a case reopened by a look-back counts as open
    # from its registration). The figures' own definitions (hazardflow.reports.figures: open_majors_stock,
    # open_majors_new) read the audit events instead; a test holds the two equal.
    starts = [_add_months(_month_start(local_today), -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    edges = [_EPOCH] + [_local_midnight(d) for d in starts] + [until]
    majors = attrs.evolve(hz, grade="major")
    opened_by = count_cases_by(store, majors, by=("found_before", "opened_bin"), edges=edges, cutoff=stock_cutoff)
    closed_by = count_cases_by(store, majors, by=("found_before", "closed_bin"), edges=edges, cutoff=stock_cutoff)
    level_now = {True: 0, False: 0}
    trend: list[dict[str, Any]] = []
    for i in range(len(edges) - 1):
        for found in (True, False):
            level_now[found] += opened_by.get((found, i), 0) - closed_by.get((found, i), 0)
        if i == 0:
            continue  # the bin before the first month: the levels the series starts from
        last = i == len(edges) - 2
        total = level_now[True] + level_now[False]
        trend.append(
            {
                "month": starts[i - 1].strftime("%Y-%m"),
                "stock": Figure(level_now[True], {}),
                "new": Figure(level_now[False], {}),
                # A past month's level is not a filter of the cases as they are now: only the current month's
                # links to its cases (the majors open now).
                "open": _fig(total, attrs.evolve(open_, grade="major")) if last else Figure(total, {}),
            }
        )

    # ── on-time closure (last 12 months) by industry and by division: closed cases of the period, and
    # those never marked overdue (the cases figures() counts in closed_on_time) ───────────────────────────
    def rates(by: str) -> list[dict[str, Any]]:
        key = "industry" if by == "industry" else "division"
        grouped = count_cases_by(store, closed_year, by=(key, "on_time"))
        out: list[dict[str, Any]] = []
        for gid in sorted({k[0] for k in grouped}, key=lambda v: (v is None, str(v))):
            on_time = grouped.get((gid, True), 0)
            closed = on_time + grouped.get((gid, False), 0)
            narrowed = closed_year
            exact = False
            if by == "industry" and gid is not None:
                narrowed = attrs.evolve(closed_year, industry=gid)
            elif by == "division" and gid is not None:
                narrowed = attrs.evolve(closed_year, jurisdiction=gid)
                exact = gid == code
            out.append(
                {
                    "id": gid,
                    "label": _name(tree, gid) if by == "division" and gid is not None else gid,
                    "closed": _fig(closed, narrowed, exact=exact),
                    "on_time": on_time,
                    "rate": _percent(on_time, closed),
                }
            )
        return out

    year = count_cases_by(store, closed_year, by="on_time")
    year_closed = year.get((True,), 0) + year.get((False,), 0)
    on_time_summary = {
        "closed": _fig(year_closed, closed_year),
        "on_time": year.get((True,), 0),
        "rate": _percent(year.get((True,), 0), year_closed),
    }
    return Board(
        jurisdiction=code,
        name=_name(tree, code),
        path=str(tree.path(code)) if tree is not None else code,
        level=level,
        as_of=now,
        soon_days=soon_days,
        rows_by=rows_by,
        kpis=kpis,
        status=status,
        matrix=matrix,
        watch=watch,
        trend=trend,
        on_time_by_industry=rates("industry"),
        on_time_by_division=rates("division") if level != "village" else [],
        listed=listed,
        pool=pool,
        has_divisions=has_divisions,
        on_time=on_time_summary,
    )
