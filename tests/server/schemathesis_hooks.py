"""A schemathesis check of our own: every error response is RFC 9457 problem+json with a stable code.

Loaded by the schemathesis run of ``test_service_fuzz.py`` through ``SCHEMATHESIS_HOOKS``.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def errors_are_problem_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """4xx and 5xx answer ``application/problem+json`` with type, title, status (= the HTTP status), detail, code."""
    if response.status_code < 400:
        return None
    kind = response.headers.get("content-type", [""])
    kind = kind[0] if isinstance(kind, list) else kind
    assert kind == "application/problem+json", f"error {response.status_code} served as {kind!r}"
    body = json.loads(response.content)
    for member in ("type", "title", "status", "detail", "code"):
        assert member in body, f"problem without {member!r}: {body}"
    assert body["status"] == response.status_code, body
    assert str(body["code"]).startswith("hazardflow."), body
    assert "Traceback" not in response.content.decode("utf-8", "replace")
    return True
