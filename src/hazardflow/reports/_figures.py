"""Figures at an instant and over a period (统计指标), computed where the cases are.

Every figure is defined once (the glossary's ``figure`` rows, generated into the docs) and computed in two
steps that every store shares:

1. **Cubes**, counted by the store: the *case cube* counts cases by (group, workflow, grade, state at the
   instant, overdue at the instant, listed at the instant, listing level, found before the stock cutoff,
   registered in the period, ladder rung at the start and at the end of the period); the *event cube* counts
   the period's outcome events (closure, voiding, substantiation, pooling, acceptance, return, filing) by
   (group, workflow, state reached, whether a deadline had been missed before, tenths of days since
   registration). On a SQL store each cube is one ``GROUP BY`` query; on any other store the same counts
   are taken by a scan (:func:`_cubes_scan`).
2. **Figures**, derived from the two cubes in Python by :func:`_derive` (a few thousand rows at most).

The instant ``T`` ("as of") is the end of the period: a case's state at ``T`` is what its events before
``T`` made of it (the case row itself when it has not changed since; its last event before ``T`` otherwise).
Grouping fields (jurisdiction, grade, industry, department, source) are the case's current values.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

import attrs

from .._calendar import SHANGHAI
from .._exceptions import InvalidInput
from .._jurisdiction import canonical, level_of
from ._query import CaseFilter, _instant, _is_sql, listed_sql, store_of

__all__ = ["GROUPS", "Figures", "figures", "figures_by"]

#: What figures may be grouped by (``found_month``: the month, in Asia/Shanghai, the hazard was found in).
GROUPS = ("jurisdiction", "grade", "industry", "department", "source", "found_month")
Group = Literal["jurisdiction", "grade", "industry", "department", "source", "found_month"]

OPEN_TERMINAL = {
    "hazard": ("closed", "voided"),
    "tipoff": ("substantiated", "unfounded", "merged"),
    "escalation": ("accepted", "returned", "withdrawn"),
    "report_obligation": ("fulfilled",),
}
#: Every workflow's terminal states (a case imported in one of them is a historical record).
_TERMINAL = frozenset(s for states in OPEN_TERMINAL.values() for s in states)
_TERMINAL_SQL = ", ".join(f"'{s}'" for s in sorted(_TERMINAL))
#: Hazard states before a plan or an order exists (登记、确认、双报告).
UNPLANNED = ("registered", "confirming", "reporting")
#: The states whose reaching in the period the event cube counts, and the figure each feeds.
OUTCOMES = ("closed", "voided", "substantiated", "pooled", "accepted", "returned", "fulfilled")
#: Digits of the division one level below a scope's level (the children a jurisdiction grouping shows).
_CHILD_DIGITS = {"national": 2, "province": 4, "city": 6, "county": 9, "township": 12, "village": 12}
_PAD = {2: "0000", 4: "00"}


def _percentile(hist: Mapping[float, int], q: float) -> float | None:
    """The ``q`` quantile of a histogram ``{value: count}`` (nearest rank, the lower of a tie; None if empty)."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, -(-int(q * total * 1_000_000) // 1_000_000))  # ceil(q * total), exact for the usual q
    seen = 0
    for value, count in sorted(hist.items()):
        seen += count
        if seen >= rank:
            return float(value)
    return float(max(hist))


