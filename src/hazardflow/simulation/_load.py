"""Loading scenarios and policies named on the command line (a Python file, or ``module:attribute``)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from .._exceptions import InvalidInput
from ._scenario import Scenario

__all__ = ["load_policy", "load_scenario"]


def _module(spec: str) -> tuple[ModuleType, str | None]:
    """Import ``path/to/file.py[:name]`` or ``package.module[:name]``."""
    target, _, attr = spec.partition(":") if not _is_windows_drive(spec) else (spec, "", "")
    path = Path(target)
    if target.endswith(".py"):
        if not path.exists():
            near = sorted(p.name for p in path.parent.glob("*.py")) if path.parent.is_dir() else []
            raise InvalidInput(
                "path",
                target,
                f"no such file (looked in {path.parent.resolve()})",
                tuple(near),
            )
        if not path.is_file():
            raise InvalidInput("path", target, "is not a file (a folder?); name a Python file")
        name = f"hazardflow_user_{path.stem}_{abs(hash(str(path.resolve())))}"
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise InvalidInput("path", target, "cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        try:
            loader_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module, attr or None
    try:
        return importlib.import_module(target), attr or None
    except ImportError as exc:
        raise InvalidInput("module", target, f"cannot be imported ({exc})") from None


def _is_windows_drive(spec: str) -> bool:
    return len(spec) > 2 and spec[1] == ":" and spec[2] in "\\/"


def load_scenario(spec: str) -> Scenario:
    """The :class:`Scenario` in a file or module: the attribute named after ``:``, else ``scenario``."""
    module, attr = _module(spec)
    name = attr or "scenario"
    value = getattr(module, name, None)
    if callable(value) and not isinstance(value, Scenario):
        value = value()
    if not isinstance(value, Scenario):
        found = sorted(k for k, v in vars(module).items() if isinstance(v, Scenario))
        raise InvalidInput(
            "scenario",
            spec,
            f"defines no Scenario named {name!r}",
            tuple(found),
            hint="define `scenario = Scenario(...)` or name the attribute after a colon",
        )
    return value


def load_policy(spec: str) -> Any:
    """A policy class from a file or module: the attribute after ``:``, else the one policy class it defines."""
    from ..policies.base import NationalBaseline

    module, attr = _module(spec)
    if attr is not None:
        value = getattr(module, attr, None)
        if value is None:
            raise InvalidInput("policy", spec, f"has no attribute {attr!r}")
        return value
    own = [
        v
        for v in vars(module).values()
        if inspect.isclass(v) and issubclass(v, NationalBaseline) and v.__module__ == module.__name__
    ]
    if len(own) != 1:
        raise InvalidInput(
            "policy",
            spec,
            f"defines {len(own)} policy classes; name one after a colon (file.py:ClassName)",
            tuple(sorted(v.__name__ for v in own)),
        )
    return own[0]
