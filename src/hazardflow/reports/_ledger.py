"""The 台账 (hazard ledger): one row per hazard, as Excel (streamed) or CSV.

The columns are data (:data:`COLUMNS`): an id, the group and 中文 label of the two-row header, an English
label, the kind of value and how it is read from a case. Export and import use the same table. Coded
values (grade, source, industry, ...) are written as their 中文 labels from the glossary, with a drop-down
list of the allowed labels on the column; dates are real Excel dates. Text that begins with ``=``, ``+``,
``-``, ``@`` (or a tab / carriage return) is written with a leading apostrophe so that no spreadsheet runs it
as a formula (formula injection). The reporter of a tip-off is never in the ledger: it is not in the case
fields at all (the confidential store keeps it), and no column reads the confidential store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import attrs

from .._calendar import local_date
from .._clock import SystemClock
from .._exceptions import InvalidInput
from .._glossary import terms, zh
from .._jurisdiction import canonical, level_of
from .._model import Case
from ._query import CaseFilter, scan_cases, store_of

__all__ = ["COLUMNS", "LedgerColumn", "escape_text", "export_ledger", "ledger_rows"]

#: A deadline is 24:00 of its last day: one microsecond earlier is that day.
_TICK = timedelta(microseconds=1)
#: Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_text(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unescape_text(value: str) -> str:
    """Inverse of :func:`escape_text` (used by the import)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


@attrs.frozen
class LedgerColumn:
    """One column of the ledger: header group and label (中文), English label, kind, reader, code table."""

    id: str
    group: str
    zh: str
    en: str
    kind: str  # text, date, number, int, code, bool
    read: Callable[[Case, datetime], Any]
    #: glossary kind whose labels a ``code`` column shows (and offers as a drop-down list)
    codes: str = ""
    width: int = 12


def _f(name: str) -> Callable[[Case, datetime], Any]:
    return lambda c, _t: c.fields.get(name)


def _sub(name: str, key: str) -> Callable[[Case, datetime], Any]:
    def read(c: Case, _t: datetime) -> Any:
        v = c.fields.get(name)
        return v.get(key) if isinstance(v, Mapping) else None

    return read


def _day(text: Any) -> date | None:
    if isinstance(text, datetime):
        return local_date(text)
    if isinstance(text, date):
        return text
    if isinstance(text, str) and text:
        try:
            return date.fromisoformat(text) if len(text) == 10 else local_date(datetime.fromisoformat(text))
        except ValueError:
            return None
    return None


def _division(digits: int) -> Callable[[Case, datetime], Any]:
    def read(c: Case, _t: datetime) -> Any:
        code = canonical(c.jurisdiction)
        if len(code) < digits:
            return None
        part = code[:digits]
        return part if digits != 12 or level_of(code) == "village" else None

    return read


def _found(c: Case, _t: datetime) -> date | None:
    return _day(c.fields.get("discovered_at")) or local_date(c.opened_at)


def _deadline(c: Case, _t: datetime) -> date | None:
    if c.deadline is None or c.closed_at is not None:
        return None
    return local_date(c.deadline.due_at - _TICK)


def _rectify_by(c: Case, _t: datetime) -> date | None:
    pin = c.pins.get("rectify") if c.pins else None
    if pin is None:
        return None
    return local_date(pin.due_at - _TICK)


def _overdue_days(c: Case, t: datetime) -> int | None:
    if not c.overdue or c.deadline is None or c.closed_at is not None:
        return None
    return max(0, (local_date(t) - local_date(c.deadline.due_at - _TICK)).days)


def _imported(c: Case, key: str) -> date | None:
    """A day the ledger a case was imported from gave it (``Engine.import_case``), or None."""
    record = c.fields.get("imported")
    return _day(record.get(key)) if isinstance(record, Mapping) else None


def _registered_on(c: Case, _t: datetime) -> date | None:
    return _imported(c, "registered_on") or local_date(c.opened_at)


def _closed_on(c: Case, _t: datetime) -> date | None:
    if c.closed_at is None or c.state != "closed":
        return None
    if c.closed_at == c.opened_at:  # imported closed: the ledger's own day of 销号
        return _imported(c, "closed_on") or local_date(c.closed_at)
    return local_date(c.closed_at)


