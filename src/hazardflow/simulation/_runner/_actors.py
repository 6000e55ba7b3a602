"""The simulated people and cases: units and their staff, government offices, open cases, arrival streams."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from ..._glossary import zh
from ..._jurisdiction import JurisdictionTree, ancestors, level_of
from ..._model import Actor
from .._scenario import Behaviour, Township

if TYPE_CHECKING:
    from ..._model import Case

_NATURES = ("unsafe_condition", "unsafe_act", "management_defect")
_UNIT_ROLES = ("inspector", "safety_manager", "principal_officer")
_TOWNSHIP_ROLES = ("township_officer", "emergency_office", "leader_in_charge", "head")
_UPPER_ROLES = ("supervisor", "safety_committee_office", "sector_department", "fire_rescue", "leader_in_charge", "head")


def _size_counts(n: int, sizes: Mapping[str, float]) -> dict[str, int]:
    """Largest-remainder split of ``n`` units by size, in a fixed order (small, medium, large)."""
    exact = {s: n * sizes.get(s, 0.0) for s in ("small", "medium", "large")}
    counts = {s: int(v) for s, v in exact.items()}
    left = n - sum(counts.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - counts[s]), s))[:left]:
        counts[s] += 1
    return counts


# ── the actors ─────────────────────────────────────────────────────────────────────────────────────
@attrs.frozen(slots=True)
class _Unit:
    """A business unit and its people."""

    id: str
    township: str
    industry: str
    size: str
    location: str
    inspector: Actor
    fixer: Actor
    safety_manager: Actor
    safety_head: Actor
    principal: Actor


class _People:
    """Actors of the scenario, made on first use and kept (units and offices are a fixed population)."""

    def __init__(self, tree: JurisdictionTree) -> None:
        self._tree = tree
        self._gov: dict[tuple[str, str], Actor] = {}
        self._units: dict[str, _Unit] = {}
        self._offices: dict[str, tuple[Actor, ...]] = {}

    def unit(self, unit_id: str, township: str, industry: str = "other", size: str = "small") -> _Unit:
        hit = self._units.get(unit_id)
        if hit is None:

            def person(suffix: str, role: str, label: str) -> Actor:
                return Actor(f"{unit_id}/{suffix}", f"{unit_id} {label}", frozenset((role,)), unit_id, township)

            hit = _Unit(
                unit_id,
                township,
                industry,
                size,
                f"{self._tree.name(township)} {unit_id}",
                person("inspector", "inspector", zh("role", "inspector")),
                person("fixer", "inspector", zh("role", "inspector") + "2"),
                person("safety", "safety_manager", zh("role", "safety_manager")),
                person("safety-head", "safety_manager", zh("role", "safety_manager") + "2"),
                person("principal", "principal_officer", zh("role", "principal_officer")),
            )
            self._units[unit_id] = hit
        return hit

    def gov(self, code: str, role: str) -> Actor:
        key = (code, role)
        hit = self._gov.get(key)
        if hit is None:
            name = self._tree.name(code)
            hit = Actor(
                f"{code}/{role}", f"{name}{zh('role', role)}", frozenset((role,)), f"{name}{zh('role', role)}", code
            )
            self._gov[key] = hit
        return hit

    def at_level(self, township: str, level: str, role: str) -> Actor | None:
        for code in ancestors(township):
            if level_of(code) == level:
                return self.gov(code, role)
        return None

    def offices(self, township: str) -> tuple[Actor, ...]:
        """Government actors from the township up to the city, nearest first, one per role."""
        hit = self._offices.get(township)
        if hit is None:
            out = [self.gov(township, r) for r in _TOWNSHIP_ROLES]
            for code in ancestors(township)[1:]:
                if level_of(code) in ("national", "province"):
                    break
                out.extend(self.gov(code, r) for r in _UPPER_ROLES)
            hit = self._offices[township] = tuple(out)
        return hit


# ── the simulated cases ────────────────────────────────────────────────────────────────────────────
class _Agent:
    """The driver's memory of one open case: who acts on it and what they have decided."""

    __slots__ = (
        "asked_extension",
        "base",
        "beh",
        "case",
        "case_id",
        "channel",
        "complied",
        "done_at",
        "escalation_decided",
        "escalations",
        "fast",
        "found",
        "grade",
        "industry",
        "key",
        "lister",
        "listing_tried",
        "parent",
        "refuser",
        "registrar",
        "retries",
        "reviews",
        "rework",
        "state",
        "token",
        "township",
        "unit",
        "workflow",
    )

    def __init__(
        self,
        key: str,
        unit: _Unit,
        grade: str,
        channel: str,
        beh: Behaviour,
        registrar: Actor,
        workflow: str = "hazard",
    ) -> None:
        self.key = key
        self.base = -1
        self.case_id = ""
        self.case: Case | None = None
        self.workflow = workflow
        self.unit = unit
        self.township = unit.township
        self.industry = unit.industry
        self.grade = grade
        self.channel = channel
        self.beh = beh
        self.registrar = registrar
        self.state = ""
        self.token = 0
        self.done_at: float | None = None
        self.asked_extension = False
        self.refuser = False
        self.complied = False
        self.rework = 0
        self.reviews = 0
        self.retries = 0
        self.fast = False
        self.lister: Actor | None = None
        self.listing_tried = False
        self.escalation_decided = False
        self.escalations = 0
        self.found: datetime | None = None
        self.parent: _Agent | None = None


@attrs.define
class _Stream:
    """One arrival process: hazards of one grade and channel in one township's industry."""

    index: int
    township: Township
    industry: str
    grade: str
    channel: str
    rate_per_day: float
    units: list[_Unit]
    cum_weights: list[float]
    rng: random.Random
    n: int = 0
    last: float = 0.0
