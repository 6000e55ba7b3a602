"""``hazardflow policy list|show|check``: the policies installed, the effective rules of a jurisdiction, checks.

Policies come from the national baseline, from installed packages (entry-point group ``hazardflow.policies``)
and from modules named with ``--import`` (a module's ``POLICIES`` tuple, or every policy class it defines).
"""

from __future__ import annotations

import enum
import importlib
import inspect
from datetime import date
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from ..abc import JurisdictionPolicy
    from ..policies.registry import PolicyRegistry


class Lang(enum.StrEnum):
    zh = "zh"
    en = "en"


_IMPORT_HELP = "Also load the policies of this module (its POLICIES tuple, or the policy classes it defines)."


def _from_module(name: str) -> list[Any]:
    from ..policies.base import NationalBaseline

    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        typer.echo(f"cannot import {name!r}: {exc}", err=True)
        raise typer.Exit(2) from None
    listed = getattr(module, "POLICIES", None)
    if listed is not None:
        return list(listed)
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, NationalBaseline) and obj.__module__ == module.__name__ and "policy_id" in vars(obj)
    ]


def _load(imports: list[str]) -> tuple[PolicyRegistry, dict[tuple[str, str], str]]:
    """A registry of every policy in reach, and where each came from."""
    from ..policies.base import NationalBaseline
    from ..policies.registry import PolicyRegistry, discover

    origin: dict[tuple[str, str], str] = {(NationalBaseline.policy_id, NationalBaseline.policy_version): "built-in"}
    policies: list[Any] = [NationalBaseline()]
    for found in discover():
        policies.append(found.policy)
        key = (found.policy.policy_id, found.policy.policy_version)
        origin[key] = f"{found.distribution} ({found.entry_point})"
    for name in imports:
        for p in _from_module(name):
            policies.append(p)
            origin[(p.policy_id, p.policy_version)] = name
    return PolicyRegistry(policies), origin


def _tree(registry: PolicyRegistry) -> Any:
    from .._jurisdiction import NATIONAL, JurisdictionTree

    tree = JurisdictionTree()
    for p in registry:
        name = getattr(p, "jurisdiction_name", None)
        if name and p.jurisdiction != NATIONAL:
            tree.add(p.jurisdiction, name)
    return tree


