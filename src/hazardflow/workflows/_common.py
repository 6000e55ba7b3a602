"""Pieces every workflow shares: the timer-fired rows and their effects, and small guard helpers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._lifecycle import Field, Transition, guard
from .._model import LADDER_FIELD, GuardResult

if TYPE_CHECKING:
    from ..abc import CommandContext

__all__ = ["TIMER_EFFECTS", "distinct_actor", "timer_rows"]


def timer_rows(states: tuple[str, ...]) -> tuple[Transition, ...]:
    """The three rows a timer fires as the system in every state that runs a deadline.

    ``mark_overdue`` (the deadline passed: the case is flagged overdue and the ladder starts), ``remind``
    (before the deadline; changes nothing but the record) and ``sanction`` (one rung of the overdue ladder,
    against the named party). They are internal transitions: the state never changes.
    """
    key = Field("key", "str")
    due = Field("due_at", "datetime")
    return (
        Transition(
            "mark_overdue", states, None, ("system",), "system", (), (key, due), ("mark_overdue",), event="case.overdue"
        ),
        Transition("remind", states, None, ("system",), "system", (), (key, due), ("remind",), event="case.reminded"),
        Transition(
            "sanction",
            states,
            None,
            ("system",),
            "system",
            (),
            (
                key,
                Field("rung", "int"),
                Field("sanction", "choice", choices="sanction"),
                Field("party", "choice", choices="party"),
                Field("party_id", "str", required=False),
            ),
            ("apply_sanction",),
            event="case.sanctioned",
        ),
    )


def _ladder(ctx: CommandContext) -> dict[str, Any]:
    return dict(ctx.field(LADDER_FIELD) or {})


def _due(ctx: CommandContext) -> datetime:
    return datetime.fromisoformat(ctx.payload["due_at"])


def _mark_overdue(ctx: CommandContext) -> None:
    """Flag the case overdue; record the missed deadline once, however often the case re-enters the stage."""
    ctx.set_overdue = True
    key = ctx.payload["key"]
    ladder = _ladder(ctx)
    entry = ladder.get(key)
    if entry and entry.get("due_at") and datetime.fromisoformat(entry["due_at"]) == _due(ctx):
        return  # the same missed deadline again (the case left the stage and came back): the ladder resumes
    missed = tuple(ctx.field("missed_deadlines", ()))
    ctx.updates["missed_deadlines"] = (*missed, key)
    ladder[key] = {"due_at": ctx.payload["due_at"], "rung": 0, "rung_due_at": None}
    ctx.updates[LADDER_FIELD] = ladder


def _remind(ctx: CommandContext) -> None:
    """A reminder changes no state; the event itself is the record (and the outbox notifies)."""


def _apply_sanction(ctx: CommandContext) -> None:
    """Record the rung reached (the case keeps the highest) and where this deadline's ladder stands."""
    rung = int(ctx.payload["rung"])
    ctx.rung = rung
    ladder = _ladder(ctx)
    key = ctx.payload["key"]
    entry = dict(ladder.get(key) or {})
    deadline = ctx.case.deadline
    if deadline is not None:
        entry["due_at"] = deadline.due_at.isoformat()
    entry["rung"] = rung
    entry["rung_due_at"] = ctx.timer.due_at.isoformat() if ctx.timer is not None else ctx.now.isoformat()
    ladder[key] = entry
    ctx.updates[LADDER_FIELD] = ladder


TIMER_EFFECTS = {"mark_overdue": _mark_overdue, "remind": _remind, "apply_sanction": _apply_sanction}


def distinct_actor(field_name: str, zh: str, en: str, *, needs_payload: bool = False) -> object:
    """A guard: the actor must not be any actor id recorded in ``field_name`` (a str or a tuple)."""

    @guard(needs_payload=needs_payload)
    def check(ctx: CommandContext) -> GuardResult:
        recorded = ctx.field(field_name)
        ids = recorded if isinstance(recorded, tuple) else (recorded,)
        if ctx.actor.id in ids:
            return GuardResult.deny(zh, en)
        return GuardResult.allow()

    return check
