"""``hazardflow simulate``: run a scenario for years in seconds through the real engine, print and write the figures."""

from __future__ import annotations

import json
import shutil
import sys
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
    """A progress line that fits 80 columns; off when the output is not a terminal (a log, a pipe)."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=None if console.width >= 100 else 16),
        TaskProgressColumn(),
        TextColumn("{task.fields[day]}"),
        TextColumn("cases {task.fields[cases]:>6}"),
        TimeElapsedColumn(),
        console=console,
        disable=not (enabled and console.is_terminal),
        transient=False,
    )


def _short(name: str, width: int = 18) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _numbers_table(title: str, head: list[str], rows: list[list[str]], *, first_wraps: bool = False) -> Any:
    """A table whose number columns are never cut: they keep their full width, only the first may wrap."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title_justify="left")
    for k, col in enumerate(head):
        if k == 0:
            table.add_column(col, no_wrap=not first_wraps, overflow="fold")
        else:
            width = max(max((len(r[k]) for r in rows), default=1), *(len(w) for w in col.split("\n")))
            table.add_column(col, justify="right", no_wrap=True, min_width=width)
    for r in rows:
        table.add_row(*r)
    return table


def _print_result(console: Console, result: SimulationResult) -> None:
    from rich.table import Table

    from ..glossary import en, zh
    from ..simulation._report import SMALL_SAMPLE

    def pct(hits: int, total: int) -> str:
        return "-" if not total else f"{100 * hits / total:.1f}%" + ("†" if total < SMALL_SAMPLE else "")

    def frac(hits: int, total: int) -> str:
        return "-" if not total else f"{hits}/{total}" + ("†" if total < SMALL_SAMPLE else "")

    def days(x: Any) -> str:
        return "-" if x is None else f"{float(x):.1f}"

    console.print(f"[bold]{result.scenario}[/]\n{result.scenario_en} · seed {result.seed}")
    # Two narrow tables rather than one wide one: each fits 80 columns without cutting a number.
    rows, rows2 = [], []
    for p in result.of_kind("quarter", "partial", "year", "total"):
        dd = p.days_to_close(route="deadline")
        lv = p.levels
        label = f"[bold]{p.label}[/]" if p.kind in ("year", "total") else p.label
        rows.append(
            [
                label,
                str(p.total_opened()),
                str(p.closed()),
                pct(*p.on_time_count()),
                frac(*p.on_time_count(grade="major")),
                days(dd["median"]),
                str(sum(p.flows.missed.values())),
            ]
        )
        rows2.append(
            [
                label,
                str(p.flows.reached.get(1, 0)),
                str(max(p.flows.reached, default=0)),
                str(p.event_count("escalation", "propose_escalation")),
                f"{lv.open_majors_stock} / {lv.open_majors_new}",
                str(sum(lv.overdue.values())),
            ]
        )
    console.print(
        _numbers_table(
            "cases by period · 分期案件",
            [
                "period\n期间",
                "found\n新发现",
                "closed\n销号",
                "on time\n按期率",
                "major on time\n重大按期",
                "days*\n天数*",
                "missed\n逾期",
            ],
            rows,
        )
    )
    console.print(
        f"† fewer than {SMALL_SAMPLE} closures 样本不足{SMALL_SAMPLE}件 · * median days to close of hazards fixed "
        "by a deadline (on-the-spot fixes apart) 限期整改销号天数中位数",
        style="dim",
    )
    console.print(
        _numbers_table(
            "ladder and open majors · 督办与重大隐患",
            [
                "period\n期间",
                "on ladder\n督办",
                "top rung\n最高级",
                "escalated\n提级",
                "open majors\n存量/增量",
                "overdue\n逾期在办",
            ],
            rows2,
        )
    )
    total = result.total
    years = result.of_kind("year")
    ind_rows = [
        [
            f"{zh('industry', i)} {en('industry', i)}",
            *(pct(*p.on_time_count(industry=i)) for p in years),
            f"{pct(*total.on_time_count(industry=i))} ({total.on_time_count(industry=i)[1]})",
        ]
        for i in total.industries_closed()
    ]
    console.print(
        _numbers_table(
            "on-time closure by industry · 分行业按期销号率",
            ["industry 行业", *(p.label for p in years), "total (closed)\n全程（销号数）"],
            ind_rows,
            first_wraps=True,
        )
    )
    if result.targets:
        tt = Table(title="campaign targets · 目标", box=None, show_header=False, title_justify="left", padding=(0, 1))
        tt.add_column(no_wrap=True)
        tt.add_column(overflow="fold")
        for t in result.targets:
            verdict = {True: "[green]met 达标", False: "[red]missed 未达标", None: "[yellow]not judged 未判定"}[
                t.passed
            ]
            tt.add_row(verdict, f"[bold]{t.name_zh}[/]\n{t.name_en}\n{t.detail_zh}\n{t.detail_en}")
        console.print(tt)
    st = result.stats
    console.print(
        f"{st.cases} hazard cases (+ {st.tipoffs} tip-offs, {st.escalations} escalations), {st.commands} commands "
        f"in {st.wall_seconds:.1f} s ({st.commands_per_second:,.0f} commands/s); refused {st.refused}, stuck "
        f"{st.stuck}, tip-offs not simulated {st.tipoffs_skipped}, provisional deadlines {st.provisional_deadlines}"
    )
    console.print(f"audit digest {result.audit_digest}", soft_wrap=True)


