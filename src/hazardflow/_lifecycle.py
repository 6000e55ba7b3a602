"""Lifecycles as data: the spec types, eager validation, compilation and rendering.

A lifecycle is one literal table (see :mod:`hazardflow.workflows.hazard`): states with a terminal flag and
the deadline key that runs while a case is in them, and transitions with trigger, sources, destination,
allowed roles and scope, named guards, named effects and the payload fields they require. Guards, effects and
routing predicates are referenced **by name**; the workflow module supplies the functions. Everything is
checked when an :class:`~hazardflow.Engine` is built (one :class:`~hazardflow.LifecycleDefinitionError`
listing every problem, with did-you-mean hints) and compiled to **one shared** ``transitions.Machine`` per
workflow, with ``auto_transitions=False``, that drives plain rows; no machine is ever created per case.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._checks import close_match, json_text_problem
from ._checks import find_bad_text as _bad_text
from ._checks import text_problem as _text_problem
from ._exceptions import InvalidInput, LifecycleDefinitionError
from ._glossary import en, has_label, terms, zh
from ._model import FrozenDict, GuardResult, freeze

if TYPE_CHECKING:
    from .abc import CommandContext

__all__ = [
    "CompiledLifecycle",
    "CompiledTransition",
    "Field",
    "LifecycleSpec",
    "State",
    "Transition",
    "Workflow",
    "guard",
]

FieldKind = Literal["str", "text", "int", "number", "bool", "date", "datetime", "str_list", "mapping", "choice"]
Scope = Literal["case", "owner", "system"]
_KINDS = ("str", "text", "int", "number", "bool", "date", "datetime", "str_list", "mapping", "choice")

GuardFn = Callable[["CommandContext"], GuardResult]
EffectFn = Callable[["CommandContext"], None]
RouteFn = Callable[["CommandContext"], bool]


def guard(*, needs_payload: bool = False) -> Callable[[GuardFn], GuardFn]:
    """Mark a guard function; ``needs_payload`` guards are skipped by :meth:`Engine.allowed`.

    A guard that only looks at the case, the actor and the policy is a *state guard*: ``allowed()`` evaluates
    it. A guard that judges the command's payload (a named recipient, a separate fixer) can only be evaluated
    by ``fire()``.
    """

    def mark(fn: GuardFn) -> GuardFn:
        fn.needs_payload = needs_payload  # type: ignore[attr-defined]
        return fn

    return mark


@attrs.frozen
class State:
    """A lifecycle state. ``deadline`` names the deadline key whose timer runs while a case is here."""

    id: str
    terminal: bool = False
    deadline: str | None = None


@attrs.frozen
class Field:
    """A payload (or case) field: name, kind, whether required, and its allowed values.

    ``choices`` is a tuple of ids, the name of a glossary kind (``"source"``), or ``"policy:<name>"`` to ask
    the jurisdiction's policy (``"policy:grades"``). ``confidential`` fields never reach the audit log,
    logs or error messages.
    """

    name: str
    kind: FieldKind
    required: bool = True
    choices: str | tuple[str, ...] | None = None
    confidential: bool = False
    max_length: int = 0


@attrs.frozen
class Transition:
    """One row of a lifecycle table.

    ``sources=()`` marks the opening row (used by :meth:`Engine.open_case`); ``dest=None`` is an internal
    transition (the state does not change). ``scope`` says where a government actor's jurisdiction must
    sit: ``"case"`` (the case's jurisdiction subtree), ``"owner"`` (the subtree of the tier that owns
    supervision: approve, void, list, delist) or ``"system"`` (timers only). Enterprise roles are always bound
    to the case's business unit. ``when`` routes between rows of the same trigger and source.
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    roles: tuple[str, ...]
    scope: Scope = "case"
    guards: tuple[str, ...] = ()
    payload: tuple[Field, ...] = ()
    effects: tuple[str, ...] = ()
    when: str | None = None
    event: str = ""
    reason: str | None = None


@attrs.frozen
class LifecycleSpec:
    """A workflow's table: its id, initial state, states and transitions."""

    id: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    id_prefix: str = "HF"


@attrs.frozen
class Workflow:
    """A lifecycle table plus the guard, effect and routing functions its rows name."""

    spec: LifecycleSpec
    guards: Mapping[str, GuardFn] = attrs.field(factory=dict)
    effects: Mapping[str, EffectFn] = attrs.field(factory=dict)
    routes: Mapping[str, RouteFn] = attrs.field(factory=dict)

    @property
    def id(self) -> str:
        """The workflow id (its table's id), e.g. ``hazard``."""
        return self.spec.id


