"""HTML of the board and of a case list: one small Jinja2 template per page, labels from the glossary.

The served page loads its script, style and ECharts from ``static/`` (same origin); the exported page
inlines all three and the data, so one file opens anywhere with nothing fetched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2

from .. import _glossary
from .._calendar import SHANGHAI
from .._exceptions import InvalidInput
from ._data import OPEN_STAGES, Board, Figure

__all__ = ["LANGS", "render_board", "render_cases", "static_text"]

LANGS = ("zh", "en")
#: The glossary kind of each thing a board names.
_KINDS = {"state": "state", "grade": "grade", "industry": "industry", "department": "department"}


def _check_lang(lang: Any) -> str:
    if lang not in LANGS:
        raise InvalidInput("lang", lang, "unknown language of the board", LANGS)
    return str(lang)


@lru_cache(maxsize=8)
def static_text(name: str) -> str:
    """The text of a file of the package's ``static/`` folder (ECharts, the script, the style)."""
    return resources.files(__package__).joinpath("static", *name.split("/")).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


class _Labels:
    """``t(kind, id)`` and ``ui(id)`` in one language; None shows as 无 / none."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def t(self, kind: str, ident: Any) -> str:
        if ident is None or ident == "":
            return self.ui("none")
        label = _glossary.zh if self.lang == "zh" else _glossary.en
        return label(_KINDS.get(kind, kind), str(ident))

    def ui(self, ident: str) -> str:
        term = _glossary.zh("dashboard", ident) if self.lang == "zh" else _glossary.en("dashboard", ident)
        return term


def _href_factory(base: str, lang: str, links: bool) -> Any:
    def href(fig: Figure | Mapping[str, Any]) -> str | None:
        query = fig.query if isinstance(fig, Figure) else fig.get("q", {})
        exact = fig.exact if isinstance(fig, Figure) else fig.get("exact", False)
        if not links or not query:
            return None
        params = dict(query)
        if exact:
            params["exact"] = "true"
        if lang != "zh":
            params["lang"] = lang
        return f"{base}/cases?{urlencode(params)}"

    return href


def render_board(
    board: Board,
    *,
    lang: str = "zh",
    base: str = "",
    root: str = "/dashboard",
    standalone: bool = False,
    poll_seconds: float = 15.0,
    version: str = "",
) -> str:
    """The board page. ``base`` is the board's own URL path (``/dashboard/140581``): links hang below it;
    ``root`` is the path of every board (drill-down links, ``root/static`` for the files).

    ``standalone`` inlines ECharts, the script, the style and the data and drops the links and the
    refresh (the static export).
    """
    lang = _check_lang(lang)
    labels = _Labels(lang)
    data = board.as_json()
    data["lang"] = lang
    data["labels"] = {
        "stock": labels.ui("stock"),
        "inflow": labels.ui("inflow"),
        "closed": labels.ui("closed"),
        "on_time_rate": labels.ui("on_time_rate"),
        "industry": {r["id"] or "": labels.t("industry", r["id"]) for r in data["on_time_by_industry"]},
    }
    return (
        _env()
        .get_template("board.html")
        .render(
            b=board,
            data_json=_script_json(data),
            stages=OPEN_STAGES,
            t=labels.t,
            ui=labels.ui,
            lang=lang,
            base=base,
            root=root,
            static=f"{root}/static",
            href=_href_factory(base, lang, not standalone),
            standalone=standalone,
            poll_ms=int(poll_seconds * 1000),
            version=version,
            as_of_local=board.as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            + (" 北京时间" if lang == "zh" else " (UTC+8)"),
            inline=static_text if standalone else None,
            other_lang="en" if lang == "zh" else "zh",
        )
    )


def render_cases(
    *,
    board_name: str,
    base: str,
    rows: list[dict[str, Any]],
    total: int,
    query: Mapping[str, str],
    next_cursor: str | None,
    lang: str = "zh",
    root: str = "/dashboard",
) -> str:
    """A case list page: the cases behind one number of the board, a page at a time."""
    lang = _check_lang(lang)
    labels = _Labels(lang)
    next_href = None
    if next_cursor is not None:
        next_href = f"{base}/cases?{urlencode({**query, 'cursor': next_cursor})}"
    other = {**query, "lang": "en" if lang == "zh" else "zh"}
    return (
        _env()
        .get_template("cases.html")
        .render(
            board_name=board_name,
            base=base,
            rows=rows,
            total=total,
            filters=sorted((k, v) for k, v in query.items() if k not in ("lang", "cursor")),
            next_href=next_href,
            lang_href=f"{base}/cases?{urlencode(other)}",
            back_href=base + ("?lang=en" if lang == "en" else ""),
            static=f"{root}/static",
            t=labels.t,
            ui=labels.ui,
            lang=lang,
        )
    )


def _script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` can close it early)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
