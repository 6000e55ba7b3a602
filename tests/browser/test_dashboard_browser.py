"""The board in a real browser: Debian's Chromium driven by Playwright, the board served by ``hazardflow
serve`` (uvicorn, JWT bearer tokens: the service's own authentication) over loopback from a SQLite file.

Every page must load with no console error, no failed request and no request leaving 127.0.0.1; the numbers
shown must equal ``hazardflow.reports`` on the same database; each page's screenshot must show Chinese
glyphs (not tofu boxes); the three status colours must keep a contrast of at least 4.5:1; charts carry text
alternatives; the page reloads itself when a case changes; a viewer sees only their own jurisdiction.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hazard_world import REGISTER
from hazardflow import Actor, Engine, SimulatedClock
from hazardflow.dashboard import filter_from_query
from hazardflow.persistence.sql import SqlStore
from hazardflow.reports import count_cases, count_cases_by
from reports_support import new_engine, officer_for, play
from server_support import JWT_ARGS, bearer, service

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))
from test_reports_query import STEPS

CHROMIUM = "/usr/bin/chromium"
COUNTY = Actor("v-county", "县安委办查看人", {"safety_committee_office"}, "石柱县安委办", "500240")
TOWNSHIP = Actor("v-town", "乡安办查看人", {"township_officer"}, "三星乡安办", "500240204")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM} (.ci/run installs it)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")

#: Screenshots land here (``HAZARDFLOW_SCREENSHOTS`` overrides; CI keeps them as artefacts).
SHOTS = Path(os.environ.get("HAZARDFLOW_SCREENSHOTS", "")) if os.environ.get("HAZARDFLOW_SCREENSHOTS") else None
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A SQLite file with the report tests' history; returns (url, the board's now)."""
    path = tmp_path_factory.mktemp("board") / "board.db"
    url = f"sqlite:///{path}"
    store = SqlStore(url)
    engine, clock = new_engine(store)
    play(engine, clock, STEPS)
    now = clock.now().isoformat()
    store.close()
    return url, now