def register(app: typer.Typer) -> None:
    policy = typer.Typer(help="Jurisdiction policies: list, show the effective rules, check, migrate (辖区政策).")
    app.add_typer(policy, name="policy", no_args_is_help=True)
    register_migrate(policy)

    @policy.command("list")
    def list_(
        imports: list[str] = typer.Option([], "--import", "-i", help=_IMPORT_HELP),
    ) -> None:
        """List every policy version: id@version, jurisdiction, name, in force from, where it comes from."""
        registry, origin = _load(imports)
        rows = sorted(registry, key=lambda p: (p.jurisdiction, p.policy_id, p.policy_version))
        # One header row, then tab-separated rows (easy to read, easy to cut or sort in a script).
        typer.echo("policy@version 政策	jurisdiction 辖区	name 名称	in force from 施行	source 来源")
        for p in rows:
            effective = getattr(p, "effective_from", None)
            typer.echo(
                f"{p.policy_id}@{p.policy_version}\t{p.jurisdiction}\t{p.name}\t"
                f"{effective.isoformat() if effective else '-'}\t{origin.get((p.policy_id, p.policy_version), '')}"
            )

    @policy.command("show")
    def show(
        code: str = typer.Argument(..., help="Administrative-division code, e.g. 500240204 (三星乡)."),
        lang: Lang = typer.Option(Lang.zh, "--lang", "-l", help="Language: zh or en."),
        at: str = typer.Option("", "--at", help="Date (YYYY-MM-DD) for which version is in force; default today."),
        imports: list[str] = typer.Option([], "--import", "-i", help=_IMPORT_HELP),
    ) -> None:
        """Render the effective rules of the policy governing a jurisdiction, with sources and layers."""
        from .._calendar import local_date
        from .._clock import SystemClock
        from .._exceptions import HazardflowError
        from ..policies.describe import describe_policy

        registry, _ = _load(imports)
        tree = _tree(registry)
        try:
            day = date.fromisoformat(at) if at else local_date(SystemClock().now())
            canonical_code = tree.check(code, field="code")
            found: JurisdictionPolicy = registry.resolve(canonical_code, day)
        except ValueError:
            typer.echo(f"invalid value for '--at': {at!r}; must be an ISO date YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
        except HazardflowError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        typer.echo(describe_policy(found, lang.value, tree=tree, code=canonical_code), nl=False)

    @policy.command("check")
    def check(
        ids: list[str] = typer.Argument(None, help="Policy ids to check (default: all)."),
        strict: bool = typer.Option(False, "--strict", help="Also require a source tag on every rule."),
        imports: list[str] = typer.Option([], "--import", "-i", help=_IMPORT_HELP),
    ) -> None:
        """Check policies against the shipped lifecycles; exit 1 listing every problem."""
        from .._engine import Engine
        from ..policies.validation import check_policy, check_sources

        registry, _ = _load(imports)
        engine = Engine()
        chosen = [p for p in registry if not ids or p.policy_id in ids]
        unknown = sorted(set(ids or ()) - {p.policy_id for p in registry})
        if unknown:
            import difflib

            known = sorted({p.policy_id for p in registry})
            hints = [difflib.get_close_matches(u, known, n=1) for u in unknown]
            extra = "; ".join(f"did you mean {h[0]!r}?" for h in hints if h)
            typer.echo(f"unknown policy id(s): {', '.join(unknown)}; known: {', '.join(known)}. {extra}", err=True)
            raise typer.Exit(2)
        failed = 0
        for p in sorted(chosen, key=lambda p: (p.jurisdiction, p.policy_id, p.policy_version)):
            problems = check_policy(p, engine) + (check_sources(p) if strict else [])
            if problems:
                failed += 1
                typer.echo(f"FAIL {p.policy_id}@{p.policy_version} {p.name}: {len(problems)} problem(s)")
                for problem in problems:
                    typer.echo(f"  - {problem}")
            else:
                typer.echo(f"OK   {p.policy_id}@{p.policy_version} {p.name}")
        if failed:
            raise typer.Exit(1)


def register_migrate(policy: typer.Typer) -> None:
    """``hazardflow policy migrate``: move open cases to the layers in force (dry run unless ``--apply``)."""

    @policy.command("migrate")
    def migrate(
        url: str = typer.Option(
            ..., "--url", envvar="HAZARDFLOW_DATABASE_URL", help="Database URL, e.g. sqlite:///hazards.db."
        ),
        plan_id: str = typer.Option(..., "--plan-id", help="Names the plan in every event (makes it idempotent)."),
        reason: str = typer.Option(..., "--reason", help="Why: the new document's number, say."),
        approved_by: str = typer.Option(..., "--approved-by", help="Who authorized the plan."),
        jurisdiction: str = typer.Option("", "--jurisdiction", "-j", help="Only cases in this subtree."),
        layer: str = typer.Option(
            "", "--layer", help="Only cases pinned to this layer version (policy_id@version) ..."
        ),
        to: str = typer.Option("", "--to", help="... moved to this version of it (default: the layers in force)."),
        apply: bool = typer.Option(False, "--apply", help="Write the migration (default: a dry run only)."),
        lang: Lang = typer.Option(Lang.zh, "--lang", "-l", help="Language of the report: zh or en."),
        imports: list[str] = typer.Option([], "--import", "-i", help=_IMPORT_HELP),
    ) -> None:
        """Plan (and with --apply, carry out) the move of open cases to new policy layers, case by case."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from .._engine import Engine
        from .._exceptions import HazardflowError
        from ..persistence.sql import SqlStore
        from ..policies.migration import MigrationPlan

        console = Console(stderr=True)
        registry, _ = _load(imports)
        source = target = None
        if layer or to:
            if not (layer and to):
                typer.echo("give --layer and --to together (or neither: the layers in force)", err=True)
                raise typer.Exit(2)
            source = _pin(layer, "--layer")
            target = (source[0], to) if "@" not in to else _pin(to, "--to")
        try:
            with SqlStore(url, create=False) as store:
                engine = Engine(store=store, policies=registry, jurisdictions=_tree(registry))
                plan = MigrationPlan(
                    engine, source, target, plan_id, reason, approved_by, jurisdiction=jurisdiction or None
                )
                total = len(list(plan._candidates()))
                columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
                with Progress(*columns, console=console, transient=True) as bar:
                    task = bar.add_task("dry run" if not apply else "assess", total=total)
                    report = plan.dry_run(progress=lambda n: bar.advance(task, n))
                typer.echo(report.render(lang.value), nl=False)
                if not apply:
                    typer.echo(
                        "\n（试运行，未写入；加 --apply 执行迁移）"
                        if lang is Lang.zh
                        else "\n(dry run: nothing written; add --apply to migrate)"
                    )
                    return
                with Progress(*columns, console=console, transient=True) as bar:
                    task = bar.add_task("migrate", total=len(report.movable))
                    result = plan.apply(report, progress=lambda n: bar.advance(task, n))
        except HazardflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        summary = (
            f"\n已迁移 {len(result.migrated)} 件，不能迁移 {len(result.blocked)} 件，失败 {len(result.failed)} 件"
            if lang is Lang.zh
            else f"\nmigrated {len(result.migrated)}, cannot move {len(result.blocked)}, failed {len(result.failed)}"
        )
        typer.echo(summary)
        for cid, why in result.failed:
            typer.echo(f"  - {cid}: {why}")
        if result.failed:
            raise typer.Exit(1)


def _pin(text: str, option: str) -> tuple[str, str]:
    pid, sep, version = text.rpartition("@")
    if not sep or not pid or not version:
        typer.echo(f"invalid value for {option!r}: {text!r}; write it policy_id@version", err=True)
        raise typer.Exit(2)
    return pid, version
