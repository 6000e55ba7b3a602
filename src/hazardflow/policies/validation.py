"""Checks a jurisdiction policy against the engine's lifecycles when the engine is built.

:func:`check_policy` returns every problem of a policy (an empty list when it is sound); the registry gathers
the problems of every registered policy and raises one :class:`~hazardflow.PolicyDefinitionError` listing
them all, with did-you-mean hints. It catches what would otherwise surface weeks into a case:

* a supervised stage (review, an extension decision, a tip-off's verification) without a time limit, a state's
  deadline key the policy never answers, a deadline key no lifecycle uses (a typo);
* an unknown role, trigger, workflow, grade, recipient, sanction, party, level, department or industry;
* a state left with no authorized way out (every exit's roles overridden away, or given to the system only);
* a ladder that never ends (an iterator instead of a finite tuple, or more rungs than any real ladder);
* a township policy outside its county's subtree, or one reusing its parent's ``policy_id``;
* a dual report that drops the supervising department or the workers' congress [S3 §41].

:func:`check_sources` is the stricter review the shipped policies pass (``hazardflow policy check --strict``
and :class:`hazardflow.testing.PolicyContract`): every rule a layer sets carries a source tag.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from .._calendar import DeadlineSpec, Delay, resolve
from .._glossary import has_label, terms
from .._jurisdiction import NATIONAL, canonical, is_within
from .._model import Case, FrozenDict
from .base import PINNED_DEADLINES, ListingRule, Milestone, NationalBaseline, Permission, ReportingObligation, Rung

if TYPE_CHECKING:
    from .._lifecycle import CompiledLifecycle
    from ..abc import EngineHandle, JurisdictionPolicy

__all__ = ["MAX_LADDER_RUNGS", "SUPERVISED_DEADLINES", "check_policy", "check_sources", "probe_cases"]

#: Stages where the government must act within a limit: a policy must give each one a DeadlineSpec.
SUPERVISED_DEADLINES = frozenset({"review", "extension_decision", "verify"})
#: A ladder longer than this is treated as one that never ends.
MAX_LADDER_RUNGS = 12
#: An instant every shipped calendar covers, used to resolve specs while checking.
_PROBE_INSTANT = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)
_PERIODS = ("week", "half_month", "month", "quarter", "half_year", "year")
_SCOPES = ("case", "owner", "system")


def _hint(name: object, candidates: Sequence[str]) -> str:
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _ids(kind: str) -> list[str]:
    return sorted(t.id for t in terms(kind))


def probe_cases(policy: JurisdictionPolicy, lc: CompiledLifecycle, state: str) -> Iterator[Case]:
    """Representative cases of a workflow in ``state`` (one per grade where the workflow grades hazards)."""
    code = canonical(policy.jurisdiction)
    here = code if code != NATIONAL else "110101001"
    base = {"industry": "industry_trade", "business_unit": "BU-PROBE", "approvals": (), "reported_to": ()}
    grades: Sequence[str | None] = (None,)
    if any(f.name == "grade" for f in lc.opener.payload):
        try:
            grades = tuple(policy.choices("grades")) or (None,)
        except KeyError:
            grades = (None,)
    for grade in grades:
        fields = dict(base) if grade is None else {**base, "grade": grade}
        yield Case(
            id="PROBE",
            workflow=lc.id,
            state=state,
            rev=1,
            jurisdiction=here,
            owning_jurisdiction=here,
            policy_id=policy.policy_id,
            policy_version=policy.policy_version,
            opened_at=_PROBE_INSTANT,
            updated_at=_PROBE_INSTANT,
            fields=FrozenDict(fields),
        )


def _check_identity(policy: JurisdictionPolicy, problems: list[str]) -> None:
    pid, version = policy.policy_id, policy.policy_version
    if not isinstance(pid, str) or not pid or len(pid) > 64 or any(c.isspace() for c in pid):
        problems.append(f"policy_id {pid!r} must be 1-64 characters without spaces (e.g. 'cn.cq.sanxing')")
    if not isinstance(version, str) or not version or len(version) > 32:
        problems.append(f"policy_version {version!r} must be a non-empty string of at most 32 characters")
    if not isinstance(getattr(policy, "name", None), str) or not policy.name:
        problems.append("name must name the policy (e.g. '重庆市石柱县三星乡')")
    effective = getattr(policy, "effective_from", None)
    if effective is not None and (not isinstance(effective, date) or isinstance(effective, datetime)):
        problems.append(f"effective_from must be a date or None, not {type(effective).__name__}")
    cls: Any = getattr(type(policy), "_hf_layers", (type(policy),))[-1]
    parent: Any = next(
        (
            base
            for base in cls.__mro__[1:]
            if isinstance(getattr(base, "jurisdiction", None), str) and "jurisdiction" in vars(base)
        ),
        None,
    )
    if parent is None:
        return
    try:
        mine, theirs = canonical(policy.jurisdiction), canonical(parent.jurisdiction)
    except Exception as exc:
        problems.append(f"jurisdiction {policy.jurisdiction!r}: {exc}")
        return
    if mine != theirs and not is_within(mine, theirs):
        problems.append(
            f"jurisdiction {policy.jurisdiction} is outside its parent layer {parent.__name__}'s jurisdiction "
            f"{parent.jurisdiction}: a layer inherits only from the division above it"
        )
    if mine != theirs and getattr(parent, "policy_id", None) == pid:
        problems.append(f"policy_id {pid!r} is its parent layer {parent.__name__}'s: give each jurisdiction its own id")


def _check_grades(policy: JurisdictionPolicy, problems: list[str]) -> None:
    try:
        grades = list(policy.choices("grades"))
    except KeyError:
        problems.append("choices('grades') must list the grades")
        return
    if not grades:
        problems.append("the grade list is empty")
        return
    if len(set(grades)) != len(grades):
        problems.append(f"grades {grades} list a grade twice")
    mapped = []
    for g in grades:
        if not has_label("grade", g):
            problems.append(f"grade {g!r} has no glossary label{_hint(g, _ids('grade'))}")
        national = policy.national_grade(g)
        if national not in ("general", "major"):
            problems.append(f"grade {g!r} maps to {national!r}; allowed: 'general', 'major'")
        mapped.append(national)
    if "major" not in mapped:
        problems.append("no grade maps onto the national 'major' (重大事故隐患)")
    if "general" not in mapped:
        problems.append("no grade maps onto the national 'general' (一般事故隐患)")
    if "major" in mapped and "general" in mapped[mapped.index("major") :]:
        problems.append(f"grades must run from low to high: {grades} put a general grade after a major one")


def _check_roles(name: str, roles: object, known: list[str], problems: list[str]) -> None:
    items: Any = sorted(roles) if isinstance(roles, frozenset | set) else roles
    for r in items:
        if r not in known:
            problems.append(f"{name} names unknown role {r!r}{_hint(r, known)}")


def _triggers(lc: CompiledLifecycle) -> list[str]:
    return sorted({*lc.by_trigger, lc.opener.trigger})


def _check_permissions(policy: JurisdictionPolicy, engine: EngineHandle, roles: list[str], problems: list[str]) -> None:
    workflows = sorted(engine.workflows)
    perms: Mapping[tuple[str, str], Permission] = getattr(policy, "permissions", {}) or {}
    entries: list[tuple[Any, Any]] = list(perms.items())
    for key, perm in entries:
        if not (isinstance(key, tuple) and len(key) == 2):
            problems.append(f"permission key {key!r} must be a (workflow, trigger) pair")
            continue
        workflow, trigger = key
        if workflow not in engine.workflows:
            problems.append(f"permission for unknown workflow {workflow!r}{_hint(workflow, workflows)}")
            continue
        triggers = _triggers(engine.workflows[workflow])
        if trigger not in triggers:
            problems.append(f"permission for unknown trigger {workflow}.{trigger}{_hint(trigger, triggers)}")
        if not isinstance(perm, Permission):
            problems.append(f"permission {workflow}.{trigger} must be a Permission, not {type(perm).__name__}")
            continue
        if not perm.roles:
            problems.append(f"permission {workflow}.{trigger} names no role: nobody could fire it")
        if perm.scope not in _SCOPES:
            problems.append(f"permission {workflow}.{trigger} has unknown scope {perm.scope!r}; allowed: {_SCOPES}")
        _check_roles(f"permission {workflow}.{trigger}", perm.roles, roles, problems)
    for s in getattr(policy, "separations", ()) or ():
        if s.workflow not in engine.workflows:
            problems.append(f"separation for unknown workflow {s.workflow!r}{_hint(s.workflow, workflows)}")
            continue
        triggers = _triggers(engine.workflows[s.workflow])
        if s.trigger not in triggers:
            problems.append(f"separation for unknown trigger {s.workflow}.{s.trigger}{_hint(s.trigger, triggers)}")
        if not s.not_by:
            problems.append(f"separation {s.workflow}.{s.trigger} names no field of earlier actors")
        if not (s.reason_zh and s.reason_en):
            problems.append(f"separation {s.workflow}.{s.trigger} needs its reason in Chinese and English")
    for key, named in (getattr(policy, "extra_guards", {}) or {}).items():
        workflow, trigger = key
        if workflow not in engine.workflows:
            problems.append(f"guard for unknown workflow {workflow!r}{_hint(workflow, workflows)}")
            continue
        triggers = _triggers(engine.workflows[workflow])
        if trigger not in triggers:
            problems.append(f"guard for unknown trigger {workflow}.{trigger}{_hint(trigger, triggers)}")
        for item in named:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and callable(item[1])):
                problems.append(f"guards of {workflow}.{trigger} must be (name, function) pairs, not {item!r}")
    for attr in ("major_reviewer_roles", "general_reviewer_roles", "reporter_roles", "escalation_procedure"):
        value = getattr(policy, attr, None)
        if value is not None:
            _check_roles(attr, value, roles, problems)
    listing = getattr(policy, "listing_rule", None)
    if isinstance(listing, ListingRule):
        _check_roles("the listing authority", listing.authority_roles, roles, problems)
        if not listing.authority_roles:
            problems.append("the listing rule names no listing authority")
        if not has_label("level", listing.level):
            problems.append(f"listing level {listing.level!r} is unknown{_hint(listing.level, _ids('level'))}")


def _check_recipients(policy: JurisdictionPolicy, engine: EngineHandle, problems: list[str]) -> None:
    known = _ids("recipient")
    recipients = list(getattr(policy, "report_recipients", ()) or ())
    if "hazard" in engine.workflows:
        lc = engine.workflows["hazard"]
        for case in probe_cases(policy, lc, "reporting"):
            if policy.national_grade(str(case.fields.get("grade"))) == "major":
                recipients = list(dict.fromkeys([*recipients, *policy.dual_report_recipients(case)]))
                actual = list(policy.dual_report_recipients(case))
                for r in ("supervising_department", "workers_congress"):
                    if r not in actual:
                        problems.append(f"dual-report recipients must include {r!r} [S3 §41]")
                if len(set(actual)) != len(actual):
                    problems.append(f"dual-report recipients {actual} name a recipient twice")
    for r in recipients:
        if not has_label("recipient", r):
            problems.append(f"unknown report recipient {r!r}{_hint(r, known)}")


def _workflow_keys(engine: EngineHandle) -> dict[str, list[tuple[str, str]]]:
    keys: dict[str, list[tuple[str, str]]] = {}
    for wf_id, lc in engine.workflows.items():
        for st in lc.states.values():
            if st.deadline is not None and not st.terminal:
                keys.setdefault(st.deadline, []).append((wf_id, st.id))
    return keys


def _check_deadlines(policy: JurisdictionPolicy, engine: EngineHandle, problems: list[str]) -> None:
    used = _workflow_keys(engine)
    declared: Mapping[str, Any] = getattr(policy, "deadlines", None) or {}
    labelled = _ids("deadline")
    for key, where in sorted(used.items()):
        if key in PINNED_DEADLINES:
            continue
        for wf_id, state in where:
            lc = engine.workflows[wf_id]
            for case in probe_cases(policy, lc, state):
                try:
                    spec = policy.deadline(key, case)
                except Exception as exc:
                    problems.append(f"deadline({key!r}) fails for a {wf_id} case in {state!r}: {exc}")
                    continue
                if spec is None and key in SUPERVISED_DEADLINES:
                    problems.append(
                        f"state {wf_id}.{state} is supervised but deadline {key!r} gives no time limit; give a "
                        "DeadlineSpec with its unit and source"
                    )
                elif spec is None and declared and key not in declared:
                    problems.append(
                        f"state {wf_id}.{state} runs deadline {key!r} that the policy never answers; give a "
                        "DeadlineSpec, or None with its source in rule_sources"
                    )
                elif spec is not None:
                    _check_spec(f"deadline {key!r}", spec, policy, problems)
    for key in declared:
        if key not in used and key not in PINNED_DEADLINES and not has_label("deadline", key):
            problems.append(f"deadline key {key!r} is used by no workflow{_hint(key, sorted({*used, *labelled}))}")
    for key in getattr(policy, "reminder_offsets", {}) or {}:
        if key not in used and not has_label("deadline", key):
            problems.append(f"reminders for unknown deadline key {key!r}{_hint(key, sorted(used))}")
    for key in sorted(getattr(policy, "ladder_keys", ()) or ()):
        if key not in used and not has_label("deadline", key):
            problems.append(f"ladder for unknown deadline key {key!r}{_hint(key, sorted(used))}")


def _check_spec(what: str, spec: object, policy: JurisdictionPolicy, problems: list[str]) -> None:
    if not isinstance(spec, DeadlineSpec):  # a policy written without type checking
        problems.append(f"{what} must be a DeadlineSpec, not {type(spec).__name__}")
        return
    try:
        due = resolve(spec, _PROBE_INSTANT, policy.calendar).due_at
    except Exception as exc:
        problems.append(f"{what} cannot be resolved: {exc}")
        return
    if due <= _PROBE_INSTANT and spec.amount > 0:
        problems.append(f"{what} resolves to an instant before it starts")


def _check_ladder(policy: JurisdictionPolicy, engine: EngineHandle, problems: list[str]) -> None:
    sanctions, parties = _ids("sanction"), _ids("party")
    seen: set[int] = set()
    used = _workflow_keys(engine)
    keys = sorted({*(getattr(policy, "ladder_keys", ()) or ()), "rectify"})
    for key in keys:
        where = used.get(key) or [("hazard", "rectifying")]
        wf_id, state = where[0]
        if wf_id not in engine.workflows:
            continue
        for case in probe_cases(policy, engine.workflows[wf_id], state):
            try:
                ladder: Any = policy.ladder(key, case)
            except Exception:  # a ladder computed from an outside service: judged when it fires, not here
                continue
            if id(ladder) in seen:
                continue
            seen.add(id(ladder))
            if inspect.isgenerator(ladder) or not isinstance(ladder, Sequence):
                problems.append(
                    f"the overdue ladder for {key!r} is an unbounded iterator ({type(ladder).__name__}): it never "
                    "ends; a ladder is a finite tuple of rungs"
                )
                continue
            if len(ladder) > MAX_LADDER_RUNGS:
                problems.append(
                    f"the overdue ladder for {key!r} has {len(ladder)} rungs: a ladder longer than "
                    f"{MAX_LADDER_RUNGS} never ends in practice; end it with a referral (移送追责)"
                )
            for i, item in enumerate(ladder, start=1):
                rung: Any = item
                if not isinstance(rung, Rung):
                    problems.append(f"ladder rung {i} for {key!r} must be a Rung, not {type(rung).__name__}")
                    continue
                if not has_label("sanction", rung.sanction):
                    problems.append(
                        f"ladder rung {rung.sanction!r} has no glossary label{_hint(rung.sanction, sanctions)}"
                    )
                if rung.party not in parties:
                    problems.append(
                        f"ladder rung {rung.sanction!r} names unknown party {rung.party!r}{_hint(rung.party, parties)}"
                    )
                after: Any = rung.after
                if not isinstance(after, Delay):
                    problems.append(f"ladder rung {rung.sanction!r} needs a Delay, not {type(after).__name__}")


def _check_ways_out(policy: JurisdictionPolicy, engine: EngineHandle, problems: list[str]) -> None:
    for wf_id, lc in sorted(engine.workflows.items()):
        for state in lc.states.values():
            if state.terminal:
                continue
            for case in probe_cases(policy, lc, state.id):
                exits = [r for r in lc.by_state.get(state.id, ()) if r.dest is not None and r.dest != state.id]
                ways: list[str] = []
                blocked: list[str] = []
                for row in exits:
                    try:
                        perm = policy.permission(wf_id, row.trigger, case)
                    except Exception as exc:
                        problems.append(f"permission({wf_id!r}, {row.trigger!r}) fails: {exc}")
                        continue
                    roles = perm.roles if perm is not None else row.roles
                    scope = perm.scope if perm is not None else row.scope
                    human = {r for r in roles if r != "system"}
                    if (human and scope != "system") or (row.scope == "system" and "system" in roles):
                        ways.append(row.trigger)
                    else:
                        blocked.append(row.trigger)
                if exits and not ways:
                    grade = case.fields.get("grade")
                    what = f" for a {grade!r} case" if grade else ""
                    problems.append(
                        f"state {wf_id}.{state.id}{what} has no authorized way out: the policy leaves no role for "
                        f"{', '.join(sorted(set(blocked)))}"
                    )
                    break


def _check_obligations(policy: JurisdictionPolicy, problems: list[str]) -> None:
    parties = _ids("party")
    seen: set[str] = set()
    obligations: Any = policy.reporting_obligations()
    for ob in obligations:
        if not isinstance(ob, ReportingObligation):
            problems.append(f"reporting obligation {ob!r} must be a ReportingObligation")
            continue
        if ob.id in seen:
            problems.append(f"reporting obligation {ob.id!r} is declared twice")
        seen.add(ob.id)
        if not (ob.name_zh and ob.name_en):
            problems.append(f"reporting obligation {ob.id!r} needs its name in Chinese and English")
        if ob.period not in _PERIODS:
            problems.append(f"reporting obligation {ob.id!r} has unknown period {ob.period!r}; allowed: {_PERIODS}")
        if ob.party not in parties:
            problems.append(
                f"reporting obligation {ob.id!r} names unknown party {ob.party!r}{_hint(ob.party, parties)}"
            )
        _check_spec(f"reporting obligation {ob.id!r}", ob.due, policy, problems)
    milestones = getattr(policy, "milestones", ()) or ()
    ids = [m.id for m in milestones if isinstance(m, Milestone)]
    if len(set(ids)) != len(ids):
        problems.append("a campaign milestone id is declared twice")
    for m in milestones:
        if not isinstance(m, Milestone) or not isinstance(m.due, date):
            problems.append(f"campaign milestone {m!r} must be a Milestone with a due date")


def _check_misc(policy: JurisdictionPolicy, engine: EngineHandle, roles: list[str], problems: list[str]) -> None:
    industries, departments = _ids("industry"), _ids("department")
    for industry, dept in (getattr(policy, "lead_departments", {}) or {}).items():
        if industry not in industries:
            problems.append(f"lead department for unknown industry {industry!r}{_hint(industry, industries)}")
        if dept not in departments:
            problems.append(f"lead department {dept!r} is unknown{_hint(dept, departments)}")
    if "hazard" in engine.workflows:
        for case in probe_cases(policy, engine.workflows["hazard"], "confirming"):
            levels: Any = policy.confirmation_levels(case)
            if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
                problems.append(f"confirmation levels must be a whole number of at least 1, not {levels!r}")
                break
    chosen = getattr(policy, "criteria_sets", None)
    if chosen is not None:
        from .criteria import NATIONAL_CRITERIA

        known = sorted(s.id for s in NATIONAL_CRITERIA)
        for set_id in chosen:
            if set_id not in known:
                problems.append(f"criteria set {set_id!r} is unknown{_hint(set_id, known)}")
    local_ids: set[str] = set()
    for cs in getattr(policy, "local_criteria", ()) or ():
        if cs.industry not in industries:
            problems.append(f"local criteria set {cs.id!r} names unknown industry {cs.industry!r}")
        for item in cs.items:
            if item.id in local_ids:
                problems.append(f"criterion id {item.id!r} is declared twice")
            local_ids.add(item.id)
    for attr in ("reward_channels",):
        for channel in getattr(policy, attr, ()) or ():
            if not has_label("channel", channel):
                problems.append(f"{attr} names unknown channel {channel!r}{_hint(channel, _ids('channel'))}")


def check_policy(policy: JurisdictionPolicy, engine: EngineHandle) -> list[str]:
    """Every problem of ``policy`` against ``engine``'s workflows (empty when sound)."""
    problems: list[str] = []
    roles = _ids("role")
    _check_identity(policy, problems)
    _check_grades(policy, problems)
    _check_recipients(policy, engine, problems)
    _check_permissions(policy, engine, roles, problems)
    _check_deadlines(policy, engine, problems)
    _check_ladder(policy, engine, problems)
    _check_ways_out(policy, engine, problems)
    _check_obligations(policy, problems)
    _check_misc(policy, engine, roles, problems)
    return list(dict.fromkeys(problems))


