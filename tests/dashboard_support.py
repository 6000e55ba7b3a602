"""The board served for real: a SQLite file with a history, uvicorn in a subprocess, Chromium via Playwright.

``app()`` is the ASGI factory uvicorn runs (``--factory dashboard_support:app``); it reads the database URL,
the board's clock and the poll interval from the environment, so the test process and the server share
nothing but the database file. Viewers are named by a request header in these tests (the service's own
authenticators are tested with the service); the board only needs *an* authenticator returning an Actor.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from hazardflow import Actor, Engine, JurisdictionTree, SimulatedClock

NAMES = (("500000", "重庆市"), ("500240", "石柱土家族自治县"), ("500240204", "三星乡"), ("500240105", "西沱镇"))
CHROMIUM = "/usr/bin/chromium"
VIEWER_HEADER = "x-test-viewer"


def named_tree() -> JurisdictionTree:
    return JurisdictionTree(NAMES)


def serving_engine(url: str, now: str) -> Engine:
    from hazardflow.persistence.sql import SqlStore

    return Engine(store=SqlStore(url, create=False), clock=SimulatedClock(now), jurisdictions=named_tree())


def app() -> Any:
    from fastapi import FastAPI, HTTPException, Request

    from hazardflow.dashboard import dashboard_router

    engine = serving_engine(os.environ["HF_BOARD_URL"], os.environ["HF_BOARD_NOW"])

    def viewer(request: Request) -> Actor:
        code = request.headers.get(VIEWER_HEADER)
        if not code:
            raise HTTPException(401, "no viewer")
        return Actor(f"viewer-{code}", "查看人", {"viewer"}, "安委办", code)

    application = FastAPI()
    application.include_router(
        dashboard_router(engine, authenticator=viewer, poll_seconds=float(os.environ.get("HF_BOARD_POLL", "15")))
    )
    return application


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(url: str, now: str, *, poll: float = 15.0) -> Iterator[str]:
    """Run the board app under uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "HF_BOARD_URL": url,
        "HF_BOARD_NOW": now,
        "HF_BOARD_POLL": str(poll),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "dashboard_support:app", "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--log-level", "warning"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/dashboard/static/board.css", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    raise RuntimeError(f"the board server did not start:\n{out}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
