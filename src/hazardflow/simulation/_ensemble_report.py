"""The written outputs of an ensemble: Markdown in Chinese and English, the JSON of every distribution, and
charts in both languages — fan charts (median with 50 % and 90 % bands) of open major hazards and on-time
closure, a bar chart of target probabilities with their intervals, and the paired differences of a comparison.

Chinese chart text uses the CJK font :func:`hazardflow._fonts.use_cjk_font` finds (the one the single-run
charts use); without one the Chinese charts fall back to English labels, with a warning naming what to install.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._stats import Spread

if TYPE_CHECKING:
    from ._ensemble import Ensemble, EnsembleComparison, Kpi

__all__ = [
    "comparison_markdown",
    "draw_comparison_charts",
    "draw_ensemble_charts",
    "ensemble_markdown",
    "write_comparison_outputs",
    "write_ensemble_outputs",
]

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

#: Figures shown in the tables (all of them are in the JSON).
TABLE_KPIS = (
    "opened",
    "closed",
    "on_time_rate",
    "on_time_rate.major",
    "days_to_close.mean",
    "missed",
    "rung.1",
    "open_majors",
    "open_majors.stock",
    "open_majors.new",
    "overdue_majors",
)


def _kpi(key: str) -> Kpi:
    from ._ensemble import KPIS

    return next(k for k in KPIS if k.key == key)


def _fmt(x: float | None, rate: bool) -> str:
    if x is None:
        return "-"
    if rate:
        return f"{100 * x:.1f}%"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _spread_cells(s: Spread, rate: bool) -> list[str]:
    return [_fmt(s.mean, rate), _fmt(s.median, rate), f"{_fmt(s.p05, rate)} - {_fmt(s.p95, rate)}"]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return [*out, ""]


def _periods(e: Ensemble, kinds: str) -> list[str]:
    labels = e.labels
    if kinds == "years":
        return [x for x in labels if x.isdigit() or x == "total"]
    return [x for x in labels if not (x.isdigit() or x == "total")]


def ensemble_markdown(e: Ensemble, lang: Lang = "zh", charts: Sequence[str] = ()) -> str:
    """The report of an ensemble: target probabilities, then each figure's spread by year and quarter."""
    zh_ = lang == "zh"
    n = len(e.seeds)
    seeds = f"{e.seeds[0]}-{e.seeds[-1]}" if e.seeds == tuple(range(e.seeds[0], e.seeds[-1] + 1)) else str(n)
    lines = [
        f"# {e.scenario if zh_ else e.scenario_en} · " + ("多种子模拟" if zh_ else "ensemble"),
        "",
        (
            f"{n} 个种子（{seeds}）。每个指标给出各种子结果的均值、中位数和 90% 区间"
            "（5%-95% 分位：90% 的种子落在其中）；每个目标给出达成概率及其 95% 置信区间（Wilson）。"
            "同样的种子必得同样的结果。"
            if zh_
            else f"{n} seeds ({seeds}). Each figure shows the mean and median over the seeds and its 90% interval "
            "(5th-95th percentile: where 90% of the seeds fall); each target the probability of meeting it with "
            "its 95% confidence interval (Wilson). The same seeds always give the same result."
        ),
        f"{'结果摘要' if zh_ else 'Digest'}: `{e.digest()}`",
        "",
        "## 目标达成概率" if zh_ else "## Probability of meeting each target",
        "",
    ]
    rows = []
    for t in e.targets():
        p = t.probability
        rows.append(
            [
                t.name_zh if zh_ else t.name_en,
                f"{p.met} / {p.judged}",
                _pct(p.p),
                f"{_pct(p.low)} - {_pct(p.high)}",
            ]
        )
    head = ["目标", "达成/判定", "概率", "95% 置信区间"] if zh_ else ["target", "met / judged", "probability", "95% CI"]
    lines.extend(_table(head, rows) if rows else ["本情景未设目标。" if zh_ else "The scenario sets no targets.", ""])
    for kinds, title_zh, title_en in (("years", "年度指标", "Figures by year"), ("quarters", "季度指标", "By quarter")):
        lines.extend([f"## {title_zh if zh_ else title_en}", ""])
        head = ["指标", "期间", "均值", "中位数", "90% 区间"] if zh_ else ["figure", "period", "mean", "median", "90%"]
        rows = []
        for key in TABLE_KPIS:
            k = _kpi(key)
            for label in _periods(e, kinds):
                rows.append([k.zh if zh_ else k.en, label, *_spread_cells(e.spread(key, label), k.rate)])
        lines.extend(_table(head, rows))
    if charts:
        lines.extend(["## 图表" if zh_ else "## Charts", ""])
        lines.extend(f"![{Path(c).stem}]({c})\n" for c in charts)
    lines.append(
        "读法见文档《结果有多可靠？》：区间、概率与种子数的选择。所有分布和每个种子的指标都在 ensemble.json 中。"
        if zh_
        else "How to read these: see the docs page *How sure is this result?*. Every distribution and every seed's "
        "figures are in ensemble.json."
    )
    lines.append("")
    return "\n".join(lines)


