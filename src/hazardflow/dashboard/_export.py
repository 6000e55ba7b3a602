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