# ── source tags (strict review) ──────────────────────────────────────────────────────────────────────

#: The plain answers a layer may set; each needs a tag in the layer's ``rule_sources``.
RULE_ATTRIBUTES = (
    "grades",
    "grade_map",
    "report_recipients",
    "confirmation_level_count",
    "stop_every_major",
    "reminder_offsets",
    "ladder_keys",
    "major_reviewer_roles",
    "general_reviewer_roles",
    "escalation_procedure",
    "escalate_only_major_or_stuck",
    "reporter_roles",
    "reward_channels",
    "lead_departments",
    "require_criteria_for_major",
    "criteria_must_match_catalog",
    "criteria_sets",
    "extension_lead",
    "calendar_missing_year",
    "local_holidays",
    "local_working_days",
    "permissions",
    "extra_guards",
)
_SOURCED = ("overdue_ladder", "obligations", "milestones", "separations", "local_criteria")


def _layers(policy: object) -> list[type]:
    return [c for c in type(policy).__mro__ if c not in (NationalBaseline, object) and "rule_sources" in vars(c)]


def check_sources(policy: JurisdictionPolicy) -> list[str]:
    """Every rule a layer of ``policy`` sets without a source tag (empty when each is tagged)."""
    problems: list[str] = []
    for layer in type(policy).__mro__:
        if layer in (NationalBaseline, object) or "_hf_chain" in vars(layer) or layer.__name__ == "Layer":
            continue
        own = vars(layer)
        tags: Mapping[str, str] = own.get("rule_sources", {}) if "rule_sources" in own else {}
        for attr in RULE_ATTRIBUTES:
            if attr in own and not tags.get(attr):
                problems.append(f"{layer.__name__} sets {attr} without a source tag in rule_sources")
        for attr in _SOURCED:
            for item in own.get(attr, ()) or ():
                if not getattr(item, "source", ""):
                    problems.append(f"{layer.__name__}.{attr}: {item!r} has no source")
        if "listing_rule" in own and not own["listing_rule"].source:
            problems.append(f"{layer.__name__} sets listing_rule without a source")
        if "deadlines" in own:
            parent = next((c for c in layer.__mro__[1:] if "deadlines" in vars(c)), None)
            inherited: Mapping[str, Any] = vars(parent)["deadlines"] if parent is not None else {}
            for key, spec in own["deadlines"].items():
                if key in inherited and inherited[key] == spec:
                    continue
                if spec is None and not tags.get(f"deadlines.{key}"):
                    problems.append(f"{layer.__name__} sets deadlines.{key} to None without a source tag")
                elif spec is not None and not spec.source:
                    problems.append(f"{layer.__name__} sets deadlines.{key} without a source")
        if layer is type(policy) and "policy_id" not in own and "policy_version" not in own:
            problems.append(
                f"{layer.__name__} shares its parent's policy_id and policy_version: give it its own policy_id "
                "(another jurisdiction) or policy_version (a new version)"
            )
    return problems


