"""``hazardflow report|ledger|cases``: periodic reports, the 台账, and looking at the register (案件查询).

    hazardflow report monthly --url sqlite:///h.db --jurisdiction 140581102 --period 2025-06
    hazardflow ledger export --url sqlite:///h.db --jurisdiction 140581102 -o 台账.xlsx
    hazardflow ledger import 台账.xlsx --url sqlite:///h.db --actor-id u1 --role township_officer ... [--dry-run]
    hazardflow cases list --url sqlite:///h.db --jurisdiction 140581102 --overdue
    hazardflow cases show HZ-2025-000001 --url sqlite:///h.db
    hazardflow cases history HZ-2025-000001 --url sqlite:///h.db

Exit status 0 on success, 1 when an import found bad rows, 2 when an argument or the database is refused.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer

from .db import URL_ENV

_URL_HELP = f"Database URL (sqlite:///file.db or postgresql+psycopg://...); defaults to ${URL_ENV}."


class Lang(enum.StrEnum):
    zh = "zh"
    en = "en"


class Order(enum.StrEnum):
    opened = "opened"
    newest = "-opened"
    deadline = "deadline"


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)


@contextmanager
def _engine(url: str, *, create: bool = False) -> Iterator[Any]:
    """An engine on the database at ``url`` with every installed policy (refusals exit 2)."""
    from .._engine import Engine
    from .._exceptions import HazardflowError
    from ..persistence.sql import SqlStore
    from ..policies.registry import PolicyRegistry

    try:
        store = SqlStore(url, create=create)
    except HazardflowError as exc:
        raise _fail(exc) from None
    try:
        yield Engine(store=store, policies=PolicyRegistry.installed())
    except HazardflowError as exc:
        raise _fail(exc) from None
    finally:
        store.close()


def _names(engine: Any) -> dict[str, str]:
    names = {p.jurisdiction: p.name for p in engine.policies}
    tree = getattr(engine, "jurisdictions", None)
    if tree is not None:
        names.update({j.code: j.name for j in tree})
    return names


def _actor(actor_id: str | None, name: str | None, role: str | None, org: str | None, where: str | None) -> Any:
    from .._model import Actor

    missing = [
        opt
        for opt, v in (("--actor-id", actor_id), ("--role", role), ("--org", org), ("--actor-jurisdiction", where))
        if not v
    ]
    if missing:
        typer.echo(f"error: this command acts in someone's name; give {', '.join(missing)}", err=True)
        raise typer.Exit(2)
    return Actor(str(actor_id), name or str(actor_id), {str(role)}, str(org), str(where))


def register(app: typer.Typer) -> None:
    _register_report(app)
    _register_ledger(app)
    _register_cases(app)


# ── report ───────────────────────────────────────────────────────────────────────────────────────
def _register_report(app: typer.Typer) -> None:
    report = typer.Typer(help="Periodic reports (月报、季报、年报) as Markdown and Excel.", no_args_is_help=True)
    app.add_typer(report, name="report")

    def run(
        kind: str,
        url: str,
        jurisdiction: str,
        period: str,
        lang: Lang,
        out: Path,
        stock_before: str | None,
        file: bool,
        obligation: str | None,
        party: str | None,
        actor: tuple[str | None, ...],
        document_no: str | None,
    ) -> None:
        from .._exceptions import HazardflowError
        from ..reports._periodic import build_report, file_report, render_markdown, write_excel

        with _engine(url) as engine:
            try:
                cut = date.fromisoformat(stock_before) if stock_before else None
            except ValueError:
                raise _fail(ValueError(f"--stock-before {stock_before!r} is not a date (YYYY-MM-DD)")) from None
            try:
                r = build_report(engine, kind, period, jurisdiction, stock_before=cut, names=_names(engine))
            except HazardflowError as exc:
                raise _fail(exc) from None
            out.mkdir(parents=True, exist_ok=True)
            stem = out / f"{r.jurisdiction}-{kind}-{r.label}{'' if lang == 'zh' else '-en'}"
            md = stem.with_suffix(".md")
            md.write_text(render_markdown(r, lang.value), encoding="utf-8")
            write_excel(r, stem.with_suffix(".xlsx"), lang.value)
            typer.echo(f"{md}\n{stem.with_suffix('.xlsx')}")
            f = r.total
            typer.echo(
                f"新登记 registered {f.registered} · 销号 closed {f.closed} · 期末未销号 open {f.open} · "
                f"其中重大 majors {f.open_majors} · 逾期 overdue {f.overdue_open}"
            )
            if file:
                if not obligation or not party:
                    typer.echo("error: --file needs --obligation and --party", err=True)
                    raise typer.Exit(2)
                who = _actor(*actor)
                try:
                    case = file_report(
                        engine, r, obligation=obligation, party_id=party, actor=who, document_no=document_no
                    )
                except HazardflowError as exc:
                    raise _fail(exc) from None
                on_time = "按期" if case.fields.get("on_time") else "逾期"
                typer.echo(f"报送任务 {case.id} 已办结（{on_time}）/ obligation {case.id} fulfilled")

    def make(kind: str, cmd: str, zh: str) -> None:
        def command(
            url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
            jurisdiction: str = typer.Option(..., "--jurisdiction", help="Division code (its subtree is included)."),
            period: str = typer.Option(..., "--period", help="2025-06 (month), 2025-Q2 (quarter) or 2025 (year)."),
            lang: Lang = typer.Option(Lang.zh, "--lang", help="zh (default) or en."),
            out: Path = typer.Option(Path("."), "--out", "-o", help="Directory to write the .md and .xlsx into."),
            stock_before: str | None = typer.Option(
                None, "--stock-before", help="存量 cutoff (default: period start)."
            ),
            file: bool = typer.Option(False, "--file", help="Also complete the matching reporting obligation."),
            obligation: str | None = typer.Option(None, "--obligation", help="Obligation id (with --file)."),
            party: str | None = typer.Option(None, "--party", help="The party that owes it (with --file)."),
            actor_id: str | None = typer.Option(None, "--actor-id", help="Who files (with --file)."),
            actor_name: str | None = typer.Option(None, "--actor-name"),
            role: str | None = typer.Option(None, "--role"),
            org: str | None = typer.Option(None, "--org"),
            actor_jurisdiction: str | None = typer.Option(None, "--actor-jurisdiction"),
            document_no: str | None = typer.Option(None, "--document-no"),
        ) -> None:
            run(
                kind,
                url,
                jurisdiction,
                period,
                lang,
                out,
                stock_before,
                file,
                obligation,
                party,
                (actor_id, actor_name, role, org, actor_jurisdiction),
                document_no,
            )

        command.__doc__ = f"Write the {cmd} report ({zh}) of a jurisdiction as Markdown and Excel."
        report.command(cmd)(command)

    for kind, cmd, zh in (("month", "monthly", "月报"), ("quarter", "quarterly", "季报"), ("year", "annual", "年报")):
        make(kind, cmd, zh)


# ── ledger ───────────────────────────────────────────────────────────────────────────────────────
def _register_ledger(app: typer.Typer) -> None:
    ledger = typer.Typer(help="The 台账 (hazard ledger): export to Excel/CSV, import.", no_args_is_help=True)
    app.add_typer(ledger, name="ledger")

    @ledger.command("export")
    def export(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        jurisdiction: str | None = typer.Option(None, "--jurisdiction", help="Division code (with its subtree)."),
        as_of: str | None = typer.Option(None, "--as-of", help="The ledger as it stood at 00:00 of this date."),
        state: list[str] = typer.Option([], "--state", help="Only hazards in this state (repeatable)."),
        output: Path = typer.Option(..., "--output", "-o", help="台账.xlsx or 台账.csv"),
    ) -> None:
        """Write one row per hazard (streamed: any number of rows in flat memory)."""
        from datetime import UTC, datetime, time

        from .._calendar import SHANGHAI
        from .._exceptions import HazardflowError
        from ..reports import CaseFilter
        from ..reports._ledger import export_ledger

        try:
            at = datetime.combine(date.fromisoformat(as_of), time(0, 0), SHANGHAI).astimezone(UTC) if as_of else None
        except ValueError:
            raise _fail(ValueError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)")) from None
        with _engine(url) as engine:
            try:
                n = export_ledger(engine, output, scope=CaseFilter(jurisdiction=jurisdiction), as_of=at, states=state)
            except HazardflowError as exc:
                raise _fail(exc) from None
        typer.echo(f"{output}: {n} 行 rows")

    @ledger.command("import")
    def import_(
        path: Path = typer.Argument(..., help="The ledger workbook (.xlsx) to import."),
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        dry_run: bool = typer.Option(False, "--dry-run", help="Check every row; write nothing."),
        per_row: bool = typer.Option(False, "--per-row", help="Import the good rows even when some are bad."),
        actor_id: str | None = typer.Option(None, "--actor-id", help="Who imports (recorded on every case)."),
        actor_name: str | None = typer.Option(None, "--actor-name"),
        role: str | None = typer.Option(None, "--role"),
        org: str | None = typer.Option(None, "--org"),
        actor_jurisdiction: str | None = typer.Option(None, "--actor-jurisdiction"),
        max_rows: int = typer.Option(200_000, "--max-rows", help="Refuse a workbook with more data rows."),
    ) -> None:
        """Register the hazards of an existing ledger (re-importing the same rows adds nothing)."""
        from .._exceptions import HazardflowError
        from ..reports._import import import_ledger

        who = _actor(actor_id, actor_name, role, org, actor_jurisdiction)
        with _engine(url, create=True) as engine:
            try:
                result = import_ledger(
                    engine, path, actor=who, dry_run=dry_run, all_or_nothing=not per_row, max_rows=max_rows
                )
            except HazardflowError as exc:
                raise _fail(exc) from None
        for p in result.problems:
            typer.echo(f"第 {p.row} 行 row {p.row} · {p.column}: {p.rule}")
        verb = "可导入 would import" if dry_run else "已导入 imported"
        typer.echo(
            f"{verb} {result.imported} · 已存在 already present {result.duplicates} · 有误 bad rows {result.bad_rows}"
        )
        if result.bad_rows:
            raise typer.Exit(1)


# ── cases ────────────────────────────────────────────────────────────────────────────────────────
_FIELDS_ZH = {
    "id": "编号",
    "workflow": "流程",
    "state": "状态",
    "jurisdiction": "属地",
    "owning_jurisdiction": "监管层级",
    "grade": "等级",
    "industry": "行业",
    "source": "来源",
    "department": "部门",
    "business_unit": "单位",
    "opened_at": "立案时间",
    "closed_at": "办结时间",
    "deadline": "阶段期限",
    "overdue": "逾期",
    "sanction_rung": "督办层级",
    "listed": "挂牌",
}


def _case_json(case: Any) -> dict[str, Any]:
    from .._model import thaw

    return {
        "id": case.id,
        "workflow": case.workflow,
        "state": case.state,
        "jurisdiction": case.jurisdiction,
        "owning_jurisdiction": case.owning_jurisdiction,
        "policy": f"{case.policy_id}@{case.policy_version}",
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "deadline": case.deadline.due_at.isoformat() if case.deadline else None,
        "deadline_key": case.deadline.key if case.deadline else None,
        "overdue": case.overdue,
        "sanction_rung": case.sanction_rung,
        "fields": thaw(case.fields),
    }


def _label(kind: str, value: Any) -> str:
    from .._glossary import has_label, zh

    if value is None or value == "":
        return "—"
    text = str(value)
    return f"{zh(kind, text)} {text}" if has_label(kind, text) else text


def _register_cases(app: typer.Typer) -> None:
    cases = typer.Typer(help="Look at the register: list, show and trace cases (案件查询).", no_args_is_help=True)
    app.add_typer(cases, name="cases")

    @cases.command("list")
    def list_(
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        jurisdiction: str | None = typer.Option(None, "--jurisdiction", help="Division code (with its subtree)."),
        workflow: list[str] = typer.Option([], "--workflow", help="hazard, tipoff, escalation, report_obligation."),
        state: list[str] = typer.Option([], "--state"),
        grade: list[str] = typer.Option([], "--grade"),
        industry: list[str] = typer.Option([], "--industry"),
        department: list[str] = typer.Option([], "--department"),
        source: list[str] = typer.Option([], "--source"),
        open_: bool | None = typer.Option(None, "--open/--closed", help="Only open / only closed cases."),
        overdue: bool | None = typer.Option(None, "--overdue/--not-overdue"),
        listed: bool | None = typer.Option(None, "--listed/--not-listed"),
        opened_from: str | None = typer.Option(None, "--opened-from", help="YYYY-MM-DD"),
        opened_until: str | None = typer.Option(None, "--opened-until", help="YYYY-MM-DD (exclusive)"),
        order: Order = typer.Option(Order.opened, "--order"),
        limit: int = typer.Option(50, "--limit"),
        cursor: str | None = typer.Option(None, "--cursor", help="The next-page cursor a previous list printed."),
        as_json: bool = typer.Option(False, "--json", help="One JSON object: items and next_cursor."),
    ) -> None:
        """List the cases a filter selects, a page at a time (the reporter is never shown)."""
        from .._calendar import local_date
        from .._exceptions import HazardflowError
        from ..reports import CaseFilter, count_cases, find_cases

        with _engine(url) as engine:
            try:
                flt = CaseFilter(
                    workflow=workflow,
                    jurisdiction=jurisdiction,
                    state=state,
                    grade=grade,
                    industry=industry,
                    department=department,
                    source=source,
                    open=open_,
                    overdue=overdue,
                    listed=listed,
                    opened_from=opened_from,
                    opened_until=opened_until,
                )
                page = find_cases(engine, flt, cursor=cursor, limit=limit, order=order.value)
                total = count_cases(engine, flt)
            except HazardflowError as exc:
                raise _fail(exc) from None
        if as_json:
            body = {"total": total, "items": [_case_json(c) for c in page.items], "next_cursor": page.next_cursor}
            typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
            return
        typer.echo(f"共 {total} 件 / {total} cases")
        typer.echo("编号 id | 状态 state | 等级 grade | 属地 place | 期限 deadline | 逾期 overdue")
        for c in page.items:
            due = local_date(c.deadline.due_at - timedelta(microseconds=1)).isoformat() if c.deadline else "—"
            typer.echo(
                f"{c.id} | {_label('state', c.state)} | {_label('grade', c.fields.get('grade'))} | "
                f"{c.jurisdiction} | {due} | {'是 yes' if c.overdue else '否 no'}"
            )
        if page.next_cursor:
            typer.echo(f"下一页 next page: --cursor {page.next_cursor}")

    @cases.command("show")
    def show(
        case_id: str = typer.Argument(..., help="The case id."),
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        as_json: bool = typer.Option(False, "--json"),
        reveal_reporter: bool = typer.Option(
            False, "--reveal-reporter", help="Also read a tip-off's reporter (audited; the role must allow it)."
        ),
        purpose: str | None = typer.Option(None, "--purpose", help="Why the reporter is read (recorded)."),
        actor_id: str | None = typer.Option(None, "--actor-id"),
        actor_name: str | None = typer.Option(None, "--actor-name"),
        role: str | None = typer.Option(None, "--role"),
        org: str | None = typer.Option(None, "--org"),
        actor_jurisdiction: str | None = typer.Option(None, "--actor-jurisdiction"),
    ) -> None:
        """Show one case with bilingual labels (the reporter only through --reveal-reporter)."""
        from .._exceptions import HazardflowError

        with _engine(url) as engine:
            case = engine.store.load_case(case_id)
            if case is None:
                typer.echo(f"error: no case with id {case_id!r} (案件不存在)", err=True)
                raise typer.Exit(2)
            reporter = None
            if reveal_reporter:
                if not purpose:
                    typer.echo("error: --reveal-reporter needs --purpose (it is recorded)", err=True)
                    raise typer.Exit(2)
                who = _actor(actor_id, actor_name, role, org, actor_jurisdiction)
                try:
                    reporter = engine.reporter(case_id, who, purpose=purpose)
                except HazardflowError as exc:
                    raise _fail(exc) from None
        data = _case_json(case)
        if reporter is not None:
            data["reporter"] = dict(reporter)
        if as_json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
            return
        top = (
            ("id", case.id),
            ("workflow", _label("workflow", case.workflow)),
            ("state", _label("state", case.state)),
            ("jurisdiction", case.jurisdiction),
            ("owning_jurisdiction", case.owning_jurisdiction),
            ("opened_at", data["opened_at"]),
            ("closed_at", data["closed_at"] or "—"),
            ("deadline", f"{data['deadline'] or '—'} ({_label('deadline', data['deadline_key'])})"),
            ("overdue", "是 yes" if case.overdue else "否 no"),
            ("sanction_rung", str(case.sanction_rung)),
        )
        for key, value in top:
            typer.echo(f"{_FIELDS_ZH[key]} {key}: {value}")
        typer.echo("事实 fields:")
        for key, value in sorted(data["fields"].items()):
            kind = key if key in ("grade", "industry", "source", "department", "nature", "stop") else ""
            shown = _label(kind, value) if kind and isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            typer.echo(f"  {key}: {shown}")
        if reporter is not None:
            typer.echo("举报人 reporter (已记录查阅 / this reading is recorded):")
            for key, value in sorted(reporter.items()):
                typer.echo(f"  {key}: {value}")

    @cases.command("history")
    def history(
        case_id: str = typer.Argument(..., help="The case id."),
        url: str = typer.Option(..., "--url", envvar=URL_ENV, help=_URL_HELP),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """The case's audit events: who did what, when, from which state to which."""
        with _engine(url) as engine:
            if engine.store.load_case(case_id) is None:
                typer.echo(f"error: no case with id {case_id!r} (案件不存在)", err=True)
                raise typer.Exit(2)
            events = engine.store.load_events(case_id)
        if as_json:
            typer.echo(json.dumps([e.to_dict() for e in events], ensure_ascii=False, indent=2, default=str))
            return
        typer.echo("序号 seq | 时间 time | 操作 trigger | 状态 from → to | 操作人 actor (角色 role)")
        for e in events:
            typer.echo(
                f"{e.seq} | {e.occurred_at.isoformat()} | {_label('trigger', e.trigger)} | "
                f"{_label('state', e.from_state) if e.from_state else '—'} → {_label('state', e.to_state)} | "
                f"{e.actor_name} ({_label('role', e.actor_role)})" + (f" · {e.reason}" if e.reason else "")
            )