def _hint(name: str, candidates: Sequence[str]) -> str:
    close = close_match(name, candidates)
    return f"; did you mean {close!r}?" if close else ""


def validate(workflow: Workflow, known_roles: Sequence[str] | None = None) -> list[str]:
    """Every problem of a workflow definition (empty when it is sound)."""
    spec = workflow.spec
    problems: list[str] = []
    state_ids = [s.id for s in spec.states]
    seen: set[str] = set()
    for s in state_ids:
        if s in seen:
            problems.append(f"state {s!r} is declared twice")
        seen.add(s)
        if not has_label("state", s):
            problems.append(f"state {s!r} has no label in the glossary")
    states = set(state_ids)
    if spec.initial not in states:
        problems.append(f"initial state {spec.initial!r} is not declared{_hint(spec.initial, state_ids)}")
    terminal = {s.id for s in spec.states if s.terminal}
    if not terminal:
        problems.append("no terminal state: a case could never be finished")
    for st in spec.states:
        if st.deadline is not None and not has_label("deadline", st.deadline):
            problems.append(f"state {st.id!r} names deadline key {st.deadline!r} that has no glossary label")
    roles = list(known_roles) if known_roles is not None else [t.id for t in terms("role")]
    openers = [t for t in spec.transitions if not t.sources]
    if len(openers) != 1:
        problems.append(f"exactly one opening row (sources=()) is required, found {len(openers)}")
    keys_seen: dict[tuple[str, str], list[Transition]] = {}
    for i, t in enumerate(spec.transitions):
        where = f"transition #{i} {t.trigger!r}"
        if not has_label("trigger", t.trigger):
            problems.append(f"{where}: trigger has no label in the glossary")
        for src in t.sources:
            if src not in states:
                problems.append(f"{where}: unknown source state {src!r}{_hint(src, state_ids)}")
            keys_seen.setdefault((t.trigger, src), []).append(t)
        if t.dest is not None and t.dest not in states:
            problems.append(f"{where}: unknown destination state {t.dest!r}{_hint(t.dest, state_ids)}")
        if not t.sources and t.dest is None:
            problems.append(f"{where}: the opening row needs a destination state")
        for g in t.guards:
            if g not in workflow.guards:
                problems.append(f"{where}: unknown guard {g!r}{_hint(g, list(workflow.guards))}")
        for e in t.effects:
            if e not in workflow.effects:
                problems.append(f"{where}: unknown effect {e!r}{_hint(e, list(workflow.effects))}")
        if t.when is not None and t.when not in workflow.routes:
            problems.append(f"{where}: unknown routing predicate {t.when!r}{_hint(t.when, list(workflow.routes))}")
        if not t.roles:
            problems.append(f"{where}: no role may fire it")
        for r in t.roles:
            if r not in roles:
                problems.append(f"{where}: unknown role {r!r}{_hint(r, roles)}")
        if t.scope not in ("case", "owner", "system"):
            problems.append(f"{where}: unknown scope {t.scope!r}; allowed: 'case', 'owner', 'system'")
        if t.scope == "system" and set(t.roles) != {"system"}:
            problems.append(f"{where}: a system-scoped row may only name the 'system' role")
        names = [f.name for f in t.payload]
        if len(set(names)) != len(names):
            problems.append(f"{where}: a payload field is declared twice")
        if t.reason is not None and t.reason not in names:
            problems.append(f"{where}: reason field {t.reason!r} is not a payload field{_hint(t.reason, names)}")
        for f in t.payload:
            if f.kind not in _KINDS:
                problems.append(f"{where}: field {f.name!r} has unknown kind {f.kind!r}{_hint(f.kind, _KINDS)}")
            if f.kind == "choice" and f.choices is None:
                problems.append(f"{where}: choice field {f.name!r} needs choices")
            if (
                isinstance(f.choices, str)
                and not f.choices.startswith("policy:")
                and not any(True for _ in terms(f.choices))
            ):
                problems.append(f"{where}: field {f.name!r} takes choices from unknown glossary kind {f.choices!r}")
    for (trigger, src), rows in keys_seen.items():
        if len(rows) > 1 and sum(1 for r in rows if r.when is None) > 1:
            problems.append(
                f"trigger {trigger!r} has {len(rows)} rows from state {src!r} without a 'when' to choose between them"
            )
    # Reachability and a way out.
    if spec.initial in states:
        edges: dict[str, set[str]] = {s: set() for s in states}
        for t in spec.transitions:
            for src in t.sources:
                if src in edges and t.dest is not None and t.dest in states:
                    edges[src].add(t.dest)
        reach = {spec.initial}
        queue = deque([spec.initial])
        while queue:
            cur = queue.popleft()
            for nxt in edges[cur]:
                if nxt not in reach:
                    reach.add(nxt)
                    queue.append(nxt)
        for s in state_ids:
            if s not in reach:
                problems.append(f"state {s!r} cannot be reached from the initial state {spec.initial!r}")
        reverse: dict[str, set[str]] = {s: set() for s in states}
        for src, dests in edges.items():
            for d in dests:
                reverse[d].add(src)
        can_finish = set(terminal)
        queue = deque(terminal)
        while queue:
            cur = queue.popleft()
            for prev in reverse.get(cur, ()):
                if prev not in can_finish:
                    can_finish.add(prev)
                    queue.append(prev)
        for s in state_ids:
            if s not in can_finish:
                problems.append(f"state {s!r} has no path to a terminal state")
    return problems


