"""Reports over a store (统计与报表): case lists, figures at an instant, periodic reports and the 台账.

* :func:`find_cases` / :func:`count_cases` — the cases a :class:`CaseFilter` selects, a page at a time.
* :func:`figures` / :func:`figures_by` — the figures of a scope for a period, levels as of its end.
"""

from __future__ import annotations

from ._figures import GROUPS, Figures, figures, figures_by
from ._query import ORDERS, CaseFilter, CasePage, count_cases, find_cases

__all__ = [
    "GROUPS",
    "ORDERS",
    "CaseFilter",
    "CasePage",
    "Figures",
    "count_cases",
    "figures",
    "figures_by",
    "find_cases",
]
from ._grouped import GROUP_KEYS, child_division, count_cases_by

__all__ += ["GROUP_KEYS", "child_division", "count_cases_by"]
