"""台账 import: register the hazards of an existing ledger (a township's migration path).

Each data row becomes one :meth:`~hazardflow.Engine.import_case` command by the importing actor: the
registration fields validated exactly like :meth:`~hazardflow.Engine.open_case`, and the case opened straight
in the state the ledger records (registered, rectifying, under review, being confirmed, closed, voided, ...)
with the facts the row carries (the governance plan and its 五落实 columns, the listing, a stop order, the
review opinion, the remarks). The row's 整改时限 and 当前阶段期限 become the case's dated deadlines; the running
one must still be ahead. The ledger's 隐患编号 is kept as the case id. The idempotency key is the row's
fingerprint (``ledger:`` + a SHA-256 of the row's values), so importing the same file again adds nothing. The
audit record of each case says who imported it, when, and from which file and row (the event's
``imported_from``; the case's ``imported`` field keeps it too, with the ledger's registration and closing days,
which the ledger export shows again: export → import → export gives the same ledger).

Before anything is read, the workbook is checked: a ZIP that inflates beyond :data:`MAX_UNPACKED` bytes or
by more than :data:`MAX_RATIO` (a zip bomb), a formula in any cell, a merged range in the data rows, more data
rows than allowed, or a header without the required columns, each refuses the whole file with
:class:`~hazardflow.InvalidInput` naming the problem, and nothing is written.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from .._calendar import SHANGHAI
from .._exceptions import CommandRefused, InvalidInput
from .._glossary import terms
from .._model import Actor
from ._ledger import COLUMNS, LedgerColumn, unescape_text

__all__ = ["ImportProblem", "ImportResult", "import_ledger", "read_ledger"]

MAX_UNPACKED = 512 * 1024 * 1024
MAX_RATIO = 200
#: Columns a row must have (by their 中文 label in the header's third row).
REQUIRED = ("id", "township", "business_unit", "industry", "source", "nature", "description", "location", "grade")
HEADER_ROW = 3


@attrs.frozen
class ImportProblem:
    """A bad row: its spreadsheet row number, the column and the rule it breaks."""

    row: int
    column: str
    rule: str


@attrs.frozen
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    imported: int
    duplicates: int
    bad_rows: int
    problems: tuple[ImportProblem, ...]
    case_ids: tuple[str, ...]
    dry_run: bool
    written: bool


def _refuse(path: Any, rule: str, hint: str = "") -> InvalidInput:
    return InvalidInput("file", str(path), rule, hint=hint or "nothing was imported")


def _check_zip(path: Path, max_rows: int) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > MAX_UNPACKED:
                raise _refuse(path, f"the workbook unpacks to {total:,} bytes, over the limit of {MAX_UNPACKED:,}")
            for i in infos:
                if i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 1_000_000:
                    raise _refuse(
                        path, f"member {i.filename!r} inflates {i.file_size // i.compress_size} times (a zip bomb?)"
                    )
            if total / packed > MAX_RATIO and total > 10_000_000:
                raise _refuse(path, f"the workbook inflates {total // packed} times (a zip bomb?)")
            names = set(z.namelist())
            if "xl/workbook.xml" not in names:
                raise _refuse(path, "not an Excel workbook (.xlsx): no xl/workbook.xml inside")
            for name in names:
                if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
                    _check_sheet(path, z.read(name), max_rows)
    except zipfile.BadZipFile:
        raise _refuse(path, "not an Excel workbook (.xlsx): the file is not a ZIP archive") from None


_MERGE = re.compile(rb'<mergeCell[^>]*ref="([A-Z]+)(\d+)(?::[A-Z]+(\d+))?"')
_ROW = re.compile(rb'<row[^>]*\sr="(\d+)"')


_FORMULA = re.compile(rb"<f[\s>/]")
_CELL_REF = re.compile(rb'<c r="([A-Z]+\d+)"')


def _check_sheet(path: Path, xml: bytes, max_rows: int) -> None:
    found = _FORMULA.search(xml)
    if found is not None:
        refs = _CELL_REF.findall(xml, 0, found.start())
        raise _formula(path, refs[-1].decode() if refs else "?")
    last = max((int(m.group(1)) for m in _ROW.finditer(xml)), default=0)
    if last - HEADER_ROW > max_rows:
        raise _refuse(path, f"a row numbered {last:,}: more than {max_rows:,} data rows", "split the file")
    for m in _MERGE.finditer(xml):
        first = int(m.group(2))
        if first > HEADER_ROW:
            raise _refuse(
                path,
                f"merged cells in the data rows ({m.group(1).decode()}{first}…): each row must hold its own values",
                hint="unmerge the cells and fill each row; nothing was imported",
            )


def _reverse(col: LedgerColumn) -> dict[str, str]:
    """Label or code → code, for a coded column (built once per code list: every row asks for six of them)."""
    out = _REVERSED.get(col.codes)
    if out is None:
        out = _REVERSED[col.codes] = {}
        for t in terms(col.codes):
            out[t.zh] = t.id
            out[t.id] = t.id
    return out


_REVERSED: dict[str, dict[str, str]] = {}


_DATE_TEXT = re.compile(r"^\s*(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?\s*$")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return date(1899, 12, 30) + timedelta(days=int(value))
    if isinstance(value, str):
        m = _DATE_TEXT.match(value)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(value)


def _norm(value: Any) -> Any:
    """One form for a cell's value whichever reader read it: empty → None, 3.0 → 3, a midnight datetime → date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime) and value.time() == datetime.min.time() and value.tzinfo is None:
        return value.date()
    return value