# ── payload validation ─────────────────────────────────────────────────────────────────────────────

ChoiceResolver = Callable[[str], Sequence[str]]


def _bad(f: Field, value: Any, rule: str, allowed: Sequence[str] = ()) -> InvalidInput:
    # A confidential value is not even kept on the error object (its repr, details() and logs would show it).
    shown = "<confidential>" if f.confidential else value
    return InvalidInput(f.name, shown, rule, tuple(allowed), show_value=not f.confidential)


def _check_field(f: Field, value: Any, choices: ChoiceResolver) -> Any:
    kind = f.kind
    if kind in {"str", "text"}:
        stripped = value.strip() if isinstance(value, str) else ""
        if not stripped:
            raise _bad(f, value, "must be a non-empty string")
        limit = f.max_length or (200 if kind == "str" else 5000)
        if len(value) > limit:
            raise _bad(f, value, f"must be at most {limit} characters (got {len(value)})")
        if _bad_text(value) is not None:
            raise _bad(f, value, _text_problem(value))
        return stripped
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(f, value, "must be an integer")
        if not _INT_MIN <= value <= _INT_MAX:
            raise _bad(f, value, "must fit in 64 bits (-9223372036854775808 to 9223372036854775807)")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f, value, "must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise _bad(f, value, "must be a finite number (not NaN or infinity)")
        if isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
            raise _bad(f, value, "must fit in 64 bits (-9223372036854775808 to 9223372036854775807)")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _bad(f, value, "must be true or false")
        return value
    if kind == "date":
        if isinstance(value, datetime):
            raise _bad(f, value, "must be a date (YYYY-MM-DD), not a datetime")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise _bad(f, value, "must be an ISO date YYYY-MM-DD") from None
        raise _bad(f, value, "must be an ISO date YYYY-MM-DD")
    if kind == "datetime":
        dt: datetime
        if isinstance(value, datetime):
            dt = value
        elif isinstance(value, str):
            try:
                dt = datetime.fromisoformat(value)
            except ValueError:
                raise _bad(f, value, "must be an ISO datetime with a timezone") from None
        else:
            raise _bad(f, value, "must be an ISO datetime with a timezone")
        if dt.tzinfo is None:
            raise _bad(f, value, "must carry a timezone (e.g. +08:00)")
        return dt.astimezone(UTC).isoformat()
    if kind == "str_list":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise _bad(f, value, "must be a list of non-empty strings")
        if f.required and not value:
            raise _bad(f, value, "must list at least one item")
        out = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise _bad(f, value, "must be a list of non-empty strings")
            if len(item) > 5000:
                raise _bad(f, value, f"every item must be at most 5000 characters (got {len(item)})")
            if _bad_text(item) is not None:
                raise _bad(f, value, "an item " + _text_problem(item))
            out.append(item.strip())
        return tuple(out)
    if kind == "mapping":
        if not isinstance(value, Mapping):
            raise _bad(f, value, "must be a mapping")
        problem = _not_json(value)
        if problem:
            raise _bad(f, value, f"must hold JSON values only: {problem}")
        problem = json_text_problem(value)
        if problem:
            raise _bad(f, value, problem)
        return freeze(dict(value))
    # choice
    assert f.choices is not None
    label_kind = ""
    if isinstance(f.choices, tuple):
        allowed: Sequence[str] = f.choices
    elif f.choices.startswith("policy:"):
        allowed = choices(f.choices[7:])
        label_kind = _POLICY_CHOICE_KINDS.get(f.choices[7:], "")
    else:
        allowed = _glossary_ids(f.choices)
        label_kind = f.choices
    if not isinstance(value, str) or value not in allowed:
        hint = _hint(value, allowed) if isinstance(value, str) else ""
        raise InvalidInput(
            f.name,
            value,
            "is not one of the allowed values" + hint,
            tuple(sorted(allowed)),
            show_value=not f.confidential,
            allowed_kind=label_kind,
        )
    return value