def comparison_markdown(cmp: EnsembleComparison, lang: Lang = "zh", charts: Sequence[str] = ()) -> str:
    """Paired differences (other minus base) with the 95 % interval of the mean and a verdict."""
    zh_ = lang == "zh"
    b, o = cmp.base, cmp.other
    n = len(b.seeds)
    lines = [
        f"# {b.scenario if zh_ else b.scenario_en} · "
        + ("政策比较（多种子配对）" if zh_ else "paired policy comparison"),
        "",
        (
            f"{n} 个种子，每个种子在两种政策下遇到相同的隐患、相同的人（共同随机数）。差值 = **{o.label}** - 基准。"
            "“可区分”指差值均值的 95% 置信区间不含 0。"
            if zh_
            else f"{n} seeds; each seed meets the same hazards and people under both policies (common random "
            f"numbers). Difference = **{o.label}** minus base. *Distinguishable* means the 95% confidence "
            "interval of the mean difference leaves out zero."
        ),
        "",
        "## 目标达成概率" if zh_ else "## Targets",
        "",
    ]
    rows = []
    for tb, to in zip(b.targets(), o.targets(), strict=True):
        d = cmp.target_difference(tb.id)
        rows.append(
            [
                tb.name_zh if zh_ else tb.name_en,
                f"{_pct(tb.probability.p)} ({_pct(tb.probability.low)}-{_pct(tb.probability.high)})",
                f"{_pct(to.probability.p)} ({_pct(to.probability.low)}-{_pct(to.probability.high)})",
                _diff(d.mean, d.low, d.high, True),
                _yes(d.distinguishable, zh_),
            ]
        )
    head = (
        ["目标", "基准", o.label, "差值（95% CI）", "可区分"]
        if zh_
        else ["target", "base", o.label, "difference (95% CI)", "distinguishable"]
    )
    lines.extend(_table(head, rows))
    lines.extend(["## 指标差值" if zh_ else "## Differences of the figures", ""])
    rows = []
    for key in TABLE_KPIS:
        k = _kpi(key)
        for label in _periods(b, "years"):
            d = cmp.difference(key, label)
            rows.append(
                [
                    k.zh if zh_ else k.en,
                    label,
                    _fmt(b.spread(key, label).mean, k.rate),
                    _fmt(o.spread(key, label).mean, k.rate),
                    _diff(d.mean, d.low, d.high, k.rate),
                    _yes(d.distinguishable, zh_),
                ]
            )
    head = (
        ["指标", "期间", "基准均值", f"{o.label} 均值", "差值均值（95% CI）", "可区分"]
        if zh_
        else ["figure", "period", "base mean", f"{o.label} mean", "mean difference (95% CI)", "distinguishable"]
    )
    lines.extend(_table(head, rows))
    if charts:
        lines.extend(["## 图表" if zh_ else "## Charts", ""])
        lines.extend(f"![{Path(c).stem}]({c})\n" for c in charts)
    return "\n".join(lines)


def _diff(mean: float | None, low: float | None, high: float | None, rate: bool) -> str:
    if mean is None:
        return "-"

    def f(x: float) -> str:
        return f"{100 * x:+.1f} pp" if rate else f"{x:+.1f}"

    if low is None or high is None:
        return f(mean)
    return f"{f(mean)} ({f(low)} … {f(high)})"


def _yes(flag: bool, zh_: bool) -> str:
    if zh_:
        return "是" if flag else "否"
    return "yes" if flag else "no"


