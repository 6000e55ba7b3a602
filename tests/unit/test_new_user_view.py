"""What a new user reads: the simulation's report and tables alone, the CLI at 80 columns, charts in Chinese.

The report must read without the docs (rates with their counts, small samples flagged, every target's
allowance, the sources linked, the case counts explained); the CLI's tables fit 80 columns, piped or not,
without cutting a number; charts draw Chinese with a CJK font found the same way everywhere.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hazardflow import Actor, Engine, InvalidInput, SimulatedClock
from hazardflow._fonts import ENV_VAR, PROBE, cjk_font, has_glyphs, use_cjk_font
from hazardflow.cli import app
from hazardflow.simulation import SimulationResult, load_scenario, simulate
from hazardflow.simulation._report import SMALL_SAMPLE, SOURCES_URL

ROOT = Path(__file__).resolve().parents[2]
SANJIA = ROOT / "examples" / "scenarios" / "sanjia_2024_2026.py"
UNTIL = "2024-12-31"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimulationResult, str, Path]:
    """三甲镇's first campaign year through the CLI at 80 columns (output piped), and the same run in Python."""
    out = tmp_path_factory.mktemp("sim") / "out"
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        app, ["simulate", str(SANJIA), "--seed", "1", "--until", UNTIL, "--out", str(out), "--no-charts"]
    )
    assert result.exit_code == 0, result.output
    same = simulate(load_scenario(str(SANJIA)), seed=1, until=date.fromisoformat(UNTIL))
    return same, result.output, out


# ── the report, read alone ──────────────────────────────────────────────────────────────────────────
RATE = re.compile(r"^(\d+\.\d)% \((\d+)/(\d+)\)(†?)$")


def _tables(text: str) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rates_come_with_their_counts_and_small_samples_are_flagged(
    run: tuple[SimulationResult, str, Path], lang: str
) -> None:
    result, _, out = run
    text = (out / f"report.{lang}.md").read_text(encoding="utf-8")
    period_tables = [t for t in _tables(text) if t[0][0] in ("期间", "period")]
    assert len(period_tables) == 2  # by year, by quarter
    checked = flagged = 0
    for table in period_tables:
        head = table[0]
        rate_cols = [i for i, h in enumerate(head) if "按期" in h or "on time" in h]
        assert len(rate_cols) == 3
        for row in table[2:]:
            period = result.period(row[0])
            for i, grade in zip(rate_cols, (None, "general", "major"), strict=True):
                hits, total = period.on_time_count(grade=grade)
                if not total:
                    assert row[i] == "-"
                    continue
                m = RATE.match(row[i])
                assert m is not None, row[i]
                assert (int(m[2]), int(m[3])) == (hits, total)
                assert m[1] == f"{100 * hits / total:.1f}"
                assert bool(m[4]) == (total < SMALL_SAMPLE)
                flagged += bool(m[4])
                checked += 1
    assert checked >= 15
    assert flagged > 0  # the quarters' few major closures are flagged as small samples
    assert ("不足 10 件" if lang == "zh" else "fewer than 10") in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_target_states_its_allowance_and_links_its_sources(
    run: tuple[SimulationResult, str, Path], lang: str
) -> None:
    result, _, out = run
    text = (out / f"report.{lang}.md").read_text(encoding="utf-8")
    targets = next(t for t in _tables(text) if t[0][0] in ("目标", "target"))
    assert len(targets) - 2 == len(result.targets) == 3
    for row in targets[2:]:
        assert ("允许" if lang == "zh" else "allowed") in row[2], row
        # every source tag is a link to the paragraph of the sources page that explains it
        tags = re.findall(r"\[([^\]]+)\]\(([^)]+)\)", row[3])
        assert tags, row[3]
        for _tag, link in tags:
            assert link.startswith(SOURCES_URL + "#"), link
        anchors = {tag.split()[0]: link.rsplit("#", 1)[1] for tag, link in tags}
        assert anchors.get("S16") == "s16"
        assert anchors.get("inference") == "how-to-read-a-tag"
    sources = (ROOT / "docs" / "explanation" / "sources.md").read_text(encoding="utf-8")
    for anchor in ("s16", "seed-000", "seed-004", "how-to-read-a-tag"):
        assert f'id="{anchor}"' in sources or f"{{#{anchor}}}" in sources, anchor


def test_the_report_explains_days_to_close_and_its_case_counts(run: tuple[SimulationResult, str, Path]) -> None:
    result, _, out = run
    zh = (out / "report.zh.md").read_text(encoding="utf-8")
    en = (out / "report.en.md").read_text(encoding="utf-8")
    total, st = result.total, result.stats
    spot, deadline = total.days_to_close(route="spot"), total.days_to_close(route="deadline")
    assert spot["n"]
    assert deadline["n"]
    assert spot["n"] + deadline["n"] == total.days_to_close()["n"]
    assert f"中位 {deadline['median']:.1f} 天" in zh
    assert f"median {deadline['median']:.1f} days" in en
    assert "即查即改" in zh
    assert "on the spot" in en
    # hazard cases = found + carried in from the stock; audit verify also counts tip-offs and escalations
    assert total.total_opened() + total.carried_in() == st.cases
    assert total.carried_in() > 0
    every = st.cases + st.tipoffs + st.escalations
    assert f"`hazardflow audit verify` 数出的案件是 {every} 件" in zh
    assert f"`hazardflow audit verify` counts {every} cases" in en


