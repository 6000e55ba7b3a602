"""Policy layers composed at resolve time: the effective policy of a division is its chain of layers.

A jurisdiction's policy is a *layer*: a class that states only what its own document changes. Nothing in a
layer names its parent; the registry finds, for a division code at an instant, the layers in force from the
national baseline down (national → province → city → county → township) and composes them, each overriding
only the rules it states::

    class SanxingTownship(Layer):
        policy_id = "cn.cq.shizhu.sanxing"
        policy_version = "2023.1"
        jurisdiction = "500240204"
        report_recipients = extend("township_government")      # whatever the county requires, plus one
        deadlines = {"confirm": DeadlineSpec.working_days(3, source="seed:002")}   # one entry changes

        def deadline(self, key, case):                          # code: super() is "whatever my county says"
            ...
            return super().deadline(key, case)

How the rules combine, top down:

* a plain value (a bool, a tuple of roles, a :class:`~hazardflow.policies.ListingRule`) replaces the parent's;
* a table (``deadlines``, ``permissions``, ``reminder_offsets``, ``extra_guards``, ``lead_departments``,
  ``grade_map``, ``rule_sources``, ``sources``, ``calendar_years``) changes only the entries it names;
* ``obligations`` and ``milestones`` change only the ids they name (an item with a parent's id replaces it);
* :func:`extend` adds items to the parent's tuple or set;
* a method overrides the parent's; inside it ``super()`` answers as the layers above would.

The composed policy is a real class made when the chain is resolved (``type(...)`` over the layer classes,
nearest first), so Python's method resolution does the rest, and it is made once per chain and cached.
A class written the old way (``class Town(ShizhuCounty)``, tables copied with ``amend``) still works: the
rules of a parent class that is another jurisdiction's layer are not the child's own, they reach it through
the chain, and a table copied with ``amend`` counts only for the entries that differ from the parent's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .base import NationalBaseline

if TYPE_CHECKING:
    from ..abc import JurisdictionPolicy

__all__ = [
    "BY_ID_RULES",
    "METADATA",
    "TABLE_RULES",
    "Extend",
    "Layer",
    "compose",
    "extend",
    "is_layer_class",
    "layer_class",
    "rule_names",
    "stated",
]

#: Tables whose entries a layer changes one by one.
TABLE_RULES = frozenset(
    {
        "deadlines",
        "reminder_offsets",
        "permissions",
        "extra_guards",
        "lead_departments",
        "grade_map",
        "rule_sources",
        "sources",
        "calendar_years",
    }
)
#: Collections of items with an ``id`` that a layer changes one id at a time.
BY_ID_RULES = frozenset({"obligations", "milestones"})
#: What names a layer rather than states a rule.
METADATA = frozenset(
    {"policy_id", "policy_version", "jurisdiction", "jurisdiction_name", "name", "name_en", "effective_from", "parent"}
)


@attrs.frozen
class Extend:
    """Items added to the parent's value of a rule (a tuple keeps its order, a set is united)."""

    items: tuple[Any, ...]

    def onto(self, parent: Any) -> Any:
        if isinstance(parent, frozenset | set):
            return frozenset(parent) | frozenset(self.items)
        base = tuple(parent or ())
        return (*base, *(i for i in self.items if i not in base))


def extend(*items: Any) -> Any:
    """State a rule as the parent's value plus ``items``: ``report_recipients = extend("township_government")``."""
    return Extend(tuple(items))


def rule_names() -> tuple[str, ...]:
    """The rules a layer may state: the national baseline's class attributes that are not metadata."""
    return _RULES


def _rules() -> tuple[str, ...]:
    out = []
    for name, value in vars(NationalBaseline).items():
        if name.startswith("_") or name in METADATA or callable(value) or isinstance(value, property):
            continue
        out.append(name)
    return tuple(out)


_RULES = _rules()


class Layer(NationalBaseline):
    """Base class of a jurisdiction's layer: set ``policy_id``, ``policy_version``, ``jurisdiction`` and the
    rules the jurisdiction's own documents change, nothing else.

    ``parent`` may name the ``policy_id`` of the layer this one is written against (checked: the layer must
    sit inside that layer's jurisdiction). Instantiating a layer on its own gives the layer over the national
    baseline; an engine's registry composes it under whatever layers govern above it.
    """

    #: The policy id of the layer this one refines (optional; checked when registered).
    parent: ClassVar[str | None] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if "_hf_chain" in vars(cls):
            return super().__new__(cls)
        composed = compose([NationalBaseline, cls])
        return super().__new__(composed)


def is_layer_class(cls: object) -> bool:
    """True for a policy class the registry composes (a :class:`NationalBaseline` subclass)."""
    return isinstance(cls, type) and issubclass(cls, NationalBaseline)


def layer_class(policy: Any) -> type[NationalBaseline] | None:
    """The layer class of a registered policy (a class, an instance, or a composed layer-alone instance)."""
    cls = policy if isinstance(policy, type) else type(policy)
    if not is_layer_class(cls):
        return None
    chain = vars(cls).get("_hf_layers")
    if chain:
        leaf: type[NationalBaseline] = chain[-1]
        return leaf
    return cls


def _code(cls: type) -> str:
    from .._jurisdiction import canonical

    try:
        return canonical(str(getattr(cls, "jurisdiction", "")))
    except Exception:  # an invalid code is reported when the layer is registered
        return str(getattr(cls, "jurisdiction", ""))


