"""The policy author's typing example runs (and ``mypy --strict tests/typing`` checks it in CI)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_policy_usage_runs() -> None:
    path = Path(__file__).resolve().parents[1] / "typing" / "policy_usage.py"
    spec = importlib.util.spec_from_file_location("policy_usage", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
