"""Import the example policy package (examples/policies), installed or straight from the source tree.

CI installs it (README's test command: ``pip install -e ".[test]" -e examples/policies``); a checkout without
it installed still runs the tests from ``examples/policies/src``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

EXAMPLE_PACKAGE = Path(__file__).resolve().parents[1] / "examples" / "policies"


def seeds() -> ModuleType:
    """The ``hazardflow_seed_policies`` module."""
    try:
        return importlib.import_module("hazardflow_seed_policies")
    except ImportError:
        sys.path.insert(0, str(EXAMPLE_PACKAGE / "src"))
        return importlib.import_module("hazardflow_seed_policies")
