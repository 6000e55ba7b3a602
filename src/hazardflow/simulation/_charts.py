"""Charts of a run (matplotlib, Agg backend, PNG): open majors over time, on-time rate by industry, ladder rungs.

matplotlib is an optional dependency (``pip install "hazardflow[charts]"``) imported only here. Labels are in
Chinese, drawn with the CJK font :func:`hazardflow._fonts.use_cjk_font` finds (titles carry the English
too); on a machine without one the charts fall back to English labels and a warning says what to install.
Every chart states the number of cases behind it; count axes tick at whole numbers; percentages have one
decimal, as in the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import InvalidInput
from .._fonts import use_cjk_font
from .._glossary import en, zh

if TYPE_CHECKING:
    from ._compare import Comparison
    from ._result import SimulationResult

__all__ = ["draw_charts", "draw_comparison"]


class _Labels:
    """Picks the Chinese or the English label, by whether a CJK font was found."""

    def __init__(self, cjk: bool) -> None:
        self.cjk = cjk

    def __call__(self, text_zh: str, text_en: str) -> str:
        return text_zh if self.cjk else text_en

    def title(self, text_zh: str, text_en: str) -> str:
        return f"{text_zh}\n{text_en}" if self.cjk else text_en

    def term(self, kind: str, id: str) -> str:
        return zh(kind, id) if self.cjk else en(kind, id)


def _pyplot(*, require_cjk: bool = False) -> tuple[Any, _Labels]:
    try:
        import matplotlib
    except ImportError:
        raise InvalidInput(
            "charts", "matplotlib", "charts need matplotlib", hint='install it with pip install "hazardflow[charts]"'
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = use_cjk_font(plt.rcParams, required=require_cjk)
    return plt, _Labels(font is not None)


def _integer_ticks(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def draw_charts(result: SimulationResult, out: Path, *, require_cjk: bool = False) -> list[Path]:
    """Draw the three charts of a run into ``out/charts``; return their paths.

    ``require_cjk`` refuses (:class:`~hazardflow.InvalidInput`) to draw English-only charts when no CJK font
    is installed.
    """
    plt, lab = _pyplot(require_cjk=require_cjk)
    folder = out / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _open_majors(plt, lab, [result], [""], folder / "open_majors.png"),
        _on_time_by_industry(plt, lab, result, folder / "on_time_by_industry.png"),
        _ladder(plt, lab, result, folder / "ladder.png"),
    ]


def draw_comparison(cmp: Comparison, out: Path, *, require_cjk: bool = False) -> list[Path]:
    """Open majors over time under both policies, in one chart."""
    plt, lab = _pyplot(require_cjk=require_cjk)
    folder = out / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _open_majors(
            plt, lab, [cmp.base, cmp.other], [cmp.base_label, cmp.other_label], folder / "compare_open_majors.png"
        )
    ]


def _targets_marks(ax: Any, lab: _Labels, result: SimulationResult) -> None:
    for t in result.targets:
        day = t.at
        if day is not None and result.start <= day <= result.until:
            ax.axvline(day, color="0.6", linestyle=":", linewidth=1)
            mark = {True: lab("达标", "met"), False: lab("未达标", "missed"), None: lab("未判定", "not judged")}
            ax.annotate(
                f"{lab.term('target', t.id)}：{mark[t.passed]}"
                if lab.cjk
                else f"{en('target', t.id)}: {mark[t.passed]}",
                xy=(day, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(-4, -4),
                textcoords="offset points",
                ha="right",
                va="top",
                fontsize=8,
                color="0.3",
                rotation=90,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1},
            )


def _majors_found(res: SimulationResult) -> int:
    """Major hazards in the run: found during it, carried in from the stock, or adopted open from a store."""
    total = res.total
    found = total.opened("grade").get("major", 0)
    carried = sum(n for (g, _i, _c), n in total.flows.carried_in.items() if g == "major")
    return found + carried


def _open_majors(plt: Any, lab: _Labels, results: Sequence[SimulationResult], names: Sequence[str], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 5.4 if len(results) > 1 else 5.0), dpi=110)
    styles = ["-", "--"]
    for i, (res, name) in enumerate(zip(results, names, strict=True)):
        days = [lv.at for lv in res.levels]
        suffix = f"（{name}）" if name and lab.cjk else (f" ({name})" if name else "")
        ls = styles[i % 2]
        ax.plot(
            days,
            [lv.open_majors_stock for lv in res.levels],
            ls,
            color="#c0392b",
            marker="o",
            markersize=2.5,
            label=lab(f"存量（{res.start} 前发现）", f"stock (found before {res.start})") + suffix,
        )
        ax.plot(
            days,
            [lv.open_majors_new for lv in res.levels],
            ls,
            color="#2471a3",
            marker="o",
            markersize=2.5,
            label=lab("增量", "new") + suffix,
        )
        ax.plot(
            days,
            [lv.overdue.get("major", 0) for lv in res.levels],
            ls,
            color="#7d3c98",
            linewidth=1,
            label=lab("其中逾期", "of which overdue") + suffix,
        )
    _targets_marks(ax, lab, results[0])
    n = _majors_found(results[0])
    ax.set_title(lab.title("每月末未销号重大事故隐患", "Open major hazards at each month end"), fontsize=11)
    ax.text(
        0.0,
        1.0,
        lab(f"本期重大隐患共 {n} 件", f"{n} major hazards in the run"),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=8,
        color="0.35",
    )
    ax.set_ylabel(lab("未销号重大隐患（件）", "open major hazards"))
    ax.set_ylim(bottom=0)
    _integer_ticks(ax.yaxis)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _on_time_by_industry(plt: Any, lab: _Labels, result: SimulationResult, path: Path) -> Path:
    years = result.of_kind("year")
    total = result.total
    industries = sorted(total.industries_closed(), key=lambda i: total.on_time_rate(industry=i) or 0.0)
    fig, ax = plt.subplots(figsize=(9, 0.7 * max(3, len(industries)) + 1.8), dpi=110)
    height = 0.8 / max(1, len(years))
    for k, p in enumerate(years):
        counts = [p.on_time_count(industry=i) for i in industries]
        values = [100 * hit / n if n else 0.0 for hit, n in counts]
        ys = [j + k * height for j in range(len(industries))]
        bars = ax.barh(ys, values, height=height, label=p.label)
        for bar, v, (hit, n) in zip(bars, values, counts, strict=True):
            text = f"{v:.1f}% ({hit}/{n})" if n else "-"
            ax.text(v + 0.5, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=6.5)
    ax.set_yticks([j + height * (len(years) - 1) / 2 for j in range(len(industries))])
    ax.set_yticklabels(
        [
            f"{lab.term('industry', i)}（{total.on_time_count(industry=i)[1]} 件）"
            if lab.cjk
            else f"{en('industry', i)} (n={total.on_time_count(industry=i)[1]})"
            for i in industries
        ]
    )
    ax.set_xlim(0, 125)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(lab("按期销号率（%）：销号前未错过任何期限", "closed without missing any deadline (%)"))
    ax.set_title(lab.title("分行业按期销号率", "On-time closure rate by industry"), fontsize=11)
    ax.text(
        0.0,
        1.0,
        lab(
            f"括号内为按期/销号件数；全程销号 {total.closed()} 件",
            f"on time/closed in brackets; {total.closed()} closures in the run",
        ),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=8,
        color="0.35",
    )
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _ladder(plt: Any, lab: _Labels, result: SimulationResult, path: Path) -> Path:
    years = result.of_kind("year")
    rungs = sorted(result.total.flows.reached) or [1]
    sanction_by_rung = result.total.rung_names()
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
    width = 0.8 / max(1, len(years))
    for k, p in enumerate(years):
        xs = [r + (k - (len(years) - 1) / 2) * width for r in rungs]
        values = [p.flows.reached.get(r, 0) for r in rungs]
        bars = ax.bar(xs, values, width=width, label=p.label)
        for bar, v in zip(bars, values, strict=True):
            ax.text(bar.get_x() + bar.get_width() / 2, v, str(v), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(rungs)
    ax.set_xticklabels(
        [
            f"{r}. {lab.term('sanction', sanction_by_rung[r])}"
            if r in sanction_by_rung
            else lab(f"第{r}级", f"rung {r}")
            for r in rungs
        ],
        fontsize=9,
    )
    _integer_ticks(ax.yaxis)
    ax.set_ylabel(lab("达到该级的案件（件）", "cases reaching the rung"))
    ax.set_title(lab.title("逾期督办阶梯：达到各级的案件数", "Overdue ladder: cases reaching each rung"), fontsize=11)
    n = result.total.flows.reached.get(1, 0)
    ax.text(
        0.0,
        1.0,
        lab(f"全程进入督办阶梯 {n} 件", f"{n} cases on the ladder in the run"),
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=8,
        color="0.35",
    )
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