# ── charts ─────────────────────────────────────────────────────────────────────────────────────────
def _plt(lang: Lang) -> tuple[Any, Lang]:
    """pyplot, and the language the chart can be drawn in (English when no CJK font is installed)."""
    from .._exceptions import InvalidInput
    from .._fonts import use_cjk_font

    try:
        import matplotlib
    except ImportError:
        raise InvalidInput(
            "charts", "matplotlib", "charts need matplotlib", hint='install it with pip install "hazardflow[charts]"'
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = use_cjk_font(plt.rcParams) if lang == "zh" else None
    return plt, lang if font is not None else "en"


def _fan(ax: Any, xs: Sequence[Any], spreads: Sequence[Spread], color: str, label: str, scale: float = 1.0) -> None:
    idx = [i for i, s in enumerate(spreads) if s.n]
    x = [xs[i] for i in idx]

    def col(name: str) -> list[float]:
        return [float(getattr(spreads[i], name)) * scale for i in idx]

    ax.fill_between(x, col("p05"), col("p95"), color=color, alpha=0.18, linewidth=0, label=f"90% · {label}")
    ax.fill_between(x, col("p25"), col("p75"), color=color, alpha=0.35, linewidth=0, label=f"50% · {label}")
    ax.plot(x, col("median"), color=color, linewidth=1.8, marker="o", markersize=2.5, label=label)


_TEXT = {
    "open_title": (
        "每月末未销号重大事故隐患（中位数及 50%/90% 区间）",
        "Open major hazards at each month end (median, 50%/90% bands)",
    ),
    "open_y": ("未销号重大隐患", "open major hazards"),
    "ontime_title": (
        "各季度按期销号率（中位数及 50%/90% 区间）",
        "On-time closure rate by quarter (median, 50%/90% bands)",
    ),
    "ontime_y": ("按期销号率 (%)", "closed on time (%)"),
    "all": ("全部隐患", "all hazards"),
    "major": ("重大隐患", "major hazards"),
    "stock": ("存量", "stock"),
    "new": ("增量", "new"),
    "targets_title": ("目标达成概率（95% 置信区间）", "Probability of meeting each target (95% CI)"),
    "targets_x": ("达成概率 (%)", "probability (%)"),
    "diff_title": ("配对差值：{o} - 基准（均值及 95% 置信区间）", "Paired differences: {o} minus base (mean, 95% CI)"),
    "diff_x": ("差值", "difference"),
    "seeds": ("{n} 个种子", "{n} seeds"),
}


def _t(key: str, lang: Lang, **kw: Any) -> str:
    zh_, en_ = _TEXT[key]
    return (zh_ if lang == "zh" else en_).format(**kw)


def _month_days(months: Sequence[str]) -> list[Any]:
    from datetime import date

    return [date(int(m[:4]), int(m[5:7]), 1) for m in months]


def draw_ensemble_charts(e: Ensemble, out: Path) -> list[Path]:
    """Fan charts of open majors and on-time closure, and the target probabilities, in Chinese and English."""
    folder = out / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for lang in LANGS:
        plt, drawn = _plt(lang)
        sub = f"{e.scenario if drawn == 'zh' else e.scenario_en} · {_t('seeds', drawn, n=len(e.seeds))}"
        # open majors
        fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
        days = _month_days(e.months)
        _fan(ax, days, e.monthly("open_majors.stock"), "#c0392b", _t("stock", drawn))
        _fan(ax, days, e.monthly("open_majors.new"), "#2471a3", _t("new", drawn))
        ax.set_title(f"{_t('open_title', drawn)}\n{sub}", fontsize=10)
        ax.set_ylabel(_t("open_y", drawn))
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncol=2)
        fig.autofmt_xdate()
        fig.tight_layout()
        paths.append(_save(plt, fig, folder / f"fan_open_majors.{lang}.png"))
        # on-time closure by quarter
        fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
        quarters = _periods(e, "quarters")
        _fan(ax, quarters, [e.spread("on_time_rate", q) for q in quarters], "#1e8449", _t("all", drawn), 100)
        _fan(ax, quarters, [e.spread("on_time_rate.major", q) for q in quarters], "#7d3c98", _t("major", drawn), 100)
        ax.set_title(f"{_t('ontime_title', drawn)}\n{sub}", fontsize=10)
        ax.set_ylabel(_t("ontime_y", drawn))
        ax.set_ylim(0, 105)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncol=2, loc="lower right")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        fig.tight_layout()
        paths.append(_save(plt, fig, folder / f"fan_on_time.{lang}.png"))
        # target probabilities
        targets = e.targets()
        if targets:
            fig, ax = plt.subplots(figsize=(9, 1.0 + 0.8 * len(targets)), dpi=110)
            ys = list(range(len(targets)))
            ps = [100 * (t.probability.p or 0.0) for t in targets]
            lo = [100 * ((t.probability.p or 0.0) - (t.probability.low or 0.0)) for t in targets]
            hi = [100 * ((t.probability.high or 0.0) - (t.probability.p or 0.0)) for t in targets]
            ax.barh(ys, ps, color="#2e86c1", xerr=[lo, hi], capsize=4)
            for y, p, t in zip(ys, ps, targets, strict=True):
                pr = t.probability
                text = f"{p:.0f}%  ({_pct(pr.low)}-{_pct(pr.high)}, n={pr.judged})"
                high = 100 * (pr.high or 0.0)
                if high < 70:
                    ax.text(high + 1.5, y, text, va="center", fontsize=8)
                else:
                    ax.text(1.5, y, text, va="center", fontsize=8, color="white")
            ax.set_yticks(ys)
            ax.set_yticklabels([_wrap(t.name_zh if drawn == "zh" else t.name_en) for t in targets], fontsize=8)
            ax.set_xlim(0, 100)
            ax.invert_yaxis()
            ax.set_xlabel(_t("targets_x", drawn))
            ax.set_title(f"{_t('targets_title', drawn)}\n{sub}", fontsize=10)
            ax.grid(True, axis="x", alpha=0.3)
            fig.tight_layout()
            paths.append(_save(plt, fig, folder / f"target_probabilities.{lang}.png"))
    return paths


