"""Contracts for adapter and plugin authors: clocks, calendars, stores, jurisdiction policies, and the command
context that guards and effects receive.

These are :class:`typing.Protocol` classes: implement the methods and pass an instance to
:class:`~hazardflow.Engine`. The shipped implementations (``SystemClock``/``SimulatedClock``,
``ChineseWorkingCalendar``, ``MemoryStore``/``SqlStore``, ``NationalBaseline``) are the reference; the
contract suites in :mod:`hazardflow.testing` check a third-party implementation against the same rules.
:class:`CommandContext` (with :class:`EngineHandle` and :class:`PolicyLookup`) goes the other way: it is what
the engine hands to every guard and effect, so policy and lifecycle code annotates with it and never with the
engine's own classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from ._calendar import Deadline, DeadlineSpec, Delay
    from ._jurisdiction import JurisdictionTree
    from ._lifecycle import CompiledLifecycle, GuardFn
    from ._model import Actor, AuditEvent, Case, GuardResult, Timer, Write
    from ._rules import ListingRule, Milestone, Permission, ReportingObligation, Rung, Separation

__all__ = [
    "Clock",
    "CommandContext",
    "EngineHandle",
    "JurisdictionPolicy",
    "PolicyLookup",
    "Store",
    "TimerClaim",
    "WorkingCalendar",
]


@runtime_checkable
class Clock(Protocol):
    """The source of "now". Nothing in hazardflow reads the wall clock except through a Clock."""

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


@runtime_checkable
class WorkingCalendar(Protocol):
    """Which days are working days (holidays off, 调休 make-up days on) for a jurisdiction."""

    def status(self, day: date) -> tuple[bool, bool]:
        """``(is_working_day, provisional)``; provisional when the year has no data and a fallback was used."""
        ...

    def is_working_day(self, day: date) -> bool: ...

    def covers(self, day: date) -> bool: ...

    def add_working_days(self, day: date, n: int) -> tuple[date, bool]: ...

    def subtract_working_days(self, day: date, n: int) -> tuple[date, bool]: ...

    def roll_forward(self, day: date) -> tuple[date, bool]: ...


@runtime_checkable
class Store(Protocol):
    """Where cases, audit events, timers, idempotency keys and the outbox live.

    ``commit`` is atomic over its writes: either every write (case row with its revision check, event,
    timers, idempotency key, outbox row) is stored, or none is and the error says why.
    """

    def load_case(self, case_id: str) -> Case | None: ...

    def load_cases(self, case_ids: Sequence[str]) -> list[Case]:
        """The stored cases among ``case_ids`` (unknown ids skipped; order not guaranteed)."""
        ...

    def has_case(self, case_id: str) -> bool:
        """True when a case with this id is stored (cheaper than loading it: checked before every opening)."""
        ...

    def load_events(self, case_id: str) -> list[AuditEvent]: ...

    def commit(self, writes: Sequence[Write]) -> None: ...

    def lookup_idempotency(self, scope: str, key: str) -> tuple[str, int, str] | None:
        """``(case_id, seq, command_hash)`` stored for a key in a scope (a case id, or ``open:<workflow>``)."""
        ...

    def armed_timers(self, case_id: str) -> list[Timer]: ...

    def get_timer(self, timer_id: str) -> Timer | None: ...

    def next_due(self) -> datetime | None:
        """The earliest due instant of an armed timer (for waking a worker)."""
        ...

    def due_timers(self, now: datetime, *, limit: int) -> list[Timer]:
        """Up to ``limit`` armed timers due at ``now`` and not held back past ``now``, earliest first.

        A pure read: several workers may find the same timers; :meth:`claim_timer` decides who fires each.
        """
        ...

    def claim_timer(self, timer_id: str, now: datetime) -> TimerClaim | None:
        """Claim one due timer to fire it: its firing's transaction, begun with the timer and its case.

        None when the timer is not armed, not due at ``now``, held back past ``now`` (:meth:`hold_timer`),
        or claimed right now by another worker (a claim is never waited for longer than the store's lock
        timeout). The claim lasts until it is committed, cancelled or closed, or until its worker dies.
        """
        ...

    def hold_timer(self, timer_id: str, *, owner: str, until: datetime) -> None:
        """Hold an armed timer back until ``until`` (its firing failed): no find or claim sees it before then.

        ``owner`` (the worker) is recorded with it; a timer that is no longer armed is left alone.
        """
        ...

    def iter_cases(
        self,
        *,
        workflow: str | None = None,
        jurisdiction: str | None = None,
        state: str | None = None,
        department: str | None = None,
        open_only: bool = False,
    ) -> Iterator[Case]: ...

    def iter_events(self, case_id: str | None = None) -> Iterator[AuditEvent]: ...

    def read_confidential(self, case_id: str) -> dict[str, Any] | None:
        """The confidential record of a case (a copy), or None when it has none."""
        ...

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[tuple[int, str, int, str]]:
        """Outbox rows ``(position, case_id, seq, event_type)`` with ``position > after``, in commit order.

        Positions increase with every row written; a deliverer keeps the last position it handled.
        """
        ...

    def close(self) -> None: ...


class TimerClaim(Protocol):
    """One worker's claim on a due timer (:meth:`Store.claim_timer`): the open transaction of its firing.

    ``timer`` and ``case`` are read under the claim, so no other worker fires the timer meanwhile. End it
    with exactly one of :meth:`commit` (the firing's writes, in the claim's own transaction), :meth:`cancel`
    (the timer is stale) or :meth:`close` (give it up: nothing changes). Used as a context manager, leaving
    the block closes a claim that is still open. A claim whose worker dies ends with it and changes nothing.
    """

    @property
    def timer(self) -> Timer:
        """The timer as stored when claimed (armed, due)."""
        ...

    @property
    def case(self) -> Case:
        """The timer's case as stored when claimed."""
        ...

    def commit(self, writes: Sequence[Write]) -> None:
        """Store the firing's writes and end the claim; refused for the same reasons as ``Store.commit``."""
        ...

    def cancel(self) -> None:
        """Cancel the timer (its case moved on) and end the claim."""
        ...

    def close(self) -> None:
        """End the claim without changing anything (a claim already ended is left as it is)."""
        ...

    def __enter__(self) -> TimerClaim: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class JurisdictionPolicy(Protocol):
    """A jurisdiction's rules, answered as questions. Subclass :class:`hazardflow.policies.NationalBaseline`.

    The engine and the lifecycle tables ask these questions; nothing about a jurisdiction is hard-coded in
    them. Every answer that comes from a regulation or a seed document is tagged with its source in the
    implementation. Guards return a :class:`~hazardflow.GuardResult` with the reason in Chinese and English,
    never a bare bool. ``policy_id`` + ``policy_version`` name the exact rules a case pinned when it opened;
    ``jurisdiction`` is the administrative-division code the policy governs (with its whole subtree, unless a
    nearer policy is registered).
    """

    # Read-only members: a policy class may answer them with class attributes (as NationalBaseline does).
    @property
    def policy_id(self) -> str:
        """A stable id, e.g. ``cq.shizhu.sanxing``; cases pin it with :attr:`policy_version`."""
        ...

    @property
    def policy_version(self) -> str:
        """The version of the rules; bump it whenever a rule changes."""
        ...

    @property
    def jurisdiction(self) -> str:
        """The division code the policy governs (its subtree, unless a nearer policy is registered)."""
        ...

    @property
    def name(self) -> str:
        """A human name, e.g. ``三星乡``."""
        ...

    def choices(self, name: str) -> Sequence[str]:
        """Allowed values for ``policy:<name>`` fields: grades (ordered, low to high), industries, recipients,
        departments."""
        ...

    def national_grade(self, grade: str) -> str:
        """Map a local grade onto the national scale: ``general`` (一般) or ``major`` (重大)."""
        ...

    def permission(self, workflow: str, trigger: str, case: Case) -> Permission | None:
        """Who may fire ``trigger`` on ``case`` (roles and jurisdiction scope): review and delisting authority,
        the listing authority, the admission step whose turn it is; None keeps the lifecycle table's roles."""
        ...

    def separation_of_duty(self, workflow: str, trigger: str) -> Sequence[Separation]:
        """The separations of duty the jurisdiction adds to a trigger (who may not fire it on this case)."""
        ...

    def guards(self, workflow: str, trigger: str) -> Sequence[tuple[str, GuardFn]]:
        """Extra named guards the jurisdiction adds to a trigger (including its separations of duty)."""
        ...

    def deadline(self, key: str, case: Case) -> DeadlineSpec | None:
        """The time limit for a stage (``review``, ``extension_decision``, ``verify``, ...) with its unit, or
        None when the stage has no fixed limit here."""
        ...

    def reminders(self, key: str, case: Case) -> Sequence[Delay]:
        """Offsets before a deadline at which to remind (non-interrupting)."""
        ...

    def ladder(self, key: str, case: Case) -> Sequence[Rung]:
        """The overdue ladder for a missed deadline, rung by rung (函告 → 通报 → 约谈 → 曝光 ...); finite."""
        ...

    @property
    def calendar(self) -> WorkingCalendar:
        """The working calendar with the jurisdiction's local adjustments."""
        ...

    def dual_report_recipients(self, case: Case) -> Sequence[str]:
        """Everyone a major hazard is reported to before governance starts (双报告); always includes the
        supervising department and the workers' congress [S3 §41]."""
        ...

    def confirmation_levels(self, case: Case) -> int:
        """How many distinct people confirm a major hazard (2 under Shanxi's 两级确认)."""
        ...

    def listing(self, case: Case) -> ListingRule:
        """Whether a major hazard is listed for supervision (挂牌督办), at which level and by whom."""
        ...

    def stop_on_major(self, case: Case) -> bool:
        """Whether a major hazard stops production until its review passes (重患必停)."""
        ...

    def on_the_spot_fix(self, case: Case) -> GuardResult:
        """Whether the hazard may be fixed on the spot (即查即改)."""
        ...

    def escalation_steps(self, case: Case) -> Sequence[str]:
        """The admission procedure (纳入程序) for the upper tier's pool: the role of each approval step."""
        ...

    def escalation_eligible(self, hazard: Case) -> GuardResult:
        """Whether a hazard may be proposed for the upper tier's pool (蓄水池)."""
        ...

    def reporter_visible_roles(self) -> frozenset[str]:
        """Roles that may read a tip-off reporter's identity (举报人信息保密)."""
        ...

    def reward_tipoff(self, tipoff: Case) -> bool:
        """Whether a substantiated tip-off earns the reporter a reward (举报奖励)."""
        ...

    def lead_department(self, industry: str) -> str | None:
        """The sector department leading an industry (谁主管谁牵头)."""
        ...

    def criteria_required(self, case: Case) -> bool:
        """Whether grading this hazard major must cite matched criteria (一行业一清单)."""
        ...

    def check_criteria(self, case: Case, criteria: Sequence[str], now: datetime) -> GuardResult:
        """Judge a citation of criteria items (they exist, fit the industry, are in force)."""
        ...

    def reporting_obligations(self) -> Sequence[ReportingObligation]:
        """The periodic reports parties owe (weekly, half-monthly, monthly, quarterly, half-yearly, annual)."""
        ...

    def campaign_milestones(self) -> Sequence[Milestone]:
        """One-off dated targets of the campaign plans the jurisdiction implements."""
        ...


