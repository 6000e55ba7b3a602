"""Moving open cases from one policy version to another: a planned, audited migration.

Every case pins the ``policy_id`` + ``policy_version`` it was opened under, so a rule change never rewrites a
running case behind anyone's back. When a jurisdiction publishes a new version (a new campaign plan, a shorter
review limit), a :class:`MigrationPlan` moves the open cases it chooses:

1. :meth:`MigrationPlan.dry_run` assesses every candidate and reports which cases move, which stage deadlines
   are recomputed under the new version (from the instant the stage started, never from "now"), which rules
   change for the case, and which cases cannot move and why;
2. :meth:`MigrationPlan.apply` fires the system-only internal transition ``migrate_policy`` (迁移政策版本) on
   each movable case, one transaction per case: the event records the plan, the reason and who approved it;
   its ``changes`` carry the new ``policy_id``/``policy_version`` (so :func:`hazardflow.replay` reproduces
   the case) and the recomputed deadline, whose timers are re-armed in the same commit.

``migrate_policy`` is added to every workflow an engine runs (:func:`with_policy_migration`); only the engine
fires it. Applying a plan twice is harmless: the second run finds no case left at the old version, and each
case's command is idempotent on ``migrate:<plan_id>``.

A case cannot move when it is finished, when the new version does not govern its jurisdiction, when its grade
does not exist in the new version, when the new version is not yet in force, when its stage deadline would
change while the overdue ladder is already running against it, or when the new deadline cannot be resolved
(a calendar year without holiday data). Each refusal says why in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._calendar import Deadline, local_date, resolve
from .._exceptions import ConcurrentUpdateError, HazardflowError, InvalidInput
from .._glossary import zh
from .._jurisdiction import is_within
from .._lifecycle import Field, Transition, Workflow, guard
from .._model import Case, GuardResult
from .layers import chain_of, fingerprint

if TYPE_CHECKING:
    from ..abc import CommandContext, EngineHandle, JurisdictionPolicy

__all__ = [
    "MIGRATE_TRIGGER",
    "CaseMigration",
    "Finding",
    "MigrationPlan",
    "MigrationReport",
    "MigrationResult",
    "assess_case",
    "with_policy_migration",
]

#: The internal, system-only trigger that re-pins a case to another policy version.
MIGRATE_TRIGGER = "migrate_policy"

_PAYLOAD = (
    Field("policy_id", "str"),
    Field("policy_version", "str"),
    Field("policy_chain", "text", required=False),
    Field("plan_id", "str", max_length=64),
    Field("reason", "text"),
    Field("approved_by", "str"),
)


@attrs.frozen
class Finding:
    """One line of a migration report, in Chinese and English."""

    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


@attrs.frozen
class CaseMigration:
    """What moving one case would do (or why it cannot move)."""

    case_id: str
    workflow: str
    state: str
    jurisdiction: str
    source: tuple[str, str]
    target: tuple[str, str]
    deadline_before: Deadline | None = None
    deadline_after: Deadline | None = None
    deadline_changed: bool = False
    notes: tuple[Finding, ...] = ()
    blocked: Finding | None = None
    #: The chains of layers before and after (national first); empty on a case pinned before layers.
    source_chain: tuple[tuple[str, str], ...] = ()
    target_chain: tuple[tuple[str, str], ...] = ()
    #: The target chain differs but every rule the case is governed by is the same: nothing to move.
    unchanged: bool = False

    @property
    def movable(self) -> bool:
        return self.blocked is None and not self.unchanged

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (deadlines in their stored JSON form)."""
        return {
            "case_id": self.case_id,
            "workflow": self.workflow,
            "state": self.state,
            "jurisdiction": self.jurisdiction,
            "from": "@".join(self.source),
            "to": "@".join(self.target),
            "deadline_before": self.deadline_before.to_json() if self.deadline_before else None,
            "deadline_after": self.deadline_after.to_json() if self.deadline_after else None,
            "deadline_changed": self.deadline_changed,
            "notes": [{"zh": n.zh, "en": n.en} for n in self.notes],
            "blocked": {"zh": self.blocked.zh, "en": self.blocked.en} if self.blocked else None,
            "from_chain": [list(p) for p in self.source_chain],
            "to_chain": [list(p) for p in self.target_chain],
            "unchanged": self.unchanged,
        }


