"""The deadline, ladder and worker pages: diagrams are the rendered table, snippets run, claims hold."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from hazardflow import CalendarRule, ChineseWorkingCalendar
from hazardflow._lifecycle import render_mermaid
from hazardflow.workflows import OBLIGATION

DOCS = Path(__file__).resolve().parents[2] / "docs"
_MERMAID = re.compile(r"```mermaid\n(.*?)```", re.S)
_PYTHON = re.compile(r"```python\n(.*?)```", re.S)


def test_obligation_diagrams_are_the_rendered_lifecycle() -> None:
    text = (DOCS / "explanation/overdue-ladder.md").read_text(encoding="utf-8")
    assert _MERMAID.findall(text) == [render_mermaid(OBLIGATION.spec, "zh"), render_mermaid(OBLIGATION.spec, "en")]


def test_ladder_page_snippets_run() -> None:
    text = (DOCS / "explanation/overdue-ladder.md").read_text(encoding="utf-8")
    policy_snippet, obligations_snippet = _PYTHON.findall(text)
    namespace: dict[str, object] = {}
    exec(compile(policy_snippet, "overdue-ladder.md", "exec"), namespace)
    township = namespace["SanxingTownship"]()  # type: ignore[operator]
    assert [r.party for r in township.overdue_ladder] == ["department"] * 3
    exec(compile(obligations_snippet, "overdue-ladder.md", "exec"), {})


def test_deadline_page_examples_hold() -> None:
    text = (DOCS / "explanation/deadlines.md").read_text(encoding="utf-8")
    assert "2004\u20132026" in text  # "2004-2026" with an en dash
    cal = ChineseWorkingCalendar()
    assert cal.covered_years == (2004, 2026)
    assert cal.is_working_day(date(2026, 2, 14))
    assert cal.is_working_day(date(2026, 2, 28))
    assert CalendarRule("day_of_month", 29).last_day(date(2026, 2, 1)) == date(2026, 2, 28)
    assert CalendarRule("day_of_month", 29, fallback="next_month_first").last_day(date(2026, 2, 1)) == date(2026, 3, 1)
    assert CalendarRule("annual", 1, month=12).last_day(date(2026, 12, 2)) == date(2027, 12, 1)


def test_worker_page_names_the_real_options() -> None:
    from typer.testing import CliRunner

    from hazardflow.cli import app

    text = (DOCS / "how-to/timer-workers.md").read_text(encoding="utf-8")
    options = set(re.findall(r"`(--[a-z-]+)`", text))
    help_text = CliRunner().invoke(app, ["worker", "--help"], terminal_width=200).output
    assert options
    for option in options:
        assert option in help_text, option