def _first(*reads: Callable[[Case, datetime], Any]) -> Callable[[Case, datetime], Any]:
    """The first value one of ``reads`` finds (e.g. a plan's measures, else an imported order's)."""

    def read(c: Case, t: datetime) -> Any:
        for r in reads:
            v = r(c, t)
            if v is not None:
                return v
        return None

    return read


def _funds(c: Case, _t: datetime) -> float | None:
    plan = c.fields.get("plan")
    amount = plan.get("funds_amount") if isinstance(plan, Mapping) else None
    return round(float(amount) / 10000, 4) if isinstance(amount, int | float) else None


def _criteria(c: Case, _t: datetime) -> str | None:
    v = c.fields.get("criteria")
    return "；".join(v) if v else None


def _yes(value: Any) -> bool:
    return bool(value)


# fmt: off
COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("seq",            "基本信息", "序号",               "No.",                       "int",    lambda c, t: None, width=6),
    LedgerColumn("id",             "基本信息", "隐患编号",           "hazard id",                 "text",   lambda c, t: c.id, width=18),
    LedgerColumn("county",         "基本信息", "县（市、区）代码",   "county code",               "text",   _division(6), width=10),
    LedgerColumn("township",       "基本信息", "乡镇（街道）代码",   "township code",             "text",   _division(9), width=12),
    LedgerColumn("village",        "基本信息", "村（社区）代码",     "village code",              "text",   _division(12), width=14),
    LedgerColumn("business_unit",  "单位信息", "生产经营单位",       "business unit",             "text",   _f("business_unit"), width=20),
    LedgerColumn("industry",       "单位信息", "行业领域",           "industry",                  "code",   _f("industry"), codes="industry", width=16),
    LedgerColumn("department",     "单位信息", "牵头监管部门",       "lead department",           "code",   _f("department"), codes="department", width=16),
    LedgerColumn("source",         "隐患信息", "隐患来源",           "source",                    "code",   _f("source"), codes="source", width=14),
    LedgerColumn("nature",         "隐患信息", "隐患类型",           "nature",                    "code",   _f("nature"), codes="nature", width=14),
    LedgerColumn("title",          "隐患信息", "隐患名称",           "title",                     "text",   _f("title"), width=20),
    LedgerColumn("description",    "隐患信息", "隐患描述",           "description",               "text",   _f("description"), width=36),
    LedgerColumn("location",       "隐患信息", "隐患部位（地点）",   "place",                     "text",   _f("location"), width=20),
    LedgerColumn("criteria",       "隐患信息", "判定依据（标准条款）", "criteria cited",          "text",   _criteria, width=28),
    LedgerColumn("grade",          "隐患信息", "隐患等级",           "grade",                     "code",   _f("grade"), codes="grade", width=14),
    LedgerColumn("found_on",       "隐患信息", "发现日期",           "found on",                  "date",   _found, width=12),
    LedgerColumn("registered_on",  "隐患信息", "登记日期",           "registered on",             "date",   _registered_on, width=12),
    LedgerColumn("measures",       "治理方案（五落实）", "整改措施",           "measures",                  "text",   _first(_sub("plan", "methods_measures"), _sub("order", "measures")), width=28),
    LedgerColumn("responsible",    "治理方案（五落实）", "整改责任人",         "responsible person",        "text",   _first(_sub("plan", "responsible_person"), _sub("order", "responsible")), width=12),
    LedgerColumn("funds",          "治理方案（五落实）", "整改资金（万元）",   "funds (10,000 yuan)",       "number", _funds, width=12),
    LedgerColumn("rectify_by",     "治理方案（五落实）", "整改时限",           "rectify by",                "date",   _rectify_by, width=12),
    LedgerColumn("interim",        "治理方案（五落实）", "安全措施和应急预案", "safety and emergency measures", "text", _sub("plan", "safety_emergency_measures"), width=24),
    LedgerColumn("listed",         "挂牌督办", "是否挂牌督办",       "listed",                    "bool",   lambda c, t: c.listed, width=10),
    LedgerColumn("listing_level",  "挂牌督办", "挂牌级别",           "listing level",             "code",   _sub("listing", "level"), codes="level", width=10),
    LedgerColumn("listing_org",    "挂牌督办", "挂牌单位",           "listing authority",         "text",   _sub("listing", "org"), width=16),
    LedgerColumn("listing_doc",    "挂牌督办", "督办文号",           "document no.",              "text",   _sub("listing", "document_no"), width=18),
    LedgerColumn("listed_on",      "挂牌督办", "挂牌日期",           "listed on",                 "date",   lambda c, t: _day(_sub("listing", "at")(c, t)), width=12),
    LedgerColumn("stop",           "挂牌督办", "停产停业",           "stop production",           "code",   lambda c, t: c.stop_production, codes="stop", width=10),
    LedgerColumn("state",          "治理进度", "当前状态",           "state",                     "code",   lambda c, t: c.state, codes="state", width=12),
    LedgerColumn("deadline",       "治理进度", "当前阶段期限",       "current stage deadline",    "date",   _deadline, width=12),
    LedgerColumn("overdue",        "治理进度", "是否逾期",           "overdue",                   "bool",   lambda c, t: c.overdue and c.closed_at is None, width=8),
    LedgerColumn("overdue_days",   "治理进度", "逾期天数（至截止日）", "days overdue (to as-of)",  "int",    _overdue_days, width=10),
    LedgerColumn("rung",           "治理进度", "逾期督办层级",       "ladder rung reached",       "int",    lambda c, t: c.sanction_rung or None, width=10),
    LedgerColumn("owning",         "治理进度", "监管层级代码",       "supervising tier code",     "text",   lambda c, t: c.owning_jurisdiction, width=12),
    LedgerColumn("closed_on",      "验收销号", "销号日期",           "closed on",                 "date",   _closed_on, width=12),
    LedgerColumn("review_opinion", "验收销号", "验收意见",           "review opinion",            "text",   _f("review_opinion"), width=24),
    LedgerColumn("remarks",        "其他",     "备注",               "remarks",                   "text",   _first(_f("void_reason"), _f("remarks")), width=16),
)
# fmt: on
_BY_ID = {c.id: c for c in COLUMNS}
_BOOL = {True: "是", False: "否"}


