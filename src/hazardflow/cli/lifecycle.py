"""``hazardflow lifecycle show WORKFLOW``: render a lifecycle table as Mermaid or Markdown."""

from __future__ import annotations

import enum

import typer

from .._lifecycle import render_mermaid, render_states, render_table
from ..workflows import default_workflows


class Format(enum.StrEnum):
    mermaid = "mermaid"
    table = "table"
    bpmn = "bpmn"


class Lang(enum.StrEnum):
    zh = "zh"
    en = "en"


def register(app: typer.Typer) -> None:
    lifecycle = typer.Typer(help="Inspect the lifecycle tables (生命周期).", no_args_is_help=True)
    app.add_typer(lifecycle, name="lifecycle")

    @lifecycle.command("list")
    def list_() -> None:
        """List the shipped workflows."""
        from .._glossary import zh

        for wf in default_workflows():
            typer.echo(f"{wf.id}\t{zh('workflow', wf.id)}")

    @lifecycle.command("show")
    def show(
        workflow: str = typer.Argument(..., help="Workflow id, e.g. hazard."),
        format: Format = typer.Option(
            Format.mermaid, "--format", "-f", help="mermaid, table or bpmn (BPMN 2.0 XML with diagram layout)."
        ),
        lang: Lang = typer.Option(Lang.zh, "--lang", "-l", help="Label language: zh or en."),
    ) -> None:
        """Render a workflow's lifecycle (the same table the engine runs)."""
        wfs = {wf.id: wf for wf in default_workflows()}
        wf = wfs.get(workflow)
        if wf is None:
            import difflib

            close = difflib.get_close_matches(workflow, list(wfs), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            typer.echo(f"unknown workflow {workflow!r}; known: {', '.join(sorted(wfs))}.{hint}", err=True)
            raise typer.Exit(2)
        if format is Format.mermaid:
            typer.echo(render_mermaid(wf.spec, lang.value), nl=False)
        elif format is Format.bpmn:
            from .._bpmn import render_bpmn

            typer.echo(render_bpmn(wf.spec, lang.value), nl=False)
        else:
            typer.echo(render_states(wf.spec, lang.value))
            typer.echo(render_table(wf.spec, lang.value), nl=False)
