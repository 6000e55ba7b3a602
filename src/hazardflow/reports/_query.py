"""Case lists: one page of the cases a filter selects, with a cursor to the next (案件查询).

The same filter runs as SQL on a :class:`~hazardflow.persistence.sql.SqlStore` (SQLite, PostgreSQL: only the
page is read) and as a scan on any other store (the memory store). Pages are cut by *keyset* pagination: the
cursor carries the sort key of the last case returned, so a page never repeats or skips a case that was on
the list when the first page was read, however many cases are added meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, Literal

import attrs
import orjson

from .._calendar import SHANGHAI
from .._exceptions import InvalidInput
from .._jurisdiction import canonical, is_within, subtree_prefix

if TYPE_CHECKING:
    from .._model import Case
    from ..abc import Store

__all__ = ["ORDERS", "CaseFilter", "CasePage", "count_cases", "find_cases", "store_of"]

#: Sort orders of a case list: registration time (oldest / newest first) or the running stage deadline
#: (soonest first; cases without one last).
ORDERS = ("opened", "-opened", "deadline")
MAX_LIMIT = 1000
WORKFLOWS = ("hazard", "tipoff", "escalation", "report_obligation")

Order = Literal["opened", "-opened", "deadline"]


def _codes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _instant(value: datetime | date | str | None) -> Any:
    """A bound of a period: an aware instant, or a date read as 00:00 of that day in Asia/Shanghai.

    ISO text (``2025-06-01`` or ``2025-06-01T08:00:00+08:00``) is read as the date or instant it spells;
    anything else is left for the filter's check to refuse.
    """
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return value
    if value is None or isinstance(value, datetime) or not isinstance(value, date):
        return value
    return datetime.combine(value, time(0, 0), SHANGHAI).astimezone(UTC)


@attrs.frozen(kw_only=True)
class CaseFilter:
    """Which cases a list or a figure counts. Every field left at its default selects everything.

    ``jurisdiction`` selects the division *and every division below it* (a county selects its townships and
    villages); ``owning_jurisdiction`` does the same for the tier that supervises the case. The tuple fields
    (``state``, ``grade``, ...) accept one value or several (any of them). Period bounds are half-open,
    ``[from, until)``; a :class:`~datetime.date` means 00:00 of that day in Asia/Shanghai.
    ``deadline_before`` / ``deadline_after`` bound the running stage deadline (临期: ``open=True,
    overdue=False, deadline_before=now + N days``). ``min_rung`` keeps cases that reached at least that rung of
    the overdue ladder.
    """

    workflow: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    jurisdiction: str | None = None
    owning_jurisdiction: str | None = None
    state: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    grade: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    industry: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    department: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    source: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    business_unit: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    open: bool | None = None
    overdue: bool | None = None
    listed: bool | None = None
    min_rung: int | None = None
    deadline_before: datetime | None = attrs.field(default=None, converter=_instant)
    deadline_after: datetime | None = attrs.field(default=None, converter=_instant)
    opened_from: datetime | None = attrs.field(default=None, converter=_instant)
    opened_until: datetime | None = attrs.field(default=None, converter=_instant)
    closed_from: datetime | None = attrs.field(default=None, converter=_instant)
    closed_until: datetime | None = attrs.field(default=None, converter=_instant)

    def __attrs_post_init__(self) -> None:
        for name in ("jurisdiction", "owning_jurisdiction"):
            code = getattr(self, name)
            if code is not None:
                canonical(code)  # a malformed code is refused here, naming the rule
        for w in self.workflow:
            if w not in WORKFLOWS:
                raise InvalidInput("workflow", w, "unknown workflow", WORKFLOWS)
        for name in ("state", "grade", "industry", "department", "source", "business_unit", "workflow"):
            for v in getattr(self, name):
                if not isinstance(v, str) or not v:
                    raise InvalidInput(name, v, "a filter value is a non-empty string")
        for name in ("open", "overdue", "listed"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, bool):
                raise InvalidInput(name, v, "must be true, false or left out")
        if self.min_rung is not None and (
            isinstance(self.min_rung, bool) or not isinstance(self.min_rung, int) or self.min_rung < 0
        ):
            raise InvalidInput("min_rung", self.min_rung, "a rung of the overdue ladder is a whole number >= 0")
        for name in (
            "deadline_before",
            "deadline_after",
            "opened_from",
            "opened_until",
            "closed_from",
            "closed_until",
        ):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, datetime) or v.tzinfo is None or v.utcoffset() is None):
                raise InvalidInput(name, v, "must be a date (YYYY-MM-DD) or a timezone-aware datetime")

    # ── the Python path (memory store, and the check of the SQL path) ─────────────────────────────
    def matches(self, case: Case) -> bool:
        """True when ``case`` (as it is now) passes the filter."""
        if self.workflow and case.workflow not in self.workflow:
            return False
        if self.jurisdiction is not None and not is_within(case.jurisdiction, self.jurisdiction):
            return False
        if self.owning_jurisdiction is not None and not is_within(case.owning_jurisdiction, self.owning_jurisdiction):
            return False
        if self.state and case.state not in self.state:
            return False
        f = case.fields
        for name in ("grade", "industry", "department", "source", "business_unit"):
            want = getattr(self, name)
            if want and f.get(name) not in want:
                return False
        if self.open is not None and (case.closed_at is None) != self.open:
            return False
        if self.overdue is not None and bool(case.overdue) != self.overdue:
            return False
        if self.listed is not None and (f.get("listed") is True) != self.listed:
            return False
        if self.min_rung is not None and case.sanction_rung < self.min_rung:
            return False
        due = case.deadline.due_at if case.deadline is not None else None
        if self.deadline_before is not None and (due is None or due >= self.deadline_before):
            return False
        if self.deadline_after is not None and (due is None or due < self.deadline_after):
            return False
        if self.opened_from is not None and case.opened_at < self.opened_from:
            return False
        if self.opened_until is not None and case.opened_at >= self.opened_until:
            return False
        closed = case.closed_at
        if self.closed_from is not None and (closed is None or closed < self.closed_from):
            return False
        return not (self.closed_until is not None and (closed is None or closed >= self.closed_until))

    # ── the SQL path ──────────────────────────────────────────────────────────────────────────────
    def sql(self, dialect: str, ts: Callable[[datetime], Any], alias: str = "") -> tuple[list[str], list[Any]]:
        """``(clauses, params)`` selecting the filter's cases from ``hf_case`` (``?`` placeholders)."""
        a = f"{alias}." if alias else ""
        where: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: Sequence[str]) -> None:
            if values:
                where.append(f"{a}{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)

        any_of("workflow", self.workflow)
        for name, column in (("jurisdiction", "jurisdiction"), ("owning_jurisdiction", "owning_jurisdiction")):
            code = getattr(self, name)
            if code is not None:
                prefix = subtree_prefix(code)
                if prefix:
                    # A range on the digit prefix uses the index on every database (LIKE may not).
                    where.append(f"{a}{column} >= ? AND {a}{column} < ?")
                    params += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
        any_of("state", self.state)
        for name in ("grade", "industry", "department", "source", "business_unit"):
            any_of(name, getattr(self, name))
        if self.open is not None:
            where.append(f"{a}closed_at IS {'' if self.open else 'NOT '}NULL")
        if self.overdue is not None:
            where.append(f"{a}overdue = ?")
            params.append(self.overdue)
        if self.listed is not None:
            listed = listed_sql(dialect, a)
            where.append(listed if self.listed else f"NOT ({listed})")
        if self.min_rung is not None:
            where.append(f"{a}sanction_rung >= ?")
            params.append(self.min_rung)
        for value, clause in (
            (self.deadline_before, f"{a}deadline_at < ?"),
            (self.deadline_after, f"{a}deadline_at >= ?"),
            (self.opened_from, f"{a}opened_at >= ?"),
            (self.opened_until, f"{a}opened_at < ?"),
            (self.closed_from, f"{a}closed_at >= ?"),
            (self.closed_until, f"{a}closed_at < ?"),
        ):
            if value is not None:
                where.append(clause)
                params.append(ts(value))
        return where, params


def listed_sql(dialect: str, a: str = "") -> str:
    """True (never NULL) when the case's ``listed`` field is JSON ``true``."""
    if dialect == "sqlite":
        return f"COALESCE(json_extract({a}fields, '$.listed') = 1, 0) = 1"
    return f"COALESCE(({a}fields -> 'listed') = 'true'::jsonb, false)"


@attrs.frozen
class CasePage:
    """One page of a case list: the cases in list order, and the cursor of the next page (None at the end)."""

    items: tuple[Case, ...]
    next_cursor: str | None


def store_of(store_or_engine: Any) -> Store:
    """The store of an :class:`~hazardflow.Engine`, or the store itself."""
    store = getattr(store_or_engine, "store", store_or_engine)
    if not hasattr(store, "iter_cases"):
        raise InvalidInput("store", type(store_or_engine).__name__, "expected an Engine or a Store")
    return store  # type: ignore[no-any-return]


def _is_sql(store: Any) -> bool:
    # Without importing the SQL store (and SQLAlchemy) when no SqlStore was ever made: a memory store's
    # figures must not pay for it.
    module = sys.modules.get("hazardflow.persistence.sql")
    return module is not None and isinstance(store, module.SqlStore)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _sort_key(order: str, case: Case) -> tuple[Any, ...]:
    if order == "deadline":
        due = case.deadline.due_at if case.deadline is not None else None
        return (1, _EPOCH, case.id) if due is None else (0, due, case.id)
    return (case.opened_at, case.id)


def _encode(order: str, key: tuple[Any, ...]) -> str:
    shown = [k.astimezone(UTC).isoformat() if isinstance(k, datetime) else k for k in key]
    return base64.urlsafe_b64encode(orjson.dumps([order, *shown])).decode().rstrip("=")


def _aware(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError(text)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(text)
    return value


def _decode(order: str, cursor: str) -> tuple[Any, ...]:
    try:
        if not isinstance(cursor, str):
            raise TypeError(cursor)
        raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or not raw or raw[0] != order:
            raise ValueError(order)
        if order == "deadline":
            flag, due, case_id = raw[1:]
            if flag not in (0, 1) or isinstance(flag, bool) or not isinstance(case_id, str):
                raise ValueError(raw)
            key: tuple[Any, ...] = (flag, _aware(due), case_id)
        else:
            opened, case_id = raw[1:]
            if not isinstance(case_id, str):
                raise ValueError(raw)
            key = (_aware(opened), case_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidInput(
            "cursor",
            cursor,
            f"not a cursor of a case list in order {order!r}",
            hint="pass the next_cursor of the previous page unchanged, with the same order",
        ) from None
    return key


def _check_page(order: str, limit: int) -> None:
    if order not in ORDERS:
        raise InvalidInput("order", order, "unknown order of a case list", ORDERS)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", limit, f"a page holds 1 to {MAX_LIMIT} cases")


def find_cases(
    store_or_engine: Any,
    filter: CaseFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = 50,
    order: Order = "opened",
) -> CasePage:
    """One page of the cases ``filter`` selects, in ``order``, after ``cursor`` (the previous page's).

    On a SQL store only the page is read (one indexed query); on any other store the cases are scanned.
    A bad filter value, order, limit or cursor raises :class:`~hazardflow.InvalidInput` naming it.
    """
    flt = filter if filter is not None else CaseFilter()
    if not isinstance(flt, CaseFilter):
        raise InvalidInput("filter", type(flt).__name__, "expected a CaseFilter")
    _check_page(order, limit)
    after = _decode(order, cursor) if cursor is not None else None
    store = store_of(store_or_engine)
    if _is_sql(store):
        items = _find_sql(store, flt, after, limit + 1, order)
    else:
        items = _find_scan(store, flt, after, limit + 1, order)
    more = len(items) > limit
    items = items[:limit]
    nxt = _encode(order, _sort_key(order, items[-1])) if more and items else None
    return CasePage(tuple(items), nxt)


def _find_scan(store: Store, flt: CaseFilter, after: tuple[Any, ...] | None, n: int, order: str) -> list[Case]:
    keyed = [(_sort_key(order, c), c) for c in store.iter_cases() if flt.matches(c)]
    if after is not None:
        keyed = [kc for kc in keyed if (kc[0] < after if order == "-opened" else kc[0] > after)]
    keyed.sort(key=lambda kc: kc[0], reverse=order == "-opened")
    return [c for _, c in keyed[:n]]


def _find_sql(store: Any, flt: CaseFilter, after: tuple[Any, ...] | None, n: int, order: str) -> list[Case]:
    dialect = store.dialect
    ts = store._ts
    where, params = flt.sql(dialect, ts)
    cid = "id" if dialect == "sqlite" else 'id COLLATE "C"'
    if order == "deadline":
        if after is not None:
            flag, due, case_id = after
            if flag == 0:
                where.append(f"(deadline_at IS NULL OR deadline_at > ? OR (deadline_at = ? AND {cid} > ?))")
                d = ts(due)
                params += [d, d, case_id]
            else:
                where.append(f"deadline_at IS NULL AND {cid} > ?")
                params.append(case_id)
        order_by = f"(deadline_at IS NULL), deadline_at, {cid}"
    else:
        desc = order == "-opened"
        if after is not None:
            opened, case_id = after
            cmp = "<" if desc else ">"
            where.append(f"(opened_at {cmp} ? OR (opened_at = ? AND {cid} {cmp} ?))")
            t = ts(opened)
            params += [t, t, case_id]
        order_by = f"opened_at DESC, {cid} DESC" if desc else f"opened_at, {cid}"
    sql = f"SELECT {store._case_cols} FROM hf_case"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order_by} LIMIT {int(n)}"
    if dialect == "postgresql":
        sql = sql.replace("?", "%s")
    return [store._case_from_row(r) for r in store._query(sql, params)]


def count_cases(store_or_engine: Any, filter: CaseFilter | None = None) -> int:
    """How many cases ``filter`` selects (one ``count(*)`` on a SQL store)."""
    flt = filter if filter is not None else CaseFilter()
    if not isinstance(flt, CaseFilter):
        raise InvalidInput("filter", type(flt).__name__, "expected a CaseFilter")
    store = store_of(store_or_engine)
    if not _is_sql(store):
        return sum(1 for c in store.iter_cases() if flt.matches(c))
    s: Any = store
    where, params = flt.sql(s.dialect, s._ts)
    sql = "SELECT count(*) FROM hf_case" + (" WHERE " + " AND ".join(where) if where else "")
    if s.dialect == "postgresql":
        sql = sql.replace("?", "%s")
    return int(s._query(sql, params)[0][0])


def scan_cases(store_or_engine: Any, filter: CaseFilter | None = None) -> Iterator[Case]:
    """Every case ``filter`` selects, oldest registration first, read as a stream (for exports).

    On SQLite one query is read row by row (a page-by-page read would sort the selection again for every
    page when the planner filters by an index other than the order's); elsewhere page by page.
    """
    flt = filter if filter is not None else CaseFilter()
    store = store_of(store_or_engine)
    if _is_sql(store) and getattr(store, "dialect", "") == "sqlite":
        s: Any = store
        where, params = flt.sql("sqlite", s._ts)
        sql = f"SELECT {s._case_cols} FROM hf_case"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY opened_at, id"
        conn = s._get()
        try:
            cursor = conn.dbapi.execute(sql, params)
            while True:
                rows = cursor.fetchmany(1000)
                if not rows:
                    return
                for r in rows:
                    yield s._case_from_row(r)
        finally:
            s._put(conn)
    cursor_: str | None = None
    while True:
        page = find_cases(store, flt, cursor=cursor_, limit=MAX_LIMIT)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor_ = page.next_cursor