def _due(d: Deadline | None, lang: str) -> str:
    if d is None:
        return "无" if lang == "zh" else "none"
    return d.due_at.astimezone(_shanghai()).strftime("%Y-%m-%d %H:%M")


def _shanghai() -> Any:
    from .._calendar import SHANGHAI

    return SHANGHAI


@attrs.frozen
class MigrationReport:
    """The dry run of a plan: every candidate case, movable or not."""

    plan_id: str
    source: tuple[str, str]
    target: tuple[str, str]
    at: datetime
    cases: tuple[CaseMigration, ...]

    @property
    def movable(self) -> tuple[CaseMigration, ...]:
        return tuple(c for c in self.cases if c.movable)

    @property
    def blocked(self) -> tuple[CaseMigration, ...]:
        return tuple(c for c in self.cases if c.blocked is not None)

    @property
    def unchanged(self) -> tuple[CaseMigration, ...]:
        """Cases whose effective rules would stay exactly the same: they keep their pins."""
        return tuple(c for c in self.cases if c.blocked is None and c.unchanged)

    @property
    def recomputed(self) -> tuple[CaseMigration, ...]:
        """Movable cases whose stage deadline changes under the new version."""
        return tuple(c for c in self.cases if c.movable and c.deadline_changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "from": "@".join(self.source),
            "to": "@".join(self.target),
            "at": self.at.isoformat(),
            "cases": [c.to_dict() for c in self.cases],
        }

    def render(self, lang: str = "zh") -> str:
        """A Markdown report: a summary line, the movable cases, then the blocked ones with reasons."""
        zh_ = lang == "zh"
        src, dst = "@".join(self.source), "@".join(self.target)
        lines = [
            (
                f"迁移计划 {self.plan_id}：{src} → {dst}；可迁移 {len(self.movable)} 件（其中期限重算 "
                f"{len(self.recomputed)} 件），不能迁移 {len(self.blocked)} 件，规则未变 {len(self.unchanged)} 件"
            )
            if zh_
            else (
                f"migration plan {self.plan_id}: {src} → {dst}; {len(self.movable)} case(s) can move "
                f"({len(self.recomputed)} with a recomputed deadline), {len(self.blocked)} cannot, "
                f"{len(self.unchanged)} unchanged"
            ),
            "",
        ]
        if self.movable:
            head_zh = "| 案件 | 状态 | 原期限 | 新期限 | 说明 |"
            lines.append(head_zh if zh_ else "| case | state | deadline before | after | notes |")
            lines.append("|---|---|---|---|---|")
            for c in self.movable:
                state = zh("state", c.state) if zh_ else c.state
                notes = "；".join(n.zh for n in c.notes) if zh_ else "; ".join(n.en for n in c.notes)
                after = _due(c.deadline_after, lang) if c.deadline_changed else ("不变" if zh_ else "unchanged")
                lines.append(f"| {c.case_id} | {state} | {_due(c.deadline_before, lang)} | {after} | {notes} |")
            lines.append("")
        if self.blocked:
            lines.append("| 案件 | 状态 | 不能迁移的原因 |" if zh_ else "| case | state | why it cannot move |")
            lines.append("|---|---|---|")
            for c in self.blocked:
                assert c.blocked is not None
                state = zh("state", c.state) if zh_ else c.state
                lines.append(f"| {c.case_id} | {state} | {c.blocked.text(lang)} |")
        return "\n".join(lines).rstrip() + "\n"


@attrs.frozen
class MigrationResult:
    """What :meth:`MigrationPlan.apply` did: the cases moved, the ones refused, the ones that failed."""

    plan_id: str
    migrated: tuple[str, ...]
    blocked: tuple[CaseMigration, ...]
    failed: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failed