_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1


def _not_json(value: Any, where: str = "") -> str:
    """Why ``value`` is not a JSON value with exactly one canonical form ("" when it is one)."""
    if value is None or isinstance(value, str | bool):
        return ""
    if isinstance(value, int):
        return "" if _INT_MIN <= value <= _INT_MAX else f"{where or 'a value'} is an integer beyond 64 bits"
    if isinstance(value, float):
        return "" if math.isfinite(value) else f"{where or 'a value'} is not a finite number"
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problem = _not_json(item, f"{where}[{i}]")
            if problem:
                return problem
        return ""
    if isinstance(value, Mapping):
        for k, item in value.items():
            if not isinstance(k, str):
                return f"{where or 'the mapping'} has a key that is not a string ({k!r})"
            problem = _not_json(item, f"{where}.{k}" if where else k)
            if problem:
                return problem
        return ""
    return f"{where or 'a value'} is a {type(value).__name__}, not a JSON value"


#: The glossary kind of each ``policy:<name>`` choice list (for labels in messages).
_POLICY_CHOICE_KINDS = {
    "grades": "grade",
    "industries": "industry",
    "recipients": "recipient",
    "departments": "department",
}


_GLOSSARY_IDS: dict[str, tuple[str, ...]] = {}


def _glossary_ids(kind: str) -> tuple[str, ...]:
    hit = _GLOSSARY_IDS.get(kind)
    if hit is None:
        hit = _GLOSSARY_IDS[kind] = tuple(t.id for t in terms(kind))
    return hit


#: Field names per payload schema (schemas are module-level tuples; the tuple itself is kept alive here).
_FIELD_NAMES: dict[int, tuple[tuple[Field, ...], frozenset[str]]] = {}


def check_payload(
    fields: tuple[Field, ...], payload: Mapping[str, Any], choices: ChoiceResolver, *, what: str
) -> FrozenDict:
    """Validate and normalise ``payload`` against ``fields``; raise :class:`InvalidInput` on the first problem."""
    hit = _FIELD_NAMES.get(id(fields))
    if hit is None or hit[0] is not fields:
        hit = _FIELD_NAMES[id(fields)] = (fields, frozenset(f.name for f in fields))
    names = hit[1]
    if not names.issuperset(payload):
        for key in payload:
            if key not in names:
                raise InvalidInput(
                    str(key),
                    None,
                    f"is not a field of {what}" + _hint(str(key), sorted(names)),
                    tuple(sorted(names)),
                    show_value=False,
                    problem="unknown",
                )
    # Filled in place: the snapshot is the dict the checks build (no copy into a FrozenDict afterwards).
    out = FrozenDict()
    put = _DICT_SET
    get = payload.get
    for f in fields:
        name = f.name
        value = get(name)
        if value is None:
            if f.required:
                raise InvalidInput(name, None, f"is required by {what}", show_value=False, problem="missing")
            continue
        put(out, name, _check_field(f, value, choices))
    return out


_DICT_SET = dict.__setitem__


# ── compilation ────────────────────────────────────────────────────────────────────────────────────