def _rows_calamine(p: Path) -> Iterator[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(p))
        name = "台账" if "台账" in wb.sheet_names else wb.sheet_names[0]
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise _refuse(p, f"cannot be read as an Excel workbook: {type(exc).__name__}: {exc}") from None
    for row in rows:
        yield [_norm(v) for v in row]


def _rows_openpyxl(p: Path, max_rows: int) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(p, read_only=True, data_only=False)
    except Exception as exc:
        raise _refuse(p, f"cannot be read as an Excel workbook: {type(exc).__name__}: {exc}") from None
    try:
        ws = wb["台账"] if "台账" in wb.sheetnames else wb.worksheets[0]
        dims = ws.max_row
        if dims is not None and dims - HEADER_ROW > max_rows:
            raise _refuse(p, f"{dims - HEADER_ROW:,} data rows, over the limit of {max_rows:,}", "split the file")
        for row in ws.iter_rows(min_row=1):
            cells = list(row)
            for c in cells:
                if getattr(c, "data_type", None) == "f":
                    raise _formula(p, str(getattr(c, "coordinate", "?")))
            yield [_norm(c.value) for c in cells]
    finally:
        wb.close()


def _formula(p: Path, where: str) -> InvalidInput:
    return _refuse(
        p,
        f"cell {where} holds a formula; a ledger holds values only",
        "paste the values (选择性粘贴→数值); nothing was imported",
    )


def read_ledger(path: str | Path, *, max_rows: int = 200_000) -> Iterator[tuple[int, dict[str, Any]]]:
    """Check the workbook, then yield ``(row number, {column id: value})`` for each non-empty data row.

    Read with python-calamine when it is installed (the ``excel`` extra), else with openpyxl (read-only).
    """
    p = Path(path)
    if not p.is_file():
        raise _refuse(p, "no such file")
    _check_zip(p, max_rows)
    try:
        import python_calamine  # noqa: F401

        rows = _rows_calamine(p)
    except ImportError:
        rows = _rows_openpyxl(p, max_rows)
    header: list[str] = []
    by_label = {c.zh: c for c in COLUMNS}
    index: dict[int, LedgerColumn] = {}
    for r_idx, values in enumerate(rows, start=1):
        if r_idx > max_rows + HEADER_ROW:
            raise _refuse(p, f"more than {max_rows:,} data rows", "split the file; nothing was imported")
        if r_idx < HEADER_ROW:
            continue
        if r_idx == HEADER_ROW:
            header = ["" if v is None else str(v).strip() for v in values]
            index = {i: by_label[h] for i, h in enumerate(header) if h in by_label}
            have = {c.id for c in index.values()}
            missing = [c for c in COLUMNS if c.id in REQUIRED and c.id not in have]
            if missing:
                raise _refuse(
                    p,
                    "missing columns: " + ", ".join(f"{c.zh} ({c.id})" for c in missing),
                    "use the header of an exported ledger (hazardflow ledger export); nothing was imported",
                )
            continue
        if all(v is None for v in values):
            continue
        yield r_idx, {col.id: values[i] if i < len(values) else None for i, col in index.items()}
    if not header:
        raise _refuse(p, f"no header row (row {HEADER_ROW} must hold the column names)")


def _fingerprint(raw: Mapping[str, Any]) -> str:
    parts = []
    for c in COLUMNS:
        if c.id in ("seq",):
            continue
        v = raw.get(c.id)
        parts.append(f"{c.id}={v.isoformat() if isinstance(v, date | datetime) else ('' if v is None else v)}")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


_STATE_LABELS = {t.zh: t.id for t in terms("state")} | {t.id: t.id for t in terms("state")}
_YES = {"是": True, "否": False, "yes": True, "no": False, "true": True, "false": False, "y": True, "n": False}


