"""Grouped counts (分组计数): how many cases a filter selects, per value of one or more keys, in one query.

A wall dashboard shows a matrix (divisions x stages), monthly series and per-industry rates: asking
:func:`~hazardflow.reports.count_cases` once per cell would cost one query per cell. :func:`count_cases_by`
answers the whole table with one ``GROUP BY`` on a SQL store and one scan elsewhere; every cell equals the
``count_cases`` of the filter narrowed to that cell's values (a property test holds the two together).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .._exceptions import InvalidInput
from .._jurisdiction import canonical, level_of
from ._figures import _found, _sql_parts
from ._query import CaseFilter, _is_sql, store_of

__all__ = ["GROUP_KEYS", "child_division", "count_cases_by"]

#: The keys a count can be grouped by: the case's columns; ``division``, the division directly below the
#: filter's jurisdiction that holds the case (the jurisdiction itself for a case registered at that level);
#: ``opened_bin`` / ``closed_bin``, the index ``i`` of the period ``[edges[i], edges[i+1])`` holding the
#: registration / closure time (None outside every period, or not closed); ``found_before``, the hazard was
#: found (``discovered_at``, else registered) before ``cutoff`` (存量, as :func:`figures` counts it);
#: ``on_time``, the case was never marked overdue (its ``missed_deadlines`` is empty: the cases whose closure
#: :func:`figures` counts in ``closed_on_time``). One query answers a whole table: a wall board's series
#: and rates without one :func:`figures` call per month (a property test holds the two together).
GROUP_KEYS = (
    "workflow",
    "state",
    "grade",
    "industry",
    "department",
    "source",
    "business_unit",
    "overdue",
    "division",
    "opened_bin",
    "closed_bin",
    "found_before",
    "on_time",
)
_FIELD_KEYS = ("grade", "industry", "department", "source", "business_unit")

# How many leading digits of a case's code name the division one level below each level, and the zeros
# that pad it back to a full code (a province's child is a city ``1405`` + ``00``).
_CHILD_DIGITS = {
    "national": (2, "0000"),
    "province": (4, "00"),
    "city": (6, ""),
    "county": (9, ""),
    "township": (12, ""),
}


def child_division(code: str, under: str) -> str:
    """The division directly below ``under`` that holds ``code`` (``under`` itself for a case there).

    ``child_division("140581102", "140581") == "140581102"``; ``child_division("140581102", "140500") ==
    "140581"``; ``child_division("140581", "140581") == "140581"``. ``code`` must lie within ``under``.
    """
    under = canonical(under)
    level = level_of(under)
    if level == "village":
        return under
    digits, pad = _CHILD_DIGITS[level]
    code = canonical(code)
    child = code[:digits] + pad if len(code) > digits else code
    return child if len(child) >= len(under) else under


def _check(
    flt: CaseFilter | None, by: str | Sequence[str], edges: Sequence[datetime], cutoff: datetime | None
) -> tuple[CaseFilter, tuple[str, ...]]:
    flt = flt if flt is not None else CaseFilter()
    if not isinstance(flt, CaseFilter):
        raise InvalidInput("filter", type(flt).__name__, "expected a CaseFilter")
    keys = (by,) if isinstance(by, str) else tuple(by)
    if not keys:
        raise InvalidInput("by", by, "name at least one key to group by", GROUP_KEYS)
    for k in keys:
        if k not in GROUP_KEYS:
            raise InvalidInput("by", k, "unknown key to group by", GROUP_KEYS)
    if len(set(keys)) != len(keys):
        raise InvalidInput("by", by, "a key may appear once")
    if "division" in keys and flt.jurisdiction is None:
        raise InvalidInput("by", "division", "grouping by division needs the filter's jurisdiction (the parent)")
    if {"opened_bin", "closed_bin"} & set(keys):
        if len(edges) < 2:
            raise InvalidInput("edges", list(edges), "time bins need at least two edges (start and end)")
        for e in edges:
            if not isinstance(e, datetime) or e.tzinfo is None or e.utcoffset() is None:
                raise InvalidInput("edges", e, "each edge must be a timezone-aware datetime")
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise InvalidInput("edges", [e.isoformat() for e in edges], "edges must increase strictly")
    if "found_before" in keys and (
        not isinstance(cutoff, datetime) or cutoff.tzinfo is None or cutoff.utcoffset() is None
    ):
        raise InvalidInput("cutoff", cutoff, "grouping by found_before needs a timezone-aware cutoff")
    return flt, keys


def _bin(value: datetime | None, edges: Sequence[datetime]) -> int | None:
    if value is None or value < edges[0]:
        return None
    for i in range(len(edges) - 1):
        if value < edges[i + 1]:
            return i
    return None


def count_cases_by(
    store_or_engine: Any,
    filter: CaseFilter | None = None,
    *,
    by: str | Sequence[str],
    edges: Sequence[datetime] = (),
    cutoff: datetime | None = None,
) -> dict[tuple[Any, ...], int]:
    """``{(value of each key in by, ...): number of cases}`` for the cases ``filter`` selects.

    Only combinations that occur are returned; they add up to ``count_cases(filter)``. ``by`` names keys of
    :data:`GROUP_KEYS`; ``edges`` are the period bounds of ``opened_bin`` / ``closed_bin``, ``cutoff`` the
    instant of ``found_before``. A bad key, a division grouping without a jurisdiction, bad edges or a missing
    cutoff raise :class:`~hazardflow.InvalidInput` naming them.
    """
    flt, keys = _check(filter, by, edges, cutoff)
    store = store_of(store_or_engine)
    if _is_sql(store):
        return _by_sql(store, flt, keys, edges, cutoff)
    out: Counter[tuple[Any, ...]] = Counter()
    for case in store.iter_cases():
        if not flt.matches(case):
            continue
        row: list[Any] = []
        for k in keys:
            if k in ("workflow", "state"):
                row.append(getattr(case, k))
            elif k in _FIELD_KEYS:
                row.append(case.fields.get(k))
            elif k == "overdue":
                row.append(bool(case.overdue))
            elif k == "division":
                assert flt.jurisdiction is not None
                row.append(child_division(case.jurisdiction, flt.jurisdiction))
            elif k == "opened_bin":
                row.append(_bin(case.opened_at, edges))
            elif k == "closed_bin":
                row.append(_bin(case.closed_at, edges))
            elif k == "found_before":
                assert cutoff is not None
                row.append(_found(case) < cutoff)
            else:  # on_time
                row.append(not case.fields.get("missed_deadlines"))
        out[tuple(row)] += 1
    return dict(out)


def _by_sql(
    store: Any, flt: CaseFilter, keys: tuple[str, ...], edges: Sequence[datetime], cutoff: datetime | None
) -> dict[tuple[Any, ...], int]:
    dialect = store.dialect
    ts = store._ts
    exprs: list[str] = []
    params: list[Any] = []
    for k in keys:
        if k in ("workflow", "state", "overdue", *_FIELD_KEYS):
            exprs.append(k)
        elif k in ("opened_bin", "closed_bin"):
            column = "opened_at" if k == "opened_bin" else "closed_at"
            whens = [f"WHEN {column} IS NULL OR {column} < ? THEN NULL"]
            params.append(ts(edges[0]))
            for i in range(len(edges) - 1):
                whens.append(f"WHEN {column} < ? THEN {i}")
                params.append(ts(edges[i + 1]))
            exprs.append("CASE " + " ".join(whens) + " ELSE NULL END")
        elif k == "found_before":
            exprs.append(_sql_parts(dialect)["found"].replace("c.", ""))
            params.append(ts(cutoff))
        elif k == "on_time":
            if dialect == "sqlite":
                exprs.append("COALESCE(json_array_length(fields, '$.missed_deadlines'), 0) = 0")
            else:
                exprs.append(
                    "CASE WHEN jsonb_typeof(fields -> 'missed_deadlines') = 'array' "
                    "THEN jsonb_array_length(fields -> 'missed_deadlines') = 0 ELSE true END"
                )
        else:  # division
            assert flt.jurisdiction is not None
            under = canonical(flt.jurisdiction)
            level = level_of(under)
            if level == "village":
                exprs.append("jurisdiction")
            else:
                digits, pad = _CHILD_DIGITS[level]
                # A case at the parent itself has a shorter code: substr leaves it whole (padding it
                # would be wrong), which is the parent's own code.
                exprs.append(
                    f"CASE WHEN length(jurisdiction) > {digits} THEN substr(jurisdiction, 1, {digits}) || '{pad}' "
                    "ELSE jurisdiction END"
                )
    where, wparams = flt.sql(dialect, ts)
    cols = ", ".join(f"{e} AS k{i}" for i, e in enumerate(exprs))
    group = ", ".join(f"k{i}" for i in range(len(exprs)))
    sql = f"SELECT {cols}, count(*) FROM hf_case"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" GROUP BY {group}"
    if dialect == "postgresql":
        sql = sql.replace("?", "%s")
    out: dict[tuple[Any, ...], int] = {}
    for row in store._query(sql, [*params, *wparams]):
        key = tuple(bool(v) if k == "overdue" and v is not None else v for k, v in zip(keys, row, strict=False))
        out[key] = out.get(key, 0) + int(row[-1])
    return out
