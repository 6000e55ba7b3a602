"""The store contract: one pytest suite every :class:`~hazardflow.abc.Store` implementation must pass.

Subclass :class:`StoreContract` in a test module and provide a ``store`` fixture that yields a fresh, empty
store for each test (and closes it afterwards)::

    import pytest
    from hazardflow.testing import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            s = MyStore(tmp_path / "db")
            yield s
            s.close()

The suite talks to the store only through the protocol: it commits hand-built write sets (cases, hash-chained
events, timers, idempotency keys, confidential records, outbox rows) and reads them back, then runs the real
:class:`~hazardflow.Engine` on top of the store. pytest is imported only when a test runs, so importing
:mod:`hazardflow.testing` does not need it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from ._audit import GENESIS, canonical_json, hash_canonical, verify_chain
from ._calendar import Deadline, DeadlineSpec
from ._exceptions import ConcurrentUpdateError
from ._model import AuditEvent, Case, FrozenDict, Timer, Write, freeze

if TYPE_CHECKING:
    from ._engine import Engine
    from .abc import Store

__all__ = ["StoreContract", "StoreSnapshot", "WriteFactory", "snapshot_store"]

#: A fixed origin for hand-built records: 2024-03-04 09:00 in Beijing.
T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)
TOWNSHIP = "500240204"  # 重庆市石柱县三星乡
OTHER_TOWNSHIP = "500240105"
COUNTY = "500240"
OTHER_COUNTY = "500241"
CITY = "500200"


@attrs.frozen
class StoreSnapshot:
    """Everything a store shows through the protocol: cases, events, armed timers, confidential records, outbox.

    Two snapshots compare equal exactly when nothing observable changed; :meth:`diff` says what did.
    """

    cases: Mapping[str, Case]
    events: Mapping[str, tuple[AuditEvent, ...]]
    armed_timers: Mapping[str, tuple[Timer, ...]]
    confidential: Mapping[str, Mapping[str, Any] | None]
    outbox: tuple[tuple[int, str, int, str], ...]
    next_due: datetime | None

    def diff(self, other: StoreSnapshot) -> list[str]:
        """Human-readable differences between this snapshot and ``other`` (empty when equal)."""
        out: list[str] = []
        for name in ("cases", "events", "armed_timers", "confidential"):
            mine: Mapping[str, Any] = getattr(self, name)
            theirs: Mapping[str, Any] = getattr(other, name)
            for key in sorted(set(mine) | set(theirs)):
                if mine.get(key) != theirs.get(key):
                    out.append(f"{name}[{key!r}]: {mine.get(key)!r} != {theirs.get(key)!r}")
        if self.outbox != other.outbox:
            out.append(f"outbox: {self.outbox!r} != {other.outbox!r}")
        if self.next_due != other.next_due:
            out.append(f"next_due: {self.next_due!r} != {other.next_due!r}")
        return out


def snapshot_store(store: Store) -> StoreSnapshot:
    """Read everything observable from ``store`` (for "a refused command changes nothing" checks)."""
    cases = {c.id: c for c in store.iter_cases()}
    return StoreSnapshot(
        cases=cases,
        events={cid: tuple(store.load_events(cid)) for cid in cases},
        armed_timers={cid: tuple(store.armed_timers(cid)) for cid in cases},
        confidential={cid: store.read_confidential(cid) for cid in cases},
        outbox=tuple(store.read_outbox(limit=1_000_000)),
        next_due=store.next_due(),
    )


class WriteFactory:
    """Builds consistent write sets by hand: a case snapshot plus its hash-chained event, ready to commit.

    The events carry real ``prev_hash``/``hash`` values and replayable ``changes``, so a store that keeps
    them faithfully passes :func:`hazardflow._audit.verify_chain` on what it reads back.
    """

    def __init__(self) -> None:
        self.heads: dict[str, Case] = {}

    def open(
        self,
        case_id: str,
        *,
        workflow: str = "hazard",
        state: str = "registered",
        jurisdiction: str = TOWNSHIP,
        fields: Mapping[str, Any] | None = None,
        at: datetime = T0,
        **kwargs: Any,
    ) -> Write:
        """The write that opens ``case_id`` (expected revision 0)."""
        case = Case(
            id=case_id,
            workflow=workflow,
            state=state,
            rev=0,
            jurisdiction=jurisdiction,
            owning_jurisdiction=jurisdiction,
            policy_id="cn.national",
            policy_version="2024.1",
            opened_at=at,
            updated_at=at,
            fields=FrozenDict(),
        )
        return self._write(case, state, dict(fields or {}), at, opening=True, **kwargs)

    def step(
        self,
        case_id: str,
        *,
        state: str | None = None,
        fields: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        closed: bool | None = None,
        deadline: Deadline | None = None,
        **kwargs: Any,
    ) -> Write:
        """The next write of ``case_id`` (expected revision = the last built one)."""
        prev = self.heads[case_id]
        when = at if at is not None else prev.updated_at + timedelta(minutes=1)
        return self._write(
            prev,
            state or prev.state,
            dict(fields or {}),
            when,
            opening=False,
            closed=closed,
            deadline=deadline,
            **kwargs,
        )

    def _write(
        self,
        prev: Case,
        state: str,
        updates: dict[str, Any],
        at: datetime,
        *,
        opening: bool,
        closed: bool | None = None,
        deadline: Deadline | None = None,
        arm: Sequence[Timer] = (),
        cancel_timers: bool = False,
        fire_timer: str | None = None,
        idempotency_key: str | None = None,
        command_hash: str | None = None,
        outbox: bool = False,
        confidential: Mapping[str, Any] | None = None,
        trigger: str = "step",
        expected_rev: int | None = None,
        late_seconds: float | None = None,
    ) -> Write:
        seq = prev.rev + 1
        frozen_upd = {k: freeze(v) for k, v in updates.items()}
        fields = FrozenDict({**prev.fields, **frozen_upd})
        closed_at = prev.closed_at
        if closed is True:
            closed_at = at
        elif closed is False:
            closed_at = None
        new_deadline = deadline if deadline is not None else prev.deadline
        changes: dict[str, Any]
        if opening:
            changes = {
                "jurisdiction": prev.jurisdiction,
                "owning_jurisdiction": prev.owning_jurisdiction,
                "fields": fields,
                "deadline": new_deadline.to_json() if new_deadline is not None else None,
                "overdue": False,
                "sanction_rung": 0,
                "closed_at": closed_at.isoformat() if closed_at is not None else None,
            }
        else:
            changes = {}
            if frozen_upd:
                changes["fields"] = FrozenDict(frozen_upd)
            if new_deadline is not prev.deadline:
                changes["deadline"] = new_deadline.to_json() if new_deadline is not None else None
            if closed_at != prev.closed_at:
                changes["closed_at"] = closed_at.isoformat() if closed_at is not None else None
        body: dict[str, Any] = {
            "case_id": prev.id,
            "seq": seq,
            "workflow": prev.workflow,
            "type": f"case.{trigger}",
            "trigger": trigger,
            "from_state": None if opening else prev.state,
            "to_state": state,
            "actor_id": "u-1",
            "actor_name": "张三",
            "actor_role": "township_officer",
            "actor_org": "三星乡安办",
            "actor_jurisdiction": TOWNSHIP,
            "occurred_at": at.isoformat(),
            "policy_id": prev.policy_id,
            "policy_version": prev.policy_version,
            "payload": FrozenDict({"note": "说明", "n": seq}),
            "changes": FrozenDict(changes),
            "reason": None,
            "idempotency_key": idempotency_key,
            "late_seconds": late_seconds,
            "prev_hash": GENESIS if opening else prev.last_hash,
        }
        body_json = canonical_json(body)
        digest = hash_canonical(body_json, None)
        event = AuditEvent(**{**body, "occurred_at": at}, hash=digest)
        case = attrs.evolve(
            prev,
            state=state,
            rev=seq,
            updated_at=at,
            fields=fields,
            deadline=new_deadline,
            closed_at=closed_at,
            last_hash=digest,
        )
        self.heads[prev.id] = case
        return Write(
            case=case,
            expected_rev=prev.rev if expected_rev is None else expected_rev,
            event=event,
            arm=list(arm),
            cancel_timers=cancel_timers,
            fire_timer=fire_timer,
            idempotency_key=idempotency_key,
            idempotency_scope=prev.id if idempotency_key is not None else None,
            command_hash=command_hash,
            outbox=outbox,
            confidential=confidential,
            event_json=body_json,
        )

    def forget(self, case_id: str, case: Case) -> None:
        """Reset the head of ``case_id`` to ``case`` (after a write that was refused)."""
        self.heads[case_id] = case


def timer(
    case_id: str,
    name: str,
    due_at: datetime,
    *,
    kind: str = "deadline",
    key: str = "rectify",
    seq: int = 1,
    state: str = "rectifying",
    rung: int = 0,
) -> Timer:
    """A timer row as the engine arms it (id ``<case>/<seq>/<name>``)."""
    return Timer(f"{case_id}/{seq}/{name}", case_id, "hazard", kind, key, due_at, seq, state, rung)


class StoreContract:
    """The behaviour every store must show. Subclass it and provide a ``store`` fixture (a fresh, empty store).

    What it checks: atomic multi-write commits; revision conflicts that write nothing; several writes to one
    case in one commit; idempotency records; timers (arm, cancel, find due, claim, commit or cancel under a
    claim, hold back, fire once, ``next_due``); ``iter_cases`` filters (jurisdiction subtree, department,
    open only, state, workflow); confidential records; the outbox; event order; faithful round trips (an
    event read back still verifies against its hash); and the engine running its full lifecycle on the store.
    """

    # ── helpers ──────────────────────────────────────────────────────────────────────────────────
    @staticmethod
    def commit_refused(store: Store, writes: Sequence[Write]) -> ConcurrentUpdateError:
        """Commit ``writes`` expecting a ConcurrentUpdateError, and check the store did not change."""
        import pytest

        before = snapshot_store(store)
        with pytest.raises(ConcurrentUpdateError) as info:
            store.commit(writes)
        after = snapshot_store(store)
        assert before == after, "a refused commit changed the store: " + "; ".join(before.diff(after))
        return info.value

    @staticmethod
    def engine_on(store: Store, **kwargs: Any) -> Engine:
        """A real engine on ``store`` with a simulated clock and sequential ids."""
        from ._clock import SimulatedClock
        from ._engine import Engine, SequentialIds

        clock = kwargs.pop("clock", None) or SimulatedClock("2024-03-04T09:00:00+08:00")
        return Engine(store=store, clock=clock, ids=SequentialIds(), **kwargs)

    # ── cases and events ─────────────────────────────────────────────────────────────────────────
    def test_empty_store(self, store: Store) -> None:
        assert store.load_case("HZ-404") is None
        assert store.load_events("HZ-404") == []
        assert list(store.iter_cases()) == []
        assert list(store.iter_events()) == []
        assert store.armed_timers("HZ-404") == []
        assert store.get_timer("HZ-404/1/d") is None
        assert store.next_due() is None
        assert store.lookup_idempotency("HZ-404", "k") is None
        assert store.read_confidential("HZ-404") is None
        assert store.read_outbox() == []
        assert store.due_timers(T0 + timedelta(days=999), limit=10) == []
        assert store.claim_timer("HZ-404/1/d", T0 + timedelta(days=999)) is None

    def test_round_trip_is_faithful(self, store: Store) -> None:
        f = WriteFactory()
        deadline = Deadline(
            "rectify",
            datetime(2024, 3, 20, 16, 0, tzinfo=UTC),
            DeadlineSpec.natural_days(10, source="S1 §23"),
            T0,
            provisional=True,
        )
        fields = {
            "grade": "major",
            "description": "储罐区未设置紧急切断装置，“重大”隐患",
            "funds_amount": 350000.5,
            "count": 3,
            "listed": False,
            "nothing": None,
            "reported_to": ("supervising_department", "workers_congress"),
            "listing": {"level": "county", "by": "c-1", "nested": {"a": [1, 2, {"b": "乙"}]}},
        }
        w1 = f.open("HZ-1", fields=fields)
        store.commit([w1])
        w2 = f.step("HZ-1", state="rectifying", fields={"plan": {"deadline": "2024-03-20"}}, deadline=deadline)
        store.commit([w2])
        case = store.load_case("HZ-1")
        assert case == w2.case
        assert case is not None
        assert case.deadline == deadline
        assert case.fields["listing"]["nested"]["a"][2]["b"] == "乙"
        assert case.opened_at == T0
        assert case.opened_at.utcoffset() == timedelta(0)
        events = store.load_events("HZ-1")
        assert events == [w1.event, w2.event]
        assert [e.to_dict() for e in events] == [w1.event.to_dict(), w2.event.to_dict()]
        # The stored events still hash to what was signed, and replaying them gives the stored case.
        assert verify_chain(case, events, None) is None

    def test_events_come_back_in_seq_order(self, store: Store) -> None:
        f = WriteFactory()
        store.commit([f.open("HZ-A")])
        store.commit([f.open("HZ-B")])
        for _ in range(3):
            store.commit([f.step("HZ-B")])
            store.commit([f.step("HZ-A")])
        for cid in ("HZ-A", "HZ-B"):
            assert [e.seq for e in store.load_events(cid)] == [1, 2, 3, 4]
            assert [e.seq for e in store.iter_events(cid)] == [1, 2, 3, 4]
        every = list(store.iter_events())
        assert len(every) == 8
        for cid in ("HZ-A", "HZ-B"):
            assert [e.seq for e in every if e.case_id == cid] == [1, 2, 3, 4]

    def test_commit_is_atomic_over_many_writes(self, store: Store) -> None:
        f = WriteFactory()
        store.commit([f.open("HZ-1", arm=[timer("HZ-1", "d", T0 + timedelta(days=1))])])
        # Three new cases, a second event on HZ-1, timers, keys, confidential records and outbox rows in one commit.
        writes = [
            f.open("HZ-2", outbox=True, confidential={"reporter": "李四"}),
            f.step("HZ-1", cancel_timers=True, arm=[timer("HZ-1", "d", T0 + timedelta(days=2), seq=2)], outbox=True),
            f.open("HZ-3", idempotency_key="k-3", command_hash="h3"),
            f.step("HZ-2", outbox=True),
        ]
        store.commit(writes)
        assert store.load_case("HZ-2") == writes[3].case
        assert store.load_case("HZ-1") == writes[1].case
        assert store.load_case("HZ-3") == writes[2].case
        assert [e.seq for e in store.load_events("HZ-2")] == [1, 2]
        assert [t.id for t in store.armed_timers("HZ-1")] == ["HZ-1/2/d"]
        assert store.lookup_idempotency("HZ-3", "k-3") == ("HZ-3", 1, "h3")
        assert store.read_confidential("HZ-2") == {"reporter": "李四"}
        assert [row[1:] for row in store.read_outbox()] == [
            ("HZ-2", 1, "case.step"),
            ("HZ-1", 2, "case.step"),
            ("HZ-2", 2, "case.step"),
        ]

    def test_a_conflict_anywhere_writes_nothing(self, store: Store) -> None:
        f = WriteFactory()
        store.commit([f.open("HZ-1", arm=[timer("HZ-1", "d", T0 + timedelta(days=1))])])
        store.commit([f.open("HZ-2")])
        head2 = f.heads["HZ-2"]
        good = f.open("HZ-3", outbox=True, confidential={"reporter": "王五"}, idempotency_key="k", command_hash="h")
        also_good = f.step("HZ-1", cancel_timers=True, arm=[timer("HZ-1", "d", T0 + timedelta(days=5), seq=2)])
        stale = f.step("HZ-2", expected_rev=0)  # HZ-2 is at revision 1
        err = self.commit_refused(store, [good, also_good, stale])
        assert err.case_id == "HZ-2"
        assert err.expected_rev == 0
        assert err.code == "hazardflow.concurrent_update"
        assert store.load_case("HZ-3") is None
        assert store.lookup_idempotency("HZ-3", "k") is None
        assert store.read_confidential("HZ-3") is None
        assert [t.id for t in store.armed_timers("HZ-1")] == ["HZ-1/1/d"]
        assert store.load_case("HZ-2") == head2

    def test_revision_conflicts(self, store: Store) -> None:
        f = WriteFactory()
        first = f.open("HZ-1")
        store.commit([first])
        # Opening a case that exists.
        self.commit_refused(store, [WriteFactory().open("HZ-1")])
        store.commit([f.step("HZ-1")])
        at2 = f.heads["HZ-1"]
        # Two commands that both read revision 2: the first wins, the second writes nothing.
        winner = f.step("HZ-1", fields={"who": "a"})
        f.forget("HZ-1", at2)
        loser = f.step("HZ-1", fields={"who": "b"})
        store.commit([winner])
        err = self.commit_refused(store, [loser])
        assert (err.case_id, err.expected_rev) == ("HZ-1", 2)
        assert store.load_case("HZ-1") == winner.case
        assert [e.hash for e in store.load_events("HZ-1")][-1] == winner.event.hash
        # A write from the future (expected revision ahead of the stored one) is refused too.
        f.forget("HZ-1", winner.case)
        ahead = f.step("HZ-1", expected_rev=7)
        self.commit_refused(store, [ahead])

    def test_several_writes_to_one_case_in_one_commit(self, store: Store) -> None:
        f = WriteFactory()
        writes = [f.open("HZ-1"), f.step("HZ-1"), f.step("HZ-1", state="closed", closed=True)]
        store.commit(writes)
        assert store.load_case("HZ-1") == writes[-1].case
        assert [e.seq for e in store.load_events("HZ-1")] == [1, 2, 3]
        # Out of order inside one commit is a conflict.
        g = WriteFactory()
        a = g.open("HZ-2")
        b = g.step("HZ-2")
        self.commit_refused(store, [b, a])

    # ── idempotency ──────────────────────────────────────────────────────────────────────────────
    def test_idempotency_records(self, store: Store) -> None:
        f = WriteFactory()
        store.commit([f.open("HZ-1")])
        store.commit([f.step("HZ-1", idempotency_key="submit-1", command_hash="abc")])
        assert store.lookup_idempotency("HZ-1", "submit-1") == ("HZ-1", 2, "abc")
        assert store.lookup_idempotency("HZ-2", "submit-1") is None
        assert store.lookup_idempotency("HZ-1", "submit-2") is None
        # The same key on the same case again: refused, nothing written.
        self.commit_refused(store, [f.step("HZ-1", idempotency_key="submit-1", command_hash="abc")])
        # The same key twice inside one commit: refused too.
        f.forget("HZ-1", store.load_case("HZ-1"))  # type: ignore[arg-type]
        twice = [
            f.step("HZ-1", idempotency_key="dup", command_hash="x"),
            f.step("HZ-1", idempotency_key="dup", command_hash="y"),
        ]
        self.commit_refused(store, twice)
        # The same key on another case is independent.
        store.commit([f.open("HZ-2")])
        store.commit([f.step("HZ-2", idempotency_key="submit-1", command_hash="def")])
        assert store.lookup_idempotency("HZ-2", "submit-1") == ("HZ-2", 2, "def")

    def test_idempotency_scope_for_openings(self, store: Store) -> None:
        f = WriteFactory()
        w = f.open("HZ-1", idempotency_key="import-7", command_hash="h")._replace(idempotency_scope="open:hazard")
        store.commit([w])
        assert store.lookup_idempotency("open:hazard", "import-7") == ("HZ-1", 1, "h")
        assert store.lookup_idempotency("HZ-1", "import-7") is None

    # ── confidential records and the outbox ──────────────────────────────────────────────────────
    def test_confidential_records_are_kept_apart_and_merged(self, store: Store) -> None:
        f = WriteFactory()
        store.commit([f.open("TO-1", workflow="tipoff", state="received", confidential={"reporter": "匿名甲"})])
        store.commit([f.step("TO-1", confidential={"phone": "13800000000"})])
        store.commit([f.step("TO-1")])
        assert store.read_confidential("TO-1") == {"reporter": "匿名甲", "phone": "13800000000"}
        copy = store.read_confidential("TO-1")
        assert copy is not None
        copy["reporter"] = "changed"
        assert store.read_confidential("TO-1") == {"reporter": "匿名甲", "phone": "13800000000"}
        for ev in store.load_events("TO-1"):
            assert "匿名甲" not in canonical_json(ev.to_dict())

    def test_outbox_rows_in_commit_order(self, store: Store) -> None:
        f = WriteFactory()
        store.commit([f.open("HZ-1", outbox=True)])
        store.commit([f.open("HZ-2", outbox=False)])
        store.commit([f.step("HZ-2", outbox=True), f.step("HZ-1", outbox=True)])
        rows = store.read_outbox()
        assert [r[1:] for r in rows] == [("HZ-1", 1, "case.step"), ("HZ-2", 2, "case.step"), ("HZ-1", 2, "case.step")]
        positions = [r[0] for r in rows]
        assert positions == sorted(positions)
        assert len(set(positions)) == 3
        assert store.read_outbox(after=positions[0]) == rows[1:]
        assert store.read_outbox(after=positions[0], limit=1) == rows[1:2]
        assert store.read_outbox(after=positions[-1]) == []

    # ── iter_cases filters ───────────────────────────────────────────────────────────────────────
    def test_iter_cases_filters(self, store: Store) -> None:
        f = WriteFactory()
        specs: list[tuple[str, str, str, str, str | None, bool]] = [
            # id, workflow, jurisdiction, state, department, closed
            ("HZ-1", "hazard", TOWNSHIP, "rectifying", "emergency_management", False),
            ("HZ-2", "hazard", TOWNSHIP + "000", "closed", "emergency_management", True),
            ("HZ-3", "hazard", OTHER_TOWNSHIP, "registered", "fire_department", False),
            ("HZ-4", "hazard", COUNTY, "rectifying", None, False),
            ("HZ-5", "hazard", OTHER_COUNTY, "rectifying", "emergency_management", False),
            ("HZ-6", "hazard", "500240204201", "voided", None, True),
            ("TO-1", "tipoff", TOWNSHIP, "received", None, False),
            ("HZ-7", "hazard", "510100", "rectifying", "fire_department", False),
        ]
        for cid, wf, jur, state, dept, closed in specs:
            fields = {"department": dept} if dept is not None else {}
            store.commit([f.open(cid, workflow=wf, jurisdiction=jur, state=state, fields=fields)])
            if closed:
                store.commit([f.step(cid, closed=True)])

        def ids(**kw: Any) -> list[str]:
            return sorted(c.id for c in store.iter_cases(**kw))

        assert ids() == sorted(s[0] for s in specs)
        assert ids(jurisdiction=TOWNSHIP) == ["HZ-1", "HZ-2", "HZ-6", "TO-1"]
        assert ids(jurisdiction=COUNTY) == ["HZ-1", "HZ-2", "HZ-3", "HZ-4", "HZ-6", "TO-1"]
        assert ids(jurisdiction=CITY) == ["HZ-1", "HZ-2", "HZ-3", "HZ-4", "HZ-5", "HZ-6", "TO-1"]
        assert ids(jurisdiction="500000") == ids(jurisdiction=CITY)
        assert ids(jurisdiction="000000") == ids()
        assert ids(jurisdiction="500240204201") == ["HZ-6"]
        assert ids(jurisdiction="510000") == ["HZ-7"]
        assert ids(jurisdiction="500240106") == []
        assert ids(department="emergency_management") == ["HZ-1", "HZ-2", "HZ-5"]
        assert ids(open_only=True) == ["HZ-1", "HZ-3", "HZ-4", "HZ-5", "HZ-7", "TO-1"]
        assert ids(state="rectifying") == ["HZ-1", "HZ-4", "HZ-5", "HZ-7"]
        assert ids(workflow="tipoff") == ["TO-1"]
        assert ids(workflow="hazard", jurisdiction=COUNTY, open_only=True, state="rectifying") == ["HZ-1", "HZ-4"]
        assert ids(workflow="hazard", department="fire_department", jurisdiction=COUNTY) == ["HZ-3"]
        # Filters read the newest revision.
        store.commit([f.step("HZ-4", state="under_review")])
        assert ids(state="rectifying") == ["HZ-1", "HZ-5", "HZ-7"]
        assert ids(state="under_review") == ["HZ-4"]

    # ── timers ───────────────────────────────────────────────────────────────────────────────────
    def test_timers_are_armed_and_cancelled_with_the_case(self, store: Store) -> None:
        f = WriteFactory()
        d1 = T0 + timedelta(days=10)
        r1 = T0 + timedelta(days=7)
        store.commit([f.open("HZ-1", arm=[timer("HZ-1", "d", d1), timer("HZ-1", "r1", r1, kind="reminder", rung=1)])])
        store.commit([f.open("HZ-2", arm=[timer("HZ-2", "d", T0 + timedelta(days=3))])])
        armed = store.armed_timers("HZ-1")
        assert [t.id for t in armed] == ["HZ-1/1/r1", "HZ-1/1/d"]  # by due time
        assert armed[1] == timer("HZ-1", "d", d1)
        assert all(t.status == "armed" and t.lease_owner is None for t in armed)
        assert store.get_timer("HZ-1/1/d") == timer("HZ-1", "d", d1)
        assert store.next_due() == T0 + timedelta(days=3)
        # Leaving the stage cancels every armed timer of the case (only that case) before arming new ones.
        d2 = T0 + timedelta(days=20)
        store.commit([f.step("HZ-1", cancel_timers=True, arm=[timer("HZ-1", "d", d2, seq=2)])])
        assert [t.id for t in store.armed_timers("HZ-1")] == ["HZ-1/2/d"]
        cancelled = store.get_timer("HZ-1/1/d")
        assert cancelled is not None
        assert cancelled.status == "cancelled"
        assert [t.id for t in store.armed_timers("HZ-2")] == ["HZ-2/1/d"]
        store.commit([f.step("HZ-2", cancel_timers=True)])
        assert store.armed_timers("HZ-2") == []
        assert store.next_due() == d2
        store.commit([f.step("HZ-1", cancel_timers=True, state="closed", closed=True)])
        assert store.next_due() is None
        assert store.due_timers(T0 + timedelta(days=400), limit=10) == []

    def test_due_timers_finds_the_earliest_due_and_writes_nothing(self, store: Store) -> None:
        f = WriteFactory()
        arm = [timer("HZ-1", f"t{i}", T0 + timedelta(hours=i), kind="reminder", rung=i) for i in (3, 1, 2, 5)]
        store.commit([f.open("HZ-1", arm=arm)])
        now = T0 + timedelta(hours=3)  # t1, t2 and t3 are due (due at now counts); t5 is not
        before = snapshot_store(store)
        got = store.due_timers(now, limit=2)
        assert [t.id for t in got] == ["HZ-1/1/t1", "HZ-1/1/t2"]
        assert got[0] == store.get_timer("HZ-1/1/t1")
        # A pure read: another worker finds the same timers, and nothing changed.
        assert [t.id for t in store.due_timers(now, limit=10)] == ["HZ-1/1/t1", "HZ-1/1/t2", "HZ-1/1/t3"]
        assert snapshot_store(store) == before
        assert all(t.lease_owner is None for t in store.armed_timers("HZ-1"))

    def test_timer_calls_refuse_bad_arguments_and_change_nothing(self, store: Store) -> None:
        import pytest

        from ._exceptions import InvalidInput

        f = WriteFactory()
        due = T0 + timedelta(days=1)
        store.commit([f.open("HZ-1", state="rectifying", arm=[timer("HZ-1", "d", due)])])
        tid = "HZ-1/1/d"
        naive = datetime(2024, 3, 5, 9, 0)
        before = snapshot_store(store)
        refused: list[tuple[Any, str, str]] = [
            (lambda: store.due_timers(naive, limit=10), "now", "timezone-aware"),
            (lambda: store.due_timers("2024-03-05", limit=10), "now", "timezone-aware"),  # type: ignore[arg-type]
            (lambda: store.due_timers(due, limit=0), "limit", "positive integer"),
            (lambda: store.due_timers(due, limit=True), "limit", "positive integer"),
            (lambda: store.claim_timer(tid, naive), "now", "timezone-aware"),
            (lambda: store.claim_timer(7, due), "timer_id", "non-empty string"),  # type: ignore[arg-type]
            (lambda: store.claim_timer("", due), "timer_id", "non-empty string"),
            (lambda: store.hold_timer(tid, owner="w1", until=naive), "until", "timezone-aware"),
            (lambda: store.hold_timer(tid, owner="", until=due), "owner", "non-empty string"),
            (lambda: store.hold_timer(tid, owner=None, until=due), "owner", "non-empty string"),  # type: ignore[arg-type]
            (lambda: store.hold_timer(None, owner="w1", until=due), "timer_id", "non-empty string"),  # type: ignore[arg-type]
        ]
        for call, name, rule in refused:
            with pytest.raises(InvalidInput) as info:
                call()
            assert info.value.field == name
            assert rule in str(info.value)
        assert snapshot_store(store) == before
        # A refused claim claimed nothing: the timer is still free.
        claim = store.claim_timer(tid, due)
        assert claim is not None
        claim.close()

    def test_a_claim_holds_the_timer_and_its_case_until_it_ends(self, store: Store) -> None:
        import pytest

        from ._exceptions import InvalidInput

        f = WriteFactory()
        due = T0 + timedelta(days=1)
        store.commit([f.open("HZ-1", state="rectifying", arm=[timer("HZ-1", "d", due), timer("HZ-1", "e", due)])])
        tid = "HZ-1/1/d"
        assert store.claim_timer(tid, due - timedelta(seconds=1)) is None  # not due yet
        assert store.claim_timer("HZ-1/1/x", due) is None  # no such timer
        before = snapshot_store(store)
        claim = store.claim_timer(tid, due)
        assert claim is not None
        try:
            assert claim.timer == store.get_timer(tid)
            assert claim.case == store.load_case("HZ-1")
            # Claimed: nobody else claims it (another worker skips it); finding it is still a plain read.
            assert store.claim_timer(tid, due) is None
            assert [t.id for t in store.due_timers(due, limit=10)] == [tid, "HZ-1/1/e"]
        finally:
            claim.close()
        # Closed without a commit: nothing changed, and the timer is free again at once.
        assert snapshot_store(store) == before
        claim.close()  # closing twice is harmless
        with pytest.raises(InvalidInput):
            claim.commit([])  # but an ended claim commits nothing
        with store.claim_timer(tid, due) as again:  # type: ignore[union-attr]
            assert again.timer.id == tid
        assert snapshot_store(store) == before  # leaving the block closed it
        last = store.claim_timer(tid, due)
        assert last is not None
        last.close()

    def test_a_claimed_firing_commits_once(self, store: Store) -> None:
        f = WriteFactory()
        due = T0 + timedelta(days=1)
        store.commit([f.open("HZ-1", state="rectifying", arm=[timer("HZ-1", "d", due)])])
        tid = "HZ-1/1/d"
        at = due + timedelta(hours=2)
        claim = store.claim_timer(tid, at)
        assert claim is not None
        with claim:
            claim.commit([f.step("HZ-1", fire_timer=tid, at=at, late_seconds=7200.0, trigger="mark_overdue")])
        t = store.get_timer(tid)
        assert t is not None
        assert (t.status, t.fired_at, t.fired_seq, t.late_seconds, t.lease_owner) == ("fired", at, 2, 7200.0, None)
        assert store.armed_timers("HZ-1") == []
        assert store.due_timers(at, limit=10) == []
        assert store.next_due() is None
        # A fired timer is never claimed again, and a second firing of it (a stale worker) is refused.
        assert store.claim_timer(tid, at) is None
        self.commit_refused(store, [f.step("HZ-1", fire_timer=tid, at=at)])
        assert [e.seq for e in store.load_events("HZ-1")] == [1, 2]

    def test_a_refused_claimed_commit_writes_nothing_and_ends_the_claim(self, store: Store) -> None:
        import pytest

        f = WriteFactory()
        due = T0 + timedelta(days=1)
        store.commit([f.open("HZ-1", state="rectifying", arm=[timer("HZ-1", "d", due)])])
        tid = "HZ-1/1/d"
        before = snapshot_store(store)
        claim = store.claim_timer(tid, due)
        assert claim is not None
        stale = f.step("HZ-1", fire_timer=tid, at=due, expected_rev=7)
        with claim, pytest.raises(ConcurrentUpdateError) as info:
            claim.commit([stale])
        assert info.value.case_id == "HZ-1"
        assert snapshot_store(store) == before
        assert store.get_timer(tid).status == "armed"  # type: ignore[union-attr]
        f.forget("HZ-1", store.load_case("HZ-1"))  # type: ignore[arg-type]
        again = store.claim_timer(tid, due)
        assert again is not None
        again.close()

    def test_a_stale_timer_is_cancelled_under_its_claim(self, store: Store) -> None:
        f = WriteFactory()
        due = T0 + timedelta(days=1)
        store.commit([f.open("HZ-1", arm=[timer("HZ-1", "d", due), timer("HZ-1", "e", due + timedelta(days=1))])])
        claim = store.claim_timer("HZ-1/1/d", due)
        assert claim is not None
        with claim:
            claim.cancel()
        assert store.get_timer("HZ-1/1/d").status == "cancelled"  # type: ignore[union-attr]
        assert [t.id for t in store.armed_timers("HZ-1")] == ["HZ-1/1/e"]  # only that timer
        assert store.load_case("HZ-1").rev == 1  # type: ignore[union-attr]
        assert store.claim_timer("HZ-1/1/d", due) is None
        assert store.due_timers(due, limit=10) == []
        self.commit_refused(store, [f.step("HZ-1", fire_timer="HZ-1/1/d", at=due)])

    def test_a_timer_cancelled_by_a_command_is_never_claimed_or_fired(self, store: Store) -> None:
        f = WriteFactory()
        due = T0 + timedelta(days=1)
        store.commit([f.open("HZ-1", arm=[timer("HZ-1", "d", due)])])
        found = store.due_timers(due, limit=10)
        assert [t.id for t in found] == ["HZ-1/1/d"]
        store.commit([f.step("HZ-1", cancel_timers=True)])  # the case moved on after the find
        assert store.claim_timer("HZ-1/1/d", due) is None
        self.commit_refused(store, [f.step("HZ-1", fire_timer="HZ-1/1/d")])

    def test_a_held_timer_is_neither_found_nor_claimed_until_its_hold_ends(self, store: Store) -> None:
        f = WriteFactory()
        due = T0 + timedelta(days=1)
        store.commit([f.open("HZ-1", state="rectifying", arm=[timer("HZ-1", "d", due)])])
        tid = "HZ-1/1/d"
        until = due + timedelta(seconds=60)
        store.hold_timer(tid, owner="w1", until=until)
        t = store.get_timer(tid)
        assert t is not None
        assert (t.status, t.lease_owner, t.lease_expires_at) == ("armed", "w1", until)
        for at in (due, due + timedelta(seconds=59)):
            assert store.due_timers(at, limit=10) == []
            assert store.claim_timer(tid, at) is None
        # Held, not dropped: still armed, still the next due instant.
        assert store.next_due() == due
        assert [x.id for x in store.armed_timers("HZ-1")] == [tid]
        # The hold ends at ``until``: found and claimed again, by any worker.
        found = store.due_timers(until, limit=10)
        assert [(x.id, x.lease_owner, x.lease_expires_at) for x in found] == [(tid, "w1", until)]
        claim = store.claim_timer(tid, until)
        assert claim is not None
        with claim:
            claim.commit([f.step("HZ-1", fire_timer=tid, at=until, late_seconds=60.0)])
        t = store.get_timer(tid)
        assert t is not None
        assert (t.status, t.lease_owner, t.lease_expires_at) == ("fired", None, None)
        # A timer that is no longer armed is left alone.
        store.hold_timer(tid, owner="w2", until=until + timedelta(days=1))
        assert store.get_timer(tid) == t

    def test_next_due_follows_arming_firing_and_cancelling(self, store: Store) -> None:
        f = WriteFactory()
        assert store.next_due() is None
        store.commit([f.open("HZ-1", arm=[timer("HZ-1", "d", T0 + timedelta(days=5))])])
        assert store.next_due() == T0 + timedelta(days=5)
        store.commit([f.open("HZ-2", arm=[timer("HZ-2", "d", T0 + timedelta(days=2))])])
        assert store.next_due() == T0 + timedelta(days=2)
        found = store.due_timers(T0 + timedelta(days=3), limit=10)
        assert [t.id for t in found] == ["HZ-2/1/d"]
        store.commit([f.step("HZ-2", fire_timer="HZ-2/1/d", at=T0 + timedelta(days=3))])
        assert store.next_due() == T0 + timedelta(days=5)
        store.commit([f.step("HZ-1", cancel_timers=True, arm=[timer("HZ-1", "d", T0 + timedelta(days=9), seq=2)])])
        assert store.next_due() == T0 + timedelta(days=9)

    # ── the engine on this store ─────────────────────────────────────────────────────────────────
    def test_has_case_and_pinned_deadlines(self, store: Store) -> None:
        from ._clock import SimulatedClock
        from ._model import Actor

        engine = self.engine_on(store, clock=SimulatedClock("2024-03-04T09:00:00+08:00"))
        officer = Actor("t-1", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
        assert not store.has_case("HZ-000001")
        case = engine.open_case(
            "hazard",
            actor=officer,
            jurisdiction=TOWNSHIP,
            grade="general",
            source="supervisory_inspection",
            nature="unsafe_condition",
            industry="industry_trade",
            business_unit="BU-1",
            location="仓库",
            description="消防通道堆放杂物",
        )
        assert store.has_case(case.id)
        assert not store.has_case(case.id + "0")
        assert store.load_cases([case.id + "0", case.id, case.id]) == [case]
        assert store.load_cases([]) == []
        assert case.pins == {}
        payload = {"deadline": "2024-03-15", "measures": "清理通道", "responsible": "李安全"}
        case = engine.fire(case.id, "set_deadline", actor=officer, payload=payload)
        loaded = store.load_case(case.id)
        assert loaded == case
        assert loaded is not None
        assert loaded.pins["rectify"] == loaded.deadline
        assert "pins" not in loaded.fields
        # The pin outlives its stage: under review the review deadline runs, the rectification date stays.
        manager = Actor("e-2", "李安全", {"safety_manager"}, "BU-1", TOWNSHIP)
        case = engine.fire(
            case.id, "submit_review", actor=manager, payload={"evidence": ["照片.jpg"], "rectified_by": "e-9"}
        )
        loaded = store.load_case(case.id)
        assert loaded is not None
        assert loaded.deadline is not None
        assert loaded.deadline.key == "review"
        assert loaded.pins["rectify"].due_at == datetime(2024, 3, 15, 16, 0, tzinfo=UTC)
        assert verify_chain(loaded, store.load_events(case.id), None) is None

    def test_engine_runs_the_hazard_lifecycle(self, store: Store) -> None:
        from ._clock import SimulatedClock
        from ._model import Actor

        clock = SimulatedClock("2024-03-04T09:00:00+08:00")
        engine = self.engine_on(store, clock=clock, outbox=True)
        unit = "BU-1"
        inspector = Actor("e-1", "张检查", {"inspector"}, unit, TOWNSHIP)
        manager = Actor("e-2", "李安全", {"safety_manager"}, unit, TOWNSHIP)
        officer = Actor("t-1", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
        case = engine.open_case(
            "hazard",
            actor=inspector,
            jurisdiction=TOWNSHIP,
            grade="general",
            source="enterprise_self_inspection",
            nature="unsafe_condition",
            industry="industry_trade",
            business_unit=unit,
            location="仓库",
            description="消防通道堆放杂物",
        )
        assert engine.get(case.id) == case
        payload = {"deadline": "2024-03-15", "measures": "清理通道", "responsible": "李安全"}
        ordered = engine.fire(case.id, "set_deadline", actor=officer, payload=payload, idempotency_key="order-1")
        assert store.lookup_idempotency(case.id, "order-1") is not None
        again = engine.fire(case.id, "set_deadline", actor=officer, payload=payload, idempotency_key="order-1")
        assert again == ordered
        assert [t.kind for t in store.armed_timers(case.id)] == ["reminder", "deadline"]
        clock.set("2024-03-16T09:00:00+08:00")
        report = engine.run_due()
        # The deadline and rung 1 fire late; the reminder, reached only after its deadline, is superseded.
        assert (report.fired, report.late, report.cancelled, report.conflicts, report.failed) == (2, 2, 1, 0, 0)
        overdue = engine.get(case.id)
        assert overdue.overdue
        assert overdue.sanction_rung == 1
        submitted = engine.fire(
            case.id, "submit_review", actor=manager, payload={"evidence": ["照片.jpg"], "rectified_by": manager.id}
        )
        assert [t.kind for t in store.armed_timers(case.id)] == ["reminder", "deadline"]
        closed = engine.fire(case.id, "approve", actor=officer, payload={"opinion": "现场复核通过"})
        assert closed.state == "closed"
        assert closed.rev == submitted.rev + 1
        assert store.armed_timers(case.id) == []
        assert engine.get(case.id) == closed
        history = engine.history(case.id)
        assert [e.type for e in history] == [
            "case.registered",
            "case.deadline_set",
            "case.overdue",
            "case.sanctioned",
            "case.submitted",
            "case.closed",
        ]
        assert [row[1:] for row in store.read_outbox()] == [(case.id, e.seq, e.type) for e in history]
        report2 = engine.verify_audit()
        assert report2.ok, str(report2)
        assert report2.events == 6

    def test_engine_batch_conflict_writes_nothing(self, store: Store) -> None:
        from ._model import Actor

        first = self.engine_on(store)
        second = self.engine_on(store)
        officer = Actor("t-1", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
        fields = {
            "grade": "general",
            "source": "supervisory_inspection",
            "nature": "unsafe_condition",
            "industry": "industry_trade",
            "business_unit": "BU-1",
            "location": "仓库",
            "description": "灭火器过期",
        }
        case = first.open_case("hazard", actor=officer, jurisdiction=TOWNSHIP, case_id="HZ-X", **fields)
        import pytest

        seen: list[StoreSnapshot] = []

        def conflicting_batch() -> None:
            with first.batch():
                first.open_case("hazard", actor=officer, jurisdiction=TOWNSHIP, case_id="HZ-Y", **fields)
                first.fire(case.id, "order_stop", actor=officer, payload={"level": "partial", "reason": "整改期间"})
                # Another process changes HZ-X before this batch commits.
                second.fire(case.id, "assign_department", actor=officer, payload={"department": "fire_department"})
                seen.append(snapshot_store(store))

        with pytest.raises(ConcurrentUpdateError):
            conflicting_batch()
        before = seen[0]
        after = snapshot_store(store)
        assert before == after, "; ".join(before.diff(after))
        assert store.load_case("HZ-Y") is None
        assert first.get(case.id).stop_production == "none"
        assert first.verify_audit().ok
