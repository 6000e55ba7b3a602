"""``examples/township_deadlines.py``: a township's working-day deadlines firing under a simulated clock."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

from hazardflow._calendar import end_of_local_day

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "township_deadlines.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("township_deadlines", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_story_runs_on_the_2026_calendar() -> None:
    result = load().main(echo=False)
    # 5 working days from Tuesday 10 February: 11, 12, 13, Saturday 14 (调休), Tuesday 24 after the holiday.
    assert result["review_due"] == end_of_local_day(date(2026, 2, 24))
    fixed = result["fixed"]
    assert fixed.state == "closed"
    assert not fixed.overdue
    ignored = result["ignored"]
    assert ignored.overdue
    assert ignored.sanction_rung == 3
    lines = [(when[:10], cid, what) for when, cid, what in result["timeline"]]
    a, b = ignored.id, fixed.id
    assert ("2026-02-12", a, "reminder (到期提醒)") in lines  # 2 working days before 24:00 Friday 13
    assert ("2026-02-14", a, "overdue (逾期)") in lines
    assert ("2026-02-14", b, "reminder (到期提醒)") in lines  # 2 working days before the review: 24:00 13 Feb
    # 函告 1 working day after the deadline = Saturday 14 (调休); 通报 5 more = Saturday 28 (调休);
    # 约谈 10 more, skipping the township's own holiday on 12 March = Monday 16 March. Each swept next morning.
    assert ("2026-02-15", a, "rung 1 formal_letter → emergency_management") in lines
    assert ("2026-03-01", a, "rung 2 circular_notice → emergency_management") in lines
    assert ("2026-03-17", a, "rung 3 admonitory_talk → emergency_management") in lines
    feb, mar = result["reports"]
    # 每月29日前 in a February of 28 days (the deadline stays pinned on the case after filing).
    assert feb.pins["obligation"].due_at == end_of_local_day(date(2026, 2, 28))
    assert feb.state == "fulfilled"
    assert feb.fields["on_time"] is True
    assert mar.state == "due"
    assert mar.overdue
    assert mar.sanction_rung == 1
    assert ("2026-03-31", mar.id, "rung 1 formal_letter → 三星乡经济发展办公室") in lines
    assert result["audit_ok"]


def test_the_script_prints_its_timeline() -> None:
    out = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=True)
    assert "review due by 24:00 02-24 Tue" in out.stdout
    assert "highest rung=3; audit ok=True" in out.stdout