class PolicyLookup(Protocol):
    """What lifecycle and policy code may ask of the engine's policy registry (``engine.policies``).

    The engine's :class:`hazardflow.policies.PolicyRegistry` implements it; a chain is the tuple of
    ``(policy_id, policy_version)`` layers a case pins, national first.
    """

    def resolve(self, jurisdiction: str, at: datetime | date | None = None) -> JurisdictionPolicy:
        """The effective policy in force for ``jurisdiction`` at ``at`` (default: today)."""
        ...

    def get(self, policy_id: str, version: str, at: datetime | date | None = None) -> JurisdictionPolicy:
        """The effective policy of one registered layer version (composed under the layers above it)."""
        ...

    def for_case(self, case: Case) -> JurisdictionPolicy:
        """The effective policy a case is pinned to (its chain of layers)."""
        ...

    def chain_pins(self, jurisdiction: str, at: datetime | date | None = None) -> tuple[tuple[str, str], ...]:
        """The chain of layers in force for ``jurisdiction`` at ``at``, national first."""
        ...

    def pinned(self, chain: Iterable[Sequence[str]]) -> JurisdictionPolicy:
        """The effective policy of an explicit chain of ``(policy_id, policy_version)`` layers."""
        ...

    def layer(self, policy_id: str, version: str) -> Any:
        """The registered layer class of one version; :class:`~hazardflow.InvalidInput` when unknown."""
        ...