def test_the_report_has_no_duplicated_table_and_one_number_format(run: tuple[SimulationResult, str, Path]) -> None:
    _, _, out = run
    text = (out / "report.zh.md").read_text(encoding="utf-8")
    bodies = [tuple(map(tuple, t[2:])) for t in _tables(text)]
    numbers_only = [tuple(tuple(c for c in r[1:]) for r in b) for b in bodies if b]
    assert len(numbers_only) == len(set(numbers_only)), "two tables show the same figures"
    days = next(t for t in _tables(text) if t[0][0] == "期间")
    cols = [i for i, h in enumerate(days[0]) if "天数" in h]
    for row in days[2:]:
        for i in cols:
            for part in row[i].split(" / "):
                assert part == "-" or re.fullmatch(r"\d+\.\d", part), row[i]


def test_escalations_show_in_the_headline_example(run: tuple[SimulationResult, str, Path]) -> None:
    result, _, _ = run
    assert result.total.event_count("escalation", "propose_escalation") > 0
    assert result.total.event_count("escalation", "accept_escalation") > 0


# ── the CLI at 80 columns, piped ────────────────────────────────────────────────────────────────────
def test_tables_fit_80_columns_without_cutting_a_number(run: tuple[SimulationResult, str, Path]) -> None:
    result, output, _ = run
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in output
    assert "━" not in output  # no progress bar when the output is not a terminal
    for p in result.of_kind("quarter", "year", "total"):
        row = next(line for line in lines if line.strip().startswith(p.label + " "))
        cells = row.split()
        assert cells[1] == str(p.total_opened()), row
        assert cells[2] == str(p.closed()), row
        hits, total = p.on_time_count()
        assert cells[3].rstrip("†") == f"{100 * hits / total:.1f}%", row


def test_compare_writes_its_own_folder_and_names_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    variant = ROOT / "examples" / "scenarios" / "variants.py"
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        app,
        ["simulate", str(SANJIA), "--until", "2024-12-31", "--no-charts", "--compare", f"{variant}:SanjiaQuickLadder"],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "comparison-output" / "comparison.json").is_file()
    assert not (tmp_path / "simulation-output").exists()  # never mixed with a single run's files
    out = result.output
    assert "cn.sx.gaoping.sanjia@2024.1 高平市三甲镇" in out
    assert "cn.sx.gaoping.sanjia@2024.1+ladder-3wd 高平市三甲镇" in out
    assert "SanjiaQuickLadder" not in out
    assert "True" not in out
    assert "False" not in out
    # Each target on one bilingual line: 中文 name, English name, verdict A → verdict B.
    joined = " ".join(out.split())
    for zh_name, en_name in (
        ("2024年底前基本消除2023年及以前排查发现的重大事故隐患存量", "stock of major hazards found before 2024-01-01"),
        ("2025年底前有效遏制重大事故隐患增量", "new major hazards effectively curbed"),
    ):
        assert f"{zh_name} / {en_name}" in joined
    assert "met 达标 → met 达标" in joined  # the stock is cleared under both policies


def test_help_fits_80_columns_and_shows_no_bool_metavar() -> None:
    from typer.main import get_command

    def paths(cmd: object, prefix: list[str]) -> Iterator[list[str]]:
        yield prefix
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from paths(sub, [*prefix, name])

    seen = 0
    for path in paths(get_command(app), []):
        result = CliRunner(env={"COLUMNS": "80"}).invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, path
        assert "…" not in result.output, (path, result.output)
        seen += 1
    assert seen >= 12


