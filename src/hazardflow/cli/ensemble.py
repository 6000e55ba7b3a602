"""``hazardflow simulate SCENARIO --seeds 1-200``: an ensemble over many seeds, printed and written.

Called by :mod:`hazardflow.cli.simulate` when ``--seeds`` is given; prints the probability of meeting each
target with its interval and the spread of the main figures (or, with ``--compare``, the paired differences).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from ..simulation._ensemble_report import _fmt, _pct

if TYPE_CHECKING:
    from rich.console import Console

    from ..simulation import Ensemble, EnsembleComparison

__all__ = ["run_ensemble"]

_SHOWN = ("on_time_rate", "on_time_rate.major", "days_to_close.mean", "open_majors", "overdue_majors")


def _print_ensemble(console: Console, e: Ensemble) -> None:
    from rich.table import Table

    from ..simulation import KPIS

    table = Table(title=f"{e.scenario} · {len(e.seeds)} seeds: target probabilities · 目标达成概率")
    table.add_column("target 目标", overflow="fold")
    table.add_column("met 达成", justify="right", overflow="fold")
    table.add_column("probability 概率", justify="right", overflow="fold")
    table.add_column("95% CI 置信区间", justify="right", overflow="fold")
    for t in e.targets():
        p = t.probability
        table.add_row(f"{t.name_zh}\n({t.id})", f"{p.met}/{p.judged}", _pct(p.p), f"{_pct(p.low)} - {_pct(p.high)}")
    console.print(table)
    years = [x for x in e.labels if x.isdigit() or x == "total"]
    fig = Table(title="figures over the seeds: median [90% interval] · 各种子指标：中位数 [90% 区间]")
    fig.add_column("figure 指标", overflow="fold")
    for label in years:
        fig.add_column(label, justify="right", overflow="fold")
    for k in KPIS:
        if k.key not in _SHOWN:
            continue
        cells = []
        for label in years:
            s = e.spread(k.key, label)
            cells.append(f"{_fmt(s.median, k.rate)} [{_fmt(s.p05, k.rate)}-{_fmt(s.p95, k.rate)}]")
        fig.add_row(f"{k.en}\n{k.zh}", *cells)
    console.print(fig)


def _print_comparison(console: Console, cmp: EnsembleComparison) -> None:
    from rich.table import Table

    from ..simulation import KPIS

    b, o = cmp.base, cmp.other
    table = Table(title=f"{b.scenario} · {len(b.seeds)} paired seeds: base ⟷ {o.label}")
    table.add_column("target 目标", overflow="fold")
    table.add_column("base 基准", justify="right", overflow="fold")
    table.add_column(o.label, justify="right", overflow="fold")
    table.add_column("Δ (95% CI)", justify="right", overflow="fold")
    for tb, to in zip(b.targets(), o.targets(), strict=True):
        d = cmp.target_difference(tb.id)
        table.add_row(
            f"{tb.name_zh}\n({tb.id})",
            f"{_pct(tb.probability.p)} ({_pct(tb.probability.low)}-{_pct(tb.probability.high)})",
            f"{_pct(to.probability.p)} ({_pct(to.probability.low)}-{_pct(to.probability.high)})",
            _delta(d.mean, d.low, d.high, True),
            style="bold" if d.distinguishable else "",
        )
    console.print(table)
    diffs = Table(title="paired differences, whole run: mean (95% CI) · 配对差值（全程）")
    diffs.add_column("figure 指标", overflow="fold")
    diffs.add_column("base 基准", justify="right", overflow="fold")
    diffs.add_column(o.label, justify="right", overflow="fold")
    diffs.add_column("Δ mean (95% CI)", justify="right", overflow="fold")
    diffs.add_column("distinguishable 可区分", overflow="fold")
    for k in KPIS:
        if k.key not in _SHOWN:
            continue
        d = cmp.difference(k.key, "total")
        diffs.add_row(
            f"{k.en}\n{k.zh}",
            _fmt(b.spread(k.key, "total").mean, k.rate),
            _fmt(o.spread(k.key, "total").mean, k.rate),
            _delta(d.mean, d.low, d.high, k.rate),
            "yes 是" if d.distinguishable else "no 否",
            style="bold" if d.distinguishable else "",
        )
    console.print(diffs)


def _delta(mean: float | None, low: float | None, high: float | None, rate: bool) -> str:
    if mean is None:
        return "-"

    def f(x: float) -> str:
        return f"{100 * x:+.1f} pp" if rate else f"{x:+.1f}"

    return f(mean) if low is None or high is None else f"{f(mean)} ({f(low)} … {f(high)})"


def run_ensemble(
    *,
    scenario: str,
    seeds: str,
    workers: str,
    dask: str | None,
    partition: str,
    compare_with: str | None,
    until: date | None,
    out: Path,
    as_json: bool,
    charts: bool,
) -> None:
    """Run the ensemble the options describe, print it and write it to ``out``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    from .._exceptions import HazardflowError
    from ..simulation import ensemble, ensemble_compare, parse_seeds
    from ..simulation._ensemble_report import write_comparison_outputs, write_ensemble_outputs

    console = Console(stderr=as_json)
    n_workers: int | str = workers
    if workers != "auto":
        try:
            n_workers = int(workers)
        except ValueError:
            raise typer.BadParameter(
                f"{workers!r} is not a number of processes; give 1, 2, ... or auto", param_hint="--workers"
            ) from None
    if partition not in ("none", "county"):
        raise typer.BadParameter(f"{partition!r}: allowed are none, county", param_hint="--partition")
    part: Literal["none", "county"] = "county" if partition == "county" else "none"
    try:
        chosen = parse_seeds(seeds)
    except HazardflowError as exc:
        raise typer.BadParameter(str(exc), param_hint="--seeds") from None
    bar = Progress(
        "[bold]seeds",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=as_json or not console.is_terminal,
        transient=False,
    )
    task = bar.add_task("seeds", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    common: dict[str, Any] = {
        "until": until,
        "workers": n_workers,
        "dask": dask,
        "partition": part,
        "progress": progress,
    }
    try:
        with bar:
            if compare_with is not None:
                cmp = ensemble_compare(scenario, [compare_with], chosen, **common)
                result: Any = cmp
            else:
                result = ensemble(scenario, chosen, **common)
        if compare_with is not None:
            write_comparison_outputs(result, out, charts=charts)
        else:
            write_ensemble_outputs(result, out, charts=charts)
    except HazardflowError as exc:
        console.print(f"[red]{exc.code}: {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        return
    if compare_with is not None:
        _print_comparison(console, result)
    else:
        _print_ensemble(console, result)
    ex = result.execution
    if ex is not None:
        where = {"inline": "in this process", "processes": f"on {ex.workers} processes"}.get(
            ex.executor, f"on a Dask cluster of {ex.workers} workers"
        )
        console.print(
            f"{ex.tasks} tasks {where} in {ex.wall_seconds:.1f} s ({ex.seeds_per_second:.2f} tasks/s)"
            + (f"; {ex.reruns} rerun after a worker died" if ex.reruns else "")
        )
    console.print(f"report, charts and every distribution written to {out}/")
