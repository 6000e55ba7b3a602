"""To-do items (统一待办) for OA systems: one neutral item per (case, step, responsible party).

A *step* is one stay of a case in a state: it begins with the event that moved the case there. The
*responsible parties* of a step are the roles that may move the case on from that state (the lifecycle
table's rows leaving the state, timers and the exits named in :attr:`TodoConfig.exclude_triggers` left
out), each bound where the engine binds it: an enterprise role to the case's business unit, a government
role to the case's jurisdiction (``scope="case"``) or to the tier that owns supervision (``scope="owner"``).
The receiver is written ``role@where`` (``principal_officer@某某化工有限公司``, ``supervisor@330106``).

Item ids are stable: ``{system_code}:{case_id}:{seq}:{receiver}`` where ``seq`` is the event that began the
step, so an OA that receives the same item again (a retried webhook, a second pull) updates it in place.
``status`` is 待办 (pending: the case is in this step now), 已办 (done: the case moved on) or 办结 (closed:
the case reached a terminal state). ``sequence`` is the case's revision when the item was computed, an
ordering stamp (e-cology's ``receivets``) so a late copy never overwrites a newer one. ``urgency`` follows
the overdue sanction ladder: 一般 (on time), 急 (overdue), 紧急 (second rung reached), 特急 (third or later).

Titles carry the workflow, the case id and the step only, never case facts: OA to-do lists are widely
visible, and a tip-off's reporter must not appear anywhere in them::

    from hazardflow.todos import TodoConfig, todos_for, list_todos

    config = TodoConfig(system_code="HAZARD", pc_url="/hazards/{case_id}", mobile_url="/m/hazards/{case_id}")
    items = todos_for(engine.store, actor, config)                     # what this person may act on now
    items = list_todos(engine.store, config, receiver="supervisor@330106")
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from ._engine import ENTERPRISE_ROLES
from ._exceptions import InvalidInput
from ._glossary import en, zh
from ._jurisdiction import is_within
from ._lifecycle import LifecycleSpec, Workflow
from ._model import Actor, AuditEvent, Case

__all__ = [
    "TODO_STATUSES",
    "URGENCIES",
    "TodoConfig",
    "TodoItem",
    "list_todos",
    "todos_for",
    "todos_for_case",
    "todos_for_event",
]

#: pending 待办, done 已办, closed 办结 (glossary kind ``todo_status``).
TODO_STATUSES: tuple[str, ...] = ("pending", "done", "closed")
#: normal 一般, urgent 急, very_urgent 紧急, critical 特急 (glossary kind ``urgency``).
URGENCIES: tuple[str, ...] = ("normal", "urgent", "very_urgent", "critical")

_PLACEHOLDERS = frozenset({"case_id", "task_id", "item_id", "workflow", "step", "system_code"})


def _check_template(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(name, value, "must be a non-empty URL template such as '/cases/{case_id}'")
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    except ValueError as exc:
        raise InvalidInput(name, value, f"is not a valid template ({exc})", tuple(sorted(_PLACEHOLDERS))) from None
    bad = sorted(n for n in names if n not in _PLACEHOLDERS)
    if bad:
        raise InvalidInput(
            name, value, f"unknown placeholder {{{bad[0]}}} in the URL template", tuple(sorted(_PLACEHOLDERS))
        )
    return value


def _check_code(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 64 or ":" in value:
        raise InvalidInput("system_code", value, "must be a non-empty string of at most 64 characters without ':'")
    return value


def _role_set(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _check_code_attr(_inst: object, _attr: object, value: object) -> None:
    _check_code(value)


def _check_template_attr(_inst: object, attr: Any, value: object) -> None:
    _check_template(attr.name, value)


@attrs.frozen
class TodoConfig:
    """How to-do items are written for one OA: its system code and the URL templates.

    Templates may use ``{case_id}``, ``{task_id}``, ``{item_id}``, ``{workflow}``, ``{step}`` and
    ``{system_code}``. Relative URLs are usual: the OA portal prefixes its registered address and adds its
    single sign-on ticket. ``exclude_triggers`` are exits that do not make anyone responsible (voiding a
    case is possible in most states, yet nobody owes it). ``roles``, when set, keeps only those roles.
    """

    system_code: str = attrs.field(default="hazardflow", validator=_check_code_attr)
    pc_url: str = attrs.field(default="/cases/{case_id}", validator=_check_template_attr)
    mobile_url: str = attrs.field(default="/m/cases/{case_id}", validator=_check_template_attr)
    exclude_triggers: tuple[str, ...] = attrs.field(default=("void", "reopen"), converter=tuple)
    roles: frozenset[str] | None = attrs.field(default=None, converter=_role_set)


@attrs.frozen
class TodoItem:
    """One to-do (待办事项) for one responsible party at one step of one case (see the module docstring)."""

    id: str
    system_code: str
    task_id: str
    case_id: str
    workflow: str
    title: str
    step: str
    step_name: str
    step_name_en: str
    pc_url: str
    mobile_url: str
    sender_id: str
    sender_name: str
    receiver: str
    receiver_role: str
    receiver_scope: str
    created_at: datetime
    updated_at: datetime
    status: str
    due_at: datetime | None
    urgency: str
    sequence: int

    @property
    def status_label(self) -> str:
        """待办 / 已办 / 办结."""
        return zh("todo_status", self.status)

    @property
    def urgency_label(self) -> str:
        """一般 / 急 / 紧急 / 特急."""
        return zh("urgency", self.urgency)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: every field (timestamps ISO-8601 UTC) plus the 中文 status and urgency labels."""
        out: dict[str, Any] = {}
        for a in attrs.fields(TodoItem):
            v = getattr(self, a.name)
            out[a.name] = v.isoformat() if isinstance(v, datetime) else v
        out["status_label"] = self.status_label
        out["urgency_label"] = self.urgency_label
        return out


