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
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._calendar import local_date
from .._exceptions import HazardflowError, InvalidInput, PolicyDefinitionError
from .._jurisdiction import NATIONAL, JurisdictionTree, ancestors, canonical

if TYPE_CHECKING:
    from .._engine import Engine
    from ..abc import JurisdictionPolicy

__all__ = ["ENTRY_POINT_GROUP", "InstalledPolicy", "PolicyRegistry", "discover"]

#: The entry-point group installed policy packages use.
ENTRY_POINT_GROUP = "hazardflow.policies"


def _instantiate(policy: Any) -> JurisdictionPolicy:
    instance = policy() if inspect.isclass(policy) else policy
    return cast("JurisdictionPolicy", instance)


def _effective(p: JurisdictionPolicy) -> date:
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


class PolicyRegistry:
    """Policies an engine knows, by jurisdiction and by ``(policy_id, policy_version)``.

    Every registered version stays available, so cases pinned to an old version keep their rules. A new case
    gets, from the nearest jurisdiction up the tree that has a policy, the version with the latest
    ``effective_from`` (an optional ``date`` class attribute) that is not in the future; versions without a
    date count as always in force, and among equals the one registered last wins. The national baseline is
    added when no policy governs the national root.
    """

    def __init__(self, policies: Iterable[Any] = ()) -> None:
        self._by_version: dict[tuple[str, str], JurisdictionPolicy] = {}
        self._by_jurisdiction: dict[str, list[JurisdictionPolicy]] = {}
        self._tree: JurisdictionTree | None = None
        self._engine: Engine | None = None
        for p in policies:
            self.register(p)
        if NATIONAL not in self._by_jurisdiction:
            from .base import NationalBaseline

            self.register(NationalBaseline())

    @classmethod
    def installed(cls, *extra: Any) -> PolicyRegistry:
        """A registry of every installed policy (entry points), plus ``extra`` policies."""
        return cls([*(i.policy for i in discover()), *extra])

    def register(self, policy: Any) -> JurisdictionPolicy:
        """Add a policy (class or instance); registering the same version of the same class again is a no-op."""
        try:
            p = _instantiate(policy)
        except HazardflowError as exc:
            raise PolicyDefinitionError(getattr(policy, "__qualname__", repr(policy)), (str(exc),)) from None
        problems = [
            f"{attr} must be a non-empty string"
            for attr in ("policy_id", "policy_version", "jurisdiction")
            if not isinstance(getattr(p, attr, None), str) or not getattr(p, attr)
        ]
        if problems:
            raise PolicyDefinitionError(repr(p), tuple(problems))
        try:
            code = canonical(p.jurisdiction)
        except HazardflowError as exc:
            raise PolicyDefinitionError(
                f"{p.policy_id}@{p.policy_version}", (f"jurisdiction {p.jurisdiction!r}: {exc}",)
            ) from None
        key = (p.policy_id, p.policy_version)
        known = self._by_version.get(key)
        if known is not None:
            if type(known) is type(p):
                return known
            raise PolicyDefinitionError(
                p.policy_id,
                (
                    f"version {p.policy_version!r} is registered twice by different classes "
                    f"({type(known).__qualname__} and {type(p).__qualname__}); bump policy_version",
                ),
            )
        for (pid, _), other in self._by_version.items():
            if pid == p.policy_id and canonical(other.jurisdiction) != code:
                raise PolicyDefinitionError(
                    p.policy_id,
                    (
                        f"every version of a policy governs one jurisdiction: {other.policy_version!r} governs "
                        f"{other.jurisdiction}, {p.policy_version!r} governs {p.jurisdiction}",
                    ),
                )
        if self._engine is not None:
            # Registered after the engine was built (a new version, say): checked before it can govern a case.
            from .validation import check_policy

            problems = check_policy(p, self._engine)
            if problems:
                raise PolicyDefinitionError(f"{p.policy_id}@{p.policy_version}", tuple(problems))
        self._by_version[key] = p
        self._by_jurisdiction.setdefault(code, []).append(p)
        if self._tree is not None and code != NATIONAL and code not in self._tree:
            self._tree.add(code, getattr(p, "jurisdiction_name", None) or code)
        return p

    def attach(self, tree: JurisdictionTree) -> None:
        """Name each policy's jurisdiction in the engine's tree (where the tree does not name it yet)."""
        self._tree = tree
        for code, ps in self._by_jurisdiction.items():
            if code != NATIONAL and code not in tree:
                tree.add(code, getattr(ps[-1], "jurisdiction_name", None) or code)

    def __iter__(self) -> Iterator[JurisdictionPolicy]:
        return iter(self._by_version.values())

    def __len__(self) -> int:
        return len(self._by_version)

    def __contains__(self, key: object) -> bool:
        return key in self._by_version

    def get(self, policy_id: str, version: str) -> JurisdictionPolicy:
        """The exact version a case is pinned to."""
        p = self._by_version.get((policy_id, version))
        if p is None:
            known = sorted(f"{i}@{v}" for i, v in self._by_version)
            raise InvalidInput(
                "policy",
                f"{policy_id}@{version}",
                "is not registered with this engine; register every version that open cases are pinned to",
                tuple(known),
            )
        return p

    def versions(self, policy_id: str) -> list[JurisdictionPolicy]:
        """Every registered version of ``policy_id``, oldest effective date first."""
        return sorted(
            (p for (pid, _), p in self._by_version.items() if pid == policy_id),
            key=_effective,
        )

    def jurisdictions(self) -> list[str]:
        """The (canonical) codes that have a policy, sorted."""
        return sorted(self._by_jurisdiction)

    def resolve(self, jurisdiction: str, at: datetime | date | None = None) -> JurisdictionPolicy:
        """The policy for a new case in ``jurisdiction`` at ``at``: the nearest registered one up the tree."""
        day = local_date(at) if isinstance(at, datetime) else at
        for code in ancestors(jurisdiction):
            candidates = self._by_jurisdiction.get(code)
            if not candidates:
                continue
            effective = [p for p in candidates if day is None or _effective(p) <= day]
            if effective:
                best = max(_effective(p) for p in effective)
                return [p for p in effective if _effective(p) == best][-1]
        raise InvalidInput(
            "jurisdiction",
            jurisdiction,
            "no policy in force governs this jurisdiction (register a national baseline, or check the "
            "effective_from dates of the registered versions)",
        )

    def chain(self, jurisdiction: str, at: datetime | date | None = None) -> list[JurisdictionPolicy]:
        """The policy resolving ``jurisdiction`` and the ones registered above it, nearest first."""
        out: list[JurisdictionPolicy] = []
        for code in ancestors(jurisdiction):
            if code in self._by_jurisdiction:
                try:
                    out.append(self.resolve(code, at))
                except InvalidInput:
                    continue
        return list(dict.fromkeys(out))

    def problems(self, engine: Engine) -> list[str]:
        """Every problem of every registered policy, each prefixed with the policy's ``id@version``."""
        from .validation import check_policy

        out: list[str] = []
        for p in self._by_version.values():
            out.extend(f"{p.policy_id}@{p.policy_version}: {problem}" for problem in check_policy(p, engine))
        return out

    def validate(self, engine: Engine) -> None:
        """Check every registered policy against the engine's workflows: one error listing every problem.

        From then on :meth:`register` checks each policy added to this registry against the same engine.
        """
        problems = self.problems(engine)
        self._engine = engine
        if problems:
            names = sorted({pr.split(": ", 1)[0] for pr in problems})
            raise PolicyDefinitionError(", ".join(names), tuple(problems))
