"""``hazardflow report|ledger|cases`` on a SQLite file: one command each for the month's report, the ledger
and a look at a case; the reporter only through the audited read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from hazard_world import ORDER, People, World
from hazardflow import Engine, SequentialIds, SimulatedClock
from hazardflow.persistence.sql import SqlStore
from hazardflow.policies.registry import PolicyRegistry
from workflow_support import DESK, receive

runner = CliRunner()
OFFICER = ["--actor-id", "t-liu", "--actor-name", "刘安办", "--role", "township_officer", "--org", "三星乡安办"]


@pytest.fixture
def township_db(tmp_path: Path) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'township.db'}"
    store = SqlStore(url)
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    engine = Engine(store=store, clock=clock, ids=SequentialIds(), policies=PolicyRegistry.installed())
    w = World(engine, clock)
    ids = {"general": w.register().id}
    ids["ordered"] = w.fire(w.register(description="配电箱门缺失"), "set_deadline", People.officer, ORDER).id
    tip = receive(engine)
    ids["tipoff"] = tip.id
    engine.open_obligations(
        "500240204",
        party_kind="township",
        jurisdiction="500240204",
        start=date(2024, 3, 1),
        end=date(2024, 3, 31),
        actor=People.officer,
    )
    clock.set("2024-04-10T09:00:00+08:00")
    engine.run_due()
    store.close()
    return url, ids


def _run(*args: str) -> Any:
    return runner.invoke(__import__("hazardflow.cli", fromlist=["app"]).app, list(args))


def test_report_monthly_writes_markdown_and_excel(township_db: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, _ = township_db
    out = tmp_path / "out"
    res = _run("report", "monthly", "--url", url, "--jurisdiction", "500240204", "--period", "2024-03", "-o", str(out))
    assert res.exit_code == 0, res.output
    md = (out / "500240204-month-2024-03.md").read_text(encoding="utf-8")
    assert md.startswith("# 三星乡安全生产事故隐患排查治理月报（2024-03）")
    assert "| 本期新登记隐患数（全部等级） | 2 |" in md
    assert "| 本期受理举报数 | 1 |" in md
    assert "| 安全风险研判会 | 乡镇（街道）政府 | 2024-03-28 |" in md
    wb = openpyxl.load_workbook(out / "500240204-month-2024-03.xlsx")
    assert wb.sheetnames[0] == "汇总"
    values = {row[0]: row[1] for row in wb["汇总"].iter_rows(min_row=5, values_only=True)}
    assert values["期末未销号隐患数（全部等级）"] == 2
    res = _run(
        "report", "monthly", "--url", url, "--jurisdiction", "500240204", "--period", "2024-03", "--lang", "en",
        "-o", str(out),
    )  # fmt: skip
    assert res.exit_code == 0
    assert "| open hazards at the end (all grades) | 2 |" in (out / "500240204-month-2024-03-en.md").read_text()


def test_filing_the_report_completes_the_obligation(township_db: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, _ = township_db
    args = [
        "report",
        "monthly",
        "--url",
        url,
        "--jurisdiction",
        "500240204",
        "--period",
        "2024-03",
        "-o",
        str(tmp_path),
    ]
    res = _run(*args, "--file", "--obligation", "monthly_risk_judgement", "--party", "500240204", *OFFICER,
               "--actor-jurisdiction", "500240204")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "已办结" in res.output
    res = _run("cases", "list", "--url", url, "--workflow", "report_obligation", "--state", "fulfilled", "--json")
    items = json.loads(res.output)["items"]
    assert [i["fields"]["obligation"] for i in items] == ["monthly_risk_judgement"]
    # Filing again: nothing left to file; refused, nothing changed.
    res = _run(*args, "--file", "--obligation", "monthly_risk_judgement", "--party", "500240204", *OFFICER,
               "--actor-jurisdiction", "500240204")  # fmt: skip
    assert res.exit_code == 2
    assert "no open reporting obligation" in res.output


def test_report_refuses_a_bad_period(township_db: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, _ = township_db
    res = _run(
        "report", "monthly", "--url", url, "--jurisdiction", "500240204", "--period", "2024-13", "-o", str(tmp_path)
    )
    assert res.exit_code == 2
    assert "2024-13" in res.output
    assert not list(tmp_path.glob("*.md"))


def test_ledger_export_and_dry_run_import(township_db: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, _ = township_db
    path = tmp_path / "台账.xlsx"
    res = _run("ledger", "export", "--url", url, "--jurisdiction", "500240", "-o", str(path))
    assert res.exit_code == 0, res.output
    assert "2 行" in res.output
    res = _run("ledger", "import", str(path), "--url", url, "--dry-run", *OFFICER, "--actor-jurisdiction", "500240204")
    assert res.exit_code == 1  # the ordered hazard's deadline is past: listed as a bad row
    assert "当前阶段期限" in res.output
    assert "already past" in res.output
    res = _run("ledger", "import", str(path), "--url", url, *OFFICER)
    assert res.exit_code == 2
    assert "--actor-jurisdiction" in res.output


def test_cases_list_show_history(township_db: tuple[str, dict[str, str]]) -> None:
    url, ids = township_db
    res = _run("cases", "list", "--url", url, "--workflow", "hazard", "--overdue")
    assert res.exit_code == 0, res.output
    assert ids["ordered"] in res.output
    assert ids["general"] not in res.output
    assert "整改中 rectifying" in res.output
    res = _run("cases", "list", "--url", url, "--limit", "1", "--json")
    body = json.loads(res.output)
    assert body["total"] >= 3
    assert len(body["items"]) == 1
    assert body["next_cursor"]
    res = _run("cases", "list", "--url", url, "--limit", "1", "--cursor", body["next_cursor"], "--json")
    assert json.loads(res.output)["items"][0]["id"] != body["items"][0]["id"]
    res = _run("cases", "show", ids["ordered"], "--url", url)
    assert "状态 state: 整改中 rectifying" in res.output
    res = _run("cases", "history", ids["ordered"], "--url", url)
    assert "限期整改 set_deadline" in res.output
    assert "逾期 mark_overdue" in res.output
    res = _run("cases", "show", "HZ-999999", "--url", url)
    assert res.exit_code == 2
    res = _run("cases", "list", "--url", url, "--jurisdiction", "5002")
    assert res.exit_code == 2


def test_the_reporter_is_shown_only_through_the_audited_read(township_db: tuple[str, dict[str, str]]) -> None:
    url, ids = township_db
    tip = ids["tipoff"]
    plain = _run("cases", "show", tip, "--url", url, "--json")
    assert plain.exit_code == 0
    assert "举报人甲" not in plain.output
    assert "13900001111" not in plain.output
    history = _run("cases", "history", tip, "--url", url, "--json")
    assert "举报人甲" not in history.output
    desk = [
        "--actor-id",
        DESK.id,
        "--role",
        "complaint_officer",
        "--org",
        DESK.org,
        "--actor-jurisdiction",
        "500240204",
    ]
    refused = _run("cases", "show", tip, "--url", url, "--reveal-reporter", "--purpose", "核实", *OFFICER[:2],
                   "--role", "township_officer", "--org", "x", "--actor-jurisdiction", "500240204")  # fmt: skip
    assert refused.exit_code == 2
    assert "举报人甲" not in refused.output
    before = len(json.loads(_run("cases", "history", tip, "--url", url, "--json").output))
    shown = _run("cases", "show", tip, "--url", url, "--reveal-reporter", "--purpose", "核实举报内容", *desk)
    assert shown.exit_code == 0, shown.output
    assert "举报人甲" in shown.output
    events = json.loads(_run("cases", "history", tip, "--url", url, "--json").output)
    assert len(events) == before + 1
    assert events[-1]["trigger"] == "view_reporter"
    assert events[-1]["actor_id"] == DESK.id
