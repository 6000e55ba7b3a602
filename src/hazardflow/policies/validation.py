"""Checks a jurisdiction policy against the engine's lifecycles when the engine is built."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from .._glossary import has_label, terms

if TYPE_CHECKING:
    from .._engine import Engine
    from ..abc import JurisdictionPolicy

__all__ = ["check_policy"]


def _hint(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_policy(policy: JurisdictionPolicy, engine: Engine) -> list[str]:
    """Every problem of ``policy`` (empty when sound)."""
    problems: list[str] = []
    roles = sorted(t.id for t in terms("role"))
    grades = list(getattr(policy, "grades", ()))
    for g in grades:
        if not has_label("grade", g):
            problems.append(f"grade {g!r} has no glossary label")
        if policy.national_grade(g) not in ("general", "major"):
            problems.append(f"grade {g!r} maps to {policy.national_grade(g)!r}; allowed: 'general', 'major'")
    recipients = list(getattr(policy, "report_recipients", ()))
    for r in ("supervising_department", "workers_congress"):
        if recipients and r not in recipients:
            problems.append(f"dual-report recipients must include {r!r} [S3 §41]")
    for r in recipients:
        if not has_label("recipient", r):
            problems.append(f"unknown report recipient {r!r}{_hint(r, [t.id for t in terms('recipient')])}")
    perms = getattr(policy, "permissions", {})
    for (workflow, trigger), perm in perms.items():
        if workflow not in engine.workflows:
            problems.append(f"permission for unknown workflow {workflow!r}{_hint(workflow, list(engine.workflows))}")
            continue
        triggers = [*engine.workflows[workflow].by_trigger, engine.workflows[workflow].opener.trigger]
        if trigger not in triggers:
            problems.append(f"permission for unknown trigger {workflow}.{trigger}{_hint(trigger, triggers)}")
        for r in perm.roles:
            if r not in roles:
                problems.append(f"permission {workflow}.{trigger} names unknown role {r!r}{_hint(r, roles)}")
    for attr in ("major_reviewer_roles", "general_reviewer_roles", "reporter_roles"):
        for r in getattr(policy, attr, ()):
            if r not in roles:
                problems.append(f"{attr} names unknown role {r!r}{_hint(r, roles)}")
    for r in getattr(policy, "escalation_procedure", ()):
        if r not in roles:
            problems.append(f"escalation_procedure names unknown role {r!r}{_hint(r, roles)}")
    listing = getattr(policy, "listing_rule", None)
    if listing is not None:
        for r in listing.authority_roles:
            if r not in roles:
                problems.append(f"listing authority names unknown role {r!r}{_hint(r, roles)}")
    for rung in getattr(policy, "overdue_ladder", ()):
        if not has_label("sanction", rung.sanction):
            problems.append(f"ladder rung {rung.sanction!r} has no glossary label")
    return problems
