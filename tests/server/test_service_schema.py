"""The OpenAPI 3.1 schema: generated from the code, committed, equal to what a running service serves."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server_support import JWT_ARGS, Service

ROOT = Path(__file__).parents[2]
COMMITTED = ROOT / "docs" / "reference" / "openapi.json"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def live(sqlite_url: str) -> Iterator[Service]:
    s = Service(sqlite_url, *JWT_ARGS)
    yield s
    s.stop()


def test_the_running_service_serves_the_committed_schema(live: Service) -> None:
    served = httpx.get(f"{live.base}/openapi.json").json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served == committed, "the schema changed: run `python scripts/gen_docs.py` and commit docs/reference"
    assert served["openapi"].startswith("3.1")


def test_every_operation_is_described_in_chinese_and_english() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    ops = [(p, m, op) for p, item in schema["paths"].items() for m, op in item.items()]
    assert len(ops) >= 7
    for path, method, op in ops:
        for text in (op["summary"], op["description"]):
            assert CJK.search(text), (method, path, text)
            assert re.search(r"[A-Za-z]{3}", text), (method, path, text)
        for param in op.get("parameters", []):
            assert CJK.search(param["description"]), (method, path, param["name"])


def test_every_error_response_is_problem_json() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for path, item in schema["paths"].items():
        for method, op in item.items():
            errors = {s: r for s, r in op["responses"].items() if int(s) >= 400}
            assert {"500", "503"} <= set(errors), (method, path)
            for status, response in errors.items():
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)
            if not path.endswith("/health"):
                assert op["security"] == [{"bearer": []}]
                assert "401" in errors
    assert "HTTPValidationError" not in schema["components"]["schemas"]