@attrs.frozen
class Figures:
    """The figures of one scope (and group) for the period ``[start, end)``, levels as of ``end``.

    Field names say what they count; each is defined in the glossary (kind ``figure``). ``grades`` counts
    open hazards by grade; ``majors`` are the grades passed as ``major_grades`` (national 重大).
    """

    start: datetime
    end: datetime
    stock_before: datetime
    #: hazards registered in the period (新增登记), and those of them found before the stock cutoff (存量录入)
    registered: int = 0
    registered_stock: int = 0
    #: hazard closures (销号) in the period, of which ``closed_on_time`` had never missed a deadline before
    closed: int = 0
    closed_on_time: int = 0
    #: hazards voided in the period
    voided: int = 0
    #: hazards open (not closed, not voided) at ``end``, all grades, and by grade
    open: int = 0
    open_by_grade: Mapping[str, int] = attrs.field(factory=dict)
    #: open major hazards at ``end``: all, found before the stock cutoff (存量), found on or after it (增量)
    open_majors: int = 0
    open_majors_stock: int = 0
    open_majors_new: int = 0
    #: open major hazards at ``end`` with no governance plan adopted yet (still 登记/确认/报告)
    open_majors_unplanned: int = 0
    #: open hazards whose running deadline had passed at ``end`` (逾期未销号), all grades / majors only
    overdue_open: int = 0
    overdue_open_majors: int = 0
    #: open hazards listed for supervision at ``end`` (挂牌督办), and by the listing authority's level
    listed_open: int = 0
    listed_by_level: Mapping[str, int] = attrs.field(factory=dict)
    #: open hazards by state at ``end``
    open_by_state: Mapping[str, int] = attrs.field(factory=dict)
    #: days (in tenths, cut down) from registration to closure of the period's closures: histogram
    close_days: Mapping[float, int] = attrs.field(factory=dict)
    #: closures on the spot (即查即改) in the period, and their days to close
    closed_on_spot: int = 0
    close_days_on_spot: Mapping[float, int] = attrs.field(factory=dict)
    #: hazards that reached rung ≥ n of the overdue ladder during the period, by n
    rungs_reached: Mapping[int, int] = attrs.field(factory=dict)
    #: hazards open at ``end`` that have ever reached a rung of the ladder
    open_under_sanction: int = 0
    tipoffs_received: int = 0
    tipoffs_substantiated: int = 0
    escalations_proposed: int = 0
    escalations_pooled: int = 0
    escalations_accepted: int = 0
    escalations_returned: int = 0
    #: escalations waiting in the upper tier's pool at ``end`` (蓄水池在池)
    escalations_in_pool: int = 0
    reports_filed: int = 0
    reports_filed_late: int = 0
    #: reporting obligations still due and past their date at ``end``
    reports_overdue: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """按期整改率: closures in the period that never missed a deadline ÷ closures in the period."""
        return self.closed_on_time / self.closed if self.closed else None

    @property
    def mean_days_to_close(self) -> float | None:
        total = sum(self.close_days.values())
        return sum(d * n for d, n in self.close_days.items()) / total if total else None

    @property
    def median_days_to_close(self) -> float | None:
        return _percentile(self.close_days, 0.5)

    @property
    def p90_days_to_close(self) -> float | None:
        return _percentile(self.close_days, 0.9)

    def to_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict (derived rates and statistics included)."""
        out: dict[str, Any] = {}
        for a in attrs.fields(Figures):
            v = getattr(self, a.name)
            if isinstance(v, datetime):
                v = v.isoformat()
            elif isinstance(v, Mapping):
                v = {str(k): n for k, n in sorted(v.items(), key=lambda kv: str(kv[0]))}
            out[a.name] = v
        for name in ("on_time_rate", "mean_days_to_close", "median_days_to_close", "p90_days_to_close"):
            out[name] = getattr(self, name)
        return out


# ── arguments ────────────────────────────────────────────────────────────────────────────────────
_SCOPE_FIELDS = ("jurisdiction", "owning_jurisdiction", "grade", "industry", "department", "source", "business_unit")


def _scope(scope: CaseFilter | None) -> CaseFilter:
    if scope is None:
        return CaseFilter()
    if not isinstance(scope, CaseFilter):
        raise InvalidInput("scope", type(scope).__name__, "expected a CaseFilter")
    defaults = CaseFilter()
    for a in attrs.fields(CaseFilter):
        if a.name not in _SCOPE_FIELDS and getattr(scope, a.name) != getattr(defaults, a.name):
            raise InvalidInput(
                "scope",
                a.name,
                "figures are scoped by the case's place and facts only",
                _SCOPE_FIELDS,
                hint="states, periods and flags are what the figures count",
            )
    return scope


def _bound(name: str, value: Any) -> datetime:
    out = _instant(value)
    if not isinstance(out, datetime) or out.tzinfo is None or out.utcoffset() is None:
        raise InvalidInput(name, value, "must be a date (YYYY-MM-DD) or a timezone-aware datetime")
    return out.astimezone(UTC)


@attrs.frozen
class _Grouping:
    """The dimensions figures are grouped by; a key is one value, or a tuple of values for several."""

    dims: tuple[str, ...]
    digits: int

    @classmethod
    def of(cls, group_by: str | Sequence[str] | None, scope: CaseFilter) -> _Grouping:
        dims: tuple[str, ...] = (
            () if group_by is None else (group_by,) if isinstance(group_by, str) else tuple(group_by)
        )
        for d in dims:
            if d not in GROUPS:
                raise InvalidInput("group_by", d, "figures are grouped by one of", GROUPS)
        if len(set(dims)) != len(dims):
            raise InvalidInput("group_by", ",".join(dims), "each dimension once")
        return cls(dims, _CHILD_DIGITS[level_of(canonical(scope.jurisdiction or "000000"))])

    def key(self, values: Sequence[Any]) -> Any:
        if not self.dims:
            return None
        out = tuple(
            _child(v, self.digits) if d == "jurisdiction" and v is not None else v
            for d, v in zip(self.dims, values, strict=True)
        )
        return out[0] if len(out) == 1 else out

    def of_case(self, case: Any) -> Any:
        values = []
        for d in self.dims:
            if d == "jurisdiction":
                values.append(case.jurisdiction)
            elif d == "found_month":
                found = _found(case).astimezone(SHANGHAI)
                values.append(f"{found.year:04d}-{found.month:02d}")
            else:
                values.append(case.fields.get(d))
        return self.key(values)

    def sql(self, dialect: str) -> list[str]:
        out = []
        for d in self.dims:
            if d == "jurisdiction":
                out.append(f"substr(c.jurisdiction, 1, {int(self.digits)})")
            elif d == "found_month":
                if dialect == "sqlite":
                    found = "COALESCE(json_extract(c.fields, '$.discovered_at'), c.opened_at)"
                    out.append(f"strftime('%Y-%m', {found}, '+8 hours')")
                else:
                    out.append(
                        "to_char(COALESCE((c.fields ->> 'discovered_at')::timestamptz, c.opened_at) "
                        "AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
                    )
            else:
                out.append(f"c.{d}")
        return out


def _child(code: str, digits: int) -> str:
    cut = code[:digits]
    return cut + _PAD.get(len(cut), "") if len(cut) == digits else cut


# ── the public functions ─────────────────────────────────────────────────────────────────────────
def figures(
    store_or_engine: Any,
    *,
    start: datetime | date | str,
    end: datetime | date | str,
    scope: CaseFilter | None = None,
    stock_before: datetime | date | str | None = None,
    major_grades: Iterable[str] = ("major",),
) -> Figures:
    """The figures of ``scope`` for the period ``[start, end)``, levels as of ``end``.

    ``scope`` restricts by place and facts (``jurisdiction`` with its subtree, ``grade``, ``industry``,
    ``department``, ``source``, ...). ``stock_before`` is the 存量 cutoff (default ``start``): an open major
    found before it is stock, on or after it new. A date means 00:00 of that day in Asia/Shanghai.
    """
    out = figures_by(
        store_or_engine,
        None,
        start=start,
        end=end,
        scope=scope,
        stock_before=stock_before,
        major_grades=major_grades,
    )
    return out.get(None) or Figures(
        _bound("start", start), _bound("end", end), _bound("stock_before", stock_before or start)
    )


def figures_by(
    store_or_engine: Any,
    group_by: Group | Sequence[Group] | None,
    *,
    start: datetime | date | str,
    end: datetime | date | str,
    scope: CaseFilter | None = None,
    stock_before: datetime | date | str | None = None,
    major_grades: Iterable[str] = ("major",),
    departed: Iterable[tuple[Any, Sequence[Any]]] = (),
) -> dict[Any, Figures]:
    """:func:`figures` for each value of ``group_by`` (a grouping of ``jurisdiction`` gives the divisions one
    level below the scope's, e.g. the townships of a county). Several dimensions give tuple keys in their
    order. Groups with nothing to count are left out.

    ``departed``: ``(case, events)`` of cases a memory store no longer holds (``MemoryStore(retention="evict")``
    drops a case when it closes), counted as if it still held them; not for a SQL store.
    """
    flt = _scope(scope)
    t0 = _bound("start", start)
    t1 = _bound("end", end)
    if t1 < t0:
        raise InvalidInput("end", t1.isoformat(), f"the period ends before it starts ({t0.isoformat()})")
    cut = _bound("stock_before", stock_before if stock_before is not None else t0)
    majors = frozenset(_codes_of(major_grades))
    grouping = _Grouping.of(group_by, flt)
    store = store_of(store_or_engine)
    if _is_sql(store):
        if departed:
            raise InvalidInput("departed", "…", "a SQL store keeps every case; departed cases are for a memory store")
        cases, events = _cubes_sql(store, flt, grouping, t0, t1, cut)
    else:
        cases, events = _cubes_scan(store, flt, grouping, t0, t1, cut, departed)
    return _derive(cases, events, t0, t1, cut, majors)


def _codes_of(values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        values = (values,)
    out = list(values)
    for v in out:
        if not isinstance(v, str) or not v:
            raise InvalidInput("major_grades", v, "a grade is a non-empty string")
    return out


# ── step 2: figures from the cubes ───────────────────────────────────────────────────────────────
#: (group, workflow, grade, state, overdue, listed, level, stock, registered_in_period, rung_start, rung_end)
CaseCell = tuple[str | None, str, str | None, str, bool, bool, str | None, bool, bool, int, int]
#: (group, workflow, state reached, missed a deadline before, tenths of days since registration, on the spot)
EventCell = tuple[Any, str, str, bool, int, bool]


def _derive(
    cases: Mapping[CaseCell, int],
    events: Mapping[EventCell, int],
    t0: datetime,
    t1: datetime,
    cut: datetime,
    majors: frozenset[str],
) -> dict[str | None, Figures]:
    acc: dict[str | None, dict[str, Any]] = defaultdict(
        lambda: {
            "open_by_grade": Counter(),
            "listed_by_level": Counter(),
            "open_by_state": Counter(),
            "close_days": Counter(),
            "close_days_on_spot": Counter(),
            "rungs_reached": Counter(),
            **dict.fromkeys(_COUNTS, 0),
        }
    )
    for (g, wf, grade, st, od, ls, level, stock, new, r0, r1), n in cases.items():
        a = acc[g]
        is_open = st not in OPEN_TERMINAL.get(wf, ())
        if wf == "hazard":
            if new:
                a["registered"] += n
                if stock:
                    a["registered_stock"] += n
            for rung in range(r0 + 1, r1 + 1):
                a["rungs_reached"][rung] += n
            if is_open:
                major = grade in majors
                a["open"] += n
                a["open_by_grade"][grade or ""] += n
                a["open_by_state"][st] += n
                if major:
                    a["open_majors"] += n
                    a["open_majors_stock" if stock else "open_majors_new"] += n
                    if st in UNPLANNED:
                        a["open_majors_unplanned"] += n
                if od:
                    a["overdue_open"] += n
                    if major:
                        a["overdue_open_majors"] += n
                if ls:
                    a["listed_open"] += n
                    a["listed_by_level"][level or ""] += n
                if r1:
                    a["open_under_sanction"] += n
        elif wf == "tipoff":
            if new:
                a["tipoffs_received"] += n
        elif wf == "escalation":
            if new:
                a["escalations_proposed"] += n
            if st == "pooled":
                a["escalations_in_pool"] += n
        elif wf == "report_obligation" and is_open and od:
            a["reports_overdue"] += n
    for (g, wf, st, late, tenths, spot), n in events.items():
        a = acc[g]
        if wf == "hazard":
            if st == "closed":
                a["closed"] += n
                if not late:
                    a["closed_on_time"] += n
                a["close_days"][tenths / 10] += n
                if spot:
                    a["closed_on_spot"] += n
                    a["close_days_on_spot"][tenths / 10] += n
            elif st == "voided":
                a["voided"] += n
        elif wf == "tipoff" and st == "substantiated":
            a["tipoffs_substantiated"] += n
        elif wf == "escalation" and st in ("pooled", "accepted", "returned"):
            a[f"escalations_{st}"] += n
        elif wf == "report_obligation" and st == "fulfilled":
            a["reports_filed"] += n
            if late:
                a["reports_filed_late"] += n
    out: dict[str | None, Figures] = {}
    for g in sorted(acc, key=_order):
        a = acc[g]
        for name in (
            "open_by_grade",
            "listed_by_level",
            "open_by_state",
            "close_days",
            "close_days_on_spot",
            "rungs_reached",
        ):
            a[name] = dict(sorted(a[name].items()))
        out[g] = Figures(t0, t1, cut, **a)
    return out


def _order(key: Any) -> tuple[tuple[bool, str], ...]:
    """Group keys in order, None (a missing value) first; tuple keys element by element."""
    parts = key if isinstance(key, tuple) else (key,)
    return tuple((v is not None, "" if v is None else str(v)) for v in parts)


_COUNTS = tuple(
    a.name for a in attrs.fields(Figures) if a.type in (int, "int") and a.name not in ("start", "end", "stock_before")
)


# ── step 1, any store: the cubes by a scan ───────────────────────────────────────────────────────
def _value_at(events: Sequence[Any], t: datetime, key: str, default: Any, *, field: bool = False) -> Any:
    """The value a case's ``key`` (a top-level change, or a field) had after its events before ``t``."""
    value = default
    for ev in events:
        if ev.occurred_at >= t:
            break
        ch = ev.changes.get("fields") if field else ev.changes
        if ch is not None and key in ch and ch[key] is not None:
            value = ch[key]
    return value


def _found(case: Any) -> datetime:
    raw = case.fields.get("discovered_at")
    if isinstance(raw, str):
        try:
            found = datetime.fromisoformat(raw)
            if found.tzinfo is not None:
                return found
        except ValueError:
            pass
    return case.opened_at  # type: ignore[no-any-return]


def _cubes_scan(
    store: Any,
    flt: CaseFilter,
    grouping: _Grouping,
    t0: datetime,
    t1: datetime,
    cut: datetime,
    departed: Iterable[tuple[Any, Sequence[Any]]] = (),
) -> tuple[Counter[CaseCell], Counter[EventCell]]:
    cases: Counter[CaseCell] = Counter()
    events: Counter[EventCell] = Counter()
    # A departed case counts once: a store that keeps closed snapshots (``retention="open"``) still holds it
    # (closed, or reopened by 回头看), so its handed-over events join the snapshot the store holds; a case
    # that departed more than once in the period has its handed-over events joined in order.
    gone: dict[str, tuple[Any, list[Any]]] = {}
    for gone_case, handed in departed:
        earlier = gone.get(gone_case.id)
        gone[gone_case.id] = (gone_case, [*earlier[1], *handed] if earlier else list(handed))
    held: list[tuple[Any, Sequence[Any] | None]] = []
    for c in store.iter_cases():
        left = gone.pop(c.id, None)
        held.append((c, None) if left is None else (c, [*left[1], *store.load_events(c.id)]))
    for case, given in itertools.chain(held, gone.values()):
        if case.opened_at >= t1 or not flt.matches(case):
            continue
        f = case.fields
        g = grouping.of_case(case)
        evs: Sequence[Any] | None = given
        if case.updated_at < t1:
            st, od, ls = case.state, bool(case.overdue), f.get("listed") is True
            r1 = case.sanction_rung
        else:
            evs = given if given is not None else store.load_events(case.id)
            before = [e for e in evs if e.occurred_at < t1]
            st = before[-1].to_state if before else case.state
            od = bool(_value_at(evs, t1, "overdue", False))
            ls = _value_at(evs, t1, "listed", False, field=True) is True
            r1 = int(_value_at(evs, t1, "sanction_rung", 0))
        if case.updated_at < t0:
            r0 = case.sanction_rung
        else:
            if evs is None:
                evs = store.load_events(case.id)
            r0 = int(_value_at(evs, t0, "sanction_rung", 0))
        listing = f.get("listing")
        level = listing.get("level") if isinstance(listing, Mapping) else None
        cell = (
            g,
            case.workflow,
            f.get("grade"),
            st,
            od,
            ls,
            level,
            _found(case) < cut,
            case.opened_at >= t0 and not _imported_closed(f),
            r0,
            r1,
        )
        cases[cell] += 1
        if case.updated_at < t0:
            continue
        if evs is None:
            evs = store.load_events(case.id)
        missed = False
        for ev in evs:
            if ev.occurred_at >= t1:
                break
            if ev.trigger == "mark_overdue":
                missed = True
            if (
                ev.occurred_at >= t0
                and ev.to_state in OUTCOMES
                and ev.from_state != ev.to_state
                and ev.from_state is not None
            ):
                tenths = (int(ev.occurred_at.timestamp()) - int(case.opened_at.timestamp())) // 8640
                events[(g, case.workflow, ev.to_state, missed, tenths, ev.trigger == "fix_on_spot")] += 1
    return cases, events


def _imported_closed(fields: Mapping[str, Any]) -> bool:
    """True for a case imported already closed or voided (``Engine.import_case``): a historical record, never a
    registration of the period it was imported in (nor, its import being an opening, a closure of it)."""
    imported = fields.get("imported")
    return isinstance(imported, Mapping) and imported.get("state") in _TERMINAL


# ── step 1, SQL: the cubes by two GROUP BY queries ───────────────────────────────────────────────
def _sql_parts(dialect: str) -> dict[str, str]:
    if dialect == "sqlite":
        return {
            "change": "json_extract(e.body, '$.changes.{key}')",
            "true": "1",
            "bool": "{x}",
            "found": ("julianday(COALESCE(json_extract(c.fields, '$.discovered_at'), c.opened_at)) < julianday(?)"),
            "level": "json_extract(c.fields, '$.listing.level')",
            "days": (
                "(CAST(strftime('%s', e.occurred_at) AS INTEGER) - CAST(strftime('%s', c.opened_at) AS INTEGER)) / 8640"
            ),
            "substr": "substr",
            "live": f"COALESCE(json_extract(c.fields, '$.imported.state'), '') NOT IN ({_TERMINAL_SQL})",
        }
    return {
        "change": "(e.body::jsonb #>> '{{changes,{path}}}')",
        "true": "true",
        "bool": "{x}",
        "found": "COALESCE((c.fields ->> 'discovered_at')::timestamptz, c.opened_at) < ?",
        "level": "(c.fields #>> '{listing,level}')",
        "days": (
            "((floor(extract(epoch FROM e.occurred_at))::bigint - floor(extract(epoch FROM c.opened_at))::bigint)"
            " / 8640)"
        ),
        "substr": "substr",
        "live": f"COALESCE(c.fields #>> '{{imported,state}}', '') NOT IN ({_TERMINAL_SQL})",
    }


def _at(dialect: str, key: str, when: str, cast: str) -> str:
    """SQL: the value of change ``key`` (dotted path under ``changes``) after the case's events before ``when``."""
    if dialect == "sqlite":
        expr = f"json_extract(e.body, '$.changes.{key}')"
    else:
        path = key.replace(".", ",")
        expr = f"(e.body::jsonb #>> '{{changes,{path}}}')"
    return (
        f"(SELECT {cast.format(x=expr)} FROM hf_event e WHERE e.case_id = c.id AND e.occurred_at < {when} "
        f"AND {expr} IS NOT NULL ORDER BY e.seq DESC LIMIT 1)"
    )


def _cubes_sql(
    store: Any,
    flt: CaseFilter,
    grouping: _Grouping,
    t0: datetime,
    t1: datetime,
    cut: datetime,
) -> tuple[Counter[CaseCell], Counter[EventCell]]:
    dialect = store.dialect
    ts = store._ts
    p = _sql_parts(dialect)
    where, wparams = flt.sql(dialect, ts, "c")
    gexprs = grouping.sql(dialect) or ["NULL"]
    gsel = ", ".join(f"{e} AS g{i}" for i, e in enumerate(gexprs))
    gcols = ", ".join(f"g{i}" for i in range(len(gexprs)))
    ng = len(gexprs)
    if dialect == "sqlite":
        as_bool = "CAST({x} AS INTEGER)"
        as_int = "CAST({x} AS INTEGER)"
        listed_now = listed_sql(dialect, "c.")
        listed_then = f"COALESCE({_at(dialect, 'fields.listed', '?', as_bool)}, 0) = 1"
        od_now = "c.overdue"
    else:
        as_bool = "({x})::boolean"
        as_int = "({x})::int"
        listed_now = listed_sql(dialect, "c.")
        listed_then = f"COALESCE({_at(dialect, 'fields.listed', '?', as_bool)}, false)"
        od_now = "c.overdue"
    false = "0" if dialect == "sqlite" else "false"
    state_then = (
        "(SELECT e.to_state FROM hf_event e WHERE e.case_id = c.id AND e.occurred_at < ? ORDER BY e.seq DESC LIMIT 1)"
    )
    case_sql = f"""
SELECT {gcols}, workflow, grade, st, od, ls, lvl, stock, fresh, r0, r1, count(*) FROM (
  SELECT {gsel}, c.workflow AS workflow, c.grade AS grade,
    CASE WHEN c.updated_at < ? THEN c.state ELSE {state_then} END AS st,
    CASE WHEN c.updated_at < ? THEN {od_now}
         ELSE COALESCE({_at(dialect, "overdue", "?", as_bool)}, {false}) END AS od,
    CASE WHEN c.updated_at < ? THEN {listed_now} ELSE {listed_then} END AS ls,
    {p["level"]} AS lvl,
    {p["found"]} AS stock,
    (c.opened_at >= ? AND {p["live"]}) AS fresh,
    CASE WHEN c.updated_at < ? THEN c.sanction_rung
         ELSE COALESCE({_at(dialect, "sanction_rung", "?", as_int)}, 0) END AS r0,
    CASE WHEN c.updated_at < ? THEN c.sanction_rung
         ELSE COALESCE({_at(dialect, "sanction_rung", "?", as_int)}, 0) END AS r1
  FROM hf_case c WHERE {" AND ".join([*where, "c.opened_at < ?"])}
) x GROUP BY {gcols}, workflow, grade, st, od, ls, lvl, stock, fresh, r0, r1"""
    s0, s1 = ts(t0), ts(t1)
    case_params = [s1, s1, s1, s1, s1, s1, ts(cut), s0, s0, s0, s1, s1, *wparams, s1]
    missed = (
        "EXISTS (SELECT 1 FROM hf_event m WHERE m.case_id = e.case_id AND m.trigger = 'mark_overdue' AND m.seq < e.seq)"
    )
    outcomes = ", ".join(f"'{s}'" for s in OUTCOMES)
    event_sql = f"""
SELECT {gcols}, workflow, st, late, days, spot, count(*) FROM (
  SELECT {gsel}, c.workflow AS workflow, e.to_state AS st, {missed} AS late, {p["days"]} AS days,
    e.trigger = 'fix_on_spot' AS spot
  FROM hf_event e JOIN hf_case c ON c.id = e.case_id
  WHERE e.occurred_at >= ? AND e.occurred_at < ? AND e.to_state IN ({outcomes})
    AND e.from_state IS NOT NULL AND e.from_state <> e.to_state
    {"".join(" AND " + w for w in where)}
) x GROUP BY {gcols}, workflow, st, late, days, spot"""
    event_params = [s0, s1, *wparams]
    if dialect == "postgresql":
        case_sql = case_sql.replace("?", "%s")
        event_sql = event_sql.replace("?", "%s")
    cases: Counter[CaseCell] = Counter()
    for row in store._query(case_sql, case_params):
        key = grouping.key(row[:ng]) if grouping.dims else None
        wf, grade, st, od, ls, lvl, stock, fresh, r0, r1, n = row[ng:]
        cases[(key, wf, grade, st, bool(od), bool(ls), lvl, bool(stock), bool(fresh), int(r0), int(r1))] += n
    events: Counter[EventCell] = Counter()
    for row in store._query(event_sql, event_params):
        key = grouping.key(row[:ng]) if grouping.dims else None
        wf, st, late, days, spot, n = row[ng:]
        events[(key, wf, st, bool(late), int(days), bool(spot))] += n
    return cases, events
