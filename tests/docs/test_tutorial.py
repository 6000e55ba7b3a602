"""The tutorial runs as written, and prints what it says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[2] / "docs" / "tutorial" / "first-case.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(DOC.read_text(encoding="utf-8"))]


def matches(expected: str, got: str) -> bool:
    """``...`` in the expected output stands for anything."""
    pattern = ".*".join(re.escape(part) for part in expected.strip().split("..."))
    return re.fullmatch(pattern, got.strip(), re.S) is not None


def test_the_tutorial_runs_and_prints_what_it_shows() -> None:
    found = blocks()
    assert sum(1 for lang, _ in found if lang == "python") >= 8
    namespace: dict[str, object] = {"__name__": "tutorial"}
    checked = 0
    for i, (lang, code) in enumerate(found):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{DOC.name} block {i}", "exec"), namespace)
        if i + 1 < len(found) and found[i + 1][0] == "text":
            expected = found[i + 1][1]
            shown = f"block {i} printed:\n{out.getvalue()}\nthe page shows:\n{expected}"
            assert matches(expected, out.getvalue()), shown
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize(("expected", "got", "ok"), [("a ... c", "a b c", True), ("a ... c", "a b d", False)])
def test_the_ellipsis_matcher(expected: str, got: str, ok: bool) -> None:
    assert matches(expected, got) is ok
