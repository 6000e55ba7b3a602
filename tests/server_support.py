"""The HTTP service as a real process: ``hazardflow serve`` (uvicorn) on 127.0.0.1, called with httpx.

Shared by ``tests/server/`` and the benchmark. ``Service`` starts the command line's own ``serve`` in a
subprocess on a free loopback port and stops it (SIGTERM, then SIGKILL) at the end; ``token`` signs a JWT for
an actor the way an identity provider would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt

from hazardflow import Actor

CLI = str(Path(sys.executable).with_name("hazardflow"))
SECRET = "s3cret-for-tests-only-0123456789-abcdefghij"
SECRET_ENV = "HAZARDFLOW_TEST_JWT_SECRET"
ISSUER = "https://sso.test.example"
AUDIENCE = "hazardflow"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def claims_of(actor: Actor, **over: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": actor.id,
        "name": actor.name,
        "roles": sorted(actor.roles),
        "org": actor.org,
        "jurisdiction": actor.jurisdiction,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=30)).timestamp()),
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def token(actor: Actor, *, key: str | bytes = SECRET, algorithm: str = "HS256", **over: Any) -> str:
    """A JWT for ``actor`` (claims overridable; ``exp=None`` drops a claim)."""
    return jwt.encode(claims_of(actor, **over), key, algorithm=algorithm)


def bearer(actor: Actor, **over: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(actor, **over)}"}


class Service:
    """``hazardflow serve`` running in a subprocess (see the module docstring)."""

    def __init__(self, url: str, *args: str, workers: int = 1, env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [CLI, "serve", "--url", url, "--port", str(self.port), "--workers", str(workers), *args]
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, SECRET_ENV: SECRET, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,
        )
        self._wait_ready(60.0)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read() if self.proc.stdout else ""
                raise AssertionError(f"hazardflow serve exited with {self.proc.returncode}:\n{out}")
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"hazardflow serve did not answer on {self.base} within {timeout}s")

    def client(self, actor: Actor | None = None, **kwargs: Any) -> httpx.Client:
        headers = bearer(actor) if actor is not None else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30.0, **kwargs)

    def stop(self) -> str:
        """Stop the service (its whole process group) and return what it printed."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.stdout.read() if self.proc.stdout else ""


@contextmanager
def service(url: str, *args: str, workers: int = 1, env: Mapping[str, str] | None = None) -> Iterator[Service]:
    svc = Service(url, *args, workers=workers, env=env)
    try:
        yield svc
    finally:
        svc.stop()


JWT_ARGS: Sequence[str] = (
    "--jwt-secret-env",
    SECRET_ENV,
    "--jwt-issuer",
    ISSUER,
    "--jwt-audience",
    AUDIENCE,
    "--no-access-log",
    "--log-level",
    "warning",
)