def test_examples_and_docs_use_only_public_modules() -> None:
    private = re.compile(r"(?:from|import)\s+hazardflow(?:\.\w+)*\._\w+")
    files = [*ROOT.glob("examples/*.py"), *ROOT.glob("examples/scenarios/*.py"), ROOT / "README.md"]
    files += [p for p in (ROOT / "docs").rglob("*.md") if "reference" not in p.parts]
    offenders = [str(p.relative_to(ROOT)) for p in files if private.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


# ── instants in the jurisdiction's time ─────────────────────────────────────────────────────────────
def test_instants_read_in_asia_shanghai() -> None:
    engine = Engine(clock=SimulatedClock("2024-03-04T09:00:00+08:00"))
    inspector = Actor("e-zhang", "张检查", {"inspector"}, "BU-0001", "500240204")
    officer = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", "500240204")
    case = engine.open_case(
        "hazard",
        actor=inspector,
        jurisdiction="500240204",
        grade="general",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit="BU-0001",
        location="一号车间",
        description="砂轮机防护罩缺失",
    )
    case = engine.fire(
        case.id,
        "set_deadline",
        actor=officer,
        payload={"deadline": "2024-03-20", "measures": "加装防护罩", "responsible": "李安全"},
    )
    assert "datetime.datetime(2024, 3, 4, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))" in repr(case)
    assert "tzinfo=datetime.timezone.utc" not in repr(case)
    assert case.deadline is not None
    assert str(case.deadline) == "2024-03-20 24:00 (Asia/Shanghai)"
    assert case.deadline.local_due_at.isoformat() == "2024-03-21T00:00:00+08:00"
    assert case.deadline.local_due_at == case.deadline.due_at  # the same instant
    event = engine.history(case.id)[-1]
    assert "ZoneInfo(key='Asia/Shanghai')" in repr(event)
    timer = next(t for t in engine.store.armed_timers(case.id) if t.kind == "deadline")
    assert "due_at=datetime.datetime(2024, 3, 21, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))" in repr(timer)


# ── charts in Chinese ───────────────────────────────────────────────────────────────────────────────
def test_a_cjk_font_is_found_and_has_the_glyphs() -> None:
    font = cjk_font()
    assert font is not None, "no CJK font installed: apt-get install fonts-noto-cjk (.ci/run does)"
    assert has_glyphs(font.path, PROBE + "达标未判定存量基本消除动态清零")
    assert not has_glyphs(_latin_font(), "重大")


def _latin_font() -> str:
    from matplotlib import font_manager

    return str(font_manager.findfont("DejaVu Sans"))


def test_charts_render_chinese_without_missing_glyphs(
    run: tuple[SimulationResult, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib.pyplot as plt

    from hazardflow.simulation._charts import draw_charts

    result, _, _ = run
    figures: list[object] = []
    close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig=None: (figures.append(fig), close(fig)))  # keep a look at each
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = draw_charts(result, tmp_path, require_cjk=True)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert missing == []
    assert [p.name for p in paths] == ["open_majors.png", "on_time_by_industry.png", "ladder.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    majors, industry, ladder = (fig.axes[0] for fig in figures)  # type: ignore[attr-defined]
    texts = [t.get_text() for ax in (majors, industry, ladder) for t in ax.texts]
    # markers name the targets in Chinese (glossary), never by code id; every chart states its sample size
    assert any(t.startswith("存量基本消除：") for t in texts)
    assert not any("stock_cleared" in t for t in texts)
    assert any("重大隐患共" in t.get_text() for t in majors.texts)
    assert any("全程销号" in t.get_text() for t in industry.texts)
    assert any("进入督办阶梯" in t.get_text() for t in ladder.texts)
    # Count axes tick at whole numbers, even when the counts are small (matplotlib would tick 0.25, 0.5, ...).
    figures.clear()
    small = simulate(load_scenario(str(SANJIA)), seed=1, until=date(2024, 1, 31))
    assert max(small.total.flows.reached.values(), default=0) <= 4
    draw_charts(small, tmp_path / "small")
    for fig in (figures[0], figures[2]):
        ax = fig.axes[0]  # type: ignore[attr-defined]
        assert all(float(v).is_integer() for v in ax.get_yticks()), ax.get_yticks()


def test_a_title_in_chinese_draws_no_tofu_with_the_font_found() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context():
        assert use_cjk_font(plt.rcParams) is not None
        fig, ax = plt.subplots()
        ax.set_title("每月末未销号重大事故隐患：函告、通报、约谈、曝光")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
        plt.close(fig)
    assert [str(w.message) for w in caught if "missing from" in str(w.message)] == []


def test_without_a_cjk_font_charts_fall_back_or_refuse_clearly() -> None:
    latin = _latin_font()
    rc: dict[str, object] = {}
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        assert use_cjk_font(rc, paths=[latin]) is None
    assert rc == {}  # nothing changed: English labels in the default font
    with pytest.raises(InvalidInput) as err:
        use_cjk_font(rc, required=True, paths=[latin])
    assert "no installed font has Chinese glyphs" in str(err.value)
    assert ENV_VAR in str(err.value)


def test_a_font_named_in_the_environment_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope.otf"))
    with pytest.raises(InvalidInput, match="no such font file"):
        cjk_font()
    monkeypatch.setenv(ENV_VAR, _latin_font())
    with pytest.raises(InvalidInput, match="no glyphs for Chinese"):
        cjk_font()
    monkeypatch.delenv(ENV_VAR)
    font = cjk_font()
    assert font is not None
    monkeypatch.setenv(ENV_VAR, font.path)
    named = cjk_font()
    assert named is not None
    assert named.path == font.path