def _cell(col: LedgerColumn, value: Any) -> Any:
    if value is None or value == "":
        return None
    if col.kind == "code":
        return escape_text(zh(col.codes, str(value)))
    if col.kind == "bool":
        return _BOOL[bool(value)]
    if col.kind == "text":
        return escape_text(str(value))
    return value


def _at(case: Case, store: Any, t: datetime | None) -> Case | None:
    """The case as it stood at ``t`` (None when registered later)."""
    if t is None or case.updated_at < t:
        return case
    if case.opened_at >= t:
        return None
    from .._audit import replay

    return replay([e for e in store.load_events(case.id) if e.occurred_at < t])


def ledger_rows(
    store_or_engine: Any,
    scope: CaseFilter | None = None,
    *,
    as_of: datetime | None = None,
    states: Sequence[str] = (),
) -> Iterator[list[Any]]:
    """The ledger's data rows (cell values, in :data:`COLUMNS` order) of the hazards in ``scope``.

    ``as_of`` gives each hazard as it stood then (hazards registered later are left out); ``states`` keeps
    the hazards in those states (at ``as_of``). Read a page of cases at a time.
    """
    store = store_of(store_or_engine)
    flt = attrs.evolve(scope or CaseFilter(), workflow="hazard")
    if as_of is not None:
        flt = attrs.evolve(flt, opened_until=as_of)
    t = as_of or _now(store_or_engine)
    n = 0
    for raw in scan_cases(store, flt):
        case = _at(raw, store, as_of)
        if case is None or (states and case.state not in states):
            continue
        n += 1
        row = [_cell(col, col.read(case, t)) for col in COLUMNS]
        row[0] = n
        yield row


def _now(store_or_engine: Any) -> datetime:
    """The engine's "now" (its clock: a simulated one in a simulation), else the wall clock."""
    now = getattr(store_or_engine, "now", None)
    return now() if callable(now) else SystemClock().now()


def _code_lists() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for col in COLUMNS:
        if col.kind == "code" and col.codes not in out:
            out[col.codes] = [t.zh for t in terms(col.codes)]
    return out


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(i))


