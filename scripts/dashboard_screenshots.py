"""Screenshots of the board for the docs (docs/assets/dashboard/*.png), from the README's simulated campaign.

Run: ``.venv/bin/python scripts/dashboard_screenshots.py [--db simulation.db]``. Without ``--db`` it runs the
README's simulation into a temporary folder first. It starts ``hazardflow serve`` on a free loopback port with
a JWT secret, opens the boards in Debian's Chromium (Playwright, ``executable_path=/usr/bin/chromium``) with a
bearer token for 三甲镇's 安委办, and saves:

* ``board-zh.png`` — ``/dashboard/140581102`` (Chinese, the default);
* ``board-en.png`` — the same with ``?lang=en``;
* ``cases-zh.png`` — the cases behind the board's overdue count;
* ``export-zh.png`` — ``simulation-output/挂图.html`` (the static export the simulation writes), opened offline.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "assets" / "dashboard"
CLI = str(Path(sys.executable).with_name("hazardflow"))
SECRET = "docs-screenshots-only-0123456789abcdefghijklmnop"
TOWNSHIP = "140581102"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="the README's simulation.db (default: simulate into a temp folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hf-shots-") as tmp:
        folder = Path(tmp)
        db = args.db
        export = None
        if db is None:
            db = folder / "simulation.db"
            scenario = ROOT / "examples" / "scenarios" / "sanjia_2024_2026.py"
            subprocess.run(
                [
                    CLI,
                    "simulate",
                    str(scenario),
                    "--seed",
                    "1",
                    "--store",
                    f"sqlite:///{db}",
                    "--replace",
                    "--out",
                    str(folder / "simulation-output"),
                    "--no-charts",
                ],
                check=True,
                capture_output=True,
            )
            export = folder / "simulation-output" / "挂图.html"
        port = free_port()
        env = {**os.environ, "HF_DOCS_JWT": SECRET}
        proc = subprocess.Popen(
            [
                CLI,
                "serve",
                "--url",
                f"sqlite:///{db}",
                "--port",
                str(port),
                "--jwt-secret-env",
                "HF_DOCS_JWT",
                "--log-level",
                "warning",
            ],
            env=env,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            now = datetime.now(UTC)
            claims = {
                "sub": "sanjia-office",
                "name": "三甲镇安委办",
                "roles": ["safety_committee_office"],
                "org": "三甲镇安委办",
                "jurisdiction": TOWNSHIP,
                "iat": int(now.timestamp()),
                "exp": int((now + timedelta(minutes=10)).timestamp()),
            }
            token = jwt.encode(claims, SECRET, algorithm="HS256")
            OUT.mkdir(parents=True, exist_ok=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                ctx = browser.new_context(
                    viewport={"width": 1400, "height": 900},
                    extra_http_headers={"Authorization": f"Bearer {token}"},
                    locale="zh-CN",
                )
                page = ctx.new_page()
                for name, path in (("board-zh", ""), ("board-en", "?lang=en")):
                    page.goto(f"{base}/dashboard/{TOWNSHIP}{path}")
                    page.wait_for_selector("body[data-ready='1']")
                    page.screenshot(path=OUT / f"{name}.png", full_page=True)
                page.goto(f"{base}/dashboard/{TOWNSHIP}")
                page.click("[data-kpi=overdue] a.num")
                page.wait_for_selector("#cases")
                page.screenshot(path=OUT / "cases-zh.png", full_page=True)
                if export is not None:
                    offline = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
                    pg = offline.new_page()
                    pg.goto(export.as_uri())
                    pg.wait_for_selector("body[data-ready='1']")
                    pg.screenshot(path=OUT / "export-zh.png", full_page=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(15)
    for f in sorted(OUT.glob("*.png")):
        print(f.relative_to(ROOT), f.stat().st_size)


if __name__ == "__main__":
    main()
