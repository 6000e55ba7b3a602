"""The ``hazardflow`` command line (typer + rich). Each sub-command lives in its own module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="hazardflow",
    help="hazardflow: 安全生产事故隐患排查治理 lifecycle engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

#: Modules that register commands on ``app`` (each has ``register(app)``).
COMMAND_MODULES = ("lifecycle", "demo", "db", "audit", "worker", "simulate", "policy", "reports", "serve", "dashboard")

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def main() -> None:
    """Entry point of the ``hazardflow`` script."""
    app()