@attrs.frozen
class _RowImport:
    """One ledger row as the arguments of :meth:`~hazardflow.Engine.import_case`."""

    fields: dict[str, Any]
    jurisdiction: str | None
    state: str
    facts: dict[str, Any]
    pins: dict[str, date]
    owning: str | None
    registered_on: date | None
    closed_on: date | None


def _row_commands(
    raw: Mapping[str, Any], problems: list[tuple[str, str]], stages: Mapping[str, str], today: date
) -> _RowImport:
    """The import of one row (``stages``: state → its stage deadline key; ``today`` in Beijing time)."""
    fields: dict[str, Any] = {}
    by_id = {c.id: c for c in COLUMNS}

    def text(cid: str) -> str | None:
        v = raw.get(cid)
        if v is None:
            return None
        if isinstance(v, str):
            v = unescape_text(v.strip())
            return v or None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    def code(cid: str) -> str | None:
        v = text(cid)
        if v is None:
            return None
        found = _reverse(by_id[cid]).get(v)
        if found is None:
            problems.append((by_id[cid].zh, f"{v!r} is not a {by_id[cid].en} label or code"))
        return found

    def day(cid: str) -> date | None:
        v = raw.get(cid)
        if v in (None, ""):
            return None
        try:
            return _as_date(v)
        except ValueError:
            problems.append((by_id[cid].zh, f"{v!r} is not a date (2024-03-05, 2024年3月5日, 2024.3.5, 2024/3/5)"))
            return None

    for cid in ("business_unit", "description", "location", "title"):
        v = text(cid)
        if v is not None:
            fields[cid] = v
    for cid in ("industry", "source", "nature", "grade", "department"):
        v = code(cid)
        if v is not None:
            fields[cid] = v
    crit = text("criteria")
    if crit:
        fields["criteria"] = [c.strip() for c in re.split(r"[；;]", crit) if c.strip()]
    found = day("found_on")
    if found is not None:
        fields["discovered_at"] = f"{found.isoformat()}T00:00:00+08:00"
    where = text("village") or text("township")
    if where is None:
        problems.append(("乡镇（街道）代码", "missing: the division the hazard lies in"))
    state_text = text("state") or "registered"
    state = _STATE_LABELS.get(state_text)
    if state is None or state not in stages:
        problems.append(
            (
                "当前状态",
                f"{state_text!r} is not a hazard state",
            )
        )
        state = "registered"
    facts: dict[str, Any] = {}
    pins: dict[str, date] = {}
    # 整改时限 (the rectification date an order or a plan set) and the running stage's own deadline.
    rectify_by = day("rectify_by")
    if rectify_by is not None:
        pins["rectify"] = rectify_by
    running = day("deadline")
    stage = stages[state]
    if running is not None and stage:
        pins[stage] = running
    if state == "rectifying" and "rectify" not in pins:
        problems.append(("整改时限", "a hazard being rectified needs its 整改时限 (or 当前阶段期限) as a date"))
    if stage and stage in pins and pins[stage] < today:
        column = "整改时限" if stage == "rectify" and running is None else "当前阶段期限"
        problems.append(
            (
                column,
                f"{pins[stage].isoformat()} is already past: the running deadline of an imported case must still be "
                "ahead (a past one would start overdue sanctions for time before the import); give the new date",
            )
        )
    measures, responsible = text("measures"), text("responsible")
    if fields.get("grade") == "major":
        plan: dict[str, Any] = {
            "methods_measures": measures,
            "responsible_person": responsible,
            "safety_emergency_measures": text("interim"),
            "deadline": rectify_by.isoformat() if rectify_by else None,
        }
        funds = raw.get("funds")
        if funds not in (None, ""):
            if isinstance(funds, int | float) and not isinstance(funds, bool):
                plan["funds_amount"] = round(float(funds) * 10000, 2)
            else:
                problems.append(("整改资金（万元）", f"{funds!r} is not a number (万元)"))
        plan = {k: v for k, v in plan.items() if v is not None}
        if plan:
            facts["plan"] = plan
    elif measures or responsible:
        facts["order"] = {k: v for k, v in (("measures", measures), ("responsible", responsible)) if v}
    listed = text("listed")
    if listed is not None and listed.lower() not in _YES:
        problems.append(("是否挂牌督办", f"{listed!r}: write 是 or 否"))
    if listed is not None and _YES.get(listed.lower()):
        listing: dict[str, Any] = {"level": code("listing_level"), "org": text("listing_org")}
        listing["document_no"] = text("listing_doc")
        on = day("listed_on")
        listing["at"] = on.isoformat() if on else None
        facts["listed"] = True
        facts["listing"] = {k: v for k, v in listing.items() if v is not None}
    stop = code("stop")
    if stop is not None and stop != "none":
        facts["stop_production"] = stop
    opinion = text("review_opinion")
    if opinion is not None:
        facts["review_opinion"] = opinion
    remarks = text("remarks")
    if remarks is not None:
        facts["void_reason" if state == "voided" else "remarks"] = remarks
    closed_on = day("closed_on")
    if state == "closed" and closed_on is None:
        problems.append(("销号日期", "a closed hazard needs its 销号日期 (the day it was struck off)"))
    owning = text("owning")
    return _RowImport(
        fields,
        where,
        state,
        facts,
        pins,
        owning if owning and owning != where else None,
        day("registered_on"),
        closed_on if state in ("closed", "voided") else None,
    )


