"""DESIGN invariant 5 on every store, as a Hypothesis state machine.

Every open, non-terminal case that has a deadline has exactly one armed deadline timer (until that deadline
fires and the case is overdue), at the case's deadline; a closed case has no armed timer; each timer fires
at most once, whatever the interleaving of commands, clock jumps, several workers and a worker that dies in
the middle of a firing (its claim ends with it and changes nothing); after a sweep nothing due is left armed,
except (on the memory store, where a claim can stay open across steps) what a slow worker's claim still holds.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from hazardflow import Engine, HazardflowError, SequentialIds, SimulatedClock
from hazardflow._calendar import local_date
from hazardflow.testing import MemoryStore, snapshot_store
from timer_support import BOSS, HAZARD_FIELDS, MANAGER, OFFICER, TOWNSHIP

TIMER_TRIGGERS = ("mark_overdue", "remind", "sanction")
#: A worker that dies in the middle of a firing, after its claim and before its commit.
GHOST = "ghost-worker"


class _Died(BaseException):
    """The worker's process ends here (not an error the engine would catch)."""


class _DyingClaim:
    """A claim whose worker dies when it comes to commit or cancel: the claim ends as its transaction would."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.timer = inner.timer
        self.case = inner.case

    def commit(self, writes: Any) -> None:
        raise _Died

    def cancel(self) -> None:
        raise _Died

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> _DyingClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _DyingStore:
    """The store as the dying worker sees it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def claim_timer(self, timer_id: str, now: Any) -> Any:
        claim = self._inner.claim_timer(timer_id, now)
        return None if claim is None else _DyingClaim(claim)


