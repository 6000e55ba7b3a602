"""The engine: one command path for every workflow.

A command (:meth:`Engine.fire`; a timer's firing, :meth:`Engine.run_due`; a follow-up on a linked case) is
these steps, each a function of :class:`Engine`, in one unit of work (:class:`_UnitOfWork`):

1. **load** the case (``_UnitOfWork.load``: the batch's writes first, then the store);
2. **route**: pick the transition row for the trigger from the case's state (``_route``);
3. **authorize** the actor: roles, own unit, jurisdiction or supervising tier (``_authorize``);
4. **validate** the payload against the row's fields and the policy's choices (``_validate``);
5. **guards**: the lifecycle's, then the policy's; the first that denies refuses the command (``_run_guards``);
6. **effects** write field updates, pins, follow-ups and spawns into the :class:`CommandContext`
   (``_run_effects``);
7. **move**: the shared ``transitions.Machine`` moves a scratch row to the destination state (``_move``);
8. **timers**: the stage's deadline, overdue flag and ladder rung after the command, and the timers to arm or
   cancel (``_stage_timing``, with ``_arm_deadline`` and ``_arm_rung``);
9. **record**: the change record (``_changes``), the hash-chained audit event and the new snapshot, added to
   the unit of work; linked cases opened first and follow-ups fired after, in the same unit (``_record``);
10. **commit**: ``Store.commit`` with the revision check, then listeners (``_finish``).

Anything raised before step 10 leaves state, audit log, timers and outbox untouched. Opening a case and
importing one (``_open``) run the same steps without a source state, from the workflow's opening row. The
performance tricks on this path are commented where they are used, with what they save (``benchmarks/engine.py``
measures the path against a raw ``transitions`` trigger).
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._audit import GENESIS, AuditProblem, AuditReport, canonical_bytes, hash_canonical, replay, verify_chain
from ._calendar import Deadline, DeadlineSpec, offset, resolve
from ._checks import aware_utc as _utc
from ._checks import check_text, close_match, optional_text
from ._checks import find_bad_text as _bad_text
from ._command import (
    CommandContext,
    SequentialIds,
    _command_hash,
    _deadline_change,
    _ImportRecord,
    _ladder_progress,
    _random_id,
    _Row,
    _UnitOfWork,
    check_import_record,
)
from ._exceptions import CaseNotFoundError, GuardRejected, InvalidInput, NotAuthorized, TransitionNotAllowed, preview
from ._glossary import describe
from ._jurisdiction import JurisdictionTree, is_within
from ._lifecycle import CompiledLifecycle, CompiledTransition, Workflow, check_payload, check_workflow
from ._model import EMPTY, SYSTEM, Actor, AuditEvent, Case, FrozenDict, Timer, Write, freeze, new_case, new_event
from ._sweep import RunDueReport, TimerSweep
from .policies.layers import chain_of
from .policies.migration import with_policy_migration
from .policies.registry import PolicyRegistry

if TYPE_CHECKING:
    from .abc import Clock, JurisdictionPolicy, Store

__all__ = ["ENTERPRISE_ROLES", "CommandContext", "Engine", "RunDueReport", "SequentialIds"]

#: Roles held by people of a business unit; they act only on their own unit's cases.
ENTERPRISE_ROLES = frozenset({"inspector", "safety_manager", "principal_officer"})

Listener = Callable[[Case, AuditEvent], None]

#: What the checked-actor cache answers for an actor it does not hold (never an actor, never None).
_UNCHECKED = object()


#: Builds a named tuple straight from a tuple of every field (~0.5 µs a ``Write`` less than its ``__new__``).
_new_tuple = tuple.__new__
#: Value types that are immutable already (a field update of only these needs no deep freeze).
_ATOMIC = frozenset({str, int, float, bool, type(None)})


class Engine(TimerSweep):
    """Runs hazard cases (and the tip-off, escalation and reporting workflows) under jurisdiction policies.

    Build one per application (one per province in a multi-tenant host is fine: engines share nothing)::

        engine = Engine(policies=[SanxingTownship()])          # in memory
        engine = Engine.from_url("sqlite:///hazards.db", policies=[...])   # durable

    ``store`` defaults to an in-memory store, ``clock`` to the system clock, ``policies`` to the national
    baseline. ``audit_key`` turns the hash chain into an HMAC signature. ``ids`` makes case ids
    (``SequentialIds()`` for deterministic runs). ``outbox`` writes an outbox row per event for delivery to
    other systems after commit.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        policies: Iterable[JurisdictionPolicy | type] | PolicyRegistry | None = None,
        workflows: Iterable[Workflow] | None = None,
        jurisdictions: JurisdictionTree | None = None,
        audit_key: bytes | None = None,
        ids: Callable[[str, datetime], str] | None = None,
        outbox: bool = False,
        worker_id: str | None = None,
    ) -> None:
        from ._clock import SystemClock
        from .persistence.memory import MemoryStore
        from .workflows import default_workflows

        self.store: Store = store if store is not None else MemoryStore()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.jurisdictions = jurisdictions if jurisdictions is not None else JurisdictionTree()
        if isinstance(policies, PolicyRegistry):
            self.policies = policies
        else:
            self.policies = PolicyRegistry(policies if policies is not None else ())
        self.policies.attach(self.jurisdictions)
        self.audit_key = audit_key
        #: Keys the digest of confidential values in idempotency fingerprints (see ``_command_hash``).
        self._idem_secret = hashlib.sha256(b"hazardflow.idempotency\x00" + (audit_key or b"")).digest()
        #: Actors whose fields passed the checks, by identity: the people of a run are checked once each (the
        #: checks cost ~5 µs, a tenth of a command).
        self._checked_actors: dict[int, Actor] = {}
        self._ids = ids if ids is not None else _random_id
        self.outbox = outbox
        self.worker_id = worker_id or f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._listeners: list[Listener] = []
        self._iso_memo: tuple[datetime | None, str] = (None, "")
        self._batch: _UnitOfWork | None = None
        self._lifecycles: dict[str, CompiledLifecycle] = {}
        self._routes: dict[tuple[str, str, str], list[CompiledTransition]] = {}
        self._sensitive: dict[str, frozenset[str]] = {}
        #: "trigger 'approve' (审核销号)" per trigger, for payload messages (built once, not per command: ~0.8 µs).
        self._what: dict[str, str] = {}
        for wf in workflows if workflows is not None else default_workflows():
            if wf.id in self._lifecycles:
                raise InvalidInput("workflows", wf.id, "a workflow id may be registered only once")
            compiled = check_workflow(with_policy_migration(wf))
            self._lifecycles[wf.id] = compiled
            for trig, rows in compiled.by_trigger.items():
                for row in rows:
                    if row.sensitive:
                        self._sensitive[trig] = self._sensitive.get(trig, frozenset()) | row.sensitive
                    for src in row.spec.sources:
                        self._routes.setdefault((wf.id, trig, src), []).append(row)
        self.policies.validate(self)

    # ── construction helpers ─────────────────────────────────────────────────────────────────────
    @classmethod
    def from_url(cls, url: str = "sqlite:///hazardflow.db", *, create: bool = True, **kwargs: Any) -> Engine:
        """An engine on a SQL database (``sqlite:///file.db`` or ``postgresql+psycopg://...``)."""
        from .persistence.sql import SqlStore

        return cls(store=SqlStore(url, create=create), **kwargs)

    @property
    def workflows(self) -> dict[str, CompiledLifecycle]:
        """The compiled lifecycles by workflow id."""
        return dict(self._lifecycles)

    def lifecycle(self, workflow: str) -> CompiledLifecycle:
        """The compiled lifecycle of ``workflow``; :class:`InvalidInput` (with the known ids) when unknown."""
        lc = self._lifecycles.get(workflow) if isinstance(workflow, str) else None
        if lc is None:
            known = sorted(self._lifecycles)
            close = close_match(workflow, known)
            raise InvalidInput(
                "workflow",
                workflow,
                "is not a workflow of this engine",
                tuple(known),
                f"did you mean {close!r}?" if close else "",
            )
        return lc

    def resolve_deadline(self, spec: DeadlineSpec, start: datetime, *, jurisdiction: str, key: str = "") -> Deadline:
        """Resolve ``spec`` from the aware instant ``start`` with the working calendar of the policy in force in
        ``jurisdiction`` at ``start``: the :class:`Deadline` (instant, provisional flag) a case there would get.

        For checking a policy's time limits without driving a case. Refuses (:class:`InvalidInput`) a spec that
        is not a :class:`DeadlineSpec`, a naive ``start`` and an unknown jurisdiction; a year without holiday
        data raises :class:`CalendarDataMissing` or marks the deadline provisional, as the policy says.
        """
        if not isinstance(spec, DeadlineSpec):
            raise InvalidInput("spec", type(spec).__name__, "must be a hazardflow.DeadlineSpec")
        begin = _utc("start", start)
        where = self.jurisdictions.check(jurisdiction)
        policy = self._policy_for_jurisdiction(where, begin)
        return spec.resolve(begin, policy.calendar, key=key)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(case, event)`` after each commit, in commit order. Returns an unsubscribe function."""
        if not callable(listener):
            raise InvalidInput("listener", type(listener).__name__, "must be a callable taking (case, event)")
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def policy_for(self, case: Case) -> JurisdictionPolicy:
        """The effective policy a case is pinned to (its chain of layers, composed once and cached)."""
        return self.policies.for_case(case)

    # ── reading ──────────────────────────────────────────────────────────────────────────────────
    def get(self, case_id: str) -> Case:
        """The current snapshot of a case."""
        self._check_case_id(case_id)
        case = self._load(case_id)
        if case is None:
            raise CaseNotFoundError(case_id)
        return case

    def history(self, case_id: str) -> list[AuditEvent]:
        """Every audit event of a case, oldest first."""
        self.get(case_id)
        return self.store.load_events(case_id)

    def cases(
        self,
        *,
        workflow: str | None = None,
        jurisdiction: str | None = None,
        state: str | None = None,
        department: str | None = None,
        open_only: bool = False,
    ) -> Iterator[Case]:
        """Cases matching every filter given (``jurisdiction`` matches its whole subtree)."""
        for name, value in (
            ("workflow", workflow),
            ("jurisdiction", jurisdiction),
            ("state", state),
            ("department", department),
        ):
            optional_text(name, value)
        if not isinstance(open_only, bool):
            raise InvalidInput("open_only", open_only, "must be True or False")
        return self.store.iter_cases(
            workflow=workflow, jurisdiction=jurisdiction, state=state, department=department, open_only=open_only
        )

    def allowed(self, case_id: str, actor: Actor) -> list[str]:
        """The triggers ``actor`` could fire on the case now: authorized and passing every state guard.

        Guards that judge a payload (a named recipient, who did the fix) cannot be judged without one; for a
        trigger listed here, ``fire`` succeeds with a payload that satisfies them.
        """
        self._check_actor(actor)
        case = self.get(case_id)
        if actor is SYSTEM or "system" in actor.roles:
            return []  # fire() refuses the reserved system role to everyone
        return self._allowed_now(case, actor, _UnitOfWork(self.store))

    def _allowed_now(self, case: Case, actor: Actor, uow: _UnitOfWork) -> list[str]:
        """What :meth:`allowed` answers, for a case in hand (a refusal lists the same triggers)."""
        lc = self._lifecycles[case.workflow]
        policy = self.policy_for(case)
        now = self.now()
        out: set[str] = set()
        for row in lc.by_state.get(case.state, ()):
            if row.trigger in out:
                continue
            ctx = CommandContext(self, uow, case, actor, policy, now, row.trigger)
            if row.when is not None and not row.when(ctx):
                continue
            try:
                ctx.role = self._authorize(row, case, actor, policy)
            except NotAuthorized:
                continue
            if all(g(ctx).ok for _, g in row.state_guards) and all(
                g(ctx).ok
                for _, g in policy.guards(case.workflow, row.trigger)
                if not getattr(g, "needs_payload", False)
            ):
                out.add(row.trigger)
        return sorted(out)

    def reporter(self, case_id: str, actor: Actor, *, purpose: str) -> dict[str, Any]:
        """The confidential reporter identity of a tip-off (举报人信息), for a role the policy allows.

        Each reading is an audited command first (``view_reporter``: who read it, when and for what
        ``purpose``), committed before the identity is returned; a role outside
        ``policy.reporter_visible_roles()``, or an actor outside the tip-off's jurisdiction, gets
        :class:`NotAuthorized` and nothing is read. Returns ``{}`` for an anonymous report.
        """
        case = self.get(case_id)
        if case.workflow != "tipoff":
            raise InvalidInput(
                "case_id", case_id, f"is a {case.workflow!r} case; only a tip-off has a confidential reporter"
            )
        if self._batch is not None:
            raise InvalidInput(
                "reporter",
                case_id,
                "is read outside engine.batch(): the reading is committed to the audit log before the identity "
                "is returned",
            )
        self.fire(case_id, "view_reporter", actor=actor, payload={"purpose": purpose})
        return dict(self.store.read_confidential(case_id) or {})

    def verify_audit(self, case_id: str | None = None) -> AuditReport:
        """Check the audit record; the report names the first bad event of each case.

        Every check ``hazardflow audit verify`` runs: each case's hash chain (with the audit key when the
        engine signs), its revision and head hash, that replaying its events reproduces the stored case, and,
        on a SQL store, that every event's queryable columns (who, what, when) agree with the hashed body they
        were written from (an edit straight in the database of, say, ``actor_name`` is found).
        """
        if case_id is not None:
            self._check_case_id(case_id)
        ids = [case_id] if case_id is not None else [c.id for c in self.store.iter_cases()]
        problems: list[AuditProblem] = []
        events = 0
        for cid in ids:
            case = self.store.load_case(cid)
            evs = self.store.load_events(cid)
            events += len(evs)
            if case is None:
                problems.append(AuditProblem(cid, 0, "case row is missing"))
                continue
            problem = verify_chain(case, evs, self.audit_key)
            if problem is not None:
                problems.append(problem)
        column_problems = getattr(self.store, "event_column_problems", None)
        if column_problems is not None:
            for cid, seq, col in column_problems(case_id):
                problems.append(
                    AuditProblem(cid, seq, f"column {col!r} disagrees with the hashed event body (altered)")
                )
        problems.sort(key=lambda p: (p.case_id, p.seq))
        return AuditReport(len(ids), events, tuple(problems))

    # ── commands ─────────────────────────────────────────────────────────────────────────────────
    def open_case(
        self,
        workflow: str,
        *,
        actor: Actor,
        jurisdiction: str,
        idempotency_key: str | None = None,
        case_id: str | None = None,
        **fields: Any,
    ) -> Case:
        """Open a case of ``workflow`` in ``jurisdiction`` (the opening trigger, e.g. ``register``)."""
        self._check_actor(actor)
        lc = self.lifecycle(workflow)
        self._check_not_system(actor, case_id or "", lc.opener.trigger)
        if case_id is not None and (not isinstance(case_id, str) or not case_id.strip() or len(case_id) > 64):
            raise InvalidInput("case_id", case_id, "must be a non-empty string of at most 64 characters")
        if case_id is not None:
            check_text("case_id", case_id)
        own = _UnitOfWork(self.store, self._batch)
        scope = f"open:{workflow}"
        chash = None
        if idempotency_key is not None:
            self._check_key(idempotency_key)
            chash = _command_hash(f"{workflow}@{jurisdiction}", fields, lc.opener.sensitive, self._idem_secret)
            hit = own.idempotent(scope, idempotency_key)
            if hit is not None:
                self._authorize_open_replay(own, hit, lc, actor, jurisdiction, fields, chash, idempotency_key)
                return self._idempotent_result(hit, chash, idempotency_key)
        now = self.now()
        case = self._open(
            own,
            lc,
            actor,
            jurisdiction,
            fields,
            now,
            case_id=case_id,
            idempotency_key=idempotency_key,
            idempotency_scope=scope,
            command_hash=chash,
        )
        self._finish(own)
        return case

    def import_case(
        self,
        workflow: str,
        *,
        actor: Actor,
        jurisdiction: str,
        state: str,
        origin: Mapping[str, Any],
        facts: Mapping[str, Any] | None = None,
        pins: Mapping[str, date] | None = None,
        owning_jurisdiction: str | None = None,
        registered_on: date | None = None,
        closed_on: date | None = None,
        idempotency_key: str | None = None,
        case_id: str | None = None,
        **fields: Any,
    ) -> Case:
        """Register a case from an existing record (a ledger row) in the state that record gives it.

        The migration path of every adopter: a township's 台账 holds hazards already rectifying, under review,
        closed or voided, whose history before the engine cannot be replayed command by command. One audited
        event (trigger ``import``, type ``case.imported``) opens the case straight in ``state``:

        - ``fields`` are the registration payload, validated exactly like :meth:`open_case` (the opening
          row's payload rules, its guards and the policy's guards, its effects), and the actor is authorized
          like an opening;
        - a terminal ``state`` needs, besides, a role of the actor that may bring a case there under the
          policy (a transition of the workflow into ``state``): only who may close a case may record it as
          closed (the rule "no 销号 without review" is not bypassed by an import);
        - ``facts`` are further case fields the record carries (a governance plan, a listing, a review
          opinion), JSON values, none of them a registration field;
        - ``pins`` are dated deadlines by stage key; the one of ``state``'s own stage becomes the running
          deadline and must still be ahead (a past one would mark the case overdue and start sanctions for
          time before the import), otherwise the stage's deadline is counted from now by the policy;
        - ``origin`` says where the record came from (``file``, ``row``, optionally ``sheet`` and
          ``fingerprint``); it is kept in the event's payload (``imported_from``) and, with ``registered_on``
          and, for a terminal ``state``, ``closed_on`` (the record's own days), in the case's ``imported``
          field, so the audit record says who imported the case, when, from which file and row.

        Timers are armed as for any case entering ``state``. ``idempotency_key`` makes re-importing the same
        record return the first result. Refusals are the typed errors of :meth:`open_case`; nothing is written.
        """
        self._check_actor(actor)
        lc = self.lifecycle(workflow)
        self._check_not_system(actor, case_id or "", "import")
        if case_id is not None and (not isinstance(case_id, str) or not case_id.strip() or len(case_id) > 64):
            raise InvalidInput("case_id", case_id, "must be a non-empty string of at most 64 characters")
        if case_id is not None:
            check_text("case_id", case_id)
        record = check_import_record(lc, state, origin, facts, pins, registered_on, closed_on, fields)
        own = _UnitOfWork(self.store, self._batch)
        into = functools.partial(
            self._open,
            own,
            lc,
            actor,
            jurisdiction,
            fields,
            self.now(),
            record=record,
            owning_jurisdiction=owning_jurisdiction,
        )
        scope = f"import:{workflow}"
        chash = None
        if idempotency_key is not None:
            self._check_key(idempotency_key)
            command = {
                **fields,
                "_import": record.to_json(),
                "_facts": record.facts,
                "_pins": {k: d.isoformat() for k, d in record.pins.items()},
                "_owning": owning_jurisdiction,
            }
            chash = _command_hash(f"{workflow}@{jurisdiction}", command, lc.opener.sensitive, self._idem_secret)
            hit = own.idempotent(scope, idempotency_key)
            if hit is not None:
                # Authorized like a new import of the same record; then the first result (or a refusal when
                # the key was used for another record).
                into(dry=True)
                return self._idempotent_result(hit, chash, idempotency_key)
        case = into(case_id=case_id, idempotency_key=idempotency_key, idempotency_scope=scope, command_hash=chash)
        self._finish(own)
        return case

    def fire(
        self,
        case_id: str,
        trigger: str,
        *,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Case:
        """Fire ``trigger`` on a case as ``actor``; return the new snapshot.

        Raises :class:`TransitionNotAllowed`, :class:`NotAuthorized`, :class:`InvalidInput`,
        :class:`GuardRejected` (nothing written), or :class:`ConcurrentUpdateError` (another command won;
        nothing written). The same ``idempotency_key`` on the same case returns the first result and appends
        nothing.
        """
        if self._checked_actors.get(id(actor), _UNCHECKED) is not actor:
            self._check_actor(actor)
        if payload is not None and type(payload) is not dict and not isinstance(payload, Mapping):
            raise InvalidInput("payload", type(payload).__name__, "must be a mapping of field names to values")
        if type(trigger) is not str and not isinstance(trigger, str):
            raise InvalidInput("trigger", type(trigger).__name__, "must be the name of a trigger (a string)")
        if actor is SYSTEM or "system" in actor.roles:
            self._check_not_system(actor, case_id, trigger)
        if type(case_id) is not str and not isinstance(case_id, str):
            raise InvalidInput("case_id", case_id, "must be a string")
        if _bad_text(case_id) is not None:
            check_text("case_id", case_id)
        if _bad_text(trigger) is not None:
            check_text("trigger", trigger)
        own = _UnitOfWork(self.store, self._batch)
        chash = None
        if idempotency_key is not None:
            self._check_key(idempotency_key)
            chash = _command_hash(trigger, payload, self._sensitive.get(trigger, frozenset()), self._idem_secret)
            hit = own.idempotent(case_id, idempotency_key)
            if hit is not None:
                self._authorize_fire_replay(own, hit, trigger, actor)
                return self._idempotent_result(hit, chash, idempotency_key)
        case = own.load(case_id)
        if case is None:
            raise CaseNotFoundError(case_id)
        now = self.now()
        new = self._execute(
            own,
            case,
            trigger,
            actor,
            payload or {},
            now,
            idempotency_key=idempotency_key,
            idempotency_scope=case_id,
            command_hash=chash,
        )
        self._finish(own)
        return new

    def fire_system(
        self,
        case_id: str,
        trigger: str,
        *,
        payload: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        now: datetime | None = None,
    ) -> Case | None:
        """Fire a system-only trigger on a case as the engine itself (:data:`SYSTEM`); for policy tooling.

        Some commands are the engine's own: their lifecycle rows have ``scope="system"`` and no person may fire
        them (``migrate_policy``, which ``MigrationPlan.apply`` fires on each case it moves; the timer rows).
        Tooling that must fire one goes through this method, which runs the command path of :meth:`fire`
        (routing, payload checks, guards, effects, one audit event, one commit, or the batch's) with the system
        actor. ``now`` stamps the command (default: the clock).

        Returns the new snapshot, or None when ``idempotency_key`` was already used on this case (the command
        ran before; nothing is written). A trigger whose rows are not all system-only in the case's workflow is
        refused with :class:`InvalidInput`, an unknown case with :class:`CaseNotFoundError`; like every
        refusal, these write nothing.
        """
        self._check_case_id(case_id)
        if not isinstance(trigger, str):
            raise InvalidInput("trigger", type(trigger).__name__, "must be the name of a trigger (a string)")
        check_text("trigger", trigger)
        if payload is not None and not isinstance(payload, Mapping):
            raise InvalidInput("payload", type(payload).__name__, "must be a mapping of field names to values")
        at = self.now() if now is None else _utc("now", now)
        if idempotency_key is not None:
            self._check_key(idempotency_key)
        own = _UnitOfWork(self.store, self._batch)
        case = own.load(case_id)
        if case is None:
            raise CaseNotFoundError(case_id)
        rows = self._lifecycles[case.workflow].by_trigger.get(trigger)
        if not rows or any(row.scope != "system" for row in rows):
            system_only = sorted(
                t
                for t, rs in self._lifecycles[case.workflow].by_trigger.items()
                if all(r.scope == "system" for r in rs)
            )
            raise InvalidInput(
                "trigger",
                trigger,
                f"is not a system-only trigger of workflow {case.workflow!r}; people fire the others with fire()",
                tuple(system_only),
            )
        chash = None
        if idempotency_key is not None:
            if own.idempotent(case_id, idempotency_key) is not None:
                return None
            chash = _command_hash(trigger, payload, self._sensitive.get(trigger, frozenset()), self._idem_secret)
        new = self._execute(
            own,
            case,
            trigger,
            SYSTEM,
            payload or {},
            at,
            idempotency_key=idempotency_key,
            idempotency_scope=case_id,
            command_hash=chash,
        )
        self._finish(own)
        return new

    @contextmanager
    def batch(self) -> Iterator[Engine]:
        """Run many commands in one transaction (imports, simulations).

        Each command is validated and refused on its own exactly as outside a batch (a refused command
        writes nothing and the batch carries on); accepted commands see each other's writes, and all of them
        commit together when the block exits. If the commit fails (a conflict with another process, a
        database error), none of them is stored and the error propagates. Listeners run after the commit.
        """
        if self._batch is not None:
            yield self
            return
        uow = _UnitOfWork(self.store)
        self._batch = uow
        try:
            yield self
        except BaseException:
            self._batch = None
            raise
        self._batch = None
        if uow.writes:
            self.store.commit(uow.writes)
            self._notify(uow.writes)

    def prefetch(self, case_ids: Iterable[str]) -> int:
        """Inside :meth:`batch`, load the cases its commands will touch in as few reads as the store allows.

        A bulk import or a simulation that knows which cases the coming commands touch hands their ids here;
        the store reads them together (``Store.load_cases``: one query per few hundred ids on SQL) instead of
        one by one as each command starts. The cases are read as of now, exactly like a command's own read in
        a batch: if another process changes one of them before the batch commits, the commit refuses the
        whole batch with :class:`ConcurrentUpdateError`, as it would anyway. Ids the batch has already written,
        and unknown ids, are skipped. Returns how many cases were loaded. Outside a batch it loads nothing and
        returns 0 (each command reads its case fresh).
        """
        if isinstance(case_ids, str) or not isinstance(case_ids, Iterable):
            raise InvalidInput(
                "case_ids",
                case_ids if isinstance(case_ids, str) else type(case_ids).__name__,
                "must be an iterable of case ids (a list, a tuple, a generator), not a single value",
            )
        uow = self._batch
        if uow is None:
            return 0
        wanted = []
        for cid in case_ids:
            if not isinstance(cid, str):
                raise InvalidInput("case_ids", cid, "every case id must be a string")
            check_text("case_ids", cid)
            if cid not in uow.cases:
                wanted.append(cid)
        loaded = self.store.load_cases(wanted) if wanted else []
        for case in loaded:
            uow.cases.setdefault(case.id, case)
        return len(loaded)

    def open_obligations(
        self,
        party_id: str,
        *,
        party_kind: Literal["business_unit", "department", "township"],
        jurisdiction: str,
        start: date,
        end: date,
        actor: Actor,
        obligations: Iterable[str] | None = None,
    ) -> list[Case]:
        """Open the reporting obligations (报送任务) ``party_id`` owes for every period in ``start``..``end``.

        The obligations are the policy's (``policy.reporting_obligations()``) owed by a ``party_kind``;
        each (obligation, party, period) is opened once, in one transaction, so calling this again (every
        month, say) opens only what is new. See :mod:`hazardflow.workflows.obligation`.
        """
        from .workflows.obligation import open_obligations

        return open_obligations(
            self,
            party_id,
            party_kind=party_kind,
            jurisdiction=jurisdiction,
            start=start,
            end=end,
            actor=actor,
            obligations=obligations,
        )

    # ── internals ────────────────────────────────────────────────────────────────────────────────
    def _load(self, case_id: str) -> Case | None:
        if self._batch is not None:
            return self._batch.load(case_id)
        return self.store.load_case(case_id)

    def _check_actor(self, actor: Actor) -> None:
        """An :class:`Actor` whose texts fit the audit record: no control characters, bounded lengths."""
        if self._checked_actors.get(id(actor), _UNCHECKED) is actor:
            return
        if not isinstance(actor, Actor):
            raise InvalidInput("actor", type(actor).__name__, "must be a hazardflow.Actor")
        for name, value, limit in (
            ("actor.id", actor.id, 64),
            ("actor.name", actor.name, 128),
            ("actor.org", actor.org, 128),
            ("actor.jurisdiction", actor.jurisdiction, 12),
        ):
            if not isinstance(value, str) or len(value) > limit:
                raise InvalidInput(name, value, f"must be a string of at most {limit} characters")
            check_text(name, value)
        for role in actor.roles:
            if not isinstance(role, str) or len(role) > 64:
                raise InvalidInput("actor.roles", role, "every role must be a string of at most 64 characters")
            check_text("actor.roles", role)
        checked = self._checked_actors
        if len(checked) >= 256:
            checked.clear()
        checked[id(actor)] = actor  # the entry keeps the actor alive, so its id is never reused meanwhile

    @staticmethod
    def _check_case_id(case_id: object) -> None:
        if not isinstance(case_id, str):
            raise InvalidInput("case_id", case_id, "must be a string")
        if _bad_text(case_id) is not None:
            check_text("case_id", case_id)

    @staticmethod
    def _check_not_system(actor: Actor, case_id: str, trigger: str) -> None:
        if actor is SYSTEM or "system" in actor.roles:
            raise NotAuthorized(
                case_id,
                trigger,
                actor.id,
                tuple(sorted(actor.roles)),
                (),
                "the system role is reserved for the engine's own timers and follow-ups",
            )

    @staticmethod
    def _check_key(key: str) -> None:
        if not isinstance(key, str) or not key or len(key) > 200:
            raise InvalidInput("idempotency_key", key, "must be a non-empty string of at most 200 characters")
        check_text("idempotency_key", key)

    def _events_upto(self, case_id: str, seq: int) -> list[AuditEvent]:
        """A case's events up to ``seq``, the current batch's pending ones included."""
        pending = [w.event for w in self._batch.writes if w.case.id == case_id] if self._batch is not None else []
        return [e for e in [*self.store.load_events(case_id), *pending] if e.seq <= seq]

    def _authorize_fire_replay(self, own: _UnitOfWork, hit: tuple[str, int, str], trigger: str, actor: Actor) -> None:
        """A replayed command is authorized like a new one: on the case as it was when the key was first used.

        An actor who may not fire it is answered exactly as a new command on the case as it is now would be
        (the key's existence and the first result stay hidden).
        """
        case_id, seq, _ = hit
        events = self._events_upto(case_id, seq)
        refusal: NotAuthorized | None = None
        if len(events) >= 2 and events[-1].seq == seq:
            try:
                self._authorize_as_new(own, replay(events[:-1]), trigger, actor)
                return
            except NotAuthorized as exc:
                refusal = exc
            except TransitionNotAllowed:
                pass  # the key was first used for another trigger: the fingerprint check refuses it
        current = own.load(case_id)
        if current is not None:
            self._authorize_as_new(own, current, trigger, actor)
        if refusal is not None:
            raise refusal

    def _authorize_as_new(self, uow: _UnitOfWork, case: Case, trigger: str, actor: Actor) -> str | None:
        """What a new ``trigger`` on ``case`` by ``actor`` gets from routing and authorization: the role, or
        :class:`TransitionNotAllowed` / :class:`NotAuthorized` (nothing is written)."""
        rows = self._routes.get((case.workflow, trigger, case.state))
        if rows is None:
            raise self._not_allowed(case, trigger, actor=actor, uow=uow)
        policy = self.policies.get(case.policy_id, case.policy_version)
        ctx = CommandContext(self, uow, case, actor, policy, self.now(), trigger)
        for r in rows:
            if r.when is None or r.when(ctx):
                return self._authorize(r, case, actor, policy)
        raise self._not_allowed(case, trigger, "no transition row applies to this case", actor=actor, uow=uow)

    def _authorize_open_replay(
        self,
        own: _UnitOfWork,
        hit: tuple[str, int, str],
        lc: CompiledLifecycle,
        actor: Actor,
        jurisdiction: str,
        fields: Mapping[str, Any],
        chash: str,
        key: str,
    ) -> None:
        """A replayed opening is authorized like a new one, against the case as it was opened.

        An actor who may not open it gets what a new opening of their own would get (a payload error or
        :class:`NotAuthorized`); were that opening allowed, the key is only said to be taken.
        """
        events = self._events_upto(hit[0], 1)
        first = events[0] if events else None
        if first is not None:
            j = first.changes.get("jurisdiction", jurisdiction)
            provisional = Case(
                first.case_id,
                lc.id,
                lc.workflow.spec.initial,
                0,
                j,
                j,
                first.policy_id,
                first.policy_version,
                first.occurred_at,
                first.occurred_at,
                first.payload,
            )
            try:
                self._authorize(lc.opener, provisional, actor, self.policies.get(first.policy_id, first.policy_version))
                return
            except NotAuthorized:
                pass
        # As a new opening: its own payload and authorization errors.
        now = self.now()
        mine = self.jurisdictions.check(jurisdiction)
        policy = self._policy_for_jurisdiction(mine, now)
        what = f"opening a {describe('workflow', lc.id)} case"
        payload = check_payload(lc.opener.payload, fields, policy.choices, what=what)
        public = FrozenDict({k: v for k, v in payload.items() if k not in lc.opener.sensitive})
        fresh = Case(
            "",
            lc.id,
            lc.workflow.spec.initial,
            0,
            mine,
            mine,
            policy.policy_id,
            policy.policy_version,
            now,
            now,
            public,
        )
        self._authorize(lc.opener, fresh, actor, policy)
        raise InvalidInput(
            "idempotency_key",
            key,
            "was already used for a different command; use a new key for a new command",
        )

    def _idempotent_result(self, hit: tuple[str, int, str], chash: str, key: str) -> Case:
        case_id, seq, stored_hash = hit
        if stored_hash != chash:
            raise InvalidInput(
                "idempotency_key",
                key,
                "was already used for a different command on this case; use a new key for a new command",
            )
        if self._batch is not None:
            pending = [w.event for w in self._batch.writes if w.case.id == case_id]
        else:
            pending = []
        events = [e for e in [*self.store.load_events(case_id), *pending] if e.seq <= seq]
        return replay(events)

    def _finish(self, own: _UnitOfWork) -> None:
        if own.parent is not None:
            own.merge_into_parent()
            return
        self.store.commit(own.writes)
        self._notify(own.writes)

    def _notify(self, writes: Sequence[Write]) -> None:
        if not self._listeners:
            return
        for w in writes:
            for listener in tuple(self._listeners):
                listener(w.case, w.event)

    def _policy_for_jurisdiction(self, jurisdiction: str, at: datetime) -> JurisdictionPolicy:
        return self.policies.resolve(jurisdiction, at)

    def _authorize(self, row: CompiledTransition, case: Case, actor: Actor, policy: JurisdictionPolicy) -> str:
        perm = policy.permission(case.workflow, row.trigger, case)
        if perm is None:
            roles, scope = row.roles, row.scope
        else:
            roles, scope = perm.roles, perm.scope
        if scope == "system" or "system" in roles:
            if actor is SYSTEM and "system" in roles:
                return "system"
            raise NotAuthorized(
                case.id,
                row.trigger,
                actor.id,
                tuple(sorted(actor.roles)),
                tuple(sorted(roles)),
                "only the engine fires this trigger (timers and follow-ups)",
            )
        held = actor.roles & roles
        if not held:
            raise NotAuthorized(
                case.id,
                row.trigger,
                actor.id,
                tuple(sorted(actor.roles)),
                tuple(sorted(roles)),
                "none of the actor's roles may fire it under the policy",
            )
        reasons: list[str] = []
        for role in held if len(held) == 1 else sorted(held):
            if role in ENTERPRISE_ROLES:
                unit = case.fields.get("business_unit")
                if unit is None or actor.org != unit:
                    reasons.append(
                        f"as {describe('role', role)} the actor acts only for its own unit "
                        f"({actor.org!r}), not {unit!r}"
                    )
                    continue
                if scope == "owner" and case.owning_jurisdiction != case.jurisdiction:
                    reasons.append(
                        f"supervision of the case moved to {case.owning_jurisdiction!r}; the unit can no longer "
                        "close or void it"
                    )
                    continue
                return role
            target = case.owning_jurisdiction if scope == "owner" else case.jurisdiction
            if is_within(target, actor.jurisdiction):
                return role
            what = "the tier that owns supervision of the case" if scope == "owner" else "the case's jurisdiction"
            reasons.append(
                f"{what} ({self._where(target)}) is outside the actor's jurisdiction "
                f"({self._where(actor.jurisdiction)})"
            )
        raise NotAuthorized(
            case.id, row.trigger, actor.id, tuple(sorted(actor.roles)), tuple(sorted(roles)), "; ".join(reasons)
        )

    def _where(self, code: str) -> str:
        name = self.jurisdictions.name(code)
        return code if name == code else f"{code} {name}"

    def _open(
        self,
        uow: _UnitOfWork,
        lc: CompiledLifecycle,
        actor: Actor,
        jurisdiction: str,
        fields: Mapping[str, Any],
        now: datetime,
        *,
        case_id: str | None = None,
        parent: CommandContext | None = None,
        idempotency_key: str | None = None,
        idempotency_scope: str | None = None,
        command_hash: str | None = None,
        record: _ImportRecord | None = None,
        owning_jurisdiction: str | None = None,
        dry: bool = False,
    ) -> Case:
        """Open a case from the workflow's opening row: the command steps without a source state.

        With ``record`` it is an import (:meth:`import_case`): the same checks, then one ``case.imported``
        event into the record's state. ``dry`` stops after the checks (authorizing a replayed import).
        """
        jurisdiction = self.jurisdictions.check(jurisdiction)
        policy = self._policy_for_jurisdiction(jurisdiction, now)
        chain = chain_of(policy)
        row = lc.opener
        if case_id is not None and uow.exists(case_id):
            raise InvalidInput("case_id", case_id, "a case with this id already exists")
        # The id is drawn only once the opening is accepted, so a refused opening uses up no id.
        verb = "opening" if record is None else "importing"
        what = self._what.get(f"{verb}:{lc.id}")
        if what is None:
            what = self._what[f"{verb}:{lc.id}"] = f"{verb} a {describe('workflow', lc.id)} case"
        payload = check_payload(row.payload, fields, policy.choices, what=what)
        sensitive = {k: payload[k] for k in row.sensitive if k in payload}
        public = FrozenDict({k: v for k, v in payload.items() if k not in row.sensitive}) if sensitive else payload
        initial = lc.workflow.spec.initial
        owning = jurisdiction
        if owning_jurisdiction is not None:
            owning = self.jurisdictions.check(owning_jurisdiction)
            if not is_within(jurisdiction, owning):
                raise InvalidInput(
                    "owning_jurisdiction",
                    owning_jurisdiction,
                    f"must be {jurisdiction!r} or a division above it (the tier supervising the case)",
                )

        def make_case(cid: str) -> Case:
            return Case(
                cid,
                lc.id,
                initial,
                0,
                jurisdiction,
                owning,
                policy.policy_id,
                policy.policy_version,
                now,
                now,
                public,
                policy_chain=chain,
            )

        provisional = make_case(case_id or "")
        ctx = CommandContext(self, uow, provisional, actor, policy, now, row.trigger, opening=True, parent=parent)
        ctx.payload = payload
        if parent is None:
            ctx.role = self._authorize(row, provisional, actor, policy)
        else:
            ctx.role = parent.role
        if record is not None and lc.states[record.state].terminal:
            self._authorize_closing(lc, record.state, provisional, actor, policy)
        self._run_guards(ctx, row, policy)
        if dry:
            return provisional
        if case_id is None:
            cid = self._ids(lc.workflow.spec.id_prefix, now)
            if uow.exists(cid):
                raise InvalidInput("case_id", cid, "the id generator returned the id of an existing case")
            ctx.case = make_case(cid)
        if sensitive:
            ctx.confidential.update(sensitive)
        for eff in row.effects:
            eff(ctx)
        if record is None:
            return self._record(lc, ctx, row, None, public, None, idempotency_key, idempotency_scope, command_hash)
        # An import: the record's facts, origin and dated deadlines, one event into the record's state.
        ctx.updates.update(record.facts)
        ctx.updates["imported"] = record.to_json()
        if owning != jurisdiction:
            ctx.owning_jurisdiction = owning
        stage = lc.states[record.state].deadline
        for key, day in record.pins.items():
            d = ctx.pin(key, DeadlineSpec.fixed(day, source="import"))
            if key == stage and d.due_at <= now:
                raise InvalidInput(
                    f"pins.{key}",
                    day.isoformat(),
                    "is already past: the running deadline of an imported case must still be ahead",
                    hint="give the new deadline the case now works to (a past one would start overdue sanctions)",
                )
        into_state = attrs.evolve(row, trigger="import", dest=record.state, event_type="case.imported")
        event_payload = FrozenDict({**public, "imported_from": freeze(record.origin)})
        return self._record(
            lc, ctx, into_state, None, event_payload, None, idempotency_key, idempotency_scope, command_hash
        )

    def _authorize_closing(
        self, lc: CompiledLifecycle, state: str, case: Case, actor: Actor, policy: JurisdictionPolicy
    ) -> None:
        """Only who may close (or void) a case may import one closed: an import never stands in for the
        review (审核销号) of a case still open [S1 §23]. :class:`NotAuthorized` unless a transition of the
        workflow into ``state`` authorizes the actor."""
        into = [r for rows in lc.by_trigger.values() for r in rows if r.dest == state]
        reasons: list[str] = []
        for r in into:
            try:
                self._authorize(r, case, actor, policy)
                return
            except NotAuthorized as exc:
                reasons.append(exc.reason)
        raise NotAuthorized(
            case.id,
            "import",
            actor.id,
            tuple(sorted(actor.roles)),
            tuple(sorted({role for r in into for role in r.roles})),
            f"recording a case as {describe('state', state)} needs a role that may bring a case there"
            + (f" ({'; '.join(dict.fromkeys(reasons))})" if reasons else ""),
        )

    def _run_guards(self, ctx: CommandContext, row: CompiledTransition, policy: JurisdictionPolicy) -> None:
        for name, g in row.state_guards:
            res = g(ctx)
            if not res.ok:
                raise GuardRejected(ctx.case.id, ctx.trigger, name, res.reason_zh, res.reason_en)
        for name, g in row.payload_guards:
            res = g(ctx)
            if not res.ok:
                raise GuardRejected(ctx.case.id, ctx.trigger, name, res.reason_zh, res.reason_en)
        for name, g in policy.guards(ctx.case.workflow, ctx.trigger):
            res = g(ctx)
            if not res.ok:
                raise GuardRejected(ctx.case.id, ctx.trigger, name, res.reason_zh, res.reason_en)

    def _not_allowed(
        self, case: Case, trigger: str, hint: str = "", *, actor: Actor | None = None, uow: _UnitOfWork | None = None
    ) -> TransitionNotAllowed:
        lc = self._lifecycles[case.workflow]
        here = sorted({r.trigger for r in lc.by_state.get(case.state, ()) if r.scope != "system"})
        terminal = not here
        if actor is not None and actor is not SYSTEM and "system" not in actor.roles:
            # What this actor could fire on this case now: the very list engine.allowed() gives.
            here = self._allowed_now(case, actor, uow if uow is not None else _UnitOfWork(self.store))
        if not hint and trigger not in lc.by_trigger:
            close = close_match(trigger, lc.by_trigger)
            hint = f"{preview(trigger)} is not a trigger of workflow {case.workflow!r}"
            if close:
                hint += f"; did you mean {close!r}?"
        return TransitionNotAllowed(case.id, trigger, case.state, case.workflow, tuple(here), hint, terminal)

    def _execute(
        self,
        uow: _UnitOfWork,
        case: Case,
        trigger: str,
        actor: Actor,
        payload: Mapping[str, Any],
        now: datetime,
        *,
        parent: CommandContext | None = None,
        timer: Timer | None = None,
        late: float | None = None,
        idempotency_key: str | None = None,
        idempotency_scope: str | None = None,
        command_hash: str | None = None,
    ) -> Case:
        """Steps 2-9 of a command on a case already loaded (step 1); the caller commits (step 10)."""
        policy = self.policies.for_case(case)
        ctx = CommandContext(self, uow, case, actor, policy, now, trigger, EMPTY, "", False, parent, timer)
        row = self._route(ctx)
        ctx.role = self._authorize(row, case, actor, policy)
        ctx.payload = self._validate(row, payload, policy)
        self._run_guards(ctx, row, policy)
        public = self._run_effects(ctx, row)
        dest = self._move(row, case.state)
        return self._record(
            self._lifecycles[case.workflow],
            ctx,
            row,
            dest,
            public,
            late,
            idempotency_key,
            idempotency_scope,
            command_hash,
        )

    # ── the steps of a command ───────────────────────────────────────────────────────────────────
    def _route(self, ctx: CommandContext) -> CompiledTransition:
        """Step 2: the transition row for the trigger from the case's state (the first whose ``when`` holds)."""
        case = ctx.case
        rows = self._routes.get((case.workflow, ctx.trigger, case.state))
        if rows is None:
            raise self._not_allowed(case, ctx.trigger, actor=ctx.actor, uow=ctx.uow)
        for r in rows:
            if r.when is None or r.when(ctx):
                return r
        raise self._not_allowed(
            case, ctx.trigger, "no transition row applies to this case", actor=ctx.actor, uow=ctx.uow
        )

    def _validate(self, row: CompiledTransition, payload: Mapping[str, Any], policy: JurisdictionPolicy) -> FrozenDict:
        """Step 4: the payload checked against the row's fields and the policy's choices, frozen."""
        what = self._what.get(row.trigger)
        if what is None:  # the message prefix is built once per trigger, not per command
            what = self._what[row.trigger] = f"trigger {describe('trigger', row.trigger)}"
        return check_payload(row.payload, payload, policy.choices, what=what)

    @staticmethod
    def _run_effects(ctx: CommandContext, row: CompiledTransition) -> FrozenDict:
        """Step 6: the row's effects write into the context; returns the payload the event shows.

        Confidential fields (a reporter's identity) go to ``ctx.confidential``, kept apart from the case and
        its events, and are left out of the returned public payload.
        """
        sensitive = row.sensitive
        if sensitive:
            ctx.confidential.update({k: ctx.payload[k] for k in sensitive if k in ctx.payload})
        for eff in row.effects:
            eff(ctx)
        if not sensitive:
            return ctx.payload
        return FrozenDict({k: v for k, v in ctx.payload.items() if k not in sensitive})

    @staticmethod
    def _move(row: CompiledTransition, state: str) -> str:
        """Step 7: the state the shared ``transitions.Machine`` moves a scratch row to along ``row``."""
        scratch = _Row(state)
        move = row.move
        assert move is not None
        move(scratch)
        return scratch.state

    def _resolve_stage_deadline(
        self, key: str, case: Case, pins: Mapping[str, Deadline], policy: JurisdictionPolicy, now: datetime
    ) -> Deadline | None:
        pinned = pins.get(key)
        if pinned is not None:
            return pinned
        spec = policy.deadline(key, case)
        if spec is None:
            return None
        r = resolve(spec, now, policy.calendar)
        return Deadline(key, r.due_at, spec, now, r.provisional)

    def _arm_deadline(
        self,
        case_id: str,
        workflow: str,
        state: str,
        seq: int,
        deadline: Deadline,
        case: Case,
        policy: JurisdictionPolicy,
        now: datetime,
        arm: list[Timer],
    ) -> None:
        arm.append(
            Timer(f"{case_id}/{seq}/d", case_id, workflow, "deadline", deadline.key, deadline.due_at, seq, state)
        )
        calendar = policy.calendar
        # Every working-day count follows the calendar's ``missing_year`` mode: with "error", a reminder that
        # would count days of a year without holiday data refuses the command (CalendarDataMissing, nothing
        # written) instead of being counted Monday-Friday and marked nowhere.
        for i, delay in enumerate(policy.reminders(deadline.key, case), start=1):
            at = offset(deadline.due_at, delay, calendar, before=True).due_at
            # Only reminders still ahead of now and strictly before the deadline: a reminder at or after
            # the deadline would arrive with (or after) the overdue event it is meant to prevent.
            if now < at < deadline.due_at:
                arm.append(
                    Timer(f"{case_id}/{seq}/r{i}", case_id, workflow, "reminder", deadline.key, at, seq, state, i)
                )

    @staticmethod
    def _arm_rung(
        case: Case,
        seq: int,
        state: str,
        deadline: Deadline,
        index: int,
        anchor: datetime,
        policy: JurisdictionPolicy,
        arm: list[Timer],
    ) -> None:
        rungs = policy.ladder(deadline.key, case)
        if not 1 <= index <= len(rungs):
            return
        # Counted with the policy's calendar as configured: with missing_year="error", a rung that needs a year
        # without holiday data fails the firing that arms it (CalendarDataMissing): the firing writes nothing and
        # is held back and retried (run_due), loudly logged, until the year's data is added; never dropped and
        # never counted Monday-Friday unmarked.
        at = offset(anchor, rungs[index - 1].after, policy.calendar, before=False).due_at
        arm.append(
            Timer(f"{case.id}/{seq}/s{index}", case.id, case.workflow, "sanction", deadline.key, at, seq, state, index)
        )

    def _record(
        self,
        lc: CompiledLifecycle,
        ctx: CommandContext,
        row: CompiledTransition,
        dest: str | None,
        public_payload: FrozenDict,
        late: float | None,
        idempotency_key: str | None,
        idempotency_scope: str | None,
        command_hash: str | None,
    ) -> Case:
        """Steps 8-9 of an accepted command: timers, then the new snapshot and its hash-chained audit event.

        ``dest`` None opens a case (in ``row.dest``). Linked cases the effects asked for are opened first (their
        ids are linked from this case); the write joins the unit of work; follow-up commands on linked cases
        run last, in the same unit. The case, the policy and the timer being fired are the context's.
        """
        case = ctx.case
        opening = dest is None
        new_state = row.dest if opening else dest
        assert new_state is not None
        upd = ctx.updates
        if ctx._spawns:
            self._open_spawns(ctx)
        cpins = ctx._pins
        pins_now: FrozenDict = FrozenDict({**case.pins, **cpins}) if cpins else case.pins
        if upd:
            # Deep-freeze only when a list or a mapping is among the values (saves ~0.8 µs a command: most
            # updates are strings and numbers, immutable already).
            for v in upd.values():
                if type(v) not in _ATOMIC:
                    frozen_upd = FrozenDict({k: freeze(v) for k, v in upd.items()})
                    break
            else:
                frozen_upd = FrozenDict(upd)
            new_fields = FrozenDict({**case.fields, **frozen_upd})
        else:
            frozen_upd = EMPTY
            new_fields = case.fields
        owning = ctx.owning_jurisdiction or case.owning_jurisdiction
        deadline, overdue, rung, closed_at, arm, cancel = self._stage_timing(
            lc, ctx, new_state, opening, new_fields, pins_now
        )
        changes = self._changes(
            ctx, opening, frozen_upd, new_fields, pins_now, owning, deadline, overdue, rung, closed_at
        )
        # Step 9, record: the event body, hashed as canonical JSON (signed with the audit key when there is one).
        iso = self._iso
        reason_field = row.spec.reason
        reason = public_payload.get(reason_field) if reason_field else None
        prev_hash = case.last_hash if not opening else GENESIS
        actor = ctx.actor
        from_state = None if opening else case.state
        now = ctx.now
        seq = case.rev + 1
        # Keys in sorted order: the canonical JSON sorts them anyway, and sorting what is sorted is cheapest.
        body = {
            "actor_id": actor.id,
            "actor_jurisdiction": actor.jurisdiction,
            "actor_name": actor.name,
            "actor_org": actor.org,
            "actor_role": ctx.role,
            "case_id": case.id,
            "changes": changes,
            "from_state": from_state,
            "idempotency_key": idempotency_key,
            "late_seconds": late,
            "occurred_at": iso(now),
            "payload": public_payload,
            "policy_id": case.policy_id,
            "policy_version": case.policy_version,
            "prev_hash": prev_hash,
            "reason": reason,
            "seq": seq,
            "to_state": new_state,
            "trigger": row.trigger,
            "type": row.event_type,
            "workflow": case.workflow,
        }
        if case.policy_chain:
            body["policy_chain"] = case.policy_chain  # orjson writes the tuples as the same arrays
        body_json = canonical_bytes(body)
        digest = hash_canonical(body_json, self.audit_key)
        # Every field, in field order: the fast snapshot constructors of ``_model`` skip attrs' __init__.
        event = new_event(
            case.id,
            seq,
            case.workflow,
            row.event_type,
            row.trigger,
            from_state,
            new_state,
            actor.id,
            actor.name,
            ctx.role,
            actor.org,
            actor.jurisdiction,
            now,
            case.policy_id,
            case.policy_version,
            public_payload,
            changes,
            reason,
            idempotency_key,
            late,
            prev_hash,
            digest,
            case.policy_chain,
        )
        pin = ctx.policy_pin[-1] if ctx.policy_pin else None
        new_snapshot = new_case(
            case.id,
            case.workflow,
            new_state,
            seq,
            case.jurisdiction,
            owning,
            pin[0] if pin else case.policy_id,
            pin[1] if pin else case.policy_version,
            case.opened_at,
            now,
            new_fields,
            deadline,
            overdue,
            rung,
            closed_at,
            digest,
            pins_now,
            ctx.policy_pin if ctx.policy_pin else case.policy_chain,
        )
        timer = ctx.timer
        # Every field, in order: the named tuple's own ``__new__`` would only fill defaults (see ``_new_tuple``).
        write: Write = _new_tuple(
            Write,
            (
                new_snapshot,
                case.rev,
                event,
                arm or (),
                cancel,
                timer.id if timer is not None else None,
                idempotency_key,
                idempotency_scope,
                command_hash,
                self.outbox,
                ctx._confidential or None,
                body_json,
            ),
        )
        ctx.uow.add(write)
        if ctx._follow_ups:
            self._run_follow_ups(ctx)
        return new_snapshot

    def _open_spawns(self, ctx: CommandContext) -> None:
        """Open the linked cases the effects asked for (:meth:`CommandContext.spawn`) and link their ids."""
        spawned: list[Case] = []
        for sp in ctx.spawns:
            child = self._open(
                ctx.uow, self._lifecycles[sp.workflow], ctx.actor, sp.jurisdiction, sp.fields, ctx.now, parent=ctx
            )
            spawned.append(child)
            if sp.link_field:
                ctx.updates[sp.link_field] = child.id
        ctx._spawned = spawned

    def _run_follow_ups(self, ctx: CommandContext) -> None:
        """Fire the commands the effects asked for on linked cases (:meth:`CommandContext.follow`), as the system."""
        uow = ctx.uow
        for fu in ctx.follow_ups:
            target = uow.load(fu.case_id)
            if target is None:
                raise CaseNotFoundError(fu.case_id)
            self._execute(uow, target, fu.trigger, SYSTEM, fu.payload, ctx.now, parent=ctx)

    def _stage_timing(
        self,
        lc: CompiledLifecycle,
        ctx: CommandContext,
        new_state: str,
        opening: bool,
        new_fields: FrozenDict,
        pins_now: FrozenDict,
    ) -> tuple[Deadline | None, bool, int, datetime | None, list[Timer], bool]:
        """Step 8, timers: ``(deadline, overdue, rung, closed_at, timers to arm, cancel the armed ones)`` after it.

        Entering a stage resolves its deadline (a pin the command set, else the policy's) and arms the deadline
        timer and its reminders; leaving one cancels what it armed. Within a stage: a re-pinned or migrated
        deadline replaces the running one; ``mark_overdue`` starts (or resumes) the overdue ladder; a fired
        rung arms the next one.
        """
        case = ctx.case
        policy = ctx.policy
        now = ctx.now
        seq = case.rev + 1
        state_spec = lc.states[new_state]
        deadline = case.deadline
        overdue = case.overdue
        rung = case.sanction_rung
        closed_at = case.closed_at
        arm: list[Timer] = []
        cancel = False
        if opening or new_state != case.state:
            cancel = not opening and (case.deadline is not None or case.overdue)
            overdue = False
            deadline = None
            if state_spec.terminal:
                closed_at = now
            elif case.closed_at is not None:
                closed_at = None
            if state_spec.deadline and not state_spec.terminal:
                # What the case will look like, for policies whose deadline depends on the new facts.
                upcoming = Case(
                    case.id,
                    case.workflow,
                    new_state,
                    case.rev,
                    case.jurisdiction,
                    case.owning_jurisdiction,
                    case.policy_id,
                    case.policy_version,
                    case.opened_at,
                    case.updated_at,
                    new_fields,
                    None,
                    False,
                    case.sanction_rung,
                    closed_at,
                    case.last_hash,
                    pins_now,
                    case.policy_chain,
                )
                deadline = self._resolve_stage_deadline(state_spec.deadline, upcoming, pins_now, policy, now)
                if deadline is not None:
                    self._arm_deadline(case.id, case.workflow, new_state, seq, deadline, upcoming, policy, now, arm)
            return deadline, overdue, rung, closed_at, arm, cancel
        key = state_spec.deadline
        cpins = ctx._pins
        if ctx.restage:
            # A policy migration recomputed the stage deadline under the new version.
            cancel = case.deadline is not None or case.overdue
            overdue = False
            deadline = ctx.restaged_deadline
            if deadline is not None:
                pinned_policy = self.policies.pinned(ctx.policy_pin) if ctx.policy_pin else policy
                self._arm_deadline(case.id, case.workflow, new_state, seq, deadline, case, pinned_policy, now, arm)
        elif key is not None and cpins and key in cpins:
            cancel = case.deadline is not None or case.overdue
            overdue = False
            deadline = pins_now[key]
            self._arm_deadline(case.id, case.workflow, new_state, seq, deadline, case, policy, now, arm)
        if ctx.set_overdue:
            overdue = True
            # The deadline passed: the stage's reminders have nothing left to remind of.
            cancel = True
            if deadline is not None:
                # Start the ladder, or resume it where this very deadline left it (the case left the stage and
                # came back with the same deadline): a rung is never applied twice for one missed deadline.
                done, anchor = _ladder_progress(new_fields, deadline)
                self._arm_rung(case, seq, new_state, deadline, done + 1, anchor, policy, arm)
        if ctx.rung is not None:
            rung = max(rung, ctx.rung)
            timer = ctx.timer
            if deadline is not None and timer is not None:
                # Rungs are counted from the previous rung's due instant, not from when it fired: a late sweep
                # catches up on the same schedule.
                self._arm_rung(case, seq, new_state, deadline, ctx.rung + 1, timer.due_at, policy, arm)
        return deadline, overdue, rung, closed_at, arm, cancel

    def _changes(
        self,
        ctx: CommandContext,
        opening: bool,
        frozen_upd: FrozenDict,
        new_fields: FrozenDict,
        pins_now: FrozenDict,
        owning: str,
        deadline: Deadline | None,
        overdue: bool,
        rung: int,
        closed_at: datetime | None,
    ) -> FrozenDict:
        """Step 9, the change record of the event: what the command changed, in JSON form (hashed, replayed).

        An opening records the whole initial case; any other command only what differs, compared by value.
        """
        iso = self._iso
        if opening:
            return FrozenDict(
                {
                    **({"pins": {k: d.to_json() for k, d in pins_now.items()}} if pins_now else {}),
                    "jurisdiction": ctx.case.jurisdiction,
                    "owning_jurisdiction": owning,
                    "fields": new_fields,
                    "deadline": _deadline_change(deadline, pins_now),
                    "overdue": overdue,
                    "sanction_rung": rung,
                    "closed_at": iso(closed_at) if closed_at is not None else None,
                }
            )
        case = ctx.case
        changes: dict[str, Any] = {}
        # Keys in sorted order, like the canonical JSON the event is hashed as.
        if closed_at != case.closed_at:
            changes["closed_at"] = iso(closed_at) if closed_at is not None else None
        # By value, never by identity: a case read from a database holds an equal but distinct object, and the
        # audit record must not depend on which store the case came from.
        before = case.deadline
        if deadline is not before and (deadline is None or before is None or deadline != before):
            changes["deadline"] = _deadline_change(deadline, pins_now)
        if frozen_upd:
            changes["fields"] = frozen_upd
        if overdue != case.overdue:
            changes["overdue"] = overdue
        if owning != case.owning_jurisdiction:
            changes["owning_jurisdiction"] = owning
        cpins = ctx._pins
        if cpins:
            changes["pins"] = {k: d.to_json() for k, d in cpins.items()}
        if ctx.policy_pin is not None:
            changes["policy_chain"] = [list(pin) for pin in ctx.policy_pin]
            changes["policy_id"] = ctx.policy_pin[-1][0]
            changes["policy_version"] = ctx.policy_pin[-1][1]
        if rung != case.sanction_rung:
            changes["sanction_rung"] = rung
        return FrozenDict(changes)

    # ── misc ─────────────────────────────────────────────────────────────────────────────────────
    def now(self) -> datetime:
        """The engine clock's current instant, in UTC; refuses a clock that returns a naive datetime."""
        instant = self.clock.now()
        if type(instant) is datetime and instant.tzinfo is UTC:
            return instant
        return _utc("clock", instant)

    def _iso(self, instant: datetime) -> str:
        """``instant.isoformat()``, remembered for the last instant asked (a command stamps one instant twice
        or more: the event, ``closed_at``; a batch or a simulation step stamps many commands alike). A hit costs
        ~0.2 µs, a formatting ~3 µs."""
        memo = self._iso_memo
        if memo[0] is instant:
            return memo[1]
        text = instant.isoformat()
        self._iso_memo = (instant, text)
        return text

    def close(self) -> None:
        """Release the store's resources."""
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
