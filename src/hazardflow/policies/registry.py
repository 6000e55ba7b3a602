"""Which policy governs a case: versions by policy id, and the nearest policy up the jurisdiction tree."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from .._calendar import local_date
from .._exceptions import InvalidInput, PolicyDefinitionError
from .._jurisdiction import NATIONAL, JurisdictionTree, ancestors

if TYPE_CHECKING:
    from .._engine import Engine
    from ..abc import JurisdictionPolicy

__all__ = ["PolicyRegistry"]


def _instantiate(policy: Any) -> JurisdictionPolicy:
    instance = policy() if inspect.isclass(policy) else policy
    return cast("JurisdictionPolicy", instance)


class PolicyRegistry:
    """Policies an engine knows, by jurisdiction and by ``(policy_id, policy_version)``.

    Every registered version stays available, so cases pinned to an old version keep their rules. A new
    case gets the newest version (in registration order) of the nearest jurisdiction's policy whose
    ``effective_from`` (an optional ``date`` class attribute) is not in the future.
    """

    def __init__(self, policies: Iterable[Any] = ()) -> None:
        self._by_version: dict[tuple[str, str], JurisdictionPolicy] = {}
        self._by_jurisdiction: dict[str, list[JurisdictionPolicy]] = {}
        self._tree: JurisdictionTree | None = None
        registered = False
        for p in policies:
            self.register(p)
            registered = True
        if not registered or NATIONAL not in self._by_jurisdiction:
            from .base import NationalBaseline

            if ("cn.national", NationalBaseline.policy_version) not in self._by_version:
                self.register(NationalBaseline())

    def register(self, policy: Any) -> JurisdictionPolicy:
        """Add a policy (instance or class)."""
        p = _instantiate(policy)
        for attr in ("policy_id", "policy_version", "jurisdiction"):
            if not isinstance(getattr(p, attr, None), str) or not getattr(p, attr):
                raise PolicyDefinitionError(repr(p), (f"{attr} must be a non-empty string",))
        key = (p.policy_id, p.policy_version)
        if key in self._by_version and type(self._by_version[key]) is not type(p):
            raise PolicyDefinitionError(
                p.policy_id, (f"version {p.policy_version!r} is registered twice by different classes",)
            )
        self._by_version[key] = p
        self._by_jurisdiction.setdefault(p.jurisdiction, []).append(p)
        if self._tree is not None:
            self._tree.add(p.jurisdiction, getattr(p, "jurisdiction_name", None) or self._tree.name(p.jurisdiction))
        return p

    def attach(self, tree: JurisdictionTree) -> None:
        """Name each policy's jurisdiction in the engine's tree."""
        self._tree = tree
        for code, ps in self._by_jurisdiction.items():
            if code != NATIONAL and code not in tree:
                tree.add(code, getattr(ps[-1], "jurisdiction_name", None) or code)

    def __iter__(self) -> Iterator[JurisdictionPolicy]:
        return iter(self._by_version.values())

    def __len__(self) -> int:
        return len(self._by_version)

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
        return [p for (pid, _), p in self._by_version.items() if pid == policy_id]

    def resolve(self, jurisdiction: str, at: datetime | date | None = None) -> JurisdictionPolicy:
        """The policy for a new case in ``jurisdiction``: the nearest registered one up the tree."""
        day = local_date(at) if isinstance(at, datetime) else at
        for code in ancestors(jurisdiction):
            candidates = self._by_jurisdiction.get(code)
            if not candidates:
                continue
            effective = [
                p
                for p in candidates
                if day is None or getattr(p, "effective_from", None) is None or p.effective_from <= day  # type: ignore[attr-defined]
            ]
            if effective:
                return effective[-1]
        raise InvalidInput(
            "jurisdiction", jurisdiction, "no policy governs this jurisdiction (register a national baseline)"
        )

    def validate(self, engine: Engine) -> None:
        """Check every registered policy against the engine's workflows (one error listing every problem)."""
        from .validation import check_policy

        for p in self._by_version.values():
            problems = check_policy(p, engine)
            if problems:
                raise PolicyDefinitionError(f"{p.policy_id}@{p.policy_version}", tuple(problems))