@pytest.fixture(scope="module")
def server(database: tuple[str, str]) -> Iterator[str]:
    with service(database[0], *JWT_ARGS) as svc:
        yield svc.base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Watch:
    """Console errors, page errors, failed requests and requests that tried to leave the machine."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: self.failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)

        def guard(route: Any) -> None:
            host = urlsplit(route.request.url).hostname
            if route.request.url.startswith(("file:", "data:")) or host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        page.route("**/*", guard)

    def clean(self) -> None:
        assert self.errors == []
        assert self.failed == []
        assert self.outside == []


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    ctx = browser.new_context(
        viewport={"width": 1400, "height": 900}, extra_http_headers=bearer(COUNTY), locale="zh-CN"
    )
    pg = ctx.new_page()
    watch = Watch(pg)
    yield pg, watch
    ctx.close()


def assert_cjk_glyphs(page: Any, selector: str, name: str) -> None:
    """The element's Chinese text is drawn with real glyphs.

    Without a CJK font every Chinese character is the same tofu box, so the text and the text with each of
    its Chinese characters replaced by ``口`` would look the same. With glyphs they differ; the control
    (two different unassigned characters, both drawn as the missing glyph) shows the comparison can fail.
    """
    from PIL import Image

    el = page.locator(selector).first
    original = el.inner_text()
    assert CJK.search(original), original

    def shot(text: str) -> bytes:
        el.evaluate("(e, t) => { e.textContent = t; }", text)
        return bytes(el.screenshot())

    drawn = shot(original)
    same_char = shot(CJK.sub("口", original))
    missing_a = shot(CJK.sub("\U000e01f0", original))
    missing_b = shot(CJK.sub("\U000e01ef", original))
    el.evaluate("(e, t) => { e.textContent = t; }", original)
    assert drawn != same_char, f"{name}: Chinese text renders as identical boxes (no CJK font?)"
    assert missing_a == missing_b, f"{name}: the tofu control does not render alike; the check cannot be trusted"
    ink = Image.open(io.BytesIO(drawn)).convert("L")
    assert ink.getextrema()[0] < 128  # something dark was drawn
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)


def screenshot(page: Any, name: str) -> bytes:
    data = bytes(page.screenshot(full_page=True))
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / f"{name}.png").write_bytes(data)
    return data


def _open_board(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=15000)


def _count(db_url: str, href: str) -> int:
    params = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    flt = filter_from_query(params)
    with SqlStore(db_url, create=False) as store:
        if params.get("exact") == "true":
            assert flt.jurisdiction is not None
            return count_cases_by(store, flt, by="division").get((flt.jurisdiction,), 0)
        return count_cases(store, flt)


def test_board_loads_clean_and_shows_the_reports_figures(
    page: tuple[Any, Watch], server: str, database: tuple[str, str]
) -> None:
    pg, watch = page
    _open_board(pg, f"{server}/dashboard/500240")
    assert pg.title().startswith("石柱土家族自治县")
    links = pg.eval_on_selector_all("a.num", "els => els.map(e => [e.getAttribute('href'), e.textContent.trim()])")
    assert len(links) > 25
    for href, text in links:
        assert _count(database[0], href) == int(text), href
    # Every KPI but the rate is a link; the open count is the plain recount of open hazards.
    with SqlStore(database[0], create=False) as store:
        open_hazards = sum(1 for c in store.iter_cases() if c.workflow == "hazard" and c.closed_at is None)
    assert pg.inner_text("[data-kpi=open] .num") == str(open_hazards)
    # Charts: drawn as SVG, each with a text alternative and its numbers as a table.
    for chart in pg.query_selector_all(".chart"):
        assert chart.get_attribute("role") == "img"
        assert len(chart.get_attribute("aria-label") or "") > 10
        assert chart.query_selector("svg") is not None
    assert_cjk_glyphs(pg, "h1", "board")
    assert_cjk_glyphs(pg, "table.matrix thead", "matrix")
    screenshot(pg, "board-zh")
    watch.clean()


def test_status_colours_keep_their_contrast(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    _open_board(pg, f"{server}/dashboard/500240")
    ratios = pg.evaluate(
        """() => {
        const lum = (c) => {
          const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(Number).map(v => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const out = {};
        for (const s of ["overdue", "behind", "due_soon"]) {
          const el = document.querySelector(".chip.c-" + s);
          const st = getComputedStyle(el);
          const [a, b] = [lum(st.backgroundColor), lum(st.color)].sort((x, y) => y - x);
          out[s] = [(a + 0.05) / (b + 0.05), st.backgroundColor];
        }
        return out;
      }"""
    )
    assert set(ratios) == {"overdue", "behind", "due_soon"}
    for status, (ratio, _) in ratios.items():
        assert ratio >= 4.5, (status, ratio)
    backgrounds = {bg for _, bg in ratios.values()}
    assert len(backgrounds) == 3  # three distinct colours, each with its word beside it
    watch.clean()


def test_numbers_link_to_their_cases_and_english_switch(
    page: tuple[Any, Watch], server: str, database: tuple[str, str]
) -> None:
    pg, watch = page
    _open_board(pg, f"{server}/dashboard/500240")
    shown = int(pg.inner_text("[data-kpi=overdue] .num"))
    assert shown > 0
    pg.click("[data-kpi=overdue] a.num")
    pg.wait_for_selector("#cases")
    assert int(pg.inner_text("#total")) == shown
    assert pg.locator("#cases tbody tr[data-case]").count() == shown
    assert_cjk_glyphs(pg, "h1", "cases")
    screenshot(pg, "cases-zh")
    pg.click("#lang-switch")
    pg.wait_for_selector("#cases")
    assert pg.get_attribute("html", "lang") == "en"
    assert "case list" in pg.inner_text("h1")
    assert int(pg.inner_text("#total")) == shown
    # The "this level" row counts only the cases registered at the county itself.
    _open_board(pg, f"{server}/dashboard/500240")
    href = pg.get_attribute("tr[data-row='500240'] td[data-state=total] a.num", "href")
    assert href is not None
    assert "exact=true" in href
    pg.click("tr[data-row='500240'] td[data-state=total] a.num")
    pg.wait_for_selector("#cases")
    ids = pg.eval_on_selector_all("#cases tbody tr[data-case]", "els => els.map(e => e.dataset.case)")
    with SqlStore(database[0], create=False) as store:
        at_county = {c.id for c in store.iter_cases() if c.jurisdiction == "500240" and c.closed_at is None}
        at_county = {i for i in at_county if store.load_case(i).workflow == "hazard"}  # type: ignore[union-attr]
    assert set(ids) == at_county
    _open_board(pg, f"{server}/dashboard/500240?lang=en")
    assert pg.get_attribute("html", "lang") == "en"
    assert "hazard campaign board" in pg.inner_text("h1")
    assert "overdue" in pg.inner_text(".legend")
    screenshot(pg, "board-en")
    watch.clean()


def test_drill_down_to_a_township(page: tuple[Any, Watch], server: str) -> None:
    pg, watch = page
    _open_board(pg, f"{server}/dashboard/500240")
    pg.click("a.drill[href$='/500240204']")
    pg.wait_for_selector("body[data-ready='1']")
    assert pg.url.endswith("/dashboard/500240204")
    assert pg.title().startswith("三星乡")
    assert_cjk_glyphs(pg, "h1", "township")
    screenshot(pg, "board-township-zh")
    watch.clean()


def test_the_board_reloads_itself_when_a_case_changes(
    page: tuple[Any, Watch], server: str, database: tuple[str, str]
) -> None:
    pg, watch = page
    _open_board(pg, f"{server}/dashboard/500240204?refresh=1")
    before = int(pg.inner_text("[data-kpi=open] .num"))
    url, now = database
    with SqlStore(url, create=False) as store:
        engine = Engine(store=store, clock=SimulatedClock(now))
        fields = {**REGISTER, "grade": "general", "industry": "construction", "source": "enforcement"}
        engine.open_case("hazard", actor=officer_for("500240204"), jurisdiction="500240204", **fields)
        after = count_cases(
            store, filter_from_query({"workflow": "hazard", "jurisdiction": "500240204", "open": "true"})
        )
    assert after == before + 1
    pg.wait_for_function(
        "n => document.querySelector('[data-kpi=open] .num').textContent.trim() === String(n)", arg=after, timeout=15000
    )
    pg.wait_for_selector("body[data-ready='1']")
    watch.clean()


def test_a_viewer_sees_only_their_jurisdiction(server: str) -> None:
    township = bearer(TOWNSHIP)
    assert httpx.get(f"{server}/dashboard/500240204", headers=township).status_code == 200
    assert httpx.get(f"{server}/dashboard/500240", headers=township).status_code == 403
    assert httpx.get(f"{server}/dashboard/500240105/data.json", headers=township).status_code == 403
    assert httpx.get(f"{server}/dashboard/500240204/cases?jurisdiction=500240", headers=township).status_code == 403
    missing = httpx.get(f"{server}/dashboard/500240")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{server}/dashboard/500240", headers=bearer(COUNTY, aud="other")).status_code == 401
    county = bearer(COUNTY)
    r = httpx.get(f"{server}/dashboard/500240/data.json", headers=county)
    assert r.status_code == 200
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.json()["jurisdiction"] == "500240"
    assert httpx.get(f"{server}/dashboard/5002", headers=county).status_code == 404
    assert httpx.get(f"{server}/dashboard/500240?lang=fr", headers=county).status_code == 422
    assert httpx.get(f"{server}/dashboard/500240?rows=village", headers=county).status_code == 422
    assert httpx.get(f"{server}/dashboard/500240?refresh=0", headers=county).status_code == 422
    assert httpx.get(f"{server}/dashboard/500240/cases?open=maybe", headers=county).status_code == 422
    # Only the allow-listed files are served (no path reaches the package's code).
    assert httpx.get(f"{server}/dashboard/static/%2e%2e/_web.py").status_code == 404
    assert httpx.get(f"{server}/dashboard/static/templates/board.html").status_code == 404
    assert httpx.get(f"{server}/dashboard/static/echarts/LICENSE").status_code == 200
    # Read-only: nothing but GET is routed.
    assert httpx.post(f"{server}/dashboard/500240", headers=county).status_code == 405


def test_the_exported_file_opens_with_nothing_fetched(browser: Any, database: tuple[str, str], tmp_path: Path) -> None:
    out = tmp_path / "挂图.html"
    exe = shutil.which("hazardflow", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run(
        [
            exe,
            "dashboard",
            "export",
            "--url",
            database[0],
            "--jurisdiction",
            "500240",
            "-o",
            str(out),
            "--as-of",
            database[1],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
    pg = ctx.new_page()
    watch = Watch(pg)
    requested: list[str] = []
    pg.on("request", lambda r: requested.append(r.url))
    _open_board(pg, out.as_uri())
    assert [u for u in requested if not u.startswith("file:")] == []
    assert len(pg.query_selector_all(".chart svg")) == 3
    assert_cjk_glyphs(pg, "h1", "export")
    screenshot(pg, "export-zh")
    watch.clean()
    ctx.close()


def test_export_refuses_a_bad_jurisdiction(database: tuple[str, str], tmp_path: Path) -> None:
    exe = shutil.which("hazardflow", path=str(Path(sys.executable).parent))
    assert exe is not None
    out = tmp_path / "x.html"
    done = subprocess.run(
        [exe, "dashboard", "export", "--url", database[0], "--jurisdiction", "5002", "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "5002" in done.stderr
    assert not out.exists()
    done = subprocess.run(
        [exe, "dashboard", "export", "--url", database[0], "--jurisdiction", "500240", "--as-of", "soon"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "--as-of" in done.stderr


def test_the_readme_campaign_on_hazardflow_serve(browser: Any, tmp_path: Path) -> None:
    """The README's simulated campaign (三甲镇 2024—2026): its board, served by ``hazardflow serve``, and the
    ``挂图.html`` the simulation wrote."""
    exe = Path(sys.executable).with_name("hazardflow")
    scenario = Path(__file__).parents[2] / "examples" / "scenarios" / "sanjia_2024_2026.py"
    db = tmp_path / "simulation.db"
    done = subprocess.run(
        [
            str(exe),
            "simulate",
            str(scenario),
            "--seed",
            "1",
            "--store",
            f"sqlite:///{db}",
            "--replace",
            "--out",
            str(tmp_path / "simulation-output"),
            "--no-charts",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "simulation-output" / "挂图.html").is_file()
    office = Actor("sanjia", "三甲镇安委办", {"safety_committee_office"}, "三甲镇安委办", "140581102")
    with service(f"sqlite:///{db}", *JWT_ARGS) as svc:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900}, extra_http_headers=bearer(office))
        pg = ctx.new_page()
        watch = Watch(pg)
        _open_board(pg, f"{svc.base}/dashboard/140581102")
        assert pg.title().startswith("三甲镇")
        assert "山西省 / 高平市 / 三甲镇" in pg.inner_text("header")
        with SqlStore(f"sqlite:///{db}", create=False) as store:
            open_hazards = count_cases(store, filter_from_query({"workflow": "hazard", "open": "true"}))
        assert pg.inner_text("[data-kpi=open] .num") == str(open_hazards)
        assert_cjk_glyphs(pg, "table.matrix thead", "campaign")
        screenshot(pg, "campaign-zh")
        watch.clean()
        ctx.close()
