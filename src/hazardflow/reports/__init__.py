"""Reports over a store (统计与报表): case lists, figures at an instant, periodic reports and the 台账.

* :func:`find_cases` / :func:`count_cases` — the cases a :class:`CaseFilter` selects, a page at a time.
* :func:`figures` / :func:`figures_by` — the figures of a scope for a period, levels as of its end.
* :func:`build_report`, :func:`render_markdown`, :func:`write_excel`, :func:`file_report` — periodic reports.
* :func:`export_ledger` / :func:`import_ledger` — the 台账 (hazard ledger) as Excel or CSV.
"""

from __future__ import annotations

from ._figures import GROUPS, Figures, figures, figures_by
from ._import import ImportProblem, ImportResult, import_ledger
from ._ledger import COLUMNS, LedgerColumn, export_ledger, ledger_rows
from ._periodic import KINDS, PeriodicReport, build_report, file_report, render_markdown, write_excel
from ._query import ORDERS, CaseFilter, CasePage, count_cases, find_cases

__all__ = [
    "COLUMNS",
    "GROUPS",
    "KINDS",
    "ORDERS",
    "CaseFilter",
    "CasePage",
    "Figures",
    "ImportProblem",
    "ImportResult",
    "LedgerColumn",
    "PeriodicReport",
    "build_report",
    "count_cases",
    "export_ledger",
    "figures",
    "figures_by",
    "file_report",
    "find_cases",
    "import_ledger",
    "ledger_rows",
    "render_markdown",
    "write_excel",
]
from ._grouped import GROUP_KEYS, child_division, count_cases_by

__all__ += ["GROUP_KEYS", "child_division", "count_cases_by"]
