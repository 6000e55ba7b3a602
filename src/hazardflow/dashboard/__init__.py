"""The board (挂图作战 / 隐患治理驾驶舱): one picture per jurisdiction of who must fix what by when, and
where it is late.

* :func:`build_board` assembles the figures from :mod:`hazardflow.reports` (every number keeps the filter
  of the cases behind it);
* :func:`render_board` turns them into one HTML page (Apache ECharts, vendored in ``static/echarts``);
* :func:`dashboard_router` serves the boards read-only from the HTTP service (``/dashboard/{jurisdiction}``);
* :func:`export_board` writes one self-contained HTML file (data, script and ECharts inlined).

Needs the ``dashboard`` extra (Jinja2; FastAPI for the router). ``import hazardflow`` does not import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._data import OPEN_STAGES, Board, Figure, build_board, filter_from_query, filter_to_query
from ._export import export_board
from ._render import render_board, render_cases

if TYPE_CHECKING:
    from ._web import board_version, dashboard_router

__all__ = [
    "OPEN_STAGES",
    "Board",
    "Figure",
    "board_version",
    "build_board",
    "dashboard_router",
    "export_board",
    "filter_from_query",
    "filter_to_query",
    "render_board",
    "render_cases",
]


def __getattr__(name: str) -> Any:
    # The router needs FastAPI (the ``server`` extra); the rest of the board does not.
    if name in ("board_version", "dashboard_router"):
        from . import _web

        return getattr(_web, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
