"""The example scenarios and the ``hazardflow simulate`` command, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hazardflow import Engine
from hazardflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "examples" / "scenarios"
PNG = b"\x89PNG\r\n\x1a\n"

runner = CliRunner()


def simulate(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["simulate", *args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split()) if result.exit_code else result.output


def check_outputs(out: Path, *, charts: bool = True) -> dict[str, object]:
    figures = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    zh = (out / "report.zh.md").read_text(encoding="utf-8")
    en = (out / "report.en.md").read_text(encoding="utf-8")
    assert "## 目标达成情况" in zh
    assert "## 年度指标" in zh
    assert "## Campaign targets" in en
    assert "## On-time closure by industry" in en
    if charts:
        for name in ("open_majors", "on_time_by_industry", "ladder"):
            png = out / "charts" / f"{name}.png"
            assert png.read_bytes()[:8] == PNG
            assert f"charts/{name}.png" in zh
    return figures


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        ("sanxing_2023", {"majors_governed"}),
        ("sanjia_2024_2026", {"stock_cleared", "inflow_curbed", "dynamic_zero"}),
        ("qingpingjie_2024_2026", {"stock_cleared", "inflow_curbed", "dynamic_zero"}),
    ],
)
def test_example_scenario_runs_to_its_end(tmp_path: Path, name: str, targets: set[str]) -> None:
    out = tmp_path / name
    code, output = simulate(str(SCENARIOS / f"{name}.py"), "--seed", "1", "--out", str(out))
    assert code == 0, output
    assert "audit digest" in output
    figures = check_outputs(out)
    judged = {t["id"]: t["passed"] for t in figures["targets"]}  # type: ignore[index]
    assert set(judged) == targets
    assert all(v is not None for v in judged.values())
    stats = figures["stats"]  # type: ignore[index]
    assert stats["cases"] > 300
    assert stats["refused"] == 0
    assert stats["stuck"] == 0
    years = [p["label"] for p in figures["periods"] if p["kind"] == "year"]  # type: ignore[index]
    assert years == (["2023"] if name == "sanxing_2023" else ["2024", "2025", "2026"])


def test_county_scenario_first_month(tmp_path: Path) -> None:
    out = tmp_path / "county"
    code, output = simulate(
        str(SCENARIOS / "dongzhi_county_2024_2026.py"),
        "--seed",
        "1",
        "--until",
        "2024-01-31",
        "--out",
        str(out),
        "--no-charts",
    )
    assert code == 0, output
    figures = check_outputs(out, charts=False)
    assert figures["until"] == "2024-01-31"
    # 15 townships, about 5,000 units, about 100,000 cases in three years: some 2,500 in January.
    assert 1800 < figures["stats"]["cases"] < 3500  # type: ignore[index]
    assert {t["passed"] for t in figures["targets"]} == {None}  # type: ignore[index]


def test_json_output_and_sqlite_store(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    code, output = simulate(
        str(SCENARIOS / "sanxing_2023.py"),
        "--seed",
        "2",
        "--until",
        "2023-07-31",
        "--store",
        f"sqlite:///{db}",
        "--out",
        str(tmp_path / "out"),
        "--json",
        "--no-charts",
    )
    assert code == 0, output
    figures = json.loads(output[output.index("{") :])
    assert figures["store"] == f"sqlite:///{db}"
    with Engine.from_url(f"sqlite:///{db}") as engine:
        report = engine.verify_audit()
    assert report.problems == ()
    assert report.events == figures["stats"]["commands"]
    # ... and the library's other tools open it.
    verified = runner.invoke(app, ["audit", "verify", "--url", f"sqlite:///{db}"], catch_exceptions=False)
    assert verified.exit_code == 0, verified.output


def test_a_store_that_holds_cases_is_refused_unless_replaced(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    args = (str(SCENARIOS / "sanxing_2023.py"), "--seed", "2", "--until", "2023-05-31", "--no-charts")
    args += ("--store", f"sqlite:///{db}", "--out", str(tmp_path / "out"))
    code, first = simulate(*args)
    assert code == 0, first
    with Engine.from_url(f"sqlite:///{db}") as engine:
        before = [(c.id, c.rev) for c in engine.cases()]
    code, output = simulate(*args)
    assert code == 2
    assert "already holds cases" in output
    assert "--replace" in output
    with Engine.from_url(f"sqlite:///{db}") as engine:
        assert [(c.id, c.rev) for c in engine.cases()] == before  # the refused run wrote nothing
    code, again = simulate(*args, "--replace")
    assert code == 0, again
    with Engine.from_url(f"sqlite:///{db}") as engine:
        assert [(c.id, c.rev) for c in engine.cases()] == before  # same seed, fresh file, same cases
        assert engine.verify_audit().ok
    code, output = simulate(
        str(SCENARIOS / "sanxing_2023.py"), "--store", "postgresql+psycopg://nobody@127.0.0.1:1/x", "--replace"
    )
    assert code == 2
    assert "hazardflow.database_unavailable" in output  # a typed refusal, not a traceback


def test_forecast_from_a_copy_of_a_database(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    first = tmp_path / "first.py"
    first.write_text("from simulation_support import BUSY as scenario\n", encoding="utf-8")
    code, output = simulate(
        str(first), "--until", "2024-03-31", "--store", f"sqlite:///{live}", "--out", str(tmp_path / "a"), "--no-charts"
    )
    assert code == 0, output
    later = tmp_path / "later.py"
    later.write_text(
        "import attrs\nfrom datetime import date\nfrom simulation_support import BUSY\n"
        "scenario = attrs.evolve(BUSY, start=date(2024, 4, 1), backlog=None)\n",
        encoding="utf-8",
    )
    size = live.stat().st_size
    code, output = simulate(
        str(later),
        "--until",
        "2024-06-30",
        "--from",
        f"sqlite:///{live}",
        "--store",
        f"sqlite:///{tmp_path / 'forecast.db'}",
        "--out",
        str(tmp_path / "b"),
        "--json",
        "--no-charts",
    )
    assert code == 0, output
    figures = json.loads(output[output.index("{") :])
    assert figures["stats"]["adopted"] > 0
    assert live.stat().st_size == size  # the source database is never written


def test_compare_two_policies(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    code, output = simulate(
        str(SCENARIOS / "sanjia_2024_2026.py"),
        "--seed",
        "3",
        "--until",
        "2024-09-30",
        "--compare",
        f"{SCENARIOS / 'variants.py'}:SanjiaFastReview",
        "--out",
        str(out),
    )
    assert code == 0, output
    assert "cn.sx.gaoping.sanjia@2024.1+review-5wd" in output
    assert "SanjiaFastReview" not in output  # policies are named by id and 中文 name, not by class
    assert "True → " not in output
    assert "False → " not in output
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert data["other"]["label"] == "cn.sx.gaoping.sanjia@2024.1+review-5wd 高平市三甲镇"
    assert "cn.sx.gaoping.sanjia@2024.1+review-5wd" in data["other"]["result"]["policies"]
    rows = {r["key"]: r for r in data["rows"]}
    assert rows["2024.opened"]["delta"] == 0
    assert rows["2024.missed.review"]["other"] > rows["2024.missed.review"]["base"]
    assert (out / "comparison.zh.md").read_text(encoding="utf-8").startswith("# 三甲镇")
    assert (out / "comparison.en.md").read_text(encoding="utf-8").startswith("# Sanjia")
    assert (out / "charts" / "compare_open_majors.png").read_bytes()[:8] == PNG


def test_bad_scenario_is_refused_clearly(tmp_path: Path) -> None:
    code, output = simulate(str(tmp_path / "nothing.py"))
    assert code == 2
    assert "no such file" in output
    assert "sanxing_2023.py" not in output  # tmp_path holds no scenario: nothing to suggest
    code, output = simulate(str(SCENARIOS / "nope.py"))
    assert code == 2
    assert "no such file" in output
    assert "sanjia_2024_2026.py" in output  # the scenarios that do exist there
    code, output = simulate(str(SCENARIOS / "sanxing_2023.py"), "--until", "2023-13-01")
    assert code == 2
    assert "is not a date" in output
    code, output = simulate(str(SCENARIOS / "sanxing_2023.py"), "--until", "2024-06-01")
    assert code == 2
    assert "must not be after the scenario's end" in output