class _Rollback(Exception):
    pass


def import_ledger(
    engine: Any,
    path: str | Path,
    *,
    actor: Actor,
    dry_run: bool = False,
    all_or_nothing: bool = True,
    max_rows: int = 200_000,
) -> ImportResult:
    """Import the ledger at ``path`` as ``actor``; see the module doc.

    ``dry_run`` checks every row (through the real commands, rolled back) and writes nothing;
    ``all_or_nothing`` (default) writes nothing when any row is bad; otherwise the good rows are imported.
    """
    rows = list(read_ledger(path, max_rows=max_rows))
    problems: list[ImportProblem] = []
    imported: list[str] = []
    bad: set[int] = set()
    seen: set[str] = set()
    counts = {"duplicates": 0}
    today = engine.now().astimezone(SHANGHAI).date()

    lc = engine.lifecycle("hazard")
    stages = {sid: st.deadline or "" for sid, st in lc.states.items()}
    name = Path(path).name

    def one(r: int, raw: Mapping[str, Any]) -> bool:
        """Import the row; False (and the problems noted) when the row is bad."""
        local: list[tuple[str, str]] = []
        row = _row_commands(raw, local, stages, today)
        if local:
            problems.extend(ImportProblem(r, col, rule) for col, rule in local)
            return False
        key = "ledger:" + _fingerprint(raw)
        case_id = str(raw["id"]).strip() if raw.get("id") not in (None, "") else None
        before = engine.store.lookup_idempotency("import:hazard", key)
        try:
            case = engine.import_case(
                "hazard",
                actor=actor,
                jurisdiction=str(row.jurisdiction),
                state=row.state,
                origin={"file": name, "row": r, "fingerprint": key[7:]},
                facts=row.facts,
                pins=row.pins,
                owning_jurisdiction=row.owning,
                registered_on=row.registered_on,
                closed_on=row.closed_on,
                idempotency_key=key,
                case_id=None if before else case_id,
                **row.fields,
            )
        except (InvalidInput, CommandRefused) as exc:
            problems.append(ImportProblem(r, _column_of(exc), str(exc)))
            return False
        if before is not None or case.id in seen:
            counts["duplicates"] += 1
            return True
        seen.add(case.id)
        imported.append(case.id)
        return True

    written = False
    if dry_run or all_or_nothing:
        try:
            with engine.batch():
                for r, raw in rows:
                    if not one(r, raw):
                        bad.add(r)
                if dry_run or bad:
                    raise _Rollback
            written = True
        except _Rollback:
            pass
    else:
        for r, raw in rows:
            mark = len(imported)
            try:
                with engine.batch():
                    if not one(r, raw):
                        bad.add(r)
                        raise _Rollback
                written = True
            except _Rollback:
                del imported[mark:]
    return ImportResult(
        len(imported),
        counts["duplicates"],
        len(bad),
        tuple(problems),
        tuple(imported) if written else (),
        dry_run,
        written,
    )


_FIELD_COLUMN = {c.id: c.zh for c in COLUMNS} | {
    "discovered_at": "发现日期",
    "jurisdiction": "乡镇（街道）代码",
    "owning_jurisdiction": "监管层级代码",
    "pins.rectify": "整改时限",
    "closed_on": "销号日期",
    "registered_on": "登记日期",
}


def _column_of(exc: Exception) -> str:
    field = getattr(exc, "field", None)
    if isinstance(field, str):
        if field.startswith("pins.") and field != "pins.rectify":
            return "当前阶段期限"
        return _FIELD_COLUMN.get(field, field)
    return "—"


def problems_by_row(problems: Sequence[ImportProblem]) -> dict[int, list[ImportProblem]]:
    out: dict[int, list[ImportProblem]] = {}
    for p in problems:
        out.setdefault(p.row, []).append(p)
    return out