# ── the tree of layers (checked as a whole) ──────────────────────────────────────────────────────────


def _declared_parent(cls: Any) -> str | None:
    """The policy id a layer says it refines: its ``parent``, or (written the old way) its parent class's."""
    declared = getattr(cls, "parent", None) if "parent" in {n for c in cls.__mro__ for n in vars(c)} else None
    if isinstance(declared, str) and declared:
        return declared
    pid = getattr(cls, "policy_id", None)
    for base in cls.__mro__[1:]:
        if base.__name__ in ("Layer", "NationalBaseline") and base.__module__.startswith("hazardflow.policies"):
            continue
        if (
            "jurisdiction" in vars(base)
            and getattr(base, "policy_id", None) not in (None, pid)
            and getattr(base, "jurisdiction", None) != getattr(cls, "jurisdiction", None)
        ):
            found = getattr(base, "policy_id", None)
            return str(found) if found != NationalBaseline.policy_id else None
    return None


def _when(day: date | None) -> str:
    return day.isoformat() if day is not None else "always"


def check_chain(registry: Any) -> list[str]:
    """Every problem of the tree of layers in ``registry`` (a :class:`~hazardflow.policies.PolicyRegistry`):

    * a layer registered under a code outside the layer it names as its parent (``parent``, or the parent
      class of a layer written the old way), when that parent is registered;
    * a cycle of parents (a layer that refines itself, or A refines B refines A);
    * a layer that drops a dual-report recipient (双报告) the layers above it require;
    * a gap in effective dates: a layer version in force before any version of a layer above it is.
    """
    from .layers import is_layer_class

    problems: list[str] = []
    layers = [entry for entry in registry.layers() if is_layer_class(entry)]
    by_id: dict[str, list[Any]] = {}
    for entry in layers:
        by_id.setdefault(str(entry.policy_id), []).append(entry)
    parents: dict[str, str] = {}
    for entry in layers:
        me = f"{entry.policy_id}@{entry.policy_version}"
        parent = _declared_parent(entry)
        if parent is None:
            continue
        parents[str(entry.policy_id)] = parent
        if parent == entry.policy_id:
            problems.append(f"{me}: names itself as its parent layer (a cycle)")
            continue
        known = by_id.get(parent)
        if not known:
            continue  # checked alone (a contract test, say): it composes over whatever is registered above
        mine, theirs = canonical(entry.jurisdiction), canonical(known[0].jurisdiction)
        if mine == theirs or not is_within(mine, theirs):
            problems.append(
                f"{me}: registered under {entry.jurisdiction}, outside its parent layer {parent} "
                f"({known[0].jurisdiction}): a layer sits strictly below the division of the layer it refines"
            )
    for start in sorted(parents):
        seen = [start]
        node = parents.get(start)
        while node is not None and node not in seen:
            seen.append(node)
            node = parents.get(node)
        if node is not None and node == start and len(seen) > 1:
            problems.append(f"{start}: its parent layers form a cycle: {' → '.join([*seen, start])}")
    # Dual report: each layer keeps every recipient the chain above it requires [S3 §41].
    for policy in registry._compositions():
        chain = chain_of_policy(policy)
        for n in range(2, len(chain) + 1):
            above = registry.pinned(chain[: n - 1])
            here = registry.pinned(chain[:n])
            dropped = [r for r in getattr(above, "report_recipients", ()) if r not in here.report_recipients]
            if dropped:
                pid, version = chain[n - 1]
                problems.append(
                    f"{pid}@{version}: drops dual-report recipient(s) {', '.join(map(repr, dropped))} that "
                    f"{chain[n - 2][0]}@{chain[n - 2][1]} requires (双报告): a layer may add recipients, "
                    "never drop them"
                )
    # Gaps: a version in force before any version of a layer above it.
    for pid, versions in sorted(by_id.items()):
        dates = [getattr(v, "effective_from", None) for v in versions]
        if any(d is None for d in dates):
            continue
        first = min(d for d in dates if d is not None)
        code = canonical(versions[0].jurisdiction)
        for other in layers:
            if canonical(other.jurisdiction) == code or not is_within(canonical(other.jurisdiction), code):
                continue
            since = getattr(other, "effective_from", None)
            if since is None or since < first:
                problems.append(
                    f"{other.policy_id}@{other.policy_version}: in force from {_when(since)} but no version of "
                    f"the layer above it, {pid} ({versions[0].jurisdiction}), is in force before {first}: a gap "
                    f"in effective dates (give {pid} a version in force from {_when(since)})"
                )
    return list(dict.fromkeys(problems))


def chain_of_policy(policy: object) -> tuple[tuple[str, str], ...]:
    from .layers import chain_of

    return chain_of(policy)
