"""``hazardflow simulate``: run a scenario for years in seconds through the real engine, print and write the figures."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ..simulation import Comparison, SimulationResult


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def _progress_bar(console: Console, enabled: bool) -> Any:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[day]}"),
        TextColumn("cases {task.fields[cases]:>7}"),
        TextColumn("open {task.fields[open]:>6}"),
        TextColumn("{task.fields[rate]:>7} cmd/s"),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


def _print_result(console: Console, result: SimulationResult) -> None:
    from rich.table import Table

    from .._glossary import en, zh

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    def num(x: Any) -> str:
        return "-" if x is None else (f"{x:.1f}" if isinstance(x, float) else str(x))

    head = Table(title=f"{result.scenario} · {result.scenario_en} · seed {result.seed}", show_lines=False)
    for col in (
        "period",
        "found 新发现",
        "closed 销号",
        "on time 按期率",
        "general 一般",
        "major 重大",
        "days mean/median 销号天数",
        "missed 逾期",
        "ladder 督办",
        "open majors stock/new 存量/增量",
        "overdue 逾期在办",
    ):
        head.add_column(col, justify="right" if col != "period" else "left")
    for p in result.of_kind("quarter", "partial", "year", "total"):
        dc = p.days_to_close()
        lv = p.levels
        style = "bold" if p.kind in ("year", "total") else ""
        head.add_row(
            p.label,
            num(p.total_opened()),
            num(p.closed()),
            pct(p.on_time_rate()),
            pct(p.on_time_rate(grade="general")),
            pct(p.on_time_rate(grade="major")),
            f"{num(dc['mean'])} / {num(dc['median'])}",
            num(sum(p.flows.missed.values())),
            " ".join(f"{k}:{v}" for k, v in sorted(p.flows.reached.items())) or "-",
            f"{lv.open_majors_stock} / {lv.open_majors_new}",
            num(sum(lv.overdue.values())),
            style=style,
        )
    console.print(head)
    total = result.total
    ind = Table(title="on-time closure by industry · 分行业按期销号率")
    ind.add_column("industry 行业")
    for p in result.of_kind("year"):
        ind.add_column(p.label, justify="right")
    ind.add_column("total", justify="right")
    for i in total.industries_closed():
        ind.add_row(
            f"{en('industry', i)} {zh('industry', i)}",
            *(pct(p.on_time_rate(industry=i)) for p in result.of_kind("year")),
            pct(total.on_time_rate(industry=i)),
        )
    console.print(ind)
    if result.targets:
        tt = Table(title="campaign targets · 目标")
        tt.add_column("target 目标")
        tt.add_column("verdict 结论")
        tt.add_column("detail 说明")
        for t in result.targets:
            verdict = {True: "[green]met 达标", False: "[red]missed 未达标", None: "[yellow]not judged 未判定"}[
                t.passed
            ]
            tt.add_row(f"{t.name_zh}\n{t.name_en}", verdict, f"{t.detail_zh}\n{t.detail_en}")
        console.print(tt)
    st = result.stats
    console.print(
        f"{st.cases} cases, {st.commands} commands in {st.wall_seconds:.1f} s "
        f"({st.commands_per_second:,.0f} commands/s); refused {st.refused}, stuck {st.stuck}, "
        f"tip-offs not simulated {st.tipoffs_skipped}, provisional deadlines {st.provisional_deadlines}"
    )
    console.print(f"audit digest {result.audit_digest}")


def _print_comparison(console: Console, cmp: Comparison) -> None:
    from rich.table import Table

    table = Table(title=f"{cmp.base.scenario} · seed {cmp.base.seed}: {cmp.base_label} ⟷ {cmp.other_label}")
    table.add_column("figure 指标")
    table.add_column(cmp.base_label, justify="right")
    table.add_column(cmp.other_label, justify="right")
    table.add_column("Δ", justify="right")
    for r in cmp.rows():
        rate = "rate" in r.key

        def fmt(x: float | None, rate: bool = rate) -> str:
            if x is None:
                return "-"
            return f"{100 * x:.1f}%" if rate else (f"{x:.1f}" if not float(x).is_integer() else str(int(x)))

        d = r.delta
        delta = "" if not d else (f"{d * 100:+.1f} pp" if rate else f"{d:+g}")
        table.add_row(f"{r.en} {r.zh.split(' ', 1)[-1]}", fmt(r.base), fmt(r.other), delta, style="bold" if d else "")
    console.print(table)
    for a, b in zip(cmp.base.targets, cmp.other.targets, strict=True):
        console.print(f"{a.name_en}: {a.passed} → {b.passed}")


def _fresh_store(url: str, *, replace: bool) -> None:
    """A simulation writes a database of its own: refuse one that already holds cases (ids would collide)."""
    path = _sqlite_path(url)
    if replace:
        if path is None:
            raise typer.BadParameter(
                "--replace only deletes a SQLite file; empty that database yourself or name a new one",
                param_hint="--replace",
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if path is not None and not path.exists():
        return
    from ..persistence.sql import SqlStore

    with SqlStore(url) as existing:
        held = next(iter(existing.iter_cases()), None) is not None
    if held:
        raise typer.BadParameter(
            f"{url} already holds cases; a simulation writes a fresh database: add --replace to delete the file "
            "first, name another --store, or use --from to forecast from a copy of it",
            param_hint="--store",
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        scenario: str = typer.Argument(..., help="a scenario file (examples/scenarios/*.py) or module[:attribute]"),
        seed: int = typer.Option(1, "--seed", help="random seed; the same seed gives the same audit log"),
        until: str | None = typer.Option(None, "--until", help="stop at the end of this day (YYYY-MM-DD)"),
        store: str = typer.Option("memory", "--store", help="memory, or a database URL such as sqlite:///sim.db"),
        out: Path = typer.Option(Path("simulation-output"), "--out", help="folder for the report, charts and JSON"),
        as_json: bool = typer.Option(False, "--json", help="print the figures as JSON instead of tables"),
        compare_with: str | None = typer.Option(
            None, "--compare", help="another policy (file.py[:Class] or module:Class): same seed, side by side"
        ),
        from_db: str | None = typer.Option(
            None,
            "--from",
            help="forecast from a copy of this SQLite database (sqlite:///live.db); needs --store sqlite",
        ),
        audit_log: Path | None = typer.Option(None, "--audit-log", help="write every audit event to this JSONL file"),
        charts: bool = typer.Option(True, "--charts/--no-charts", help="draw the PNG charts (needs matplotlib)"),
        replace: bool = typer.Option(
            False,
            "--replace",
            help="delete the --store SQLite file first if it exists (a simulation writes a fresh one)",
        ),
        seeds: str | None = typer.Option(
            None, "--seeds", help="an ensemble over these seeds (1-200, 1,5,9): distributions and target probabilities"
        ),
        workers: str = typer.Option("auto", "--workers", help="ensemble: worker processes, or auto (every core)"),
        dask: str | None = typer.Option(
            None, "--dask", help="ensemble: run on this Dask scheduler (tcp://host:8786; needs hazardflow[distributed])"
        ),
        partition: str = typer.Option(
            "none", "--partition", help="ensemble: none, or county (each county a task; figures summed exactly)"
        ),
    ) -> None:
        """Simulate a jurisdiction's campaign through the real engine and report the figures (模拟)."""
        from rich.console import Console

        if seeds is not None:
            for name, given in (("--store", store != "memory"), ("--from", from_db), ("--audit-log", audit_log)):
                if given:
                    raise typer.BadParameter(f"{name} applies to one seed; an ensemble (--seeds) runs in memory")
            from .ensemble import run_ensemble

            run_ensemble(
                scenario=scenario,
                seeds=seeds,
                workers=workers,
                dask=dask,
                partition=partition,
                compare_with=compare_with,
                until=_parse_day(until),
                out=out,
                as_json=as_json,
                charts=charts,
            )
            return

        from .._exceptions import HazardflowError
        from ..simulation import Simulation, compare, load_policy, load_scenario
        from ..simulation._charts import draw_comparison
        from ..simulation._report import comparison_markdown, write_outputs

        console = Console(stderr=as_json)
        last = _parse_day(until)
        try:
            sc = load_scenario(scenario)
        except HazardflowError as exc:
            raise typer.BadParameter(str(exc), param_hint="SCENARIO") from None
        bar = _progress_bar(console, enabled=not as_json)

        def tracker(name: str) -> Any:
            task = bar.add_task(name, total=1.0, day="", cases=0, open=0, rate="")

            def update(p: Any) -> None:
                bar.update(
                    task,
                    completed=p.fraction,
                    day=p.day.isoformat(),
                    cases=p.cases,
                    open=p.open_cases,
                    rate=f"{p.commands_per_second:,.0f}",
                )

            return update

        try:
            if compare_with is not None:
                other = load_policy(compare_with)
                with bar:
                    hooks: dict[str, Any] = {}

                    def progress(name: str, p: Any) -> None:
                        if name not in hooks:
                            hooks[name] = tracker(name)
                        hooks[name](p)

                    cmp = compare(sc, [other], seed=seed, until=last, progress=progress)
                out.mkdir(parents=True, exist_ok=True)
                (out / "comparison.json").write_text(
                    json.dumps(cmp.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
                )
                (out / "comparison.zh.md").write_text(comparison_markdown(cmp, "zh"), encoding="utf-8")
                (out / "comparison.en.md").write_text(comparison_markdown(cmp, "en"), encoding="utf-8")
                if charts:
                    draw_comparison(cmp, out)
                if as_json:
                    typer.echo(json.dumps(cmp.to_json(), ensure_ascii=False, indent=1))
                else:
                    _print_comparison(console, cmp)
                    console.print(f"written to {out}/")
                return
            url = None if store == "memory" else store
            engine = None
            if url is not None and from_db is None:
                _fresh_store(url, replace=replace)
            if from_db is not None:
                src = _sqlite_path(from_db)
                dst = _sqlite_path(store)
                if src is None or dst is None:
                    raise typer.BadParameter(
                        "--from needs two SQLite URLs: --from sqlite:///live.db --store sqlite:///forecast.db"
                    )
                if not src.is_file():
                    raise typer.BadParameter(f"{src} does not exist", param_hint="--from")
                if dst.resolve() == src.resolve():
                    raise typer.BadParameter("--store must name a new file: the source database is never written")
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                from ..simulation._runner import build_engine

                engine = build_engine(sc, url=store)
                url = None
            log = audit_log.open("w", encoding="utf-8") if audit_log is not None else None
            try:
                sim = Simulation(
                    sc, seed=seed, until=last, url=url, engine=engine, audit_log=log, progress=tracker(sc.name_en)
                )
                with bar:
                    result = sim.run()
                sim.engine.close()
            finally:
                if log is not None:
                    log.close()
            write_outputs(result, out, charts=charts)
            if as_json:
                typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
            else:
                _print_result(console, result)
                console.print(f"report, charts and figures written to {out}/")
        except HazardflowError as exc:
            console.print(f"[red]{exc.code}: {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
