"""The import rules of the layers (``[tool.importlinter]`` in pyproject.toml) hold, and a break of them fails.

The layers: the kernel (contracts and domain values) at the bottom; the lifecycle tables (``workflows``) and the
rules (``policies``) above it, knowing only the kernel; the engine above those; the adapters (persistence, timers,
server, reports, simulation, dashboard, webhooks, cli, ...) around it. See docs/explanation/architecture.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` of this environment on the project's contracts, without a cache."""
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "importlinter.cli"]
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH", "")]))
    return subprocess.run(
        [*command, "--config", str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_import_rules_hold() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_type_checking_import_across_the_layers_breaks_the_rules(tmp_path: Path) -> None:
    """A copy of the package with two deliberate breaks, each only under ``if TYPE_CHECKING:``, fails the check."""
    copy = tmp_path / "src" / "hazardflow"
    shutil.copytree(ROOT / "src" / "hazardflow", copy, ignore=shutil.ignore_patterns("__pycache__"))
    breaks = {
        # A lifecycle table annotating with the engine's own class instead of hazardflow.abc.
        copy / "workflows" / "tipoff.py": "from .._engine import Engine as _Engine",
        # The contracts reaching into the shipped policies.
        copy / "abc.py": "from .policies.base import NationalBaseline as _NationalBaseline",
    }
    for path, line in breaks.items():
        text = path.read_text(encoding="utf-8")
        path.write_text(text + f"\nimport typing\n\nif typing.TYPE_CHECKING:\n    {line}\n", encoding="utf-8")
    done = _lint_imports(tmp_path, pythonpath=tmp_path / "src")
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "hazardflow.workflows.tipoff -> hazardflow._engine" in out, out
    assert "hazardflow.abc -> hazardflow.policies.base" in out, out
    assert "0 broken" not in out
