"""台账 export and import: layout, round trip, re-import, dry run, and hostile workbooks refused unchanged."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hazard_world import ORDER, People, World
from hazardflow import Actor, InvalidInput
from hazardflow.reports import CaseFilter
from hazardflow.reports._import import import_ledger
from hazardflow.reports._ledger import COLUMNS, export_ledger, ledger_rows
from hazardflow.testing import snapshot_store
from reports_support import new_engine

IMPORTER = Actor("t-import", "导入员", {"township_officer"}, "三星乡安办", "500240204")


def _township(n_general: int = 3) -> Any:
    engine, clock = new_engine()
    w = World(engine, clock)
    for i in range(n_general):
        w.register(description=f"隐患{i}", location=f"车间{i}")
    w.fire(w.register(description="-2+3 looks like a formula", title="@SUM(A1)"), "set_deadline", People.officer, ORDER)
    w.register(description='=HYPERLINK("http://x")')
    w.governed(listed=True)  # a major hazard under a plan, listed: in the ledger, but not importable
    return engine, clock


def test_the_sheet_has_the_ledger_layout(tmp_path: Path) -> None:
    engine, _ = _township()
    path = tmp_path / "台账.xlsx"
    n = export_ledger(engine, path, scope=CaseFilter(jurisdiction="500240"))
    assert n == 6
    wb = openpyxl.load_workbook(path)
    ws = wb["台账"]
    assert ws.freeze_panes == "C4"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert f"A1:{openpyxl.utils.get_column_letter(len(COLUMNS))}1" in merged
    assert "A2:E2" in merged  # 基本信息 over five columns
    assert [c.value for c in ws[3]] == [c.zh for c in COLUMNS]
    assert ws.max_row == 3 + n
    validations = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    grade_col = openpyxl.utils.get_column_letter([c.id for c in COLUMNS].index("grade") + 1)
    assert validations[f"{grade_col}4:{grade_col}1048576"].startswith("代码表!")
    found = [c.id for c in COLUMNS].index("found_on")
    assert ws.cell(4, found + 1).number_format == "yyyy-mm-dd"
    assert ws.cell(4, found + 1).is_date
    texts = [c.value for row in ws.iter_rows(min_row=4) for c in row if isinstance(c.value, str)]
    assert "'-2+3 looks like a formula" in texts
    assert "'@SUM(A1)" in texts
    assert '\'=HYPERLINK("http://x")' in texts
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    assert ws.column_dimensions["L"].width >= 30  # 隐患描述 fits Chinese text
    assert "重大事故隐患" in texts
    assert "县级" in texts  # listing level label


def test_csv_has_a_bom_and_the_same_rows(tmp_path: Path) -> None:
    engine, _ = _township()
    path = tmp_path / "台账.csv"
    assert export_ledger(engine, path) == 6
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("基本信息/序号,基本信息/隐患编号")
    assert len(lines) == 7
    assert "'=HYPERLINK" in raw.decode("utf-8-sig")


def test_the_reporter_of_a_tipoff_never_reaches_the_ledger(tmp_path: Path) -> None:
    from workflow_support import OFFICER, make_engine, receive, substantiate

    engine = make_engine()
    tip = receive(engine)
    substantiate(engine, tip.id)
    path = tmp_path / "台账.csv"
    assert export_ledger(engine, path) == 1
    text = path.read_text(encoding="utf-8-sig")
    assert "举报人甲" not in text
    assert "13900001111" not in text
    assert OFFICER.id  # the hazard is there, registered from the tip-off
    assert "群众举报查实" in text or "举报" in text


def test_as_of_gives_the_ledger_as_it_stood(tmp_path: Path) -> None:
    engine, clock = _township()
    first_day = clock.now()
    clock.advance(timedelta(days=30))
    World(engine, clock).register(description="后来登记")
    engine.run_due()
    rows_then = list(ledger_rows(engine, as_of=first_day + timedelta(hours=1)))
    rows_now = list(ledger_rows(engine))
    assert len(rows_then) == 6
    assert len(rows_now) == 7
    overdue = [c.id for c in COLUMNS].index("overdue")
    assert {r[overdue] for r in rows_then} == {"否"}
    assert "是" in {r[overdue] for r in rows_now}  # the ordered hazard's 2024-03-20 deadline has passed


def _importable(tmp_path: Path) -> tuple[Path, list[list[Any]]]:
    engine, clock = new_engine()
    w = World(engine, clock)
    for i in range(4):
        w.register(description=f"隐患{i}", location=f"车间{i}", discovered_at="2024-02-01T10:00:00+08:00")
    case = w.register(description="=1+1 是文字", title="-负号开头")
    w.fire(case, "set_deadline", People.officer, {**ORDER, "deadline": "2024-06-30"})
    path = tmp_path / "源台账.xlsx"
    export_ledger(engine, path)
    return path, list(ledger_rows(engine))


def test_round_trip_export_import_export(tmp_path: Path) -> None:
    path, rows = _importable(tmp_path)
    engine, _ = new_engine()  # the same simulated day as the source
    result = import_ledger(engine, path, actor=IMPORTER)
    assert (result.imported, result.duplicates, result.bad_rows, result.written) == (5, 0, 0, True)
    measures = [c.id for c in COLUMNS].index("measures")
    responsible = [c.id for c in COLUMNS].index("responsible")
    again = list(ledger_rows(engine))
    # 整改措施/整改责任人 of a general hazard's order live in its event, not in the ledger's plan columns.
    assert [r[:measures] + r[responsible + 1 :] for r in again] == [r[:measures] + r[responsible + 1 :] for r in rows]
    events = engine.history(result.case_ids[0])
    assert events[0].actor_id == IMPORTER.id
    assert events[0].idempotency_key is not None
    assert events[0].idempotency_key.startswith("ledger:")


def _every_state(tmp_path: Path) -> tuple[Path, list[list[Any]], Any]:
    """A township ledger with hazards in every stage: open, under review, closed, voided, majors listed."""
    engine, clock = new_engine()
    w = World(engine, clock)
    w.register(description="刚登记", discovered_at="2024-02-01T10:00:00+08:00")
    w.ordered(description="限期整改中")
    w.submitted()
    closed = w.submitted()
    w.fire(closed, "approve", People.officer, {"opinion": "整改到位，同意销号"})
    spot = w.register(description="即查即改")
    w.fire(spot, "fix_on_spot", People.inspector, {"fixed_by": "陈维修", "measures": "当场更换"})
    voided = w.register(description="登记错误")
    w.fire(voided, "void", People.officer, {"reason": "重复登记"})
    w.governed(listed=True)  # a listed major hazard under its plan (整改资金, 五落实, 挂牌)
    w.major_submitted()
    w.confirmed(description="确认中的重大隐患")
    path = tmp_path / "各阶段台账.xlsx"
    export_ledger(engine, path)
    return path, list(ledger_rows(engine)), clock


def test_round_trip_of_every_stage_gives_the_same_ledger(tmp_path: Path) -> None:
    path, rows, source_clock = _every_state(tmp_path)
    engine, clock = new_engine()
    clock.set(source_clock.now())
    result = import_ledger(engine, path, actor=IMPORTER)
    assert (result.imported, result.bad_rows, result.written) == (len(rows), 0, True), result.problems
    again = list(ledger_rows(engine))
    assert again == rows
    states = [engine.get(cid).state for cid in result.case_ids]
    assert {"registered", "rectifying", "under_review", "closed", "voided", "confirming"} <= set(states)
    # The audit record says who imported each case, when, from which file and row; the chain verifies.
    for n, cid in enumerate(result.case_ids):
        (event,) = engine.history(cid)
        assert (event.trigger, event.actor_id) == ("import", IMPORTER.id)
        assert event.payload["imported_from"]["file"] == "各阶段台账.xlsx"
        assert event.payload["imported_from"]["row"] == 4 + n
    assert engine.verify_audit().ok
    # Imported closures are history: they count neither as this month's closures nor as its registrations.
    from hazardflow.reports import figures

    month = figures(engine, start="2024-03-01", end="2024-04-01")
    assert month.closed == 0
    assert month.voided == 0
    assert month.registered == len(rows) - states.count("closed") - states.count("voided")


def test_a_closed_row_without_its_day_and_an_importer_who_may_not_close_are_refused(tmp_path: Path) -> None:
    path, rows, source_clock = _every_state(tmp_path)
    state = [c.id for c in COLUMNS].index("state")
    closed_row = 4 + [r[state] for r in rows].index("已销号")

    def spoil(ws: Any) -> None:
        ws.cell(closed_row, _col("closed_on")).value = None

    bad = _edit(path, tmp_path / "bad.xlsx", spoil)
    engine, clock = new_engine()
    clock.set(source_clock.now())
    before = snapshot_store(engine.store)
    result = import_ledger(engine, bad, actor=IMPORTER, dry_run=True)
    assert [(p.row, p.column) for p in result.problems] == [(closed_row, "销号日期")]
    # An enterprise inspector may register hazards but may not void one: the voided row is refused.
    inspector = Actor("e-import", "企业导入员", {"inspector"}, People.inspector.org, "500240204")
    result = import_ledger(engine, path, actor=inspector, dry_run=True)
    voided_row = 4 + [r[state] for r in rows].index("已作废")
    refused = {p.row for p in result.problems}
    assert voided_row in refused
    assert snapshot_store(engine.store) == before


def test_reimporting_the_same_file_adds_nothing(tmp_path: Path) -> None:
    path, _ = _importable(tmp_path)
    engine, _ = new_engine()
    import_ledger(engine, path, actor=IMPORTER)
    before = snapshot_store(engine.store)
    result = import_ledger(engine, path, actor=IMPORTER)
    assert (result.imported, result.duplicates, result.bad_rows) == (0, 5, 0)
    assert snapshot_store(engine.store) == before


def _edit(path: Path, out: Path, change: Any) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb["台账"])
    wb.save(out)
    return out


def _col(cid: str) -> int:
    return [c.id for c in COLUMNS].index(cid) + 1


def test_dry_run_lists_every_bad_row_with_column_and_rule(tmp_path: Path) -> None:
    path, _ = _importable(tmp_path)

    def spoil(ws: Any) -> None:
        ws.cell(4, _col("grade")).value = "特大隐患"
        ws.cell(5, _col("found_on")).value = "去年春天"
        ws.cell(6, _col("township")).value = None
        ws.cell(7, _col("state")).value = "已解决"  # not a state of the hazard lifecycle

    bad = _edit(path, tmp_path / "bad.xlsx", spoil)
    engine, _ = new_engine()
    before = snapshot_store(engine.store)
    result = import_ledger(engine, bad, actor=IMPORTER, dry_run=True)
    assert snapshot_store(engine.store) == before
    assert result.bad_rows == 4
    assert result.imported == 1  # would import the good row
    assert not result.written
    cols = {(p.row, p.column) for p in result.problems}
    assert {(4, "隐患等级"), (5, "发现日期"), (6, "乡镇（街道）代码"), (7, "当前状态")} <= cols
    assert any("特大隐患" in p.rule for p in result.problems)
    # All or nothing (the default): nothing written either.
    result = import_ledger(engine, bad, actor=IMPORTER)
    assert (result.written, snapshot_store(engine.store) == before) == (False, True)
    # Per row: the good row goes in, the bad ones are listed.
    result = import_ledger(engine, bad, actor=IMPORTER, all_or_nothing=False)
    assert (result.imported, result.bad_rows) == (1, 4)
    assert len(list(engine.store.iter_cases())) == 1


def test_a_row_refused_by_the_engine_names_its_column(tmp_path: Path) -> None:
    path, _ = _importable(tmp_path)
    bad = _edit(path, tmp_path / "bad.xlsx", lambda ws: setattr(ws.cell(4, _col("business_unit")), "value", "   "))
    engine, _ = new_engine()
    result = import_ledger(engine, bad, actor=IMPORTER, dry_run=True)
    assert result.bad_rows == 1
    assert result.problems[0].row == 4
    assert "business_unit" in result.problems[0].rule


def _refused(engine: Any, path: Path, match: str, **kw: Any) -> None:
    before = snapshot_store(engine.store)
    with pytest.raises(InvalidInput, match=match) as info:
        import_ledger(engine, path, actor=IMPORTER, **kw)
    assert info.value.field == "file"
    assert snapshot_store(engine.store) == before


def test_hostile_workbooks_are_refused_with_nothing_written(tmp_path: Path) -> None:
    path, _ = _importable(tmp_path)
    engine, _ = new_engine()
    formula = _edit(path, tmp_path / "f.xlsx", lambda ws: setattr(ws.cell(5, _col("description")), "value", "=1+1"))
    _refused(engine, formula, r"formula")
    merged = _edit(path, tmp_path / "m.xlsx", lambda ws: ws.merge_cells("F4:F5"))
    _refused(engine, merged, r"merged cells in the data rows")
    missing = _edit(path, tmp_path / "c.xlsx", lambda ws: setattr(ws.cell(3, _col("grade")), "value", "等级?"))
    _refused(engine, missing, r"missing columns: 隐患等级")
    text = tmp_path / "x.xlsx"
    text.write_text("not a workbook")
    _refused(engine, text, r"not a ZIP")
    _refused(engine, tmp_path / "absent.xlsx", r"no such file")


def _rewrite(path: Path, out: Path, edit: Any) -> Path:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            dst.writestr(item, data)
    return out


def test_a_sheet_of_1048576_rows_is_refused_quickly(tmp_path: Path) -> None:
    path, _ = _importable(tmp_path)
    engine, _ = new_engine()
    last = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'

    def huge(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:AK1048576"/>', xml)
        return xml.replace(b"</sheetData>", last)

    _refused(engine, _rewrite(path, tmp_path / "big.xlsx", huge), r"over the limit|more than")

    def lying(xml: bytes) -> bytes:  # the dimension says small, the rows say otherwise
        return xml.replace(b"</sheetData>", last)

    _refused(engine, _rewrite(path, tmp_path / "lie.xlsx", lying), r"over the limit|more than")


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    path, _ = _importable(tmp_path)
    engine, _ = new_engine()
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/media/padding.bin", b"\0" * 50_000_000)
    assert bomb.stat().st_size < 1_000_000
    _refused(engine, bomb, r"zip bomb")


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    engine, _ = _township()
    with pytest.raises(InvalidInput) as info:
        export_ledger(engine, tmp_path / "台账.ods")
    assert info.value.field == "format"
    assert not (tmp_path / "台账.ods").exists()
    buf = io.BytesIO()
    assert export_ledger(engine, buf, fmt="csv") == 6


def test_without_calamine_openpyxl_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hazardflow.reports._import import read_ledger

    path, _ = _importable(tmp_path)
    fast = list(read_ledger(path))
    monkeypatch.setitem(__import__("sys").modules, "python_calamine", None)  # an import of it fails
    assert list(read_ledger(path)) == fast
    engine, _ = new_engine()
    result = import_ledger(engine, path, actor=IMPORTER)
    assert (result.imported, result.bad_rows) == (5, 0)
    formula = _edit(path, tmp_path / "f.xlsx", lambda ws: setattr(ws.cell(6, _col("location")), "value", "=A1"))
    _refused(engine, formula, r"cell [A-Z]+6 holds a formula")
