"""The township-policy how-to runs as written: every Python block in order, printed output as shown."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import seed_support

PAGE = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "township-policy.md"
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def test_the_howto_runs_as_written() -> None:
    seed_support.seeds()  # importable, installed or from the source tree
    blocks = _BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "howto"}
    ran = 0
    for i, (lang, code) in enumerate(blocks):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{PAGE.name}#block{i}", "exec"), namespace)
        ran += 1
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if following is not None and following[0] == "text" and "…" not in following[1]:
            assert out.getvalue() == following[1], f"block {i} printed:\n{out.getvalue()}"
    assert ran == 5
    # The page's own tests pass: the contract and the township's rule.
    contract = namespace["TestSanxing"]()
    for name in dir(contract):
        if name.startswith("test_"):
            getattr(contract, name)()
    namespace["test_major_hazard_is_reported_to_the_township"]()
    assert namespace["result"].ok