class TimerMachine(RuleBasedStateMachine):
    """Commands, clock jumps and sweeps on hazard cases; invariant 5 checked after every step."""

    make_store: Any = staticmethod(MemoryStore)

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.clock = SimulatedClock("2024-03-04T09:00:00+08:00")
        self.engine = Engine(store=self.store, clock=self.clock, ids=SequentialIds())
        #: Claims a slow worker holds open across steps (memory store only: on SQLite a claim holds the
        #: write lock and on PostgreSQL the case row, which the single-threaded commands here would wait for).
        self.slow_claims: list[Any] = []

    cases = Bundle("cases")

    def teardown(self) -> None:
        for claim in self.slow_claims:
            claim.close()
        self.store.close()

    def _deadline(self, days: int) -> str:
        return (local_date(self.clock.now()) + timedelta(days=days)).isoformat()

    def _try(self, case_id: str, trigger: str, actor: Any, payload: dict[str, Any]) -> None:
        # Refused commands change nothing; the invariants below still hold.
        with contextlib.suppress(HazardflowError):
            self.engine.fire(case_id, trigger, actor=actor, payload=payload)

    # ── commands ─────────────────────────────────────────────────────────────────────────────────
    @initialize(target=cases, days=st.integers(0, 20))
    def first_case(self, days: int) -> str:
        return self.open_case(days)

    @rule(target=cases, days=st.integers(0, 20))
    def open_case(self, days: int) -> str:
        case = self.engine.open_case("hazard", actor=OFFICER, jurisdiction=TOWNSHIP, **HAZARD_FIELDS)
        self._try(
            case.id,
            "set_deadline",
            OFFICER,
            {"deadline": self._deadline(days), "measures": "清理", "responsible": "李安全"},
        )
        return case.id

    @rule(case_id=cases)
    def submit(self, case_id: str) -> None:
        self._try(case_id, "submit_review", MANAGER, {"evidence": ["照片.jpg"], "rectified_by": MANAGER.id})

    @rule(case_id=cases, approve=st.booleans())
    def review(self, case_id: str, approve: bool) -> None:
        if approve:
            self._try(case_id, "approve", OFFICER, {"opinion": "通过"})
        else:
            self._try(case_id, "reject", OFFICER, {"reason": "证据不足"})

    @rule(case_id=cases, days=st.integers(1, 30))
    def request_extension(self, case_id: str, days: int) -> None:
        case = self.engine.get(case_id)
        base = case.deadline.due_at if case.deadline is not None else self.clock.now()
        asked = (local_date(base) + timedelta(days=days)).isoformat()
        self._try(
            case_id,
            "request_extension",
            BOSS,
            {"reason": "设备未到", "requested_deadline": asked, "interim_measures": ["专人值守"]},
        )

    @rule(case_id=cases, grant=st.booleans())
    def decide_extension(self, case_id: str, grant: bool) -> None:
        if grant:
            self._try(case_id, "grant_extension", OFFICER, {"opinion": "同意"})
        else:
            self._try(case_id, "deny_extension", OFFICER, {"reason": "不予延期"})

    @rule(case_id=cases, days=st.integers(0, 15))
    def reopen(self, case_id: str, days: int) -> None:
        self._try(
            case_id, "reopen", OFFICER, {"finding": "recurrence", "reason": "回头看", "deadline": self._deadline(days)}
        )

    @rule(case_id=cases, via=st.sampled_from(["review", "extension"]))
    def bounce(self, case_id: str, via: str) -> None:
        """Leave the stage and come straight back to it with the same (possibly missed) deadline."""
        if via == "review":
            self.submit(case_id)
            self.review(case_id, approve=False)
        else:
            self.request_extension(case_id, 10)
            self.decide_extension(case_id, grant=False)

    @rule(case_id=cases)
    def order_stop(self, case_id: str) -> None:
        self._try(case_id, "order_stop", OFFICER, {"level": "partial", "reason": "整改期间"})

    # ── time and workers ─────────────────────────────────────────────────────────────────────────
    @rule(hours=st.integers(1, 24 * 20))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(worker=st.sampled_from(["w1", "w2"]), limit=st.integers(1, 7), hours=st.integers(0, 24 * 30))
    def sweep(self, worker: str, limit: int, hours: int) -> None:
        self.clock.advance(hours=hours)
        now = self.clock.now()
        report = self.engine.run_due(owner=worker, limit=limit, hold_seconds=120)
        assert report.failed == 0
        held = {c.timer.id for c in self.slow_claims}
        for timer in self._all_armed():
            if timer.due_at <= now:
                # Only a claim still open holds a due timer back; nothing is ever left held by a lease.
                assert timer.id in held, timer
                assert timer.lease_owner is None, timer

    @rule(limit=st.integers(1, 5))
    def worker_dies_mid_firing(self, limit: int) -> None:
        """A worker claims a due timer, computes its firing, and dies before its commit."""
        now = self.clock.now()
        before = snapshot_store(self.store)
        ghost = Engine(store=_DyingStore(self.store), clock=self.clock, ids=SequentialIds(), worker_id=GHOST)
        with contextlib.suppress(_Died):
            ghost.run_due(now, limit=limit)
        after = snapshot_store(self.store)
        assert before == after, "; ".join(before.diff(after))
        # Its claim died with it: every due timer can be claimed at once (none waits for a lease to expire).
        held = {c.timer.id for c in self.slow_claims}
        for timer in self.store.due_timers(now, limit=100):
            if timer.id in held:
                continue
            claim = self.store.claim_timer(timer.id, now)
            assert claim is not None, timer
            claim.close()

    @rule(limit=st.integers(1, 3))
    def slow_worker_claims(self, limit: int) -> None:
        """A slow worker claims due timers and keeps its claims open while commands and sweeps go on."""
        if not isinstance(self.store, MemoryStore):
            return
        now = self.clock.now()
        for timer in self.store.due_timers(now, limit=limit):
            claim = self.store.claim_timer(timer.id, now)
            if claim is not None:
                self.slow_claims.append(claim)

    @rule()
    def slow_worker_dies(self) -> None:
        for claim in self.slow_claims:
            claim.close()
        self.slow_claims.clear()

    # ── invariant 5 ──────────────────────────────────────────────────────────────────────────────
    def _all_armed(self) -> list[Any]:
        return [t for c in self.engine.cases() for t in self.store.armed_timers(c.id)]

    @invariant()
    def one_armed_deadline_per_open_case_with_a_deadline(self) -> None:
        for case in self.engine.cases():
            timers = self.store.armed_timers(case.id)
            deadlines = [t for t in timers if t.kind == "deadline"]
            if case.closed_at is not None or case.deadline is None:
                assert timers == [], (case.id, case.state, timers)
                continue
            if case.overdue:
                assert deadlines == [], (case.id, deadlines)
                assert all(t.kind == "sanction" for t in timers), timers
            else:
                assert len(deadlines) == 1, (case.id, case.state, deadlines)
                assert deadlines[0].due_at == case.deadline.due_at
                assert deadlines[0].key == case.deadline.key
                assert deadlines[0].armed_state == case.state
                assert all(t.due_at < case.deadline.due_at for t in timers if t.kind == "reminder")

    @invariant()
    def each_timer_fires_at_most_once(self) -> None:
        for case in self.engine.cases():
            events = self.engine.history(case.id)
            timer_events = [e for e in events if e.trigger in TIMER_TRIGGERS]
            fired = self._fired_timers(case.id)
            # One event per fired timer, each recorded against a different event.
            assert len(timer_events) == len(fired), (case.id, [e.trigger for e in timer_events], fired)
            assert len({t.fired_seq for t in fired}) == len(fired)
            by_seq = {e.seq: e for e in events}
            for t in fired:
                ev = by_seq[t.fired_seq]
                assert ev.trigger == {"deadline": "mark_overdue", "reminder": "remind", "sanction": "sanction"}[t.kind]
                assert ev.late_seconds is not None
                assert ev.late_seconds >= 0
            # A rung of one missed deadline is never applied twice, even when the case re-enters the stage.
            rungs: Counter[tuple[str, int]] = Counter()
            missed = ""
            for e in timer_events:
                if e.trigger == "mark_overdue":
                    missed = e.payload["due_at"]
                elif e.trigger == "sanction":
                    rungs[(missed, e.payload["rung"])] += 1
            assert all(n == 1 for n in rungs.values()), rungs

    def _fired_timers(self, case_id: str) -> list[Any]:
        # Timer ids are "<case>/<seq>/<kind><n>": probe each event that could have armed one.
        out = []
        for e in self.engine.history(case_id):
            for suffix in ("d", *(f"r{i}" for i in range(1, 4)), *(f"s{i}" for i in range(1, 6))):
                t = self.store.get_timer(f"{case_id}/{e.seq}/{suffix}")
                if t is not None and t.status == "fired":
                    out.append(t)
        return out


