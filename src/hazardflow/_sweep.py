"""The timer sweep: :meth:`Engine.run_due <hazardflow.Engine.run_due>` fires every due timer, each in its own
claim-and-fire transaction, as the system actor (``mark_overdue``, ``remind``, ``sanction``).

:class:`TimerSweep` is a base class of :class:`~hazardflow.Engine`: it holds the sweep and the decisions about
one timer (is it stale, which command does it fire, against which party); the command it fires runs the
engine's one command path.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from ._checks import aware_utc as _utc
from ._checks import positive_int
from ._command import _UnitOfWork
from ._exceptions import ConcurrentUpdateError, InvalidInput, PersistenceError, TransitionNotAllowed
from ._model import SYSTEM, Case, Timer, Write

if TYPE_CHECKING:
    from ._rules import Rung
    from .abc import JurisdictionPolicy, Store


__all__ = ["RunDueReport", "TimerSweep"]


def _log() -> Any:
    """The operations logger, imported on first use: structlog pulls in rich, which ``import hazardflow`` avoids."""
    import structlog

    return structlog.get_logger("hazardflow")


@attrs.define
class RunDueReport:
    """What one :meth:`Engine.run_due` sweep did."""

    now: datetime
    #: Timers fired (each appended one audit event).
    fired: int = 0
    #: Timers found stale (their case moved on, or a reminder whose deadline already passed): cancelled.
    cancelled: int = 0
    #: Firings that lost a race with another command; the timer stays armed and a later sweep decides again.
    conflicts: int = 0
    #: Firings that raised; the timer stays armed, held back for ``hold_seconds``, then retried.
    failed: int = 0
    #: Timers found due but not claimed: another worker was firing them, or they were fired or cancelled
    #: (by another worker, a command, or a firing of this sweep) after they were found.
    skipped: int = 0
    #: Of the fired timers, how many fired after their due instant, and the worst lateness.
    late: int = 0
    max_late_seconds: float = 0.0
    #: How many times the sweep looked for due timers.
    rounds: int = 0
    #: True when ``stop`` asked the sweep to end early (what it had not fired stays armed, free for any worker).
    interrupted: bool = False
    events: list[tuple[str, int]] = attrs.field(factory=list)


#: How a claim-and-fire ended: done (fired, cancelled or failed), lost a race, or not claimed.
_DONE, _CONFLICT, _SKIPPED = 0, 1, 2
#: The longest a failed firing is held back: 30 days.
_MAX_HOLD_SECONDS = 30 * 24 * 3600
#: The golden ratio's fraction: successive jumps of a worker land far from each other on the due list.
_GOLDEN = 0.6180339887498949


def _rotation(owner: str) -> float:
    """Where on the due list (a fraction of its length) a worker starts after it met another worker."""
    return zlib.crc32(owner.encode()) / 2**32


class TimerSweep:
    """The timer half of the engine (a base class of :class:`~hazardflow.Engine`)."""

    if TYPE_CHECKING:
        store: Store
        worker_id: str

        def now(self) -> datetime: ...

        def policy_for(self, case: Case) -> JurisdictionPolicy: ...

        def _notify(self, writes: Sequence[Write]) -> None: ...

        #: Steps 2-9 of a command on a loaded case (``Engine._execute``, where its signature is checked).
        _execute: Callable[..., Case]

    def run_due(
        self,
        now: datetime | None = None,
        *,
        limit: int = 500,
        owner: str | None = None,
        hold_seconds: float = 300.0,
        stop: Callable[[], bool] | None = None,
    ) -> RunDueReport:
        """Fire every timer due at ``now`` (default: the clock) as the system actor; idempotent.

        The sweep finds due timers with a plain read (up to ``limit`` at a time, earliest first), and each
        firing begins by *claiming* its timer in the firing's own transaction (:meth:`Store.claim_timer`):
        the claim and the firing's writes (event, case, timer marked fired, new timers) commit together, so
        several workers can sweep at once and each timer fires once. A timer another worker is firing is
        skipped (``skipped``); a worker that meets another walks on from another place in the due list, so
        workers mostly fire different timers. A worker that dies mid-firing holds nothing: its claim ends
        with its transaction, and the next sweep fires the timer.

        A timer whose case moved on is cancelled, not fired; a reminder that could only be sent after its
        deadline passed is cancelled too (the overdue event supersedes it). Firings after downtime are
        caught up: each event records how late it fired (``late_seconds``), and ladder rungs keep the
        schedule counted from the deadline, so a sweep after a long outage fires every rung that fell due
        meanwhile, in order. A firing that raises writes nothing; its timer stays armed and is held back for
        ``hold_seconds`` (recorded as held by ``owner``), then retried; nothing is dropped. A database error
        ends the sweep (the error propagates; the next sweep carries on).

        With ``now`` left out each firing is stamped with the clock's time when it commits; with an explicit
        ``now`` (tests, simulations) every firing is stamped ``now``. ``stop`` is polled between firings:
        when it returns True the sweep returns at once (graceful shutdown; nothing is left held).
        """
        positive_int("limit", limit)
        if (
            isinstance(hold_seconds, bool)
            or not isinstance(hold_seconds, int | float)
            or not 0 < hold_seconds <= _MAX_HOLD_SECONDS
        ):
            raise InvalidInput(
                "hold_seconds", hold_seconds, f"must be a positive number of seconds, at most {_MAX_HOLD_SECONDS}"
            )
        fixed = now is not None
        sweep_now = _utc("now", now) if now is not None else self.now()
        owner = owner or self.worker_id
        hold = timedelta(seconds=hold_seconds)
        report = RunDueReport(now=sweep_now)
        # Each timer is tried once per sweep: one that lost a race, or that another worker holds, is left
        # to the next sweep. Those stay armed and are found again, so each look asks for that many more.
        tried: set[str] = set()
        left = 0
        jump: float | None = None
        while True:
            found = self.store.due_timers(sweep_now, limit=limit + left)
            report.rounds += 1
            todo = [t for t in found if t.id not in tried]
            if not todo:
                break
            if jump is not None:
                # Another worker is sweeping the same list: walk on from another place in it.
                start = int(jump * len(todo))
                todo = todo[start:] + todo[:start]
            for timer in todo:
                if stop is not None and stop():
                    report.interrupted = True
                    return report
                tried.add(timer.id)
                at = sweep_now if fixed else max(sweep_now, self.now())
                outcome = self._fire_timer(timer, at, owner, hold, report)
                if outcome != _DONE:
                    left += 1
                if outcome == _SKIPPED:
                    jump = _rotation(owner) if jump is None else (jump + _GOLDEN) % 1.0
                    break
            # Look again: what this round skipped or left, and timers a firing armed already due (a rung
            # with no delay, a catch-up).
        return report

    def _fire_timer(self, timer: Timer, at: datetime, owner: str, hold: timedelta, report: RunDueReport) -> int:
        """Claim one due timer and fire (or cancel) it in the claim's transaction; how it ended."""
        claim = self.store.claim_timer(timer.id, at)
        if claim is None:
            report.skipped += 1
            return _SKIPPED
        with claim:
            timer = claim.timer
            case = claim.case
            if self._timer_is_stale(timer, case, at):
                claim.cancel()
                report.cancelled += 1
                return _DONE
            late = max(0.0, (at - timer.due_at).total_seconds())
            uow = _UnitOfWork(self.store)
            try:
                command = self._timer_command(timer, case)
                if command is None:
                    # The policy's ladder has no such rung (any more): nothing to fire.
                    claim.cancel()
                    report.cancelled += 1
                    return _DONE
                trigger, payload = command
                self._execute(uow, case, trigger, SYSTEM, payload, at, timer=timer, late=late)
                claim.commit(uow.writes)
            except ConcurrentUpdateError:
                # Another command moved a case this firing touches: decide again at the next sweep.
                report.conflicts += 1
                return _CONFLICT
            except TransitionNotAllowed:
                # The case is in a state where this timer means nothing any more: cancel, never fire.
                claim.cancel()
                report.cancelled += 1
                return _DONE
            except PersistenceError:
                raise
            except Exception:
                # A policy bug, say: nothing was written. Hold the timer back (never drop it) and retry later.
                _log().exception("timer.fire_failed", timer_id=timer.id, case_id=timer.case_id, kind=timer.kind)
                claim.close()
                self.store.hold_timer(timer.id, owner=owner, until=at + hold)
                report.failed += 1
                return _DONE
        try:
            self._notify(uow.writes)
        except Exception:  # the firing is committed; a listener's failure must not stop the sweep
            _log().exception("timer.listener_failed", timer_id=timer.id, case_id=timer.case_id)
        report.fired += 1
        if late > 0:
            report.late += 1
            report.max_late_seconds = max(report.max_late_seconds, late)
        report.events.append((case.id, case.rev + 1))
        return _DONE

    def _timer_command(self, timer: Timer, case: Case) -> tuple[str, dict[str, Any]] | None:
        """The system command a timer fires: ``mark_overdue``, ``remind`` or ``sanction`` with its payload."""
        if timer.kind == "deadline":
            return "mark_overdue", {"key": timer.key, "due_at": timer.due_at.isoformat()}
        if timer.kind == "reminder":
            return "remind", {"key": timer.key, "due_at": timer.due_at.isoformat()}
        rungs = self.policy_for(case).ladder(timer.key, case)
        if not 1 <= timer.rung <= len(rungs):
            return None
        rung = rungs[timer.rung - 1]
        return "sanction", {
            "key": timer.key,
            "rung": timer.rung,
            "sanction": rung.sanction,
            "party": rung.party,
            "party_id": self._party_id(case, rung),
        }

    @staticmethod
    def _timer_is_stale(timer: Timer, case: Case, at: datetime) -> bool:
        """True when the case moved on from what armed the timer (then it is cancelled, never fired)."""
        if case.closed_at is not None or case.state != timer.armed_state:
            return True
        deadline = case.deadline
        if deadline is None or deadline.key != timer.key:
            return True
        if timer.kind == "deadline":
            return deadline.due_at != timer.due_at
        if timer.kind == "reminder":
            # A reminder is worth sending only while its deadline is still ahead.
            return case.overdue or at >= deadline.due_at
        if timer.kind == "sanction":
            return not case.overdue
        return True

    @staticmethod
    def _party_id(case: Case, rung: Rung) -> str | None:
        """The id of the party a rung names: the obligation's own party, the unit, the department, the township."""
        f = case.fields
        if f.get("party_kind") == rung.party and f.get("party_id"):
            return str(f["party_id"])
        if rung.party == "business_unit":
            unit = f.get("business_unit")
            return str(unit) if unit else None
        if rung.party == "department":
            dept = f.get("department")
            return str(dept) if dept else None
        return case.jurisdiction