def _urgency(case: Case) -> str:
    if not case.overdue and case.sanction_rung == 0:
        return "normal"
    return URGENCIES[min(max(case.sanction_rung, 1), 3)]


def _parties(spec: LifecycleSpec, state: str, case: Case, config: TodoConfig) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for t in spec.transitions:
        if state not in t.sources or t.dest is None or t.scope == "system" or t.trigger in config.exclude_triggers:
            continue
        for role in t.roles:
            if config.roles is not None and role not in config.roles:
                continue
            if role in ENTERPRISE_ROLES:
                where = str(case.fields.get("business_unit") or "")
                if not where:
                    continue
            else:
                where = case.owning_jurisdiction if t.scope == "owner" else case.jurisdiction
            seen[(role, where)] = None
    return list(seen)


def _steps(events: Sequence[AuditEvent]) -> list[tuple[AuditEvent, AuditEvent | None]]:
    """(event that began the step, event that ended it or None) for every state change, in order."""
    starts = [e for e in events if e.from_state is None or e.from_state != e.to_state]
    return [(s, starts[i + 1] if i + 1 < len(starts) else None) for i, s in enumerate(starts)]


def _items(
    spec: LifecycleSpec,
    case: Case,
    start: AuditEvent,
    end: AuditEvent | None,
    config: TodoConfig,
    terminal: frozenset[str],
) -> list[TodoItem]:
    state = start.to_state
    if state in terminal:
        return []
    if case.state in terminal:
        status = "closed"
    elif end is None:
        status = "pending"
    else:
        status = "done"
    task_id = f"{case.id}:{start.seq}"
    title = f"{zh('workflow', case.workflow)} {case.id}：{zh('state', state)}"
    due = case.deadline.due_at if (status == "pending" and case.deadline is not None) else None
    out = []
    for role, where in _parties(spec, state, case, config):
        receiver = f"{role}@{where}"
        item_id = f"{config.system_code}:{task_id}:{receiver}"
        fmt = {
            "case_id": case.id,
            "task_id": task_id,
            "item_id": item_id,
            "workflow": case.workflow,
            "step": state,
            "system_code": config.system_code,
        }
        out.append(
            TodoItem(
                id=item_id,
                system_code=config.system_code,
                task_id=task_id,
                case_id=case.id,
                workflow=case.workflow,
                title=title,
                step=state,
                step_name=zh("state", state),
                step_name_en=en("state", state),
                pc_url=config.pc_url.format(**fmt),
                mobile_url=config.mobile_url.format(**fmt),
                sender_id=start.actor_id,
                sender_name=start.actor_name,
                receiver=receiver,
                receiver_role=role,
                receiver_scope=where,
                created_at=start.occurred_at,
                updated_at=(end.occurred_at if end is not None else case.updated_at),
                status=status,
                due_at=due,
                urgency=_urgency(case) if status == "pending" else "normal",
                sequence=case.rev,
            )
        )
    return out


def _specs(workflows: Iterable[Workflow] | None) -> dict[str, tuple[LifecycleSpec, frozenset[str]]]:
    if workflows is None:
        from .workflows import default_workflows

        workflows = default_workflows()
    return {wf.id: (wf.spec, frozenset(s.id for s in wf.spec.states if s.terminal)) for wf in workflows}


def todos_for_case(
    case: Case,
    events: Sequence[AuditEvent],
    config: TodoConfig | None = None,
    *,
    workflows: Iterable[Workflow] | None = None,
    current_only: bool = False,
) -> list[TodoItem]:
    """Every to-do item of one case (its events in order), past steps included unless ``current_only``."""
    config = config or TodoConfig()
    spec, terminal = _specs(workflows).get(case.workflow, (None, frozenset()))
    if spec is None:
        return []
    steps = _steps(events)
    if current_only:
        steps = steps[-1:]
    out: list[TodoItem] = []
    for start, end in steps:
        out.extend(_items(spec, case, start, end, config, terminal))
    return out


