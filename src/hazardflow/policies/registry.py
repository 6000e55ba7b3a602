"""Which policy governs a case: versions by policy id, and the nearest policy up the jurisdiction tree.

One engine serves many jurisdictions at once: a registry holds every policy it knows, keyed by the
administrative-division code it governs (canonical form, so a 12-digit township code and its 9-digit form are
the same key) and by ``(policy_id, policy_version)``. A new case gets the policy of the nearest registered
jurisdiction up the tree from its own code; an open case always keeps the exact version it pinned.

Installed policy packages declare their policies in the entry-point group ``hazardflow.policies``;
:func:`discover` loads them only when asked (never when ``hazardflow`` is imported)::

    [project.entry-points."hazardflow.policies"]
    sanxing = "my_township.policies:SanxingTownship"

An entry point may name a policy class, a policy instance, or an iterable of either (a module-level tuple).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._calendar import local_date
from .._exceptions import HazardflowError, InvalidInput, PolicyDefinitionError
from .._jurisdiction import NATIONAL, JurisdictionTree, ancestors, canonical

if TYPE_CHECKING:
    from .._model import Case
    from ..abc import EngineHandle, JurisdictionPolicy

__all__ = ["ENTRY_POINT_GROUP", "InstalledPolicy", "PolicyRegistry", "discover"]

#: The entry-point group installed policy packages use.
ENTRY_POINT_GROUP = "hazardflow.policies"


def _instantiate(policy: Any) -> JurisdictionPolicy:
    instance = policy() if inspect.isclass(policy) else policy
    return cast("JurisdictionPolicy", instance)


def _effective(p: Any) -> date:
    value = getattr(p, "effective_from", None)
    return value if isinstance(value, date) else date.min


@attrs.frozen
class InstalledPolicy:
    """A policy found through an entry point: where it came from, and the policy itself."""

    entry_point: str
    distribution: str
    policy: JurisdictionPolicy


def _expand(obj: Any, where: str) -> list[Any]:
    if inspect.isclass(obj) or hasattr(obj, "policy_id"):
        return [obj]
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes):
        out: list[Any] = []
        for item in obj:
            out.extend(_expand(item, where))
        return out
    raise PolicyDefinitionError(
        where, (f"the entry point names {type(obj).__name__!r}, not a policy class, instance or iterable of them",)
    )


def discover(group: str = ENTRY_POINT_GROUP) -> list[InstalledPolicy]:
    """Load every policy that installed packages declare in the entry-point ``group``.

    Loading imports the packages, so it happens only here (and in :meth:`PolicyRegistry.installed`). A
    package that fails to import, or names something that is not a policy, raises one
    :class:`~hazardflow.PolicyDefinitionError` listing every such entry point.
    """
    from importlib.metadata import entry_points

    found: list[InstalledPolicy] = []
    problems: list[str] = []
    for ep in sorted(entry_points(group=group), key=lambda e: (e.name, e.value)):
        dist = ep.dist.name if ep.dist is not None else "?"
        where = f"{ep.name} = {ep.value} ({dist})"
        try:
            loaded = ep.load()
            for item in _expand(loaded, where):
                found.append(InstalledPolicy(ep.name, dist, _instantiate(item)))
        except PolicyDefinitionError as exc:
            problems.extend(f"entry point {where}: {p}" for p in exc.problems)
        except Exception as exc:  # an installed package that does not import is reported, not hidden
            problems.append(f"entry point {where} failed to load: {type(exc).__name__}: {exc}")
    if problems:
        raise PolicyDefinitionError(f"entry points {group!r}", tuple(problems))
    return found


_Key = tuple[str, str]
_Chain = tuple[_Key, ...]


class PolicyRegistry:
    """Policy layers an engine knows, by jurisdiction and by ``(policy_id, policy_version)``.

    Every registered version stays available, so cases pinned to an old chain keep their rules. The policy of
    a division at an instant is the chain of layers in force from the national baseline down to it, composed
    (see :mod:`hazardflow.policies.layers`): at each division code on the way, the version with the latest
    ``effective_from`` (an optional ``date``) that is not in the future; versions without a date count as
    always in force, and among equals the one registered last wins. The national baseline is added when no
    layer governs the national root. A composed policy is made once per chain and cached.
    """

    def __init__(self, policies: Iterable[Any] = ()) -> None:
        self._by_version: dict[_Key, Any] = {}
        self._by_jurisdiction: dict[str, list[_Key]] = {}
        self._effective: dict[_Chain, JurisdictionPolicy] = {}
        self._legacy: dict[tuple[str, str, date | None], JurisdictionPolicy] = {}
        self._tree: JurisdictionTree | None = None
        self._engine: EngineHandle | None = None
        for p in policies:
            self.register(p)
        if NATIONAL not in self._by_jurisdiction:
            from .base import NationalBaseline

            self.register(NationalBaseline)

    @classmethod
    def installed(cls, *extra: Any) -> PolicyRegistry:
        """A registry of every installed policy (entry points), plus ``extra`` policies."""
        return cls([*(i.policy for i in discover()), *extra])

    # ── registering ──────────────────────────────────────────────────────────────────────────────────
    def register(self, policy: Any) -> JurisdictionPolicy:
        """Add a layer (class or instance); registering the same version of the same class again is a no-op.

        Returns the layer's effective policy (composed under the layers registered above it). Once the
        registry belongs to an engine, the new layer and every chain it joins are checked first; a problem
        raises one :class:`~hazardflow.PolicyDefinitionError` and registers nothing.
        """
        from .layers import layer_class

        cls = layer_class(policy)
        if cls is None:
            try:
                entry: Any = _instantiate(policy)
            except HazardflowError as exc:
                raise PolicyDefinitionError(getattr(policy, "__qualname__", repr(policy)), (str(exc),)) from None
        else:
            entry = cls
        problems = [
            f"{attr} must be a non-empty string"
            for attr in ("policy_id", "policy_version", "jurisdiction")
            if not isinstance(getattr(entry, attr, None), str) or not getattr(entry, attr)
        ]
        if problems:
            raise PolicyDefinitionError(repr(entry), tuple(problems))
        pid, version = str(entry.policy_id), str(entry.policy_version)
        try:
            code = canonical(entry.jurisdiction)
        except HazardflowError as exc:
            raise PolicyDefinitionError(f"{pid}@{version}", (f"jurisdiction {entry.jurisdiction!r}: {exc}",)) from None
        key = (pid, version)
        known = self._by_version.get(key)
        if known is not None:
            same = known is entry if cls is not None else type(known) is type(entry)
            if same:
                return self.get(*key)
            raise PolicyDefinitionError(
                pid,
                (
                    f"version {version!r} is registered twice by different classes "
                    f"({_qualname(known)} and {_qualname(entry)}); bump policy_version",
                ),
            )
        for (other_id, _), other in self._by_version.items():
            if other_id == pid and canonical(other.jurisdiction) != code:
                raise PolicyDefinitionError(
                    pid,
                    (
                        f"every version of a policy governs one jurisdiction: {other.policy_version!r} governs "
                        f"{other.jurisdiction}, {version!r} governs {entry.jurisdiction}",
                    ),
                )
        self._by_version[key] = entry
        self._by_jurisdiction.setdefault(code, []).append(key)
        self._effective.clear()
        self._legacy.clear()
        if self._engine is not None:
            # Registered after the engine was built (a new version, say): checked before it can govern a case.
            from .validation import check_policy

            try:
                problems = self.chain_problems()
                if not problems:
                    problems = [
                        f"{p.policy_id}@{p.policy_version}: {pr}"
                        for p in self._compositions(only=pid)
                        for pr in check_policy(p, self._engine)
                    ]
            except PolicyDefinitionError as exc:
                problems = list(exc.problems)
            if problems:
                del self._by_version[key]
                self._by_jurisdiction[code].remove(key)
                if not self._by_jurisdiction[code]:
                    del self._by_jurisdiction[code]
                self._effective.clear()
                self._legacy.clear()
                raise PolicyDefinitionError(f"{pid}@{version}", tuple(dict.fromkeys(problems)))
        if self._tree is not None and code != NATIONAL and code not in self._tree:
            self._tree.add(code, getattr(entry, "jurisdiction_name", None) or code)
        return self.get(*key)

    def attach(self, tree: JurisdictionTree) -> None:
        """Name each layer's jurisdiction in the engine's tree (where the tree does not name it yet)."""
        self._tree = tree
        for code, keys in self._by_jurisdiction.items():
            if code != NATIONAL and code not in tree:
                tree.add(code, getattr(self._by_version[keys[-1]], "jurisdiction_name", None) or code)

    # ── what is registered ───────────────────────────────────────────────────────────────────────────
    def __iter__(self) -> Iterator[JurisdictionPolicy]:
        """The effective policy of every registered version (under the latest layers above it)."""
        return iter([self.get(*key) for key in self._by_version])

    def __len__(self) -> int:
        return len(self._by_version)

    def __contains__(self, key: object) -> bool:
        return key in self._by_version

    def layer(self, policy_id: str, version: str) -> Any:
        """The registered layer (class) of ``policy_id@version``."""
        found = self._by_version.get((policy_id, version))
        if found is None:
            raise self._unknown(f"{policy_id}@{version}")
        return found

    def layers(self) -> list[Any]:
        """Every registered layer (class), in registration order."""
        return list(self._by_version.values())

    def _unknown(self, what: str) -> InvalidInput:
        known = sorted(f"{i}@{v}" for i, v in self._by_version)
        return InvalidInput(
            "policy",
            what,
            "is not registered with this engine; register every version that open cases are pinned to "
            "(each layer of their chains)",
            tuple(known),
        )

    def versions(self, policy_id: str) -> list[JurisdictionPolicy]:
        """Every registered version of ``policy_id``, oldest effective date first."""
        keys = sorted((k for k in self._by_version if k[0] == policy_id), key=lambda k: _effective(self._by_version[k]))
        return [self.get(*k) for k in keys]

    def jurisdictions(self) -> list[str]:
        """The (canonical) codes that have a layer, sorted."""
        return sorted(self._by_jurisdiction)

    # ── resolving ────────────────────────────────────────────────────────────────────────────────────
    def _in_force(self, code: str, day: date | None) -> _Key | None:
        keys = self._by_jurisdiction.get(code)
        if not keys:
            return None
        effective = [k for k in keys if day is None or _effective(self._by_version[k]) <= day]
        if not effective:
            return None
        best = max(_effective(self._by_version[k]) for k in effective)
        return [k for k in effective if _effective(self._by_version[k]) == best][-1]

    def chain_pins(self, jurisdiction: str, at: datetime | date | None = None) -> _Chain:
        """The ``(policy_id, policy_version)`` of each layer in force for ``jurisdiction`` at ``at``, national first."""
        day = local_date(at) if isinstance(at, datetime) else at
        out: list[_Key] = []
        for code in ancestors(jurisdiction):
            key = self._in_force(code, day)
            if key is None:
                continue
            if not _is_layer(self._by_version[key]):
                if not out:
                    out.append(key)  # a policy written whole (not a layer) governs alone
                break
            out.append(key)
        if not out:
            raise InvalidInput(
                "jurisdiction",
                jurisdiction,
                "no policy in force governs this jurisdiction (register a national baseline, or check the "
                "effective_from dates of the registered versions)",
            )
        return tuple(reversed(out))

    def pinned(self, chain: Iterable[Sequence[str]]) -> JurisdictionPolicy:
        """The effective policy of an exact chain of pins (what a case pinned when it opened), cached."""
        key = chain if isinstance(chain, tuple) else tuple(chain)
        hit = self._effective.get(key)  # type: ignore[arg-type]
        if hit is not None:
            return hit
        pins = tuple((str(i), str(v)) for i, v in key)
        entries = []
        for pid, version in pins:
            entry = self._by_version.get((pid, version))
            if entry is None:
                raise self._unknown(f"{pid}@{version}")
            entries.append(entry)
        if len(entries) == 1 and not _is_layer(entries[0]):
            policy: JurisdictionPolicy = entries[0]
        else:
            policy = self._compose(entries)
        self._effective[key] = self._effective[pins] = policy  # type: ignore[index]
        return policy

    def _compose(self, entries: Sequence[Any]) -> JurisdictionPolicy:
        from .base import NationalBaseline
        from .layers import compose

        classes = list(entries)
        if not classes or canonical(classes[0].jurisdiction) != NATIONAL:
            classes.insert(0, NationalBaseline)
        try:
            cls = compose(classes)
        except TypeError as exc:
            names = " → ".join(f"{c.policy_id}@{c.policy_version}" for c in classes)
            raise PolicyDefinitionError(
                names, (f"the layers {names} cannot be composed: {exc} (a layer subclasses another's parent?)",)
            ) from None
        return cast("JurisdictionPolicy", cls())

    def resolve(self, jurisdiction: str, at: datetime | date | None = None) -> JurisdictionPolicy:
        """The effective policy for a new case in ``jurisdiction`` at ``at``: its chain of layers in force."""
        return self.pinned(self.chain_pins(jurisdiction, at))

    def get(self, policy_id: str, version: str, at: datetime | date | None = None) -> JurisdictionPolicy:
        """The effective policy whose own layer is ``policy_id@version``, under the layers above it in force at
        ``at`` (default: the latest). A case pinned before layers existed (one ``policy_id@version``, no chain)
        resolves this way with ``at`` = when it opened.
        """
        day = local_date(at) if isinstance(at, datetime) else at
        lkey = (policy_id, version, day)
        hit = self._legacy.get(lkey)
        if hit is not None:
            return hit
        entry = self._by_version.get((policy_id, version))
        if entry is None:
            raise self._unknown(f"{policy_id}@{version}")
        code = canonical(entry.jurisdiction)
        above: list[_Key] = []
        if _is_layer(entry):
            for anc in ancestors(code)[1:]:
                key = self._in_force(anc, day)
                if key is not None and _is_layer(self._by_version[key]):
                    above.append(key)
        policy = self.pinned((*reversed(above), (policy_id, version)))
        self._legacy[lkey] = policy
        return policy

    def for_case(self, case: Case) -> JurisdictionPolicy:
        """The effective policy a case is pinned to: its chain, or (an older case) its one policy version."""
        chain = case.policy_chain
        if chain:
            hit = self._effective.get(chain)
            return hit if hit is not None else self.pinned(chain)
        return self.get(case.policy_id, case.policy_version, case.opened_at)

    def chain(self, jurisdiction: str, at: datetime | date | None = None) -> list[JurisdictionPolicy]:
        """The effective policy of ``jurisdiction`` and of each layer above it (the chain's prefixes), nearest first."""
        pins = self.chain_pins(jurisdiction, at)
        return [self.pinned(pins[:n]) for n in range(len(pins), 0, -1)]

    def _compositions(self, only: str | None = None) -> list[JurisdictionPolicy]:
        """The effective policies worth checking: every version under the layers above it, at its own
        effective date and at the latest, once per distinct chain."""
        seen: dict[_Chain, JurisdictionPolicy] = {}
        for pid, version in list(self._by_version):
            entry = self._by_version[(pid, version)]
            for at in (getattr(entry, "effective_from", None), None):
                p = self.get(pid, version, at)
                chain = _chain_of(p)
                if only is not None and only not in {i for i, _ in chain}:
                    continue
                seen.setdefault(chain, p)
        return list(seen.values())

    # ── checking ─────────────────────────────────────────────────────────────────────────────────────
    def chain_problems(self) -> list[str]:
        """Problems of the tree of layers as a whole (each layer alone is checked by :meth:`problems`)."""
        from .validation import check_chain

        return check_chain(self)

    def problems(self, engine: EngineHandle) -> list[str]:
        """Every problem of every chain and registered layer, each prefixed with its ``id@version``."""
        from .validation import check_policy

        out: list[str] = list(self.chain_problems())
        for p in self._compositions():
            out.extend(f"{p.policy_id}@{p.policy_version}: {problem}" for problem in check_policy(p, engine))
        return list(dict.fromkeys(out))

    def validate(self, engine: EngineHandle) -> None:
        """Check every chain and layer against the engine's workflows: one error listing every problem.

        From then on :meth:`register` checks each layer added to this registry (and the chains it joins).
        """
        problems = self.problems(engine)
        self._engine = engine
        if problems:
            names = sorted({pr.split(": ", 1)[0] for pr in problems})
            raise PolicyDefinitionError(", ".join(names), tuple(problems))


def _is_layer(entry: Any) -> bool:
    from .layers import is_layer_class

    return is_layer_class(entry)


def _qualname(entry: Any) -> str:
    cls = entry if isinstance(entry, type) else type(entry)
    return cls.__qualname__


def _chain_of(policy: Any) -> _Chain:
    from .layers import chain_of

    return chain_of(policy)