def _same(a: Deadline | None, b: Deadline | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.due_at == b.due_at and a.spec == b.spec


def _stage_entered(engine: EngineHandle, case: Case) -> datetime:
    """When the case entered its current state (the start of the stage's deadline)."""
    if case.deadline is not None:
        return case.deadline.start
    for ev in reversed(engine.store.load_events(case.id)):
        if ev.to_state == case.state and ev.from_state != case.state:
            return ev.occurred_at
    return case.opened_at


def _recompute(engine: EngineHandle, case: Case, target: JurisdictionPolicy) -> tuple[bool, Deadline | None]:
    """(changed, new deadline) of the case's current stage under ``target``; pinned deadlines never change."""
    key = engine.lifecycle(case.workflow).states[case.state].deadline
    if key is None:
        return False, case.deadline
    if key in case.pins:
        return False, case.deadline
    spec = target.deadline(key, case)
    if spec is None:
        return case.deadline is not None, None
    start = _stage_entered(engine, case)
    r = resolve(spec, start, target.calendar)
    new = Deadline(key, r.due_at, spec, start, r.provisional)
    return not _same(case.deadline, new), new


def _rule_notes(case: Case, old: JurisdictionPolicy, new: JurisdictionPolicy) -> list[Finding]:
    """Rule differences that matter for this case (recipients, listing, stop, confirmation, ladder)."""
    out: list[Finding] = []
    if case.workflow != "hazard":
        return out
    grade = case.fields.get("grade")
    major = grade is not None and new.national_grade(grade) == "major"
    if major:
        before, after = list(old.dual_report_recipients(case)), list(new.dual_report_recipients(case))
        added = [r for r in after if r not in before]
        reported = set(case.fields.get("reported_to", ()))
        owed = [r for r in added if r not in reported]
        if owed and case.state in ("confirming", "reporting"):
            out.append(
                Finding(
                    "新增双报告对象：" + "、".join(zh("recipient", r) for r in owed),
                    "new dual-report recipients: " + ", ".join(owed),
                )
            )
        if new.listing(case).required and not old.listing(case).required and not case.listed:
            out.append(Finding("新版本要求挂牌督办", "the new version requires listing for supervision"))
        if new.stop_on_major(case) and not old.stop_on_major(case):
            out.append(Finding("新版本实行重患必停", "the new version stops production on every major hazard"))
        if new.confirmation_levels(case) != old.confirmation_levels(case):
            out.append(
                Finding(
                    f"确认级数 {old.confirmation_levels(case)} → {new.confirmation_levels(case)}",
                    f"confirmation levels {old.confirmation_levels(case)} → {new.confirmation_levels(case)}",
                )
            )
    for key in ("rectify",):
        a, b = len(old.ladder(key, case)), len(new.ladder(key, case))
        if a != b:
            out.append(Finding(f"逾期督办阶梯 {a} 级 → {b} 级", f"overdue ladder {a} → {b} rungs"))
    return out


Chain = tuple[tuple[str, str], ...]


def format_chain(chain: Chain) -> str:
    """A chain of pins as text: ``cn.national@2024.1/cn.cq@2023.1/...``."""
    return "/".join(f"{i}@{v}" for i, v in chain)


def parse_chain(text: str) -> Chain:
    """Inverse of :func:`format_chain`."""
    out = []
    for part in text.split("/"):
        pid, sep, version = part.rpartition("@")
        if not sep or not pid or not version:
            raise InvalidInput("policy_chain", text, "must be policy_id@version pins joined by '/'")
        out.append((pid, version))
    return tuple(out)


def target_chain(engine: EngineHandle, case: Case, target: tuple[str, str] | Chain | None, now: datetime) -> Chain:
    """The chain ``case`` would be pinned to: the one in force now (``target`` None), an exact chain, or the
    case's own chain with one layer's version replaced (``target`` a ``(policy_id, policy_version)`` pair)."""
    if target is None:
        return engine.policies.chain_pins(case.jurisdiction, now)
    if target and all(isinstance(t, tuple) for t in target):
        return cast("Chain", tuple(target))
    pid, version = cast("tuple[str, str]", target)
    current = case.policy_chain
    if current and any(i == pid for i, _ in current):
        return tuple((i, version if i == pid else v) for i, v in current)
    return chain_of(engine.policies.get(pid, version, now))


def assess_case(
    engine: EngineHandle, case: Case, target: tuple[str, str] | Chain | None, now: datetime | None = None
) -> CaseMigration:
    """What moving ``case`` to ``target`` would do, or why it cannot move (see :func:`target_chain`)."""
    now = now if now is not None else engine.now()
    source = (case.policy_id, case.policy_version)
    try:
        chain = target_chain(engine, case, target, now)
        new = engine.policies.pinned(chain)
        old = engine.policies.for_case(case)
    except InvalidInput as exc:
        return CaseMigration(
            case.id,
            case.workflow,
            case.state,
            case.jurisdiction,
            source,
            ("", ""),
            case.deadline,
            blocked=Finding(f"政策层未在本引擎注册：{exc.value}", f"a policy layer is not registered here: {exc}"),
            source_chain=case.policy_chain,
        )
    leaf = chain[-1]
    base = CaseMigration(
        case.id,
        case.workflow,
        case.state,
        case.jurisdiction,
        source,
        leaf,
        case.deadline,
        source_chain=case.policy_chain,
        target_chain=chain,
    )

    def blocked(zh_: str, en_: str) -> CaseMigration:
        return attrs.evolve(base, blocked=Finding(zh_, en_))

    if case.closed_at is not None or engine.lifecycle(case.workflow).states[case.state].terminal:
        return blocked(
            "案件已办结，保留办结时的政策版本", "the case is finished; it keeps the version it was closed under"
        )
    if chain == (case.policy_chain or chain_of(engine.policies.for_case(case))):
        if target is None:
            return attrs.evolve(base, unchanged=True)
        return blocked("案件已适用目标版本", "the case is already under the target version")
    for pid, version in chain:
        layer = engine.policies.layer(pid, version)
        if not is_within(case.jurisdiction, layer.jurisdiction):
            return blocked(
                f"{pid}@{version} 适用于 {layer.jurisdiction}，不含案件所在辖区 {case.jurisdiction}",
                f"{pid}@{version} governs {layer.jurisdiction}, not the case's jurisdiction {case.jurisdiction}",
            )
        effective = getattr(layer, "effective_from", None)
        if effective is not None and effective > local_date(now):
            return blocked(
                f"{pid}@{version} 自 {effective} 起施行", f"{pid}@{version} takes effect on {effective.isoformat()}"
            )
    grade = case.fields.get("grade")
    if grade is not None and grade not in new.choices("grades"):
        return blocked(
            f"目标版本没有隐患等级 {grade!r}",
            f"the target version has no grade {grade!r}; allowed: {', '.join(new.choices('grades'))}",
        )
    try:
        changed, after = _recompute(engine, case, new)
    except HazardflowError as exc:
        return blocked(f"按目标版本无法计算期限：{exc}", f"the deadline cannot be resolved under the target: {exc}")
    if changed and case.overdue:
        return blocked(
            f"案件已逾期（督办升级至第{case.sanction_rung}级），变更期限会重启督办阶梯；请先办结本阶段",
            f"the case is overdue (ladder at rung {case.sanction_rung}); changing its deadline would restart the "
            "ladder; finish the stage first",
        )
    if fingerprint(old) == fingerprint(new):
        return attrs.evolve(base, unchanged=True)
    notes = _rule_notes(case, old, new)
    return attrs.evolve(base, deadline_after=after, deadline_changed=changed, notes=tuple(notes))


def _text(name: str, value: object, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(name, value, f"must be a non-empty string of at most {limit} characters")
    return value.strip()


@attrs.define
class MigrationPlan:
    """Move open cases to another chain of policy layers: one layer's new version, or whatever is in force.

    ``source`` and ``target`` are ``(policy_id, policy_version)`` pairs of one layer: every open case whose
    chain pins ``source`` moves to the same chain with ``target`` instead (a county's new version reaches the
    cases of its townships this way). Both ``None`` (see :meth:`in_force`): every open case moves to the chain
    in force for its jurisdiction now. A case whose effective rules would not change keeps its pins.

    ``plan_id`` names the plan in every event (and makes :meth:`apply` idempotent), ``reason`` says why
    (the new document's number, say), ``approved_by`` who authorized it. ``cases`` restricts the plan to
    those case ids, ``jurisdiction`` to a subtree. The versions must be registered with the engine::

        plan = MigrationPlan(engine, ("cn.cq.shizhu", "2023.1"), ("cn.cq.shizhu", "2026.1"),
                             plan_id="石安委发〔2026〕1号", reason="new county plan", approved_by="谭华祥")
        print(plan.dry_run().render("zh"))
        result = plan.apply()
    """

    engine: EngineHandle
    source: tuple[str, str] | None
    target: tuple[str, str] | None
    plan_id: str
    reason: str
    approved_by: str
    cases: Sequence[str] | None = None
    jurisdiction: str | None = None

    @classmethod
    def in_force(
        cls,
        engine: EngineHandle,
        *,
        plan_id: str,
        reason: str,
        approved_by: str,
        cases: Sequence[str] | None = None,
        jurisdiction: str | None = None,
    ) -> MigrationPlan:
        """A plan moving every open case (of ``jurisdiction``, or ``cases``) to the chain in force now."""
        return cls(engine, None, None, plan_id, reason, approved_by, cases, jurisdiction)

    def __attrs_post_init__(self) -> None:
        if (self.source is None) != (self.target is None):
            raise InvalidInput("target", self.target, "give both source and target, or neither (the chain in force)")
        for name in ("source", "target"):
            value = getattr(self, name)
            if value is None:
                continue
            if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)):
                raise InvalidInput(name, value, "must be a (policy_id, policy_version) pair of strings")
            self.engine.policies.layer(*value)
        if self.source is not None and self.target is not None and self.source == self.target:
            raise InvalidInput("target", "@".join(self.target), "must differ from the source version")
        self.plan_id = _text("plan_id", self.plan_id, 64)
        self.reason = _text("reason", self.reason, 5000)
        self.approved_by = _text("approved_by", self.approved_by)
        if self.jurisdiction is not None:
            self.jurisdiction = self.engine.jurisdictions.check(self.jurisdiction)

    def _pins(self, case: Case) -> tuple[tuple[str, str], ...]:
        return case.policy_chain or ((case.policy_id, case.policy_version),)

    def _candidates(self) -> Iterable[Case]:
        if self.cases is not None:
            for cid in self.cases:
                yield self.engine.get(cid)
            return
        for case in self.engine.cases(jurisdiction=self.jurisdiction, open_only=True):
            if self.source is None or self.source in self._pins(case):
                yield case

    def _label(self) -> tuple[tuple[str, str], tuple[str, str]]:
        if self.source is None or self.target is None:
            return ("*", "pinned"), ("*", "in force")
        return self.source, self.target

    def dry_run(self, now: datetime | None = None, progress: Callable[[int], None] | None = None) -> MigrationReport:
        """Assess every candidate; nothing is written. ``progress(n)`` is called after each case."""
        now = now if now is not None else self.engine.now()
        out: list[CaseMigration] = []
        for case in self._candidates():
            if self.source is not None and self.source not in self._pins(case):
                out.append(
                    attrs.evolve(
                        CaseMigration(
                            case.id,
                            case.workflow,
                            case.state,
                            case.jurisdiction,
                            (case.policy_id, case.policy_version),
                            self.target or ("", ""),
                            case.deadline,
                        ),
                        blocked=Finding(
                            f"案件适用 {case.policy_id}@{case.policy_version}，不含本计划的源版本",
                            f"the case is under {case.policy_id}@{case.policy_version}, not the plan's source",
                        ),
                    )
                )
            else:
                out.append(assess_case(self.engine, case, self.target, now))
            if progress is not None:
                progress(1)
        source, target = self._label()
        return MigrationReport(self.plan_id, source, target, now, tuple(out))

    def payload(self, item: CaseMigration | None = None) -> dict[str, str]:
        """The payload of the ``migrate_policy`` command of this plan (for one assessed case)."""
        leaf = item.target if item is not None else (self.target or ("", ""))
        out = {
            "policy_id": leaf[0],
            "policy_version": leaf[1],
            "plan_id": self.plan_id,
            "reason": self.reason,
            "approved_by": self.approved_by,
        }
        if item is not None and item.target_chain:
            out["policy_chain"] = format_chain(item.target_chain)
        return out

    def apply(
        self,
        report: MigrationReport | None = None,
        now: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> MigrationResult:
        """Move every movable case, one transaction each; refused and failed cases are reported, not raised.

        Pass the ``report`` of an earlier :meth:`dry_run` to move exactly the cases that were reviewed (cases
        that appeared since stay put); each case is assessed again inside its own transaction, so a case that
        changed since the dry run (closed, overdue) is refused and listed in ``failed`` with the reason.
        Applying a plan again moves nothing twice (each case's command is idempotent on ``migrate:<plan_id>``).
        """
        if report is None:
            report = self.dry_run(now)
        elif (report.plan_id, report.source, report.target) != (self.plan_id, *self._label()):
            raise InvalidInput("report", report.plan_id, "is the dry run of another plan; pass this plan's own dry run")
        key = f"migrate:{self.plan_id}"
        moved: list[str] = []
        failed: list[tuple[str, str]] = []
        engine = self.engine
        for item in report.movable:
            payload = self.payload(item)
            try:
                new = engine.fire_system(item.case_id, MIGRATE_TRIGGER, payload=payload, idempotency_key=key, now=now)
            except (ConcurrentUpdateError, HazardflowError) as exc:
                failed.append((item.case_id, str(exc)))
                continue
            finally:
                if progress is not None:
                    progress(1)
            if new is None:
                continue  # moved by an earlier run of this plan (its key is taken on the case)
            moved.append(item.case_id)
        return MigrationResult(self.plan_id, tuple(moved), report.blocked, tuple(failed))


def _payload_target(ctx: CommandContext) -> tuple[tuple[str, str], ...]:
    text = ctx.payload.get("policy_chain")
    if text:
        return parse_chain(text)
    return target_chain(ctx.engine, ctx.case, (ctx.payload["policy_id"], ctx.payload["policy_version"]), ctx.now)


# ── the internal transition ──────────────────────────────────────────────────────────────────────────


@guard(needs_payload=True)
def migration_allowed(ctx: CommandContext) -> GuardResult:
    """The case may move to the payload's version now (re-assessed inside the command's transaction)."""
    try:
        target = _payload_target(ctx)
        verdict = assess_case(ctx.engine, ctx.case, target, ctx.now)
    except InvalidInput as exc:
        return GuardResult.deny("目标政策版本未在本引擎注册", f"the target version is not registered: {exc}")
    if verdict.blocked is not None:
        return GuardResult.deny(verdict.blocked.zh, verdict.blocked.en)
    if verdict.unchanged:
        return GuardResult.deny("目标版本下案件适用的规则不变", "the case's effective rules would not change")
    return GuardResult.allow()


def migrate_policy(ctx: CommandContext) -> None:
    """Re-pin the case and, when the stage deadline changes under the new version, restage it."""
    chain = _payload_target(ctx)
    target = ctx.engine.policies.pinned(chain)
    ctx.policy_pin = chain
    changed, after = _recompute(ctx.engine, ctx.case, target)
    if changed:
        ctx.restage = True
        ctx.restaged_deadline = after


def with_policy_migration(workflow: Workflow) -> Workflow:
    """``workflow`` plus the system-only internal row ``migrate_policy`` from every non-terminal state."""
    spec = workflow.spec
    if any(t.trigger == MIGRATE_TRIGGER for t in spec.transitions):
        return workflow
    sources = tuple(s.id for s in spec.states if not s.terminal)
    row = Transition(
        MIGRATE_TRIGGER,
        sources,
        None,
        ("system",),
        "system",
        ("migration_allowed",),
        _PAYLOAD,
        (MIGRATE_TRIGGER,),
        event="case.policy_migrated",
        reason="reason",
    )
    guards: Mapping[str, Any] = {**workflow.guards, "migration_allowed": migration_allowed}
    effects: Mapping[str, Any] = {**workflow.effects, MIGRATE_TRIGGER: migrate_policy}
    return attrs.evolve(
        workflow, spec=attrs.evolve(spec, transitions=(*spec.transitions, row)), guards=guards, effects=effects
    )