def _verdict_text(passed: bool | None) -> str:
    return {True: "met 达标", False: "missed 未达标", None: "not judged 未判定"}[passed]


def _print_comparison(console: Console, cmp: Comparison) -> None:
    console.print(f"[bold]{cmp.base.scenario}[/] · seed {cmp.base.seed}")
    console.print(f"  A = {cmp.base_label}\n  B = {cmp.other_label}")
    rows = []
    for r in cmp.rows():
        rate = "rate" in r.key

        def fmt(x: float | None, rate: bool = rate, days: bool = "days" in r.key) -> str:
            if x is None:
                return "-"
            return f"{100 * x:.1f}%" if rate else (f"{x:.1f}" if days else str(round(x)))

        d = r.delta
        delta = "" if not d else (f"{d * 100:+.1f} pp" if rate else f"{d:+.1f}" if "days" in r.key else f"{d:+g}")
        name = f"{r.zh} · {r.en.split(' ', 1)[-1]}"
        rows.append([f"[bold]{name}[/]" if d else name, fmt(r.base), fmt(r.other), delta])
    console.print(_numbers_table("figures · 指标 (A ⟷ B)", ["figure 指标", "A", "B", "Δ"], rows, first_wraps=True))
    console.print("targets · 目标 (A → B)")
    for a, b in zip(cmp.base.targets, cmp.other.targets, strict=True):
        console.print(f"  {a.name_zh} / {a.name_en}: {_verdict_text(a.passed)} → {_verdict_text(b.passed)}")


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _fresh_store(url: str, *, replace: bool, yes: bool) -> None:
    """A simulation writes a database of its own: refuse one that already holds cases (ids would collide).

    ``--replace`` deletes a SQLite file; on another database (PostgreSQL) it drops hazardflow's tables after
    the user confirms (``--yes`` confirms in a script).
    """
    path = _sqlite_path(url)
    if replace and path is not None:
        for suffix in ("", "-wal", "-shm"):
            try:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            except OSError as exc:
                raise typer.BadParameter(
                    f"cannot delete {path}{suffix} ({exc.strerror}); check the file's and directory's permissions",
                    param_hint="--replace",
                ) from None
        return
    if path is not None and not path.exists():
        return
    from .._exceptions import SchemaVersionError
    from ..persistence.sql import SqlStore
    from .db import _shown

    shown = _shown(url)
    if replace:
        try:
            store = SqlStore(url)
        except SchemaVersionError:
            store = SqlStore(url, check_schema=False)  # a schema of another release: dropped all the same
        with store:
            if not yes:
                if not sys.stdin.isatty():
                    raise typer.BadParameter(
                        f"--replace drops hazardflow's tables in {shown} and everything in them; "
                        "add --yes to confirm it in a script",
                        param_hint="--replace",
                    )
                typer.confirm(
                    f"Drop hazardflow's tables in {shown} (every case and audit event in them) and start afresh?",
                    abort=True,
                )
            store.drop_schema()
        return
    with SqlStore(url) as existing:
        held = next(iter(existing.iter_cases()), None) is not None
    if not held:
        return
    if path is not None:
        advice = (
            "add --replace to delete the file first, name another --store file, "
            "or use --from to forecast from a copy of it"
        )
    else:
        advice = (
            "add --replace to drop hazardflow's tables there and start afresh (you are asked to confirm; "
            "--yes confirms in a script), or name another, empty database in --store"
        )
    raise typer.BadParameter(
        f"{shown} already holds cases and a simulation writes a fresh database: {advice}", param_hint="--store"
    )


def _board(engine: Any, scenario: Any, out: Path) -> Path | None:
    """The run's board as one HTML file in ``out`` (None when the ``dashboard`` extra is not installed)."""
    try:
        from ..dashboard._export import export_simulation_board
    except ImportError:
        return None
    return export_simulation_board(engine, scenario, out)


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        scenario: str = typer.Argument(..., help="a scenario file (examples/scenarios/*.py) or module[:attribute]"),
        seed: int = typer.Option(1, "--seed", help="random seed; the same seed gives the same audit log"),
        until: str | None = typer.Option(None, "--until", help="stop at the end of this day (YYYY-MM-DD)"),
        store: str = typer.Option("memory", "--store", help="memory, or a database URL such as sqlite:///sim.db"),
        out: Path | None = typer.Option(
            None,
            "--out",
            help="folder for the report, charts and JSON [default: simulation-output, or comparison-output with "
            "--compare, or ensemble-output with --seeds]",
            show_default=False,
        ),
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
            help="start the --store afresh: delete a SQLite file; on PostgreSQL drop hazardflow's tables "
            "(asks first; see --yes)",
        ),
        yes: bool = typer.Option(False, "--yes", "-y", help="confirm --replace without asking (for scripts)"),
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
                out=out if out is not None else Path("ensemble-output"),
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
        if out is None:
            out = Path("comparison-output" if compare_with is not None else "simulation-output")

        def tracker(name: str) -> Any:
            task = bar.add_task(_short(name), total=1.0, day="", cases=0)

            def update(p: Any) -> None:
                bar.update(
                    task,
                    completed=p.fraction,
                    day=p.day.isoformat(),
                    cases=p.cases,
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
                _fresh_store(url, replace=replace, yes=yes)
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
                board = _board(sim.engine, sc, out)
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
                if board is not None:
                    console.print(f"board (挂图作战) written to {board}")
        except HazardflowError as exc:
            console.print(f"[red]{exc.code}: {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
