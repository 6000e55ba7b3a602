"""Scenarios: what a simulated jurisdiction looks like and how its people behave.

A :class:`Scenario` is plain data, written in Python (``examples/scenarios/*.py``): the jurisdiction tree
with its business units by industry and size (:class:`Township`, :class:`Area`), the hazards found per unit
and year by industry, grade and discovery channel (:class:`Rates`, modulated by campaign :class:`Phase` s),
the stock open at the start (:class:`Backlog`), how units and officials act (:class:`Behaviour`), the
policies in force and the campaign targets. It never names a policy rule itself: deadlines, ladders,
listing, reviewers and report recipients all come from the policies, through the real engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

import attrs

from .._exceptions import InvalidInput
from .._glossary import terms
from .._jurisdiction import level_of, parent_code
from ._dist import Dist, Exponential, LogNormal, Triangular, Uniform
from ._targets import Target

__all__ = [
    "CHANNELS",
    "SIZES",
    "Area",
    "Backlog",
    "Behaviour",
    "LookBack",
    "Phase",
    "Rates",
    "Scenario",
    "Township",
]

#: Discovery channels a scenario may give rates for: the hazard sources a unit or an official registers
#: directly, plus ``tipoff`` (a public report that must be verified before it becomes a hazard case).
CHANNELS = (
    "enterprise_self_inspection",
    "supervisory_inspection",
    "enforcement",
    "monitoring_alarm",
    "expert",
    "tipoff",
)
#: Business-unit sizes; ``Rates.size_weight`` says how many more hazards a larger unit has.
SIZES = ("small", "medium", "large")


def _industries() -> tuple[str, ...]:
    return tuple(t.id for t in terms("industry"))


def _share(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput(name, value, "must be a share between 0 and 1")


def _count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(name, value, "must be a whole number, zero or more")


def _rate(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidInput(name, value, "must be a finite rate, zero or more")


def _industry(name: str, value: str) -> None:
    allowed = _industries()
    if value not in allowed:
        raise InvalidInput(name, value, "is not an industry of the glossary", tuple(sorted(allowed)))


def _shares(name: str, mapping: Mapping[str, float], allowed: tuple[str, ...], *, total: bool) -> None:
    if not isinstance(mapping, Mapping) or not mapping:
        raise InvalidInput(name, mapping, "must be a non-empty mapping of names to shares")
    for key, value in mapping.items():
        if key not in allowed:
            raise InvalidInput(f"{name}[{key!r}]", key, "is not a known name", tuple(sorted(allowed)))
        _share(f"{name}[{key!r}]", value)
    if total and abs(sum(mapping.values()) - 1.0) > 1e-6:
        raise InvalidInput(
            name, dict(mapping), f"the shares must add up to 1 (they add up to {sum(mapping.values()):g})"
        )


def _dist(name: str, value: object) -> None:
    if not isinstance(value, Dist):
        raise InvalidInput(
            name,
            type(value).__name__,
            "must be a distribution (Fixed, Uniform, Triangular, LogNormal, Exponential)",
        )


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value) if value else {}


@attrs.frozen
class Area:
    """A named upper tier (county, city, province) above the townships, for labels and reports."""

    code: str
    name: str

    def __attrs_post_init__(self) -> None:
        level_of(self.code)


@attrs.frozen
class Township:
    """A township (乡镇/街道) with its business units: ``units`` maps an industry to a number of units.

    ``sizes`` gives the share of small, medium and large units (defaults to the scenario's ``size_mix``).
    """

    code: str
    name: str
    units: Mapping[str, int] = attrs.field(converter=_frozen_map)
    sizes: Mapping[str, float] | None = None

    def __attrs_post_init__(self) -> None:
        if level_of(self.code) != "township":
            raise InvalidInput("code", self.code, "must be a township code (9 digits, or 12 ending in 000)")
        for industry, n in self.units.items():
            _industry(f"units[{industry!r}]", industry)
            _count(f"units[{industry!r}]", n)
        if self.sizes is not None:
            _shares("sizes", self.sizes, SIZES, total=True)

    @property
    def county(self) -> str:
        parent = parent_code(self.code)
        assert parent is not None
        return parent


@attrs.frozen
class Rates:
    """How many hazards are found: per business unit and year, by industry, grade and channel.

    ``per_unit_per_year[industry]`` is the mean number of hazards found per small unit and year (a medium
    or large unit counts ``size_weight`` times as much). ``major_share`` is the share of them graded
    major (one number, or by industry). ``channels`` splits general hazards by discovery channel, and
    ``major_channels`` the major ones (defaults to ``channels``).
    """

    per_unit_per_year: Mapping[str, float] = attrs.field(converter=_frozen_map)
    major_share: float | Mapping[str, float] = 0.01
    channels: Mapping[str, float] = attrs.field(
        converter=_frozen_map,
        factory=lambda: {
            "enterprise_self_inspection": 0.7,
            "supervisory_inspection": 0.15,
            "enforcement": 0.1,
            "tipoff": 0.05,
        },
    )
    major_channels: Mapping[str, float] | None = None
    size_weight: Mapping[str, float] = attrs.field(
        converter=_frozen_map, factory=lambda: {"small": 1.0, "medium": 2.5, "large": 6.0}
    )

    def __attrs_post_init__(self) -> None:
        if not self.per_unit_per_year:
            raise InvalidInput("per_unit_per_year", {}, "must give a rate for at least one industry")
        for industry, r in self.per_unit_per_year.items():
            _industry(f"per_unit_per_year[{industry!r}]", industry)
            _rate(f"per_unit_per_year[{industry!r}]", r)
        if isinstance(self.major_share, Mapping):
            for industry, s in self.major_share.items():
                _industry(f"major_share[{industry!r}]", industry)
                _share(f"major_share[{industry!r}]", s)
        else:
            _share("major_share", self.major_share)
        _shares("channels", self.channels, CHANNELS, total=True)
        if self.major_channels is not None:
            _shares("major_channels", self.major_channels, CHANNELS, total=True)
        for size in SIZES:
            if size not in self.size_weight:
                raise InvalidInput("size_weight", dict(self.size_weight), f"needs a weight for {size!r}", SIZES)
            _rate(f"size_weight[{size!r}]", self.size_weight[size])

    def major(self, industry: str) -> float:
        """The share of hazards graded major in ``industry``."""
        if isinstance(self.major_share, Mapping):
            return float(self.major_share.get(industry, 0.0))
        return float(self.major_share)


@attrs.frozen
class Phase:
    """A stretch of the campaign with its own intensity: ``discovery`` multiplies every arrival rate and
    ``major`` multiplies the major ones on top (e.g. a 集中排查 phase finds more; a later phase finds fewer
    new majors)."""

    start: date
    end: date
    name_zh: str
    name_en: str
    discovery: float = 1.0
    major: float = 1.0

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("end", self.end.isoformat(), f"must not be before start ({self.start})")
        _rate("discovery", self.discovery)
        _rate("major", self.major)


@attrs.frozen
class LookBack:
    """回头看: closed hazards re-checked later, and reopened when the hazard has come back or the fix was fake.

    Of the hazards closed (``majors_only``: the major ones), ``check_share`` are re-checked ``after_days``
    after their closure; ``fail_share`` of the re-checked fail (隐患反弹 or 虚假整改 [seed:003 item 5; seed:001
    item 7]) and are reopened by the owning tier with a new deadline ``deadline_days`` away; the unit then
    rectifies again. The shares and durations are illustrative [inference]. Keeping closed hazards for the
    re-check costs memory: a scenario with a look-back keeps every closed case's snapshot (not its events).
    """

    check_share: float = 0.2
    fail_share: float = 0.1
    after_days: Dist = Triangular(30, 60, 120)
    deadline_days: Dist = Triangular(7, 15, 30)
    majors_only: bool = False

    def __attrs_post_init__(self) -> None:
        _share("look_back.check_share", self.check_share)
        _share("look_back.fail_share", self.fail_share)
        _dist("look_back.after_days", self.after_days)
        _dist("look_back.deadline_days", self.deadline_days)


@attrs.frozen
class Backlog:
    """Hazards already open when the simulation starts (存量), registered into the ledger on day one.

    ``majors`` / ``generals`` map an industry to a number of hazards; their ``discovered_at`` is spread over
    ``found_from`` .. ``found_to``. A share ``planned_share`` of the majors already has its plan adopted
    (the runner walks them through confirmation, report and plan on day one).
    """

    majors: Mapping[str, int] = attrs.field(converter=_frozen_map, factory=dict)
    generals: Mapping[str, int] = attrs.field(converter=_frozen_map, factory=dict)
    found_from: date = date(2023, 1, 1)
    found_to: date = date(2023, 12, 31)
    planned_share: float = 0.0

    def __attrs_post_init__(self) -> None:
        for name in ("majors", "generals"):
            for industry, n in getattr(self, name).items():
                _industry(f"{name}[{industry!r}]", industry)
                _count(f"{name}[{industry!r}]", n)
        if self.found_to < self.found_from:
            raise InvalidInput(
                "found_to", self.found_to.isoformat(), f"must not be before found_from ({self.found_from})"
            )
        _share("planned_share", self.planned_share)


@attrs.frozen
class Behaviour:
    """How units and officials act. Durations are in days (distributions from :mod:`._dist`); shares are 0-1.

    Units: ``spot_fix_share`` of general hazards are fixed on the spot (即查即改) where the policy allows,
    ``spot_fix_days`` after they are registered; the others get an order ``order_days`` after registration,
    with a deadline ``order_deadline_days`` away, and take ``rectify_days``. Major
    hazards take ``confirm_days`` per confirmation level, ``report_days`` per report recipient and
    ``plan_days`` to adopt a plan whose deadline is ``plan_deadline_days`` away, and ``major_rectify_days``
    to finish. A unit that will overrun asks for an extension with probability ``extension_share``,
    ``extension_lead_days`` before the deadline; ``refusal_share`` of units refuse to rectify until the
    overdue ladder reaches rung ``comply_at_rung`` (then they take ``comply_days``).

    Officials: a listing the policy requires is made within ``listing_days`` (``list_share`` of the majors
    it does not require are listed anyway); a review takes ``review_days``, and passes with
    ``review_pass_rate`` (``major_review_pass_rate`` for majors; a failed fix takes ``rework_days``). Reviews
    that would run past the review deadline are finished on its last day, except for ``late_review_share``
    of them; extension requests are decided in ``extension_decision_days`` and granted with
    ``extension_grant_share``; delisting takes ``delist_days``. A tip-off's check starts
    ``verify_start_days`` after it is received and takes ``verify_days``; it is found true with
    ``tipoff_true_share``. ``escalation_share`` of major hazards are proposed for the upper tier's pool
    (蓄水池) once their plan is adopted; each admission step takes ``admission_days``, the upper tier decides
    in ``pool_days`` and accepts with ``escalation_accept_share``, and an accepted hazard's remaining
    rectification time is multiplied by ``escalated_rectify_factor`` (the upper tier brings departments and
    funds to it) [inference]. ``escalation_onward_share`` of the hazards a county accepted into its pool are
    proposed on to the city's pool in turn (县 → 市), with the same steps and shares [inference]. With
    ``Scenario.filings``, a periodic report (报送任务) is filed ``filing_lead_days`` before its deadline, except
    ``late_filing_share`` of them, filed ``late_filing_days`` after it [inference].
    """

    spot_fix_share: float = 0.6
    spot_fix_days: Dist = Uniform(0.02, 0.12)
    order_days: Dist = Uniform(0, 0.5)
    order_deadline_days: Dist = Triangular(7, 15, 30)
    rectify_days: Dist = LogNormal(8, 25)
    confirm_days: Dist = Uniform(0.2, 2)
    report_days: Dist = Uniform(0.2, 2)
    listing_days: Dist = Triangular(2, 5, 15)
    list_share: float = 0.3
    plan_days: Dist = Triangular(3, 10, 30)
    plan_deadline_days: Dist = Triangular(30, 90, 180)
    major_rectify_days: Dist = LogNormal(60, 150)
    extension_share: float = 0.5
    extension_lead_days: Dist = Uniform(3, 12)
    extension_decision_days: Dist = Triangular(1, 3, 8)
    extension_grant_share: float = 0.8
    refusal_share: float = 0.02
    comply_at_rung: int = 3
    comply_days: Dist = Triangular(3, 10, 30)
    review_days: Dist = Triangular(1, 4, 14)
    late_review_share: float = 0.15
    review_pass_rate: float = 0.9
    major_review_pass_rate: float = 0.8
    rework_days: Dist = Triangular(2, 7, 20)
    delist_days: Dist = Triangular(1, 5, 15)
    verify_start_days: Dist = Uniform(0.05, 0.35)
    verify_days: Dist = Exponential(2)
    tipoff_true_share: float = 0.6
    escalation_share: float = 0.0
    admission_days: Dist = Triangular(1, 3, 10)
    pool_days: Dist = Triangular(2, 7, 20)
    escalation_accept_share: float = 0.8
    escalated_rectify_factor: float = 0.7
    escalation_onward_share: float = 0.0
    filing_lead_days: Dist = Uniform(0, 10)
    late_filing_share: float = 0.05
    late_filing_days: Dist = Triangular(1, 5, 30)

    def __attrs_post_init__(self) -> None:
        for a in attrs.fields(type(self)):
            value = getattr(self, a.name)
            if a.name == "comply_at_rung":
                _count(a.name, value)
                if value < 1:
                    raise InvalidInput(a.name, value, "must be a ladder rung, 1 or more")
            elif a.name.endswith(("_share", "_rate")):
                _share(a.name, value)
            elif a.name.endswith("_factor"):
                _rate(a.name, value)
            else:
                _dist(a.name, value)


@attrs.frozen
class Scenario:
    """A jurisdiction's campaign to simulate: its tree, units, hazard rates, behaviour, policies, targets.

    ``start`` .. ``end`` is the simulated span (inclusive days). ``stock_before`` separates the stock of
    major hazards (found before it: 存量) from new ones (增量); it defaults to ``start``. ``policies`` are
    policy classes or instances for the engine (empty: the national baseline). ``calendar_beyond_data``
    says what a deadline past the working calendar's last year does: ``"weekdays"`` counts Monday-Friday
    and marks it provisional (reported), ``"refuse"`` lets the engine refuse the command (counted).
    ``filings`` simulates the reporting obligations (报送任务) the policies name, owed by every business unit,
    township and township emergency office: opened month by month under the policies in force that day, and
    filed on time or late
    (``Behaviour.filing_lead_days``, ``late_filing_share``). ``look_back`` (a :class:`LookBack`) re-checks
    closed hazards and reopens some (回头看).
    """

    name: str
    name_en: str
    start: date
    end: date
    townships: tuple[Township, ...] = attrs.field(converter=tuple)
    rates: Rates
    areas: tuple[Area, ...] = attrs.field(converter=tuple, default=())
    phases: tuple[Phase, ...] = attrs.field(converter=tuple, default=())
    backlog: Backlog | None = None
    behaviour: Behaviour = Behaviour()
    behaviour_by_industry: Mapping[str, Behaviour] = attrs.field(converter=_frozen_map, factory=dict)
    size_mix: Mapping[str, float] = attrs.field(
        converter=_frozen_map, factory=lambda: {"small": 0.75, "medium": 0.2, "large": 0.05}
    )
    policies: tuple[Any, ...] = attrs.field(converter=tuple, default=())
    targets: tuple[Target, ...] = attrs.field(converter=tuple, default=())
    stock_before: date | None = None
    calendar_beyond_data: Literal["weekdays", "refuse"] = "weekdays"
    description: str = ""
    filings: bool = False
    look_back: LookBack | None = None

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("end", self.end.isoformat(), f"must not be before start ({self.start})")
        if not self.townships:
            raise InvalidInput("townships", (), "a scenario needs at least one township")
        seen: set[str] = set()
        for t in self.townships:
            if not isinstance(t, Township):
                raise InvalidInput("townships", type(t).__name__, "must hold Township objects")
            if t.code in seen:
                raise InvalidInput("townships", t.code, "a township is listed twice")
            seen.add(t.code)
        _shares("size_mix", self.size_mix, SIZES, total=True)
        for industry, b in self.behaviour_by_industry.items():
            _industry(f"behaviour_by_industry[{industry!r}]", industry)
            if not isinstance(b, Behaviour):
                raise InvalidInput(f"behaviour_by_industry[{industry!r}]", type(b).__name__, "must be a Behaviour")
        if self.backlog is not None:
            have = {i for t in self.townships for i, n in t.units.items() if n > 0}
            for grade, table in (("majors", self.backlog.majors), ("generals", self.backlog.generals)):
                for industry, n in table.items():
                    if n and industry not in have:
                        raise InvalidInput(
                            f"backlog.{grade}[{industry!r}]",
                            n,
                            "no township of the scenario has business units of this industry",
                            tuple(sorted(have)),
                        )
        for target in self.targets:
            if not isinstance(target, Target):
                raise InvalidInput("targets", type(target).__name__, "must be campaign targets (StockCleared, ...)")
        if self.calendar_beyond_data not in ("weekdays", "refuse"):
            raise InvalidInput(
                "calendar_beyond_data", self.calendar_beyond_data, "unknown behaviour", ("refuse", "weekdays")
            )

    @property
    def stock_cutoff(self) -> date:
        """Major hazards found before this day are the stock (存量)."""
        return self.stock_before or self.start

    @property
    def unit_count(self) -> int:
        """Business units in every township."""
        return sum(sum(t.units.values()) for t in self.townships)

    def behaviour_for(self, industry: str) -> Behaviour:
        """The behaviour of units (and officials) for hazards of ``industry``."""
        return self.behaviour_by_industry.get(industry, self.behaviour)

    def phase_multipliers(self, day: date) -> tuple[float, float]:
        """``(discovery, major)`` multipliers in force on ``day`` (the last phase listed wins)."""
        disc, major = 1.0, 1.0
        for p in self.phases:
            if p.start <= day <= p.end:
                disc, major = p.discovery, p.major
        return disc, major

    def with_policies(self, policies: tuple[Any, ...]) -> Scenario:
        """The same scenario under other policies (for comparisons)."""
        return attrs.evolve(self, policies=tuple(policies))