def _foreign(cls: type) -> list[type]:
    """Classes in ``cls``'s bases that are another division's layer (their rules reach it through the chain)."""
    pid, code = getattr(cls, "policy_id", None), _code(cls)
    return [
        c
        for c in cls.__mro__
        if is_layer_class(c)
        and getattr(c, "policy_id", None) != pid
        and (_code(c) != code or c is NationalBaseline or c is Layer)
    ]


def _own_classes(cls: type) -> list[type]:
    """The classes whose attributes are this layer's own: itself, its earlier versions, its mixins."""
    foreign = _foreign(cls)
    return [c for c in cls.__mro__ if c is not object and not any(issubclass(f, c) for f in foreign)]


def _diff(value: Any, parent: Any, name: str) -> Any:
    """Entries of a copied table (``amend(Parent.x, ...)``) that differ from the parent class's."""
    if name in TABLE_RULES and isinstance(value, Mapping) and isinstance(parent, Mapping):
        if parent and all(k in value for k in parent):
            return {k: v for k, v in value.items() if k not in parent or parent[k] != v}
        return dict(value)
    if name in BY_ID_RULES and isinstance(value, tuple) and isinstance(parent, tuple):
        ids = {getattr(x, "id", None) for x in parent}
        if parent and ids <= {getattr(x, "id", None) for x in value}:
            return tuple(x for x in value if x not in parent)
        return value
    return value


_STATED: dict[type, Mapping[str, Any]] = {}


def stated(cls: type) -> Mapping[str, Any]:
    """The rules a layer class states itself: name → value (a table: only the entries it changes)."""
    hit = _STATED.get(cls)
    if hit is not None:
        return hit
    out: dict[str, Any] = {}
    if getattr(cls, "policy_id", None) == NationalBaseline.policy_id or cls is NationalBaseline:
        out = {name: getattr(cls, name) for name in _RULES}
    else:
        own = _own_classes(cls)
        foreign = _foreign(cls)
        parent = foreign[0] if foreign else NationalBaseline
        for name in _RULES:
            for c in own:
                if name in vars(c):
                    out[name] = _diff(vars(c)[name], getattr(parent, name, None), name)
                    break
    result = MappingProxyType(out)
    _STATED[cls] = result
    return result


def merge(name: str, parent: Any, value: Any) -> Any:
    """The value of rule ``name`` when a layer states ``value`` over the ``parent`` value."""
    if isinstance(value, Extend):
        return value.onto(parent)
    if name in TABLE_RULES and isinstance(parent, Mapping):
        return MappingProxyType({**parent, **value})
    if name in BY_ID_RULES and isinstance(parent, tuple):
        mine = {getattr(x, "id", None): x for x in value}
        kept = tuple(mine.pop(getattr(x, "id", None), x) for x in parent)
        return (*kept, *(x for x in value if getattr(x, "id", None) in mine))
    return value


_COMPOSED: dict[tuple[type, ...], type[NationalBaseline]] = {}


def compose(layers: Sequence[type]) -> type[NationalBaseline]:
    """The class of the effective policy of ``layers`` (national first, the division's own layer last).

    Made once per chain of classes and cached. Raises ``TypeError`` when the layer classes cannot be ordered
    (contradictory class bases).
    """
    key = tuple(layers)
    hit = _COMPOSED.get(key)
    if hit is None:
        hit = _COMPOSED[key] = _compose(key)
    return hit


def _compose(layers: Sequence[type]) -> type[NationalBaseline]:
    root, rest = layers[0], list(layers[1:])
    values: dict[str, Any] = {name: getattr(root, name) for name in _RULES}
    for layer in rest:
        for name, value in stated(layer).items():
            values[name] = merge(name, values[name], value)
    leaf = layers[-1]
    ns: dict[str, Any] = dict(values)
    for meta in ("policy_id", "policy_version", "jurisdiction", "jurisdiction_name", "name", "name_en"):
        ns[meta] = getattr(leaf, meta)
    ns["effective_from"] = getattr(leaf, "effective_from", None)
    ns["_hf_layers"] = tuple(layers)
    ns["_hf_chain"] = tuple((str(getattr(c, "policy_id", "")), str(getattr(c, "policy_version", ""))) for c in layers)
    ns["policy_chain"] = ns["_hf_chain"]
    ns["__module__"] = __name__
    ns["__qualname__"] = f"Effective[{leaf.__qualname__}]"
    bases = tuple(dict.fromkeys((*reversed(rest), root)))
    return type(f"Effective[{leaf.__qualname__}]", bases, ns)


def chain_of(policy: object) -> tuple[tuple[str, str], ...]:
    """The ``(policy_id, policy_version)`` of every layer of a policy, national first."""
    chain = getattr(type(policy), "_hf_chain", None)
    if chain:
        return tuple(chain)
    p: Any = policy
    return ((str(p.policy_id), str(p.policy_version)),)


def layers_of(policy: object) -> tuple[type, ...]:
    """The layer classes of a composed policy, national first (the class itself when not composed)."""
    found = getattr(type(policy), "_hf_layers", None)
    return tuple(found) if found else (type(policy),)


def fingerprint(policy: JurisdictionPolicy) -> tuple[Any, ...]:
    """What a policy answers, comparable: every rule's value and the code of every public method."""
    cls = type(policy)
    values = tuple((name, _comparable(getattr(policy, name, None))) for name in _RULES if name != "rule_sources")
    code = tuple(
        (name, getattr(cls, name, None))
        for name in sorted(n for c in cls.__mro__ for n, v in vars(c).items() if callable(v) and not n.startswith("_"))
    )
    return (*values, *code)


def _comparable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted(((repr(k), _comparable(v)) for k, v in value.items()), key=lambda kv: kv[0]))
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | tuple | frozenset):
        return tuple(value)
    return value