@attrs.define(slots=True)
class CompiledTransition:
    """A lifecycle row, resolved to functions and its event in the shared machine."""

    index: int
    spec: Transition
    trigger: str
    dest: str | None
    roles: frozenset[str]
    scope: Scope
    state_guards: tuple[tuple[str, GuardFn], ...]
    payload_guards: tuple[tuple[str, GuardFn], ...]
    effects: tuple[EffectFn, ...]
    when: RouteFn | None
    event_type: str
    machine_event: Any
    payload: tuple[Field, ...]
    sensitive: frozenset[str]
    #: Moves a row (``.state``) along this transition with the shared machine's ``set_state``, the destination
    #: resolved per source state at compile time (see ``_mover``); set for every row but the opening one.
    move: Callable[[Any], None] | None = None


@attrs.define(slots=True)
class CompiledLifecycle:
    """A workflow compiled once per engine: rows by trigger and by state, and the shared machine."""

    workflow: Workflow
    machine: Any
    opener: CompiledTransition
    by_trigger: dict[str, list[CompiledTransition]]
    by_state: dict[str, list[CompiledTransition]]
    states: dict[str, State]

    @property
    def id(self) -> str:
        return self.workflow.spec.id


def _event_type(t: Transition) -> str:
    return t.event or f"case.{t.trigger}"


@functools.cache
def _kernel_machine_class() -> Any:
    """A ``transitions.Machine`` whose transitions only check the source and set the state.

    hazardflow attaches no conditions and no callbacks to its machines (guards and effects are named in the
    lifecycle table and run by the engine, with reasons and an audit record), so the kernel transition skips
    transitions' empty prepare/before/after/enter/exit callback chains and their debug logging. Everything else
    is transitions' own: the shared machine, its events, the source check that raises ``MachineError`` for a
    trigger fired from the wrong state, and ``set_state`` on the row.
    """
    from transitions import Machine, Transition

    class KernelTransition(Transition):
        def execute(self, event_data: Any) -> bool:
            if self.dest:  # None: an internal transition, the state does not change
                event_data.machine.set_state(self.dest, event_data.model)
            return True

    class KernelMachine(Machine):
        transition_cls = KernelTransition

    return KernelMachine


def _mover(machine: Any, event: Any) -> Callable[[Any], None]:
    """Move a row along ``event`` of ``machine``: what executing the event's kernel transition does.

    transitions' ``Event.trigger`` would find the transition for the row's state through its generic dispatch
    (a partial, the machine's event queue, prepare/finalize callback chains, debug logging) and the kernel
    transition would then ask the machine to set the row's state. The engine has already routed the command
    to exactly one row, so the transition for each source state and its destination ``State`` are resolved
    here, once, and the move is the machine's own ``set_state`` on the row. A state the event has no
    transition from raises ``KeyError`` (the engine's routing makes it unreachable); an internal transition
    (no destination) leaves the row as it is.
    """
    dest_of = {
        source: (machine.get_state(found[0].dest) if found[0].dest else None)
        for source, found in event.transitions.items()
    }
    set_state = machine.set_state

    def move(row: Any) -> None:
        dest = dest_of[row.state]
        if dest is not None:
            set_state(dest, row)

    return move


