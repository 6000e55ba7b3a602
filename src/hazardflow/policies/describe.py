"""Render a policy's effective rules, bilingual, with the source of each rule and the layer it comes from.

``hazardflow policy show <code>`` prints this for the policy that governs a jurisdiction: which policy (and
which version) applies, the chain of layers it inherits from (township → county → ... → national), and a
table of every rule with its value, its source tag and the layer that set it ("inherited from 石柱土家族自治县").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from .._calendar import DeadlineSpec, Delay
from .._glossary import en, zh
from .._jurisdiction import NATIONAL, JurisdictionTree, canonical
from .base import NationalBaseline, Rung

if TYPE_CHECKING:
    from ..abc import JurisdictionPolicy

__all__ = ["RuleLine", "describe_policy", "layers", "rule_lines"]


@attrs.frozen
class RuleLine:
    """One rendered rule: its title key, its value, its source tag and the layer that set it.

    ``shadows`` names the layers above whose value of the same point this one overrides (shadowing), and
    ``same_as_parent`` the layers that state the point with the very value they would get anyway.
    """

    rule: str
    value: str
    source: str
    layer: str
    shadows: tuple[str, ...] = ()
    same_as_parent: tuple[str, ...] = ()


def layers(policy: object) -> list[type]:
    """The policy's layers, nearest first: every class in its MRO that names a jurisdiction, and labelled mixins."""
    return [
        c
        for c in type(policy).__mro__
        if {"jurisdiction", "policy_id", "layer_label"} & set(vars(c)) and "_hf_chain" not in vars(c)
    ]


def _prefixes(policy: object) -> list[Any]:
    """The effective policy of each prefix of a composed policy's chain, national first (one for a plain one)."""
    from .layers import compose, layers_of

    chain = layers_of(policy)
    if len(chain) < 2 or "_hf_chain" not in vars(type(policy)):
        return [policy]
    return [compose(chain[:n])() for n in range(1, len(chain) + 1)]


def _states(layer: type, point: tuple[str, Any] | None) -> bool:
    """Whether ``layer`` states ``point`` (an attribute, or one entry or id of it) itself."""
    from .layers import BY_ID_RULES, stated

    if point is None:
        return False
    name, key = point
    own = stated(layer)
    if name not in own:
        return False
    if key is None:
        return True
    value = own[name]
    if name in BY_ID_RULES:
        return any(getattr(x, "id", None) == key for x in getattr(value, "items", value))
    if hasattr(value, "keys"):
        return key in value
    return True


