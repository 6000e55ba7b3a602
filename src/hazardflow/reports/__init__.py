"""Reports over a store (统计与报表): case lists, figures at an instant, periodic reports and the 台账.

* :func:`find_cases` / :func:`count_cases` — the cases a :class:`CaseFilter` selects, a page at a time.
"""

from __future__ import annotations

from ._query import ORDERS, CaseFilter, CasePage, count_cases, find_cases

__all__ = ["ORDERS", "CaseFilter", "CasePage", "count_cases", "find_cases"]
from ._grouped import GROUP_KEYS, child_division, count_cases_by

__all__ += ["GROUP_KEYS", "child_division", "count_cases_by"]