def compile_workflow(workflow: Workflow) -> CompiledLifecycle:
    """Compile a validated workflow into one shared ``transitions.Machine`` (``auto_transitions=False``)."""
    Machine = _kernel_machine_class()  # noqa: N806

    spec = workflow.spec
    rows: list[CompiledTransition] = []
    machine_rows: list[dict[str, Any]] = []
    for i, t in enumerate(spec.transitions):
        internal_name = f"{t.trigger}#{i}"
        if t.sources:
            machine_rows.append({"trigger": internal_name, "source": list(t.sources), "dest": t.dest})
        gs = [(g, workflow.guards[g]) for g in t.guards]
        rows.append(
            CompiledTransition(
                index=i,
                spec=t,
                trigger=t.trigger,
                dest=t.dest,
                roles=frozenset(t.roles),
                scope=t.scope,
                state_guards=tuple((n, f) for n, f in gs if not getattr(f, "needs_payload", False)),
                payload_guards=tuple((n, f) for n, f in gs if getattr(f, "needs_payload", False)),
                effects=tuple(workflow.effects[e] for e in t.effects),
                when=workflow.routes[t.when] if t.when else None,
                event_type=_event_type(t),
                machine_event=None,
                payload=t.payload,
                sensitive=frozenset(f.name for f in t.payload if f.confidential),
            )
        )
    machine = Machine(
        model=None,
        states=[s.id for s in spec.states],
        transitions=machine_rows,
        initial=spec.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    by_trigger: dict[str, list[CompiledTransition]] = {}
    by_state: dict[str, list[CompiledTransition]] = {s.id: [] for s in spec.states}
    opener = None
    for row in rows:
        if row.spec.sources:
            row.machine_event = machine.events[f"{row.trigger}#{row.index}"]
            row.move = _mover(machine, row.machine_event)
            by_trigger.setdefault(row.trigger, []).append(row)
            for src in row.spec.sources:
                by_state[src].append(row)
        else:
            opener = row
    assert opener is not None
    return CompiledLifecycle(workflow, machine, opener, by_trigger, by_state, {s.id: s for s in spec.states})


def check_workflow(workflow: Workflow, known_roles: Sequence[str] | None = None) -> CompiledLifecycle:
    """Validate eagerly, then compile; raise one :class:`LifecycleDefinitionError` listing every problem."""
    problems = validate(workflow, known_roles)
    if problems:
        raise LifecycleDefinitionError(workflow.spec.id, tuple(problems))
    return compile_workflow(workflow)


# ── rendering ──────────────────────────────────────────────────────────────────────────────────────


def _label(kind: str, id: str, lang: str) -> str:
    return zh(kind, id) if lang == "zh" else en(kind, id)


def render_mermaid(spec: LifecycleSpec, lang: str = "zh", *, include_internal: bool = True) -> str:
    """A Mermaid ``stateDiagram-v2`` of the lifecycle with labels in ``lang`` (``zh`` or ``en``).

    Rows that keep the state (挂牌督办, 责令停产, reminders, sanction rungs …) are drawn as loops on their
    states; ``include_internal=False`` leaves them out.
    """
    lines = ["stateDiagram-v2"]
    for s in spec.states:
        lines.append(f"    {s.id}: {_label('state', s.id, lang)}")
    seen: set[tuple[str, str, str]] = set()
    for t in spec.transitions:
        label = _label("trigger", t.trigger, lang)
        if not t.sources:
            lines.append(f"    [*] --> {t.dest}: {label}")
            continue
        if t.dest is None and not include_internal:
            continue
        for src in t.sources:
            dest = t.dest or src
            key = (src, dest, t.trigger)
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"    {src} --> {dest}: {label}")
    for s in spec.states:
        if s.terminal:
            lines.append(f"    {s.id} --> [*]")
    return "\n".join(lines) + "\n"


def render_table(spec: LifecycleSpec, lang: str = "zh") -> str:
    """A Markdown table of every transition, labels in ``lang``."""
    zh_ = lang == "zh"
    head = (
        "| 触发 | 从 | 到 | 角色 | 范围 | 规则 | 必填字段 |"
        if zh_
        else "| trigger | from | to | roles | scope | guards | required fields |"
    )
    lines = [head, "|---|---|---|---|---|---|---|"]
    for t in spec.transitions:
        trig = f"`{t.trigger}` {_label('trigger', t.trigger, lang)}"
        src = "∅" if not t.sources else ", ".join(_label("state", s, lang) for s in t.sources)
        if t.dest is None:
            dest = "（不变）" if zh_ else "(unchanged)"
        else:
            dest = _label("state", t.dest, lang)
        roles = ", ".join(_label("role", r, lang) for r in t.roles)
        scope = {"case": ("案件属地", "case"), "owner": ("监管层级", "owner"), "system": ("系统", "system")}[t.scope]
        guards = ", ".join(f"`{g}`" for g in t.guards) or "—"
        req = ", ".join(f"`{f.name}`" for f in t.payload if f.required) or "—"
        lines.append(f"| {trig} | {src} | {dest} | {roles} | {scope[0] if zh_ else scope[1]} | {guards} | {req} |")
    return "\n".join(lines) + "\n"


def render_states(spec: LifecycleSpec, lang: str = "zh") -> str:
    """A Markdown table of states."""
    zh_ = lang == "zh"
    lines = [
        "| 状态 | 标签 | 终态 | 期限 |" if zh_ else "| state | label | terminal | deadline |",
        "|---|---|---|---|",
    ]
    for s in spec.states:
        term = ("是" if zh_ else "yes") if s.terminal else ""
        dl = _label("deadline", s.deadline, lang) if s.deadline else ""
        lines.append(f"| `{s.id}` | {_label('state', s.id, lang)} | {term} | {dl} |")
    return "\n".join(lines) + "\n"