def export_ledger(
    store_or_engine: Any,
    path: str | Path | IO[bytes],
    *,
    scope: CaseFilter | None = None,
    as_of: datetime | None = None,
    states: Sequence[str] = (),
    title: str = "事故隐患台账",
    fmt: str | None = None,
) -> int:
    """Write the ledger to ``path`` (``.xlsx``, or ``.csv`` as UTF-8 with BOM); returns the number of rows.

    The workbook is streamed (openpyxl write-only): memory stays flat however many hazards there are.
    """
    kind = fmt or (str(path).rsplit(".", 1)[-1].lower() if isinstance(path, str | Path) else "xlsx")
    if kind not in ("xlsx", "csv"):
        raise InvalidInput("format", kind, "the ledger is written as Excel or CSV", ("xlsx", "csv"))
    rows = ledger_rows(store_or_engine, scope, as_of=as_of, states=states)
    if kind == "csv":
        return _write_csv(path, rows)
    return _write_xlsx(path, rows, title, as_of or _now(store_or_engine))


def _write_csv(path: str | Path | IO[bytes], rows: Iterator[list[Any]]) -> int:
    own = isinstance(path, str | Path)
    raw: Any = open(path, "wb") if isinstance(path, str | Path) else path  # noqa: SIM115
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    n = 0
    try:
        w = csv.writer(text)
        w.writerow([f"{c.group}/{c.zh}" for c in COLUMNS])
        for row in rows:
            w.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row])
            n += 1
        text.flush()
    finally:
        if own:
            text.close()
        else:
            text.detach()
    return n


def _write_xlsx(path: str | Path | IO[bytes], rows: Iterator[list[Any]], title: str, as_of: datetime | None) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    codes_ws = wb.create_sheet("代码表")
    ncol = len(COLUMNS)
    for i, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[_letter(i)].width = col.width
    ws.freeze_panes = "C4"
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_font = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def styled(value: Any, *, font: Any = head_font, fill_: Any = fill) -> Any:
        c = WriteOnlyCell(ws, value=value)
        c.font = font
        c.alignment = center
        c.border = border
        if fill_ is not None:
            c.fill = fill_
        return c

    day = local_date(as_of or SystemClock().now()).isoformat()  # as_of: the instant the ledger stands at
    ws.append([styled(f"{title}（截至 {day}）", font=Font(bold=True, size=14), fill_=None)])
    ws.merged_cells.add(f"A1:{_letter(ncol)}1")
    groups: list[tuple[str, int, int]] = []
    for i, col in enumerate(COLUMNS, start=1):
        if groups and groups[-1][0] == col.group:
            groups[-1] = (col.group, groups[-1][1], i)
        else:
            groups.append((col.group, i, i))
    ws.append([styled(col.group) for col in COLUMNS])
    ws.append([styled(col.zh) for col in COLUMNS])
    for _group, first, last in groups:
        if last > first:
            ws.merged_cells.add(f"{_letter(first)}2:{_letter(last)}2")
    lists = _code_lists()
    kinds = list(lists)
    longest = max(len(v) for v in lists.values())
    codes_ws.append(kinds)
    for r in range(longest):
        codes_ws.append([lists[k][r] if r < len(lists[k]) else None for k in kinds])
    for i, col in enumerate(COLUMNS, start=1):
        if col.kind == "code":
            j = kinds.index(col.codes) + 1
            ref = f"代码表!${_letter(j)}$2:${_letter(j)}${len(lists[col.codes]) + 1}"
            dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=True)
            dv.error = f"请从下拉列表中选择{col.zh}"
            dv.add(f"{_letter(i)}4:{_letter(i)}1048576")
            ws.data_validations.append(dv)
        elif col.kind == "bool":
            dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True, showErrorMessage=True)
            dv.add(f"{_letter(i)}4:{_letter(i)}1048576")
            ws.data_validations.append(dv)
    n = 0
    for row in rows:
        ws.append(row)
        n += 1
    wb.save(path)
    return n


def column(col_id: str) -> LedgerColumn:
    """The column with id ``col_id``."""
    return _BY_ID[col_id]
