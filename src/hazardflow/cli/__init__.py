"""The ``hazardflow`` command line (typer + rich). Each sub-command lives in its own module."""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.core


def _flags_take_no_value() -> None:
    """Show no type beside a flag in ``--help`` (typer prints ``<bool>`` for ``--json``, ``--help``, ...).

    A flag takes no value, so a type there only reads as if one were expected.
    """
    shown = typer.core.TyperOption.display_type_rich
    if getattr(shown, "_hazardflow", False):
        return

    def display_type_rich(self: typer.core.TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich._hazardflow = True  # type: ignore[attr-defined]
    typer.core.TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_take_no_value()

app = typer.Typer(
    name="hazardflow",
    help="hazardflow: 安全生产事故隐患排查治理 lifecycle engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

#: Modules that register commands on ``app`` (each has ``register(app)``).
COMMAND_MODULES = ("lifecycle", "demo", "db", "audit", "worker", "simulate", "policy")

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def main() -> None:
    """Entry point of the ``hazardflow`` script."""
    app()