class EngineHandle(Protocol):
    """What lifecycle tables and policy code may use of the engine (``ctx.engine``, policy tooling).

    :class:`~hazardflow.Engine` implements it. Code in ``hazardflow.workflows`` and ``hazardflow.policies``,
    and a jurisdiction's own guards and effects, reach the engine only through these members, so the engine can
    change everything else without breaking them.
    """

    @property
    def jurisdictions(self) -> JurisdictionTree:
        """The engine's jurisdiction tree (``check(code)`` refuses an unknown code with its near matches)."""
        ...

    @property
    def policies(self) -> PolicyLookup:
        """The policy registry: every registered layer and version, and the chains in force."""
        ...

    @property
    def store(self) -> Store:
        """The store the engine commits to (read it; write only through commands)."""
        ...

    @property
    def workflows(self) -> Mapping[str, CompiledLifecycle]:
        """The compiled lifecycles by workflow id."""
        ...

    def lifecycle(self, workflow: str) -> CompiledLifecycle:
        """The compiled lifecycle of ``workflow``; :class:`~hazardflow.InvalidInput` when unknown."""
        ...

    def now(self) -> datetime:
        """The engine clock's current instant, in UTC."""
        ...

    def get(self, case_id: str) -> Case:
        """The current snapshot of a case; :class:`~hazardflow.CaseNotFoundError` when unknown."""
        ...

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
        ...

    def batch(self) -> AbstractContextManager[object]:
        """A block whose commands commit together (each still validated and refused on its own)."""
        ...

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
        """Open a case of ``workflow`` in ``jurisdiction`` as ``actor`` (see :meth:`hazardflow.Engine.open_case`)."""
        ...

    def fire_system(
        self,
        case_id: str,
        trigger: str,
        *,
        payload: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        now: datetime | None = None,
    ) -> Case | None:
        """Fire a system-only trigger as the engine itself (see :meth:`hazardflow.Engine.fire_system`)."""
        ...


