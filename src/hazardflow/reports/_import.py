"""台账 import: register the hazards of an existing ledger (a township's migration path).

Each data row becomes the same commands a person would fire: ``register`` (validated exactly like
:meth:`~hazardflow.Engine.open_case`, by the importing actor), then, for a general hazard the ledger shows
being rectified (整改中) with a 整改时限, ``set_deadline``. The registration carries the row's found date
(``discovered_at``) and keeps the ledger's 隐患编号 as the case id. Its idempotency key is the row's
fingerprint (``ledger:`` + a SHA-256 of the row's values), so importing the same file again adds nothing.
The audit record of each case says who imported it and when (the registration event's actor and time)
and which ledger row it came from (the fingerprint in the event's idempotency key; the result lists the
case ids in row order).

Rows in other states (closed, voided, under review, a major hazard in governance) are refused with the
rule that says so: their history cannot be replayed from a ledger row.

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
    """Label or code → code, for a coded column."""
    out: dict[str, str] = {}
    for t in terms(col.codes):
        out[t.zh] = t.id
        out[t.id] = t.id
    return out


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


def _row_commands(
    raw: Mapping[str, Any], problems: list[tuple[str, str]]
) -> tuple[dict[str, Any], str | None, dict[str, Any] | None]:
    """``(registration fields, jurisdiction, set_deadline payload or None)``; problems appended."""
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

    for cid, field in (
        ("business_unit", "business_unit"),
        ("description", "description"),
        ("location", "location"),
        ("title", "title"),
    ):
        v = text(cid)
        if v is not None:
            fields[field] = v
    for cid in ("industry", "source", "nature", "grade", "department"):
        v = text(cid)
        if v is None:
            continue
        code = _reverse(by_id[cid]).get(v)
        if code is None:
            problems.append((by_id[cid].zh, f"{v!r} is not a {by_id[cid].en} label or code"))
            continue
        fields[cid] = code
    crit = text("criteria")
    if crit:
        fields["criteria"] = [c.strip() for c in re.split(r"[；;]", crit) if c.strip()]
    found = raw.get("found_on")
    if found not in (None, ""):
        try:
            fields["discovered_at"] = f"{_as_date(found).isoformat()}T00:00:00+08:00"
        except ValueError:
            problems.append(("发现日期", f"{found!r} is not a date (2024-03-05, 2024年3月5日, 2024.3.5, 2024/3/5)"))
    where = text("village") or text("township")
    if where is None:
        problems.append(("乡镇（街道）代码", "missing: the division the hazard lies in"))
    state_text = text("state") or "registered"
    state = _STATE_LABELS.get(state_text)
    order: dict[str, Any] | None = None
    if state == "rectifying" and fields.get("grade") == "general":
        due = raw.get("rectify_by") or raw.get("deadline")
        try:
            deadline = _as_date(due).isoformat()
        except ValueError:
            problems.append(("整改时限", f"{due!r}: a hazard being rectified needs its 整改时限 as a date"))
            deadline = None
        if deadline is not None:
            order = {
                "deadline": deadline,
                "measures": text("measures") or "按台账整改措施整改",
                "responsible": text("responsible") or "（台账未填）",
            }
    elif state != "registered":
        problems.append(
            (
                "当前状态",
                f"{state_text!r}: only hazards 已登记 (registered) or general hazards 整改中 (rectifying) can be "
                "imported; a closed or later-stage hazard's history cannot be replayed from a ledger row",
            )
        )
    return fields, where, order


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

    def one(r: int, raw: Mapping[str, Any]) -> bool:
        """Fire the row's commands; False (and the problems noted) when the row is bad."""
        local: list[tuple[str, str]] = []
        fields, where, order = _row_commands(raw, local)
        if order is not None and date.fromisoformat(order["deadline"]) < today:
            local.append(("整改时限", f"{order['deadline']} is already past: a running order needs a future date"))
        if local:
            problems.extend(ImportProblem(r, col, rule) for col, rule in local)
            return False
        key = "ledger:" + _fingerprint(raw)
        case_id = str(raw["id"]).strip() if raw.get("id") not in (None, "") else None
        before = engine.store.lookup_idempotency("open:hazard", key)
        try:
            case = engine.open_case(
                "hazard",
                actor=actor,
                jurisdiction=str(where),
                idempotency_key=key,
                case_id=None if before else case_id,
                **fields,
            )
        except (InvalidInput, CommandRefused) as exc:
            problems.append(ImportProblem(r, _column_of(exc), str(exc)))
            return False
        if before is not None or case.id in seen:
            counts["duplicates"] += 1
            return True
        if order is not None:
            try:
                engine.fire(case.id, "set_deadline", actor=actor, payload=order, idempotency_key=key)
            except (InvalidInput, CommandRefused) as exc:
                problems.append(ImportProblem(r, "整改时限", str(exc)))
                return False
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


_FIELD_COLUMN = {c.id: c.zh for c in COLUMNS} | {"discovered_at": "发现日期", "jurisdiction": "乡镇（街道）代码"}


def _column_of(exc: Exception) -> str:
    field = getattr(exc, "field", None)
    if isinstance(field, str):
        return _FIELD_COLUMN.get(field, field)
    return "—"


def problems_by_row(problems: Sequence[ImportProblem]) -> dict[int, list[ImportProblem]]:
    out: dict[int, list[ImportProblem]] = {}
    for p in problems:
        out.setdefault(p.row, []).append(p)
    return out
