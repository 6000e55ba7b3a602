"""The walk-through of docs/how-to/embed-in-oa.md, run as written: a real service, curl, the tokens it shows."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "how-to" / "embed-in-oa.md"

pytestmark = [pytest.mark.timeout(180)]


def walk_through() -> str:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## 演练 / Walk-through", 1)[1].split("\n## 中文", 1)[0]
    return "\n".join(re.findall(r"```bash\n(.*?)```", section, flags=re.S))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl, which is not installed")
def test_the_walk_through_runs_as_written(tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + walk_through()
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    out = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert any(re.match(r"opened HZ-\S+", line) for line in lines), out.stdout
    assert '"code":"hazardflow.guard_rejected"' in out.stdout
    assert re.search(r"HZ-\S+ closed 已销号", out.stdout), out.stdout
    assert "['register', 'set_deadline', 'submit_review', 'approve']" in out.stdout
    assert re.search(r"^1 to-dos: \[\('HZ-\S+', '\w+', 'township_officer@500240204'\)\]$", out.stdout, flags=re.M), (
        out.stdout
    )
    for trigger in ("register", "set_deadline", "submit_review", "approve"):
        assert re.search(rf"^verified hazard\.{trigger} HZ-\S+$", out.stdout, flags=re.M), out.stdout
