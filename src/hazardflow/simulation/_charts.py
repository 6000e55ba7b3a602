"""Charts of a run (matplotlib, Agg backend, PNG): open majors over time, on-time rate by industry, ladder rungs.

matplotlib is an optional dependency (``pip install "hazardflow[charts]"``) imported only here. Labels are in
English, with the 中文 label beside it when a CJK font is installed (most servers have none, and a missing
glyph would print as a box).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._exceptions import InvalidInput
from .._glossary import en, zh

if TYPE_CHECKING:
    from ._compare import Comparison
    from ._result import SimulationResult

__all__ = ["draw_charts", "draw_comparison"]

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
)


def _pyplot() -> tuple[Any, bool]:
    try:
        import matplotlib
    except ImportError:
        raise InvalidInput(
            "charts", "matplotlib", "charts need matplotlib", hint='install it with pip install "hazardflow[charts]"'
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = next((n for n in _CJK_FONTS if n in names), None)
    if cjk is not None:
        plt.rcParams["font.sans-serif"] = [cjk, "DejaVu Sans"]
        plt.rcParams["axes.unicode_minus"] = False
    return plt, cjk is not None


def _label(kind: str, id: str, cjk: bool) -> str:
    return f"{en(kind, id)} {zh(kind, id)}" if cjk else en(kind, id)


def _title(text_en: str, text_zh: str, cjk: bool) -> str:
    return f"{text_zh} · {text_en}" if cjk else text_en


def draw_charts(result: SimulationResult, out: Path) -> list[Path]:
    """Draw the three charts of a run into ``out/charts``; return their paths."""
    plt, cjk = _pyplot()
    folder = out / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        _open_majors(plt, cjk, [result], [""], folder / "open_majors.png"),
        _on_time_by_industry(plt, cjk, result, folder / "on_time_by_industry.png"),
        _ladder(plt, cjk, result, folder / "ladder.png"),
    ]
    return paths


def draw_comparison(cmp: Comparison, out: Path) -> list[Path]:
    """Open majors over time under both policies, in one chart."""
    plt, cjk = _pyplot()
    folder = out / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _open_majors(
            plt, cjk, [cmp.base, cmp.other], [cmp.base_label, cmp.other_label], folder / "compare_open_majors.png"
        )
    ]


def _targets_marks(ax: Any, result: SimulationResult) -> None:
    for t in result.targets:
        day = t.at
        if day is not None and result.start <= day <= result.until:
            ax.axvline(day, color="0.6", linestyle=":", linewidth=1)
            mark = {True: "met", False: "missed", None: "not judged"}[t.passed]
            ax.annotate(
                f"{t.id}: {mark}",
                xy=(day, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(-4, -4),
                textcoords="offset points",
                ha="right",
                va="top",
                fontsize=7,
                color="0.35",
                rotation=90,
            )


def _open_majors(plt: Any, cjk: bool, results: Sequence[SimulationResult], names: Sequence[str], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 5.2 if len(results) > 1 else 4.8), dpi=110)
    styles = ["-", "--"]
    for i, (res, name) in enumerate(zip(results, names, strict=True)):
        days = [lv.at for lv in res.levels]
        suffix = f" ({name})" if name else ""
        ls = styles[i % 2]
        ax.plot(
            days,
            [lv.open_majors_stock for lv in res.levels],
            ls,
            color="#c0392b",
            marker="o",
            markersize=2.5,
            label=f"stock (found before {res.start}){suffix}",
        )
        ax.plot(
            days,
            [lv.open_majors_new for lv in res.levels],
            ls,
            color="#2471a3",
            marker="o",
            markersize=2.5,
            label=f"new{suffix}",
        )
        ax.plot(
            days,
            [lv.overdue.get("major", 0) for lv in res.levels],
            ls,
            color="#7d3c98",
            linewidth=1,
            label=f"of which overdue{suffix}",
        )
    _targets_marks(ax, results[0])
    ax.set_title(_title("Open major hazards at each month end", "每月末未销号重大事故隐患", cjk))
    ax.set_ylabel("open major hazards")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _on_time_by_industry(plt: Any, cjk: bool, result: SimulationResult, path: Path) -> Path:
    years = result.of_kind("year")
    total = result.total
    industries = sorted(total.industries_closed(), key=lambda i: total.on_time_rate(industry=i) or 0.0)
    fig, ax = plt.subplots(figsize=(9, 0.6 * max(3, len(industries)) + 1.5), dpi=110)
    height = 0.8 / max(1, len(years))
    for k, p in enumerate(years):
        values = [100 * (p.on_time_rate(industry=i) or 0.0) for i in industries]
        ys = [j + k * height for j in range(len(industries))]
        bars = ax.barh(ys, values, height=height, label=p.label)
        for bar, v in zip(bars, values, strict=True):
            ax.text(v + 0.5, bar.get_y() + bar.get_height() / 2, f"{v:.0f}%", va="center", fontsize=7)
    ax.set_yticks([j + height * (len(years) - 1) / 2 for j in range(len(industries))])
    ax.set_yticklabels([_label("industry", i, cjk) for i in industries])
    ax.set_xlim(0, 110)
    ax.set_xlabel("closed without missing any deadline (%)")
    ax.set_title(_title("On-time closure rate by industry", "分行业按期销号率", cjk))
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _ladder(plt: Any, cjk: bool, result: SimulationResult, path: Path) -> Path:
    years = result.of_kind("year")
    rungs = sorted(result.total.flows.reached) or [1]
    sanction_by_rung = result.total.rung_names()
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
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
            f"{r}. {_label('sanction', sanction_by_rung[r], cjk)}" if r in sanction_by_rung else f"rung {r}"
            for r in rungs
        ],
        fontsize=8,
    )
    ax.set_ylabel("cases reaching the rung")
    ax.set_title(_title("Overdue ladder: cases reaching each rung", "逾期督办阶梯：达到各级的案件数", cjk))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