class CommandContext(Protocol):
    """What a guard or an effect receives: the command it judges, and where an effect writes what it changes.

    This is the contract between the engine and every lifecycle table and jurisdiction policy: a guard
    (``(ctx) -> GuardResult``), a routing predicate (``(ctx) -> bool``) and an effect (``(ctx) -> None``) take
    one argument annotated ``hazardflow.abc.CommandContext`` and use only the members below. The engine hands
    its own object (``hazardflow._engine.CommandContext``, not an import path to rely on), built afresh for each
    command and discarded when it ends.

    Guards only read: ``case``, ``actor``, ``role``, ``policy``, ``payload``, ``now``, ``trigger``, ``opening``,
    ``timer``, ``parent``, :meth:`field` and :meth:`load`. Effects also write: field updates into
    ``updates``, deadlines with :meth:`pin`, commands on linked cases with :meth:`follow`, linked cases with
    :meth:`spawn`, confidential values into ``confidential``, and the few command-level settings
    (``owning_jurisdiction``, ``set_overdue``, ``rung``, ``policy_pin``, ``restage``, ``restaged_deadline``).
    Everything an effect writes is applied in the command's own transaction, after every guard passed; a guard
    or an effect that raises leaves nothing written.
    """

    # ── what guards read ──────────────────────────────────────────────────────────────────────────────
    @property
    def engine(self) -> EngineHandle:
        """The engine running the command (its jurisdiction tree, policies, store and cases)."""
        ...

    @property
    def case(self) -> Case:
        """The case as it was when the command began (before this command's updates; see :meth:`field`)."""
        ...

    @property
    def actor(self) -> Actor:
        """Who fires the command (:data:`hazardflow.SYSTEM` for timers and follow-ups)."""
        ...

    @property
    def role(self) -> str:
        """The role that authorized the actor for this command ("" while rows are being routed)."""
        ...

    @property
    def policy(self) -> JurisdictionPolicy:
        """The effective policy the case is pinned to (its chain of layers, composed)."""
        ...

    @property
    def payload(self) -> Mapping[str, Any]:
        """The command's payload, checked against the row's fields (empty while rows are being routed)."""
        ...

    @property
    def now(self) -> datetime:
        """The command's instant (UTC): the event's time and the start of any deadline resolved from now."""
        ...

    @property
    def trigger(self) -> str:
        """The trigger being fired (``approve``, ``mark_overdue``, ...)."""
        ...

    @property
    def opening(self) -> bool:
        """True for the opening command of a case (``register``, ``submit_tipoff``, ...)."""
        ...

    @property
    def timer(self) -> Timer | None:
        """The timer that fires this command (deadline, reminder, ladder rung), or None for any other command."""
        ...

    @property
    def parent(self) -> CommandContext | None:
        """The command whose effect asked for this one (:meth:`follow`, :meth:`spawn`), or None."""
        ...

    def field(self, name: str, default: Any = None) -> Any:
        """A case field as it will be after this command's updates so far."""
        ...

    def load(self, case_id: str) -> Case | None:
        """Read another case, seeing writes made earlier in the same unit of work (None when unknown)."""
        ...

    # ── what effects write ────────────────────────────────────────────────────────────────────────────
    @property
    def updates(self) -> dict[str, Any]:
        """Case field updates of this command: ``ctx.updates[name] = value`` (JSON-native values, deep-frozen)."""
        ...

    @property
    def pins(self) -> dict[str, Deadline]:
        """Deadlines this command pins, by stage key (filled by :meth:`pin`)."""
        ...

    def pin(self, key: str, spec: DeadlineSpec, *, start: datetime | None = None) -> Deadline:
        """Pin the deadline ``key`` (the rectification date an order sets, say), resolved with the policy's
        calendar from ``start`` (default: now); the case keeps it in ``Case.pins``."""
        ...

    def follow(self, case_id: str, trigger: str, payload: Mapping[str, Any]) -> None:
        """Fire ``trigger`` on a linked case as the system, in the same transaction, after this command."""
        ...

    def spawn(
        self, workflow: str, jurisdiction: str, fields: Mapping[str, Any], *, link_field: str | None = None
    ) -> None:
        """Open a linked case in the same transaction; its id is written to ``link_field`` of this case."""
        ...

    @property
    def confidential(self) -> dict[str, Any]:
        """Values stored apart from the case and its events (payload fields marked confidential land here)."""
        ...

    @property
    def owning_jurisdiction(self) -> str | None:
        """Set to move supervision of the case to another tier (a division code); None leaves it."""
        ...

    @owning_jurisdiction.setter
    def owning_jurisdiction(self, value: str | None) -> None: ...

    @property
    def set_overdue(self) -> bool:
        """Set True to flag the case overdue (the timer rows' ``mark_overdue``)."""
        ...

    @set_overdue.setter
    def set_overdue(self, value: bool) -> None: ...

    @property
    def rung(self) -> int | None:
        """Set to the overdue-ladder rung this command reached (the timer rows' ``sanction``); None leaves it."""
        ...

    @rung.setter
    def rung(self, value: int | None) -> None: ...

    @property
    def policy_pin(self) -> tuple[tuple[str, str], ...] | None:
        """Set to re-pin the case to another chain of policy layers, national first (``migrate_policy``)."""
        ...

    @policy_pin.setter
    def policy_pin(self, value: tuple[tuple[str, str], ...] | None) -> None: ...

    @property
    def restage(self) -> bool:
        """Set True to replace the running stage deadline with :attr:`restaged_deadline` (timers re-armed)."""
        ...

    @restage.setter
    def restage(self, value: bool) -> None: ...

    @property
    def restaged_deadline(self) -> Deadline | None:
        """The stage deadline that replaces the running one when :attr:`restage` is set (None: no deadline)."""
        ...

    @restaged_deadline.setter
    def restaged_deadline(self, value: Deadline | None) -> None: ...
