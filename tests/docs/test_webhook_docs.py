"""The webhook how-to's verifiers work on hazardflow's signatures: the Python snippet and the Java class."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from hazardflow.webhooks import new_secret, sign

DOCS = Path(__file__).parent.parent.parent / "docs" / "how-to"


def _signed(secret: str) -> tuple[bytes, dict[str, str]]:
    body = b'{"type":"hazard.register","data":{"case_id":"HZ-1","state":"registered"}}'
    ts = int(time.time())
    return body, {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, "msg_1", ts, body),
    }


def test_the_python_snippet_verifies_and_refuses() -> None:
    text = (DOCS / "webhooks.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(from standardwebhooks.*?)```", text, re.S)
    assert code is not None
    ns: dict[str, Any] = {}
    exec(code.group(1), ns)
    secret = new_secret()
    body, headers = _signed(secret)
    assert ns["receive"](body, headers, secret)["data"]["case_id"] == "HZ-1"
    assert ns["receive"](body + b" ", headers, secret) is None
    assert ns["receive"](body, headers, new_secret()) is None


def test_the_java_verifier_verifies_and_refuses(tmp_path: Path) -> None:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("the Java verifier needs a JDK (javac, java); none is installed")
    assert '--8<-- "docs/how-to/WebhookVerifier.java"' in (DOCS / "webhooks.md").read_text(encoding="utf-8")
    shutil.copy(DOCS / "WebhookVerifier.java", tmp_path)
    subprocess.run(["javac", "WebhookVerifier.java"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    secret = new_secret()
    body, h = _signed(secret)

    def java(key: str, data: bytes) -> str:
        args = ["java", "-cp", str(tmp_path), "WebhookVerifier", key, h["webhook-id"], h["webhook-timestamp"]]
        out = subprocess.run([*args, h["webhook-signature"]], input=data, capture_output=True, check=True, timeout=60)
        return out.stdout.decode().strip()

    assert java(secret, body) == "valid"
    assert java(secret, body.replace(b"HZ-1", b"HZ-2")) == "invalid"
    assert java(new_secret(), body) == "invalid"
