"""Pieces every workflow shares: the timer-fired rows and their effects, and small guard helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lifecycle import Field, Transition, guard
from .._model import GuardResult

if TYPE_CHECKING:
    from .._engine import CommandContext

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


def _mark_overdue(ctx: CommandContext) -> None:
    ctx.set_overdue = True
    missed = tuple(ctx.field("missed_deadlines", ()))
    ctx.updates["missed_deadlines"] = (*missed, ctx.payload["key"])


def _remind(ctx: CommandContext) -> None:
    """A reminder changes no state; the event itself is the record (and the outbox notifies)."""


def _apply_sanction(ctx: CommandContext) -> None:
    ctx.rung = int(ctx.payload["rung"])


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
