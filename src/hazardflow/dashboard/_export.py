"""The static export: one self-contained HTML file of a board, for those who mail it around."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from .._exceptions import InvalidInput
from ._data import DEFAULT_SOON_DAYS, build_board
from ._render import render_board

__all__ = ["export_board"]


def export_board(
    store_or_engine: Any,
    jurisdiction: str,
    out: str | Path,
    *,
    lang: str = "zh",
    now: datetime | None = None,
    soon_days: int = DEFAULT_SOON_DAYS,
    rows: str | None = None,
) -> Path:
    """Write the board of ``jurisdiction`` to ``out`` as one HTML file with its data, script, style and
    ECharts inlined: it opens in any browser with nothing fetched. Numbers are shown without links (the
    case lists live in the service). Returns the path written."""
    path = Path(out)
    if path.exists() and path.is_dir():
        raise InvalidInput("out", str(path), "is a folder; name the HTML file to write")
    board = build_board(store_or_engine, jurisdiction, now=now, soon_days=soon_days, rows=rows)
    html = render_board(board, lang=lang, standalone=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def scenario_jurisdiction(scenario: Any) -> str:
    """The division a simulated campaign's board shows: its one township, or the lowest division that
    holds all its townships (their county, city or province)."""
    from .._jurisdiction import ancestors

    codes = [t.code for t in scenario.townships]
    if len(codes) == 1:
        return str(codes[0])
    common = set(ancestors(codes[0]))
    for code in codes[1:]:
        common &= set(ancestors(code))
    return max(common, key=len)


def export_simulation_board(engine: Any, scenario: Any, out: str | Path) -> Path:
    """Write ``挂图.html`` into a simulation's output folder: the board of its jurisdiction at the end of the run
    (the simulated clock's now)."""
    folder = Path(out)
    return export_board(engine, scenario_jurisdiction(scenario), folder / "挂图.html", now=engine.now())
