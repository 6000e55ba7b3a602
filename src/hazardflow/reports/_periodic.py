"""Periodic reports (月报、季报、年报): the figures of one jurisdiction for one period, as Markdown and Excel.

The cadence and the filing date come from the policy's reporting obligations (``reporting_obligations()``:
monthly by the 29th, quarterly by the 15th, the annual summary ...); the figures come from
:func:`~hazardflow.reports.figures` (one definition, shared with the simulation). Filing a report can
complete the matching obligation case with the audited ``fulfil`` command (:func:`file_report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any, Literal

import attrs

from .._calendar import SHANGHAI, local_date, resolve
from .._exceptions import InvalidInput
from .._glossary import en as en_label
from .._glossary import zh as zh_label
from .._jurisdiction import canonical
from .._model import Actor, Case
from ._figures import Figures, figures, figures_by
from ._query import CaseFilter, find_cases, store_of

__all__ = ["KINDS", "PeriodicReport", "build_report", "file_report", "period_bounds", "render_markdown", "write_excel"]

Kind = Literal["month", "quarter", "year"]
KINDS: tuple[str, ...] = ("month", "quarter", "year")
_NAMES = {
    "month": ("月报", "monthly report"),
    "quarter": ("季报", "quarterly report"),
    "year": ("年报", "annual report"),
}
_TICK = timedelta(microseconds=1)

#: The figures a periodic report shows, in order (ids of the glossary's ``figure`` rows).
REPORT_FIGURES = (
    "registered",
    "closed",
    "closed_on_time",
    "on_time_rate",
    "voided",
    "open",
    "open_majors",
    "open_majors_stock",
    "open_majors_new",
    "overdue_open",
    "overdue_open_majors",
    "listed_open",
    "open_under_sanction",
    "tipoffs_received",
    "tipoffs_substantiated",
    "escalations_proposed",
    "escalations_accepted",
    "escalations_in_pool",
    "reports_filed",
    "reports_filed_late",
    "reports_overdue",
)


def period_bounds(kind: str, label: str) -> tuple[date, date]:
    """``(first day, first day of the next period)`` of ``label`` (``2025-06``, ``2025-Q2``, ``2025``)."""
    from ..workflows.obligation import _next, period_start

    if kind not in KINDS:
        raise InvalidInput("kind", kind, "a periodic report is monthly, quarterly or annual", KINDS)
    first = period_start(kind, label)  # type: ignore[arg-type]
    return first, _next(kind, first)  # type: ignore[arg-type]


@attrs.frozen
class Obligation:
    """A reporting obligation of the policy for this kind of period, with its filing date for the period."""

    id: str
    name_zh: str
    name_en: str
    party: str
    due: date | None
    source: str


@attrs.frozen
class PeriodicReport:
    """The figures of ``jurisdiction`` for one period, by division, industry and grade, with case lists."""

    kind: str
    label: str
    jurisdiction: str
    name: str
    start: date
    end: date  # exclusive
    stock_before: date
    total: Figures
    by_division: Mapping[str | None, Figures]
    by_industry: Mapping[str | None, Figures]
    by_grade: Mapping[str | None, Figures]
    overdue: tuple[Case, ...]
    listed: tuple[Case, ...]
    obligations: tuple[Obligation, ...]
    names: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), SHANGHAI).astimezone(UTC)


def _at_end(store: Any, flt: CaseFilter, end: datetime, limit: int) -> list[Case]:
    """Hazards of ``flt`` as they stood at ``end`` (open at ``end`` only), read a page at a time."""
    from ._ledger import _at

    out: list[Case] = []
    seen: set[str] = set()
    for part in (CaseFilter(open=True), CaseFilter(closed_from=end)):
        cursor = None
        while True:
            merged = attrs.evolve(flt, open=part.open, closed_from=part.closed_from)
            page = find_cases(store, merged, cursor=cursor, limit=1000)
            for raw in page.items:
                if raw.id in seen:
                    continue
                seen.add(raw.id)
                case = _at(raw, store, end)
                if case is not None and case.closed_at is None:
                    out.append(case)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    out.sort(key=lambda c: (c.deadline.due_at if c.deadline else end, c.id))
    return out[:limit]


def build_report(
    store_or_engine: Any,
    kind: str,
    label: str,
    jurisdiction: str,
    *,
    policy: Any = None,
    stock_before: date | None = None,
    names: Mapping[str, str] | None = None,
    list_limit: int = 500,
) -> PeriodicReport:
    """The report of ``jurisdiction`` (with its subtree) for the period ``label`` of ``kind``.

    ``policy`` (default: the engine's policy for the jurisdiction) supplies the reporting obligations and
    their filing dates; ``stock_before`` is the 存量 cutoff (default: the period's first day).
    """
    code = canonical(jurisdiction)
    start, end = period_bounds(kind, label)
    store = store_of(store_or_engine)
    if policy is None and hasattr(store_or_engine, "policies"):
        policy = store_or_engine.policies.resolve(code, _instant(start))
    cut = stock_before or start
    scope = CaseFilter(jurisdiction=code)
    t0, t1 = _instant(start), _instant(end)
    common: dict[str, Any] = {"start": t0, "end": t1, "scope": scope, "stock_before": _instant(cut)}
    total = figures(store, **common)
    by_division = figures_by(store, "jurisdiction", **common)
    by_industry = figures_by(store, "industry", **common)
    by_grade = figures_by(store, "grade", **common)
    hazards = CaseFilter(workflow="hazard", jurisdiction=code, opened_until=t1)
    open_at_end = _at_end(store, hazards, t1, max(list_limit, 1) * 4)
    overdue = tuple(c for c in open_at_end if c.overdue)[:list_limit]
    listed = tuple(c for c in open_at_end if c.listed)[:list_limit]
    obligations: list[Obligation] = []
    if policy is not None:
        for ob in policy.reporting_obligations():
            if ob.period != kind:
                continue
            try:
                due_at = resolve(ob.due, t0, policy.calendar, lenient=True).due_at
                due: date | None = local_date(due_at - _TICK)
            except Exception:  # a rule the calendar cannot place: shown without a date
                due = None
            obligations.append(Obligation(ob.id, ob.name_zh, ob.name_en, ob.party, due, ob.source))
    name = (names or {}).get(code) or (getattr(policy, "name", "") if policy is not None else "") or code
    if policy is not None and getattr(policy, "jurisdiction", None) != code:
        name = (names or {}).get(code) or code
    return PeriodicReport(
        kind,
        label,
        code,
        name,
        start,
        end,
        cut,
        total,
        by_division,
        by_industry,
        by_grade,
        overdue,
        listed,
        tuple(obligations),
        dict(names or {}),
    )


# ── rendering ────────────────────────────────────────────────────────────────────────────────────
def _value(f: Figures, fid: str) -> str:
    v = getattr(f, fid)
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.1%}" if fid.endswith("rate") else f"{v:.1f}"
    return str(v)


def _label(fid: str, lang: str) -> str:
    if fid == "on_time_rate":
        return zh_label("figure", fid) if lang == "zh" else en_label("figure", fid)
    return zh_label("figure", fid) if lang == "zh" else en_label("figure", fid)


def _code_label(kind: str, value: str | None, lang: str) -> str:
    if value is None:
        return "（未填）" if lang == "zh" else "(none)"
    return zh_label(kind, value) if lang == "zh" else en_label(kind, value)


_T = {
    "zh": {
        "figures": "一、主要指标",
        "figure": "指标",
        "value": "数值",
        "by_division": "二、分区划",
        "by_industry": "三、分行业领域",
        "by_grade": "四、分等级",
        "overdue": "五、逾期未销号隐患清单（期末）",
        "listed": "六、挂牌督办隐患（期末）",
        "obligations": "七、报送任务与期限",
        "division": "区划",
        "industry": "行业领域",
        "grade": "隐患等级",
        "id": "隐患编号",
        "unit": "生产经营单位",
        "state": "当前状态",
        "deadline": "阶段期限",
        "rung": "督办层级",
        "level": "挂牌级别",
        "doc": "督办文号",
        "obligation": "报送任务",
        "party": "报送主体",
        "due": "报送期限",
        "none": "无",
        "period": "统计期间",
        "as_of": "期末时点",
        "stock": "存量截止日（此日前发现为存量）",
        "defs": "指标口径见术语表“统计指标”；分区划、分行业、分等级各行之和等于合计（未填的归入“未填”）。",
    },
    "en": {
        "figures": "1. Main figures",
        "figure": "figure",
        "value": "value",
        "by_division": "2. By division",
        "by_industry": "3. By industry",
        "by_grade": "4. By grade",
        "overdue": "5. Overdue open hazards (end of period)",
        "listed": "6. Listed hazards (end of period)",
        "obligations": "7. Reporting obligations and filing dates",
        "division": "division",
        "industry": "industry",
        "grade": "grade",
        "id": "hazard id",
        "unit": "business unit",
        "state": "state",
        "deadline": "stage deadline",
        "rung": "ladder rung",
        "level": "listing level",
        "doc": "document no.",
        "obligation": "obligation",
        "party": "party",
        "due": "file by",
        "none": "none",
        "period": "period",
        "as_of": "levels as of",
        "stock": "stock cutoff (found before it = stock)",
        "defs": (
            "Each figure is defined in the glossary (Report figures); the rows of each breakdown add up to the total."
        ),
    },
}

_BREAKDOWN = ("registered", "closed", "on_time_rate", "open", "open_majors", "overdue_open", "listed_open")


def _title(r: PeriodicReport, lang: str) -> str:
    zh_name, en_name = _NAMES[r.kind]
    if lang == "zh":
        return f"{r.name}安全生产事故隐患排查治理{zh_name}（{r.label}）"
    return f"{r.name}: work-safety hazard {en_name} ({r.label})"


def _division_name(r: PeriodicReport, code: str | None, lang: str) -> str:
    if code is None:
        return "—"
    name = r.names.get(code)
    return f"{name}（{code}）" if name and lang == "zh" else (f"{name} ({code})" if name else code)


def render_markdown(r: PeriodicReport, lang: str = "zh") -> str:
    """The report as Markdown, in Chinese (``zh``) or English (``en``)."""
    if lang not in ("zh", "en"):
        raise InvalidInput("lang", lang, "reports are written in Chinese or English", ("zh", "en"))
    t = _T[lang]
    out = [f"# {_title(r, lang)}", ""]
    out.append(f"- {t['period']}: {r.start.isoformat()} — {r.last_day.isoformat()}")
    out.append(f"- {t['as_of']}: {r.end.isoformat()} 00:00 (UTC+8)")
    out.append(f"- {t['stock']}: {r.stock_before.isoformat()}")
    out += ["", f"## {t['figures']}", "", f"| {t['figure']} | {t['value']} |", "|---|---:|"]
    out += [f"| {_label(fid, lang)} | {_value(r.total, fid)} |" for fid in REPORT_FIGURES]
    days = (r.total.mean_days_to_close, r.total.median_days_to_close, r.total.p90_days_to_close)
    shown = " / ".join("—" if d is None else f"{d:.1f}" for d in days)
    out.append(
        f"| {_label('close_days', lang)}（{'平均/中位/90%' if lang == 'zh' else 'mean/median/p90'}） | {shown} |"
    )
    out += ["", t["defs"], ""]
    for key, kind, rows in (
        ("by_division", "division", r.by_division),
        ("by_industry", "industry", r.by_industry),
        ("by_grade", "grade", r.by_grade),
    ):
        out += [f"## {t[key]}", ""]
        if not rows:
            out += [t["none"], ""]
            continue
        out.append(f"| {t[kind]} | " + " | ".join(_label(f, lang) for f in _BREAKDOWN) + " |")
        out.append("|---|" + "---:|" * len(_BREAKDOWN))
        for k, f in rows.items():
            name = _division_name(r, k, lang) if kind == "division" else _code_label(kind, k, lang)
            out.append(f"| {name} | " + " | ".join(_value(f, x) for x in _BREAKDOWN) + " |")
        out.append("")
    out += [f"## {t['overdue']}", ""]
    out += _case_table(r.overdue, lang, ("id", "unit", "grade", "state", "deadline", "rung"))
    out += [f"## {t['listed']}", ""]
    out += _case_table(r.listed, lang, ("id", "unit", "level", "doc", "state", "deadline"))
    out += [f"## {t['obligations']}", ""]
    if r.obligations:
        out += [f"| {t['obligation']} | {t['party']} | {t['due']} |", "|---|---|---|"]
        for ob in r.obligations:
            name = ob.name_zh if lang == "zh" else ob.name_en
            party = _code_label("party", ob.party, lang)
            out.append(f"| {name} | {party} | {ob.due.isoformat() if ob.due else '—'} |")
    else:
        out.append(t["none"])
    return "\n".join(out) + "\n"


def _case_cells(c: Case, lang: str, cols: Sequence[str]) -> list[str]:
    listing = c.fields.get("listing") or {}
    due = local_date(c.deadline.due_at - _TICK).isoformat() if c.deadline else "—"
    values = {
        "id": c.id,
        "unit": str(c.fields.get("business_unit") or "—"),
        "grade": _code_label("grade", c.fields.get("grade"), lang),
        "state": _code_label("state", c.state, lang),
        "deadline": due,
        "rung": str(c.sanction_rung or "—"),
        "level": _code_label("level", listing.get("level"), lang),
        "doc": str(listing.get("document_no") or "—"),
    }
    return [values[k] for k in cols]


def _case_table(cases: Sequence[Case], lang: str, cols: Sequence[str]) -> list[str]:
    t = _T[lang]
    if not cases:
        return [t["none"], ""]
    out = ["| " + " | ".join(t[k] for k in cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_case_cells(c, lang, cols)) + " |" for c in cases]
    return [*out, ""]


def write_excel(r: PeriodicReport, path: str | Path | IO[bytes], lang: str = "zh") -> None:
    """The report as an Excel workbook: one sheet of figures, one per breakdown, the case lists."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    if lang not in ("zh", "en"):
        raise InvalidInput("lang", lang, "reports are written in Chinese or English", ("zh", "en"))
    t = _T[lang]
    wb = Workbook()
    first = wb.active
    if first is not None:
        wb.remove(first)
    ws = wb.create_sheet("汇总" if lang == "zh" else "figures")
    ws.append([_title(r, lang)])
    ws.merge_cells("A1:C1")
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([t["period"], r.start, r.last_day])
    ws.append([t["stock"], r.stock_before])
    ws.append([t["figure"], t["value"], "口径" if lang == "zh" else "definition"])
    from .._glossary import terms

    defs = {term.id: term.definition for term in terms("figure")}
    for fid in REPORT_FIGURES:
        v = getattr(r.total, fid)
        ws.append([_label(fid, lang), v, defs.get(fid, "")])
        if fid.endswith("rate") and v is not None:
            ws.cell(ws.max_row, 2).number_format = "0.0%"
    for row in ws.iter_rows(min_row=2, max_row=3):
        for cell in row[1:]:
            cell.number_format = "yyyy-mm-dd"
    for cell in ws[4]:
        cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 80
    ws.freeze_panes = "A5"
    for key, kind, rows in (
        ("by_division", "division", r.by_division),
        ("by_industry", "industry", r.by_industry),
        ("by_grade", "grade", r.by_grade),
    ):
        sheet = wb.create_sheet(t[key].split("、")[-1].split(". ")[-1][:31])
        sheet.append([t[kind], *(_label(f, lang) for f in _BREAKDOWN)])
        for k, f in rows.items():
            name = _division_name(r, k, lang) if kind == "division" else _code_label(kind, k, lang)
            sheet.append([name, *(getattr(f, x) for x in _BREAKDOWN)])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True)
        sheet.column_dimensions["A"].width = 28
        sheet.freeze_panes = "B2"
    for key, cols, cases in (
        ("overdue", ("id", "unit", "grade", "state", "deadline", "rung"), r.overdue),
        ("listed", ("id", "unit", "level", "doc", "state", "deadline"), r.listed),
    ):
        sheet = wb.create_sheet(t[key].split("、")[-1].split(". ")[-1].split("（")[0].split(" (")[0][:31])
        sheet.append([t[k] for k in cols])
        for c in cases:
            sheet.append([_escape(v) for v in _case_cells(c, lang, cols)])
        sheet.column_dimensions["A"].width = 20
        sheet.column_dimensions["B"].width = 24
        sheet.freeze_panes = "A2"
    wb.save(path)


def _escape(value: str) -> str:
    from ._ledger import escape_text

    return escape_text(value)


def file_report(
    engine: Any, r: PeriodicReport, *, obligation: str, party_id: str, actor: Actor, document_no: str | None = None
) -> Case:
    """Complete the obligation case that this report fulfils (the audited ``fulfil`` command).

    The case is the one of ``obligation`` owed by ``party_id`` for the report's period; it must be open
    (``due``). Refused with :class:`~hazardflow.InvalidInput` when there is none.
    """
    flt = CaseFilter(workflow="report_obligation", jurisdiction=r.jurisdiction, state="due")
    cursor = None
    while True:
        page = find_cases(engine, flt, cursor=cursor, limit=1000)
        for c in page.items:
            f = c.fields
            if f.get("obligation") == obligation and f.get("period") == r.label and f.get("party_id") == party_id:
                payload: dict[str, Any] = {"summary": f"{_title(r, 'zh')}"}
                if document_no:
                    payload["document_no"] = document_no
                return engine.fire(c.id, "fulfil", actor=actor, payload=payload)  # type: ignore[no-any-return]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    raise InvalidInput(
        "obligation",
        obligation,
        f"no open reporting obligation {obligation!r} of {party_id!r} for {r.label} in {r.jurisdiction}",
        hint="open the period's obligations first (Engine.open_obligations), or check the party id",
    )