def todos_for_event(
    case: Case,
    events: Sequence[AuditEvent],
    seq: int,
    config: TodoConfig | None = None,
    *,
    workflows: Iterable[Workflow] | None = None,
) -> list[TodoItem]:
    """The items that event ``seq`` of the case created or changed (what a push to an OA must carry).

    A state change ends the step before it (its items become 已办, or 办结 when the case is closed) and
    begins a new one (待办); an event that keeps the state (a reminder, a sanction rung, 挂牌督办) changes the
    urgency or due time of the current step's items, which are sent again with the same ids.
    """
    config = config or TodoConfig()
    spec, terminal = _specs(workflows).get(case.workflow, (None, frozenset()))
    if spec is None:
        return []
    upto = [e for e in events if e.seq <= seq]
    if not upto or upto[-1].seq != seq:
        return []
    ev = upto[-1]
    steps = _steps(upto)
    changed = ev.from_state is None or ev.from_state != ev.to_state
    chosen = steps[-2:] if changed else steps[-1:]
    out: list[TodoItem] = []
    for start, end in chosen:
        # Computed as of the event: the step it began is current, the one it ended is done (or closed).
        items = _items(spec, case, start, end, config, terminal)
        if end is None and ev.to_state not in terminal:
            items = [attrs.evolve(i, status="pending") for i in items]
        elif end is not None:
            closing = ev.to_state in terminal
            items = [attrs.evolve(i, status="closed" if closing else "done", due_at=None) for i in items]
        out.extend(items)
    return out


def _open_cases(store: Any, jurisdiction: str | None, workflow: str | None) -> Iterator[Case]:
    yield from store.iter_cases(workflow=workflow, jurisdiction=jurisdiction, open_only=True)


def list_todos(
    store: Any,
    config: TodoConfig | None = None,
    *,
    receiver: str | None = None,
    role: str | None = None,
    jurisdiction: str | None = None,
    workflow: str | None = None,
    workflows: Iterable[Workflow] | None = None,
) -> list[TodoItem]:
    """The pending (待办) items of the open cases in ``store``, filtered by receiver, role, area, workflow.

    ``receiver`` is ``role@where`` exactly as in :attr:`TodoItem.receiver`; ``jurisdiction`` keeps cases in
    that division code's subtree. Sorted by due time (none last), then case id. This reads every open case
    of the filter (one query for the cases, one per case for its events).
    """
    config = config or TodoConfig()
    if receiver is not None and (not isinstance(receiver, str) or "@" not in receiver):
        raise InvalidInput("receiver", receiver, "must be written role@where (e.g. supervisor@330106)")
    specs = _specs(workflows)
    out: list[TodoItem] = []
    for case in _open_cases(store, jurisdiction, workflow):
        if case.workflow not in specs:
            continue
        events = store.load_events(case.id)
        for item in todos_for_case(case, events, config, workflows=[_wf(specs, case.workflow)], current_only=True):
            if item.status != "pending":
                continue
            if receiver is not None and item.receiver != receiver:
                continue
            if role is not None and item.receiver_role != role:
                continue
            out.append(item)
    return _sorted(out)


def _wf(specs: Mapping[str, tuple[LifecycleSpec, frozenset[str]]], wid: str) -> Workflow:
    return Workflow(spec=specs[wid][0])


def _sorted(items: list[TodoItem]) -> list[TodoItem]:
    far = datetime.max.replace(tzinfo=items[0].created_at.tzinfo) if items else None
    return sorted(items, key=lambda i: (i.due_at or far, i.case_id, i.receiver))


def todos_for(
    store: Any,
    actor: Actor,
    config: TodoConfig | None = None,
    *,
    workflow: str | None = None,
    workflows: Iterable[Workflow] | None = None,
) -> list[TodoItem]:
    """The pending items ``actor`` may act on: one of its roles, for its unit or inside its jurisdiction.

    An enterprise role matches items of the actor's own unit (``actor.org``); a government role matches
    items whose jurisdiction lies in the actor's subtree (a county officer sees its townships' items).
    The policy may still refuse a command for reasons the to-do list does not know (a guard, a
    self-approval); the list says whose turn it is, the engine decides.
    """
    if not isinstance(actor, Actor):
        raise InvalidInput("actor", type(actor).__name__, "must be a hazardflow.Actor")
    config = config or TodoConfig()
    out = []
    for item in list_todos(store, config, workflow=workflow, workflows=workflows):
        if item.receiver_role not in actor.roles:
            continue
        if item.receiver_role in ENTERPRISE_ROLES:
            if item.receiver_scope == actor.org:
                out.append(item)
        elif is_within(item.receiver_scope, actor.jurisdiction):
            out.append(item)
    return out