def _trace(policy: object, read: Callable[[Any], Any], lang: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(origin layer, layers it shadows, layers overriding with an identical value) of one rule line."""
    from .layers import layers_of

    prefixes = _prefixes(policy)
    if len(prefixes) < 2:
        return _origin(policy, read, lang), (), ()
    chain = layers_of(policy)
    point = getattr(read, "point", None)
    values = []
    for p in prefixes:
        try:
            values.append(read(p))
        except (AttributeError, KeyError, TypeError):
            values.append(None)
    setters = [0] + [n for n in range(1, len(values)) if values[n] != values[n - 1]]
    identical = tuple(
        _layer_name(chain[n], lang)
        for n in range(1, len(values))
        if values[n] == values[n - 1] and _states(chain[n], point)
    )
    origin = setters[-1]
    name = _layer_name(chain[origin], lang) if origin else _layer_name(chain[0], lang)
    if chain[origin] is chain[-1] and origin:
        name = "本级" if lang == "zh" else "this policy"
    if origin and point is not None:
        # A labelled mixin of the layer (fire-safety rules, a campaign) is named itself.
        from .layers import _own_classes

        mixin = next((c for c in _own_classes(chain[origin]) if point[0] in vars(c) and "layer_label" in vars(c)), None)
        if mixin is not None:
            name = _layer_name(mixin, lang)
    shadows = tuple(_layer_name(chain[n], lang) for n in setters[:-1] if values[n] is not None)
    return name, shadows, identical


def _layer_name(cls: type, lang: str) -> str:
    label_attr = vars(cls).get("layer_label")
    if label_attr:
        return str(label_attr)
    name = getattr(cls, "jurisdiction_name", None) if "jurisdiction_name" in vars(cls) else None
    label = name or getattr(cls, "name", cls.__qualname__)
    return (
        f"{label} ({getattr(cls, 'policy_id', '?')})"
        if lang == "en"
        else f"{label}（{getattr(cls, 'policy_id', '?')}）"
    )


def _setter(policy: object, attr: str) -> type | None:
    """The nearest layer that sets ``attr`` itself."""
    return next((c for c in type(policy).__mro__ if attr in vars(c)), None)


def _origin(policy: object, read: Callable[[Any], Any], lang: str) -> str:
    """The layer a rule comes from: the one that sets a plain attribute, or the last that changed an entry."""
    attr = getattr(read, "attr_name", None)
    if attr is not None:
        setter = _setter(policy, attr)
        if setter is None:
            return ""
        if setter is type(policy):
            return "本级" if lang == "zh" else "this policy"
        return _layer_name(setter, lang)
    classes = [c for c in reversed(type(policy).__mro__) if c is not object]
    origin: type | None = None
    previous: Any = object()
    for cls in classes:
        try:
            value = read(cls)
        except (AttributeError, KeyError, TypeError):
            continue
        if origin is None or value != previous:
            origin, previous = cls, value
    if origin is None:
        return ""
    if origin is type(policy):
        return "本级" if lang == "zh" else "this policy"
    return _layer_name(origin, lang)


def _label(kind: str, ids: Iterable[str], lang: str) -> str:
    items = [zh(kind, i) if lang == "zh" else en(kind, i) for i in ids]
    return ("、" if lang == "zh" else ", ").join(items) if items else ("无" if lang == "zh" else "none")


def _yes(value: bool, lang: str) -> str:
    return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")


def _tag(policy: object, key: str) -> str:
    """The source tag of a rule, from the layer that sets it (or the nearest layer tagging it)."""
    setter = _setter(policy, key.split(".", 1)[0]) if "." not in key else None
    mro = type(policy).__mro__
    start = mro.index(setter) if setter is not None else 0
    for cls in mro[start:]:
        tags = vars(cls).get("rule_sources")
        if tags and key in tags:
            return str(tags[key])
    return ""


def _spec(spec: DeadlineSpec | None, lang: str) -> str:
    if spec is None:
        return "无固定时限" if lang == "zh" else "no fixed limit"
    return spec.describe(lang)


def _delay(delay: Delay, lang: str) -> str:
    if delay.amount == 0:
        return "立即" if lang == "zh" else "at once"
    return f"再过{delay.describe('zh')}" if lang == "zh" else f"+{delay.describe('en')}"


def _attr(name: str) -> Callable[[Any], Any]:
    def read(c: Any) -> Any:
        return getattr(c, name)

    read.attr_name = name  # type: ignore[attr-defined]
    read.point = (name, None)  # type: ignore[attr-defined]
    return read


def _pointed(read: Callable[[Any], Any], name: str, key: Any) -> Callable[[Any], Any]:
    read.point = (name, key)  # type: ignore[attr-defined]
    return read


def _entry(name: str, key: Any) -> Callable[[Any], Any]:
    return _pointed(lambda c: getattr(c, name).get(key), name, key)


def _nth(name: str, n: int) -> Callable[[Any], Any]:
    return _pointed(lambda c: getattr(c, name)[n - 1] if len(getattr(c, name)) >= n else None, name, None)


def _by_id(name: str, ident: str) -> Callable[[Any], Any]:
    return _pointed(lambda c: next((x for x in getattr(c, name) if x.id == ident), None), name, ident)


def _member(name: str, item: Any) -> Callable[[Any], Any]:
    return lambda c: item if item in getattr(c, name) else None


def rule_lines(policy: JurisdictionPolicy, lang: str = "zh") -> list[RuleLine]:
    """Every rule of ``policy`` as rendered lines (values in ``lang``)."""
    p: Any = policy
    out: list[RuleLine] = []

    def add(rule: str, value: str, source: str, read: Callable[[Any], Any]) -> None:
        origin, shadows, identical = _trace(policy, read, lang)
        out.append(RuleLine(rule, value, source, origin, shadows, identical))

    grades = list(policy.choices("grades"))
    shown = []
    for g in grades:
        label, national = (zh, "计入") if lang == "zh" else (en, "counted as ")
        text = label("grade", g)
        if policy.national_grade(g) != g:
            text += (
                f"（{national}{label('grade', policy.national_grade(g))}）"
                if lang == "zh"
                else (f" ({national}{label('grade', policy.national_grade(g))})")
            )
        shown.append(text)
    add(
        "grades",
        ("、" if lang == "zh" else ", ").join(shown),
        _tag(p, "grades"),
        lambda c: (c.grades, dict(c.grade_map)),
    )
    add(
        "report_recipients",
        _label("recipient", getattr(p, "report_recipients", ()), lang),
        _tag(p, "report_recipients"),
        _attr("report_recipients"),
    )
    add(
        "confirmation_levels",
        str(getattr(p, "confirmation_level_count", 1)),
        _tag(p, "confirmation_level_count"),
        _attr("confirmation_level_count"),
    )
    rule = getattr(p, "listing_rule", None)
    if rule is not None:
        level = zh("level", rule.level) if lang == "zh" else en("level", rule.level)
        need = (
            ("须挂牌" if rule.required else "必要时挂牌")
            if lang == "zh"
            else ("required" if rule.required else "when necessary")
        )
        by = _label("role", sorted(rule.authority_roles), lang)
        add(
            "listing",
            f"{need}；{level}以上；{by}" if lang == "zh" else f"{need}; {level} or above; {by}",
            rule.source,
            _attr("listing_rule"),
        )
    add(
        "stop_on_major",
        _yes(bool(getattr(p, "stop_every_major", False)), lang),
        _tag(p, "stop_every_major"),
        _attr("stop_every_major"),
    )
    for rule_key, attr in (
        ("major_reviewers", "major_reviewer_roles"),
        ("general_reviewers", "general_reviewer_roles"),
    ):
        add(rule_key, _label("role", sorted(getattr(p, attr, ())), lang), _tag(p, attr), _attr(attr))
    deadlines = dict(getattr(p, "deadlines", {}) or {})
    fire = getattr(p, "fire_limits", None) or {}
    for key in sorted({*deadlines, *fire}):
        spec = deadlines.get(key)
        title = zh("deadline", key) if lang == "zh" else en("deadline", key)
        source = spec.source if spec is not None else _tag(p, f"deadlines.{key}")
        if key in deadlines:
            text = f"{title}：{_spec(spec, lang)}" if lang == "zh" else f"{title}: {_spec(spec, lang)}"
            add("deadlines", text, source, _entry("deadlines", key))
        if key in fire:
            what = "消防案件" if lang == "zh" else "fire cases"
            f_spec = fire[key]
            add(
                "deadlines",
                f"{title}（{what}）：{_spec(f_spec, lang)}"
                if lang == "zh"
                else f"{title} ({what}): {_spec(f_spec, lang)}",
                f_spec.source,
                _entry("fire_limits", key),
            )
    for key, delays in sorted((getattr(p, "reminder_offsets", {}) or {}).items()):
        title = zh("deadline", key) if lang == "zh" else en("deadline", key)
        text = ", ".join(d.describe(lang) for d in delays)
        add(
            "reminders",
            f"{title}：提前{text}" if lang == "zh" else f"{title}: {text} before",
            _tag(p, "reminder_offsets"),
            _entry("reminder_offsets", key),
        )
    ladder: Iterable[Rung] = getattr(p, "overdue_ladder", ())
    for i, r in enumerate(ladder, start=1):
        sanction = zh("sanction", r.sanction) if lang == "zh" else en("sanction", r.sanction)
        party = zh("party", r.party) if lang == "zh" else en("party", r.party)
        add(
            "overdue_ladder",
            f"{i}. {sanction}（{_delay(r.after, lang)}，{party}）"
            if lang == "zh"
            else f"{i}. {sanction} ({_delay(r.after, lang)}, {party})",
            r.source,
            _nth("overdue_ladder", i),
        )
    for ob in policy.reporting_obligations():
        name = ob.name_zh if lang == "zh" else ob.name_en
        add(
            "reporting_obligations",
            f"{name}：{ob.due.describe(lang)}" if lang == "zh" else f"{name}: {ob.due.describe(lang)}",
            ob.source,
            _by_id("obligations", ob.id),
        )
    for m in getattr(p, "milestones", ()) or ():
        name = m.name_zh if lang == "zh" else m.name_en
        add(
            "milestones",
            f"{name}：{m.due.isoformat()}前" if lang == "zh" else f"{name}: by {m.due.isoformat()}",
            m.source,
            _by_id("milestones", m.id),
        )
    add(
        "escalation_procedure",
        " → ".join(zh("role", r) if lang == "zh" else en("role", r) for r in getattr(p, "escalation_procedure", ())),
        _tag(p, "escalation_procedure"),
        _attr("escalation_procedure"),
    )
    narrow = bool(getattr(p, "escalate_only_major_or_stuck", False))
    add(
        "escalation_scope",
        (
            ("重大隐患及整改存在困难的一般隐患" if narrow else "任何未办结隐患")
            if lang == "zh"
            else ("major hazards and general ones whose fix proved hard" if narrow else "any open hazard")
        ),
        _tag(p, "escalate_only_major_or_stuck"),
        _attr("escalate_only_major_or_stuck"),
    )
    add(
        "reporter_roles",
        _label("role", sorted(policy.reporter_visible_roles()), lang),
        _tag(p, "reporter_roles"),
        _attr("reporter_roles"),
    )
    add(
        "reward_channels",
        _label("channel", sorted(getattr(p, "reward_channels", ())), lang),
        _tag(p, "reward_channels"),
        _attr("reward_channels"),
    )
    for industry, dept in sorted((getattr(p, "lead_departments", {}) or {}).items()):
        ind = zh("industry", industry) if lang == "zh" else en("industry", industry)
        dep = zh("department", dept) if lang == "zh" else en("department", dept)
        add(
            "lead_departments",
            f"{ind} → {dep}",
            _tag(p, "lead_departments"),
            _entry("lead_departments", industry),
        )
    required = bool(getattr(p, "require_criteria_for_major", False))
    catalog = bool(getattr(p, "criteria_must_match_catalog", False))
    sets = getattr(p, "criteria_sets", None)
    chosen = ("全部国家清单" if lang == "zh" else "every national list") if sets is None else ", ".join(sets)
    local = [cs.id for cs in getattr(p, "local_criteria", ()) or ()]
    text = (
        f"重大隐患须引用：{_yes(required, lang)}；须出自清单：{_yes(catalog, lang)}；清单：{chosen}"
        if lang == "zh"
        else f"major grade must cite: {_yes(required, lang)}; from the catalog: {_yes(catalog, lang)}; lists: {chosen}"
    )
    if local:
        text += ("；本地清单：" if lang == "zh" else "; local lists: ") + ", ".join(local)
    add(
        "criteria",
        text,
        _tag(p, "require_criteria_for_major"),
        lambda c: (c.require_criteria_for_major, c.criteria_must_match_catalog, c.criteria_sets, c.local_criteria),
    )
    lead = getattr(p, "extension_lead", None)
    add(
        "extension_lead",
        lead.describe(lang) if lead is not None else ("不限" if lang == "zh" else "none"),
        _tag(p, "extension_lead"),
        _attr("extension_lead"),
    )
    missing = getattr(p, "calendar_missing_year", "error")
    hol = list(getattr(p, "local_holidays", ()))
    work = list(getattr(p, "local_working_days", ()))
    cal = (
        f"缺数据年份：{'拒绝' if missing == 'error' else '按周一至周五（临时）'}；"
        f"本地休息日 {len(hol)} 天；本地工作日 {len(work)} 天"
        if lang == "zh"
        else f"years without data: {'refuse' if missing == 'error' else 'Monday-Friday (provisional)'}; "
        f"{len(hol)} local holiday(s); {len(work)} local working day(s)"
    )
    add(
        "calendar",
        cal,
        _tag(p, "calendar_missing_year"),
        lambda c: (c.calendar_missing_year, c.local_holidays, c.local_working_days),
    )
    for s in getattr(p, "separations", ()) or ():
        trig = zh("trigger", s.trigger) if lang == "zh" else en("trigger", s.trigger)
        add(
            "separations",
            f"{trig}：{s.reason_zh}" if lang == "zh" else f"{trig}: {s.reason_en}",
            s.source,
            _member("separations", s),
        )
    for (workflow, trigger), perm in sorted((getattr(p, "permissions", {}) or {}).items()):
        trig = zh("trigger", trigger) if lang == "zh" else en("trigger", trigger)
        add(
            "permissions",
            f"{workflow}.{trig}：{_label('role', sorted(perm.roles), lang)}"
            if lang == "zh"
            else f"{workflow}.{trig}: {_label('role', sorted(perm.roles), lang)}",
            _tag(p, "permissions"),
            _entry("permissions", (workflow, trigger)),
        )
    return out


def describe_policy(
    policy: JurisdictionPolicy, lang: str = "zh", *, tree: JurisdictionTree | None = None, code: str | None = None
) -> str:
    """A Markdown page of ``policy``'s effective rules in ``lang`` (``zh`` or ``en``)."""
    zh_ = lang == "zh"
    p: Any = policy
    where = code or policy.jurisdiction
    name = tree.path(where) if tree is not None and canonical(where) != NATIONAL else ""
    title = getattr(p, "name", policy.policy_id) if zh_ else getattr(p, "name_en", None) or getattr(p, "name", "")
    lines = [f"# {title}", ""]
    effective = getattr(p, "effective_from", None)
    lines.append(
        (
            f"- 辖区：{where} {name}\n- 适用政策：{policy.policy_id}@{policy.policy_version}"
            + (f"（自 {effective} 起施行）" if effective else "")
        )
        if zh_
        else (
            f"- jurisdiction: {where} {name}\n- policy: {policy.policy_id}@{policy.policy_version}"
            + (f" (in force from {effective})" if effective else "")
        )
    )
    chain = [_layer_name(c, lang) for c in layers(policy)]
    if isinstance(policy, NationalBaseline) and chain:
        lines.append(("- 继承：" if zh_ else "- inherits: ") + " → ".join(chain))
    pins = getattr(policy, "policy_chain", None)
    if pins:
        lines.append(("- 政策层（锁定）：" if zh_ else "- layers (pinned): ") + " → ".join(f"{i}@{v}" for i, v in pins))
    lines.append("")
    lines.append(
        "| 规则 | 取值 | 来源 | 所在层级 | 覆盖上级 |" if zh_ else "| rule | value | source | set by | overrides |"
    )
    lines.append("|---|---|---|---|---|")
    flagged: list[str] = []
    for line in rule_lines(policy, lang):
        title = zh("policy_rule", line.rule) if zh_ else en("policy_rule", line.rule)
        over = ("、" if zh_ else ", ").join(line.shadows) if line.shadows else ""
        if line.same_as_parent:
            who = ("、" if zh_ else ", ").join(line.same_as_parent)
            mark = f"⚠ 同值覆盖：{who}" if zh_ else f"⚠ same value as the parent: {who}"
            over = f"{over}；{mark}" if over and zh_ else (f"{over}; {mark}" if over else mark)
            flagged.append(f"{title}（{who}）" if zh_ else f"{title} ({who})")
        lines.append(f"| {title} | {line.value} | {line.source or '—'} | {line.layer} | {over or '—'} |")
    if flagged:
        lines.append("")
        lines.append(
            ("同值覆盖（可删去）：" if zh_ else "overrides with the parent's own value (can be removed): ")
            + ("；" if zh_ else "; ").join(flagged)
        )
    return "\n".join(lines) + "\n"