def _wrap(text: str, width: int = 28) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.savefig(path)
    plt.close(fig)
    return path


def draw_comparison_charts(cmp: EnsembleComparison, out: Path) -> list[Path]:
    """Paired differences of the main figures over the whole run and each year: mean with its 95 % interval."""
    folder = out / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    keys = ("on_time_rate", "on_time_rate.major", "days_to_close.mean", "missed", "open_majors", "overdue_majors")
    for lang in LANGS:
        plt, drawn = _plt(lang)
        labels = _periods(cmp.base, "years")
        fig, axes = plt.subplots(1, len(keys), figsize=(3.0 * len(keys), 3.8), dpi=110, sharey=True)
        for ax, key in zip(axes, keys, strict=True):
            k = _kpi(key)
            scale = 100.0 if k.rate else 1.0
            for y, label in enumerate(labels):
                d = cmp.difference(key, label)
                if d.mean is None:
                    continue
                lo = d.low if d.low is not None else d.mean
                hi = d.high if d.high is not None else d.mean
                color = "#c0392b" if d.distinguishable else "0.45"
                ax.errorbar(
                    [d.mean * scale],
                    [y],
                    xerr=[[(d.mean - lo) * scale], [(hi - d.mean) * scale]],
                    fmt="o",
                    color=color,
                    capsize=3,
                )
            ax.axvline(0, color="0.3", linewidth=0.8)
            ax.set_title(_wrap(k.zh if drawn == "zh" else k.en, 14) + (" (pp)" if k.rate else ""), fontsize=8)
            ax.grid(True, axis="x", alpha=0.3)
            ax.tick_params(labelsize=7)
        axes[0].set_yticks(range(len(labels)))
        axes[0].set_yticklabels(labels)
        axes[0].invert_yaxis()
        fig.suptitle(_t("diff_title", drawn, o=cmp.other.label), fontsize=10)
        fig.tight_layout()
        paths.append(_save(plt, fig, folder / f"paired_differences.{lang}.png"))
    return paths


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def write_ensemble_outputs(e: Ensemble, out: Path, *, charts: bool = True) -> list[Path]:
    """``ensemble.json`` (every distribution, every seed), ``ensemble.zh.md``, ``ensemble.en.md`` and charts."""
    out.mkdir(parents=True, exist_ok=True)
    written = draw_ensemble_charts(e, out) if charts else []
    (out / "ensemble.json").write_text(_dump(e.to_json()), encoding="utf-8")
    written.append(out / "ensemble.json")
    for lang in LANGS:
        rel = [p.relative_to(out).as_posix() for p in written if p.name.endswith(f".{lang}.png")]
        path = out / f"ensemble.{lang}.md"
        path.write_text(ensemble_markdown(e, lang, rel), encoding="utf-8")
        written.append(path)
    return written


def write_comparison_outputs(cmp: EnsembleComparison, out: Path, *, charts: bool = True) -> list[Path]:
    """``ensemble_comparison.json`` with both ensembles and every difference, Markdown and charts."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if charts:
        written.extend(draw_comparison_charts(cmp, out))
    (out / "ensemble_comparison.json").write_text(_dump(cmp.to_json()), encoding="utf-8")
    written.append(out / "ensemble_comparison.json")
    for lang in LANGS:
        rel = [p.relative_to(out).as_posix() for p in written if p.name.endswith(f".{lang}.png")]
        path = out / f"ensemble_comparison.{lang}.md"
        path.write_text(comparison_markdown(cmp, lang, rel), encoding="utf-8")
        written.append(path)
    return written
