"""Grouped counts (分组计数): how many cases a filter selects, per value of one or more keys, in one query.

A wall dashboard shows a matrix (divisions x stages), monthly series and per-industry rates: asking
:func:`~hazardflow.reports.count_cases` once per cell would cost one query per cell. :func:`count_cases_by`
answers the whole table with one ``GROUP BY`` on a SQL store and one scan elsewhere; every cell equals the
``count_cases`` of the filter narrowed to that cell's values (a property test holds the two together).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .._exceptions import InvalidInput
from .._jurisdiction import canonical, level_of
from ._query import CaseFilter, _is_sql, store_of

__all__ = ["GROUP_KEYS", "child_division", "count_cases_by"]

#: The keys a count can be grouped by: the case's columns, and ``division``, the division directly below
#: the filter's jurisdiction that holds the case (the jurisdiction itself for a case registered at that
#: level). Figures over periods (closures, on-time rates, 存量/增量) are :func:`figures_by`'s.
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


def _check(flt: CaseFilter | None, by: str | Sequence[str]) -> tuple[CaseFilter, tuple[str, ...]]:
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
    return flt, keys


def count_cases_by(
    store_or_engine: Any,
    filter: CaseFilter | None = None,
    *,
    by: str | Sequence[str],
) -> dict[tuple[Any, ...], int]:
    """``{(value of each key in by, ...): number of cases}`` for the cases ``filter`` selects.

    Only combinations that occur are returned; they add up to ``count_cases(filter)``. ``by`` names keys of
    :data:`GROUP_KEYS`. A bad key, or a division grouping without a jurisdiction, raises
    :class:`~hazardflow.InvalidInput` naming it.
    """
    flt, keys = _check(filter, by)
    store = store_of(store_or_engine)
    if _is_sql(store):
        return _by_sql(store, flt, keys)
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
            else:  # division
                assert flt.jurisdiction is not None
                row.append(child_division(case.jurisdiction, flt.jurisdiction))
        out[tuple(row)] += 1
    return dict(out)


def _by_sql(store: Any, flt: CaseFilter, keys: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    dialect = store.dialect
    ts = store._ts
    exprs: list[str] = []
    params: list[Any] = []
    for k in keys:
        if k in ("workflow", "state", "overdue", *_FIELD_KEYS):
            exprs.append(k)
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