def _bounded(steps: int, examples: int) -> settings:
    profile = settings()
    if os.environ.get("HYPOTHESIS_PROFILE") == "ci":
        return settings(profile, max_examples=examples, stateful_step_count=steps)
    return settings(profile, max_examples=examples * 2, stateful_step_count=steps)


TestTimersOnMemory = TimerMachine.TestCase
TestTimersOnMemory.settings = _bounded(40, 40)


class SqliteTimerMachine(TimerMachine):
    path: Path

    def __init__(self) -> None:
        SqliteTimerMachine.path.unlink(missing_ok=True)
        super().__init__()

    @staticmethod
    def make_store() -> Any:
        from hazardflow.persistence.sql import SqlStore

        return SqlStore(f"sqlite:///{SqliteTimerMachine.path}")


class TestTimersOnSqlite(SqliteTimerMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = _bounded(25, 10)

    @pytest.fixture(autouse=True)
    def _path(self, tmp_path: Path) -> None:
        SqliteTimerMachine.path = tmp_path / "invariant.db"


class PostgresTimerMachine(TimerMachine):
    url: str

    @staticmethod
    def make_store() -> Any:
        import psycopg
        import sqlalchemy as sa

        from hazardflow.persistence.sql import SqlStore

        plain = sa.make_url(PostgresTimerMachine.url).set(drivername="postgresql")
        with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute("TRUNCATE hf_outbox, hf_confidential, hf_idempotency, hf_timer, hf_event, hf_case")
        return SqlStore(PostgresTimerMachine.url)


@pytest.mark.postgres
class TestTimersOnPostgres(PostgresTimerMachine.TestCase):  # type: ignore[name-defined,misc]
    settings = _bounded(25, 8)

    @pytest.fixture(autouse=True)
    def _url(self, postgres_url: str) -> None:
        PostgresTimerMachine.url = postgres_url


def test_the_machine_catches_a_broken_store() -> None:
    """The invariants are not vacuous: a store that forgets to cancel timers on a state change is caught."""

    class Forgetful(MemoryStore):
        def commit(self, writes: Any) -> None:
            super().commit([w._replace(cancel_timers=False) for w in writes])

    machine = TimerMachine()
    machine.store = Forgetful()
    machine.engine = Engine(store=machine.store, clock=machine.clock, ids=SequentialIds())
    case_id = machine.open_case(5)
    machine.submit(case_id)
    with pytest.raises(AssertionError):
        machine.one_armed_deadline_per_open_case_with_a_deadline()
