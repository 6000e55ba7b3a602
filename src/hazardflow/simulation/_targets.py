"""Campaign targets, judged from the levels the simulation takes at their checkpoints.

The 2024-2026 治本攻坚 campaign [S16] sets three targets that the seed jurisdictions adopt word for word
[seed:000 一(二), seed:001, seed:004 四]: the stock of major hazards found in 2023 or earlier basically
cleared by the end of 2024 (2024年底前基本消除2023年及以前排查发现的重大事故隐患存量), new major hazards
effectively curbed by the end of 2025 (2025年底前有效遏制重大事故隐患增量) and dynamic zeroing as the normal
state by the end of 2026 (2026年底前形成重大事故隐患动态清零的常态化机制). The sources give no numbers
for "basically", "effectively" or "normal state"; each class below states the reading it measures
[inference], with its thresholds as parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from .._exceptions import InvalidInput

if TYPE_CHECKING:
    from ._kpi import Levels

__all__ = [
    "DynamicZero",
    "InflowCurbed",
    "MajorsGoverned",
    "StockCleared",
    "Target",
    "TargetOutcome",
    "month_ends",
    "quarter_ends",
]


def month_ends(first: date, last: date) -> tuple[date, ...]:
    """Every month's last day between ``first`` and ``last`` (inclusive)."""
    out = []
    year, month = first.year, first.month
    while True:
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        end = date.fromordinal(nxt.toordinal() - 1)
        if end > last:
            break
        out.append(end)
        year, month = nxt.year, nxt.month
    return tuple(out)


def quarter_ends(first: date, last: date) -> tuple[date, ...]:
    """Every quarter's last day between ``first`` and ``last`` (inclusive)."""
    return tuple(d for d in month_ends(first, last) if d.month % 3 == 0)


@attrs.frozen
class TargetOutcome:
    """A target judged: ``passed`` is None when the run ended before the target's checkpoint."""

    id: str
    name_zh: str
    name_en: str
    passed: bool | None
    value: float | None
    threshold: float
    detail_zh: str
    detail_en: str
    source: str
    at: date | None = None

    def to_json(self) -> dict[str, object]:
        out = attrs.asdict(self)
        out["at"] = self.at.isoformat() if self.at is not None else None
        return out


@runtime_checkable
class Target(Protocol):
    """A campaign target: the dates it needs levels at, and a verdict from those levels."""

    id: str

    def checkpoints(self) -> tuple[date, ...]:
        """The days (end of day) at which the simulation must take levels for this target."""
        ...

    def evaluate(self, levels: Mapping[date, Levels]) -> TargetOutcome:
        """Judge the target from the levels taken at its checkpoints (missing ones: not reached)."""
        ...


def _not_reached(t: Any, name_zh: str, name_en: str, source: str, threshold: float, day: date) -> TargetOutcome:
    return TargetOutcome(
        t.id,
        name_zh,
        name_en,
        None,
        None,
        threshold,
        f"模拟未运行到 {day}，无法判定（允许值 {threshold:g}）",
        f"the run ended before {day}; not judged (allowed: {threshold:g})",
        source,
        day,
    )


@attrs.frozen
class StockCleared:
    """Open major hazards found before ``found_before`` are at most ``allowed`` at the end of ``by``.

    Default: the stock found in 2023 or earlier is cleared by the end of 2024 [S16; seed:000 item 22]. "基本
    消除" (basically cleared) is read as zero open stock majors unless ``allowed`` says otherwise [inference].
    """

    by: date = date(2024, 12, 31)
    found_before: date = date(2024, 1, 1)
    allowed: int = 0
    id: str = "stock_cleared"
    source: str = "S16; seed:000 item 22; seed:004; inference"

    def checkpoints(self) -> tuple[date, ...]:
        return (self.by,)

    def evaluate(self, levels: Mapping[date, Levels]) -> TargetOutcome:
        zh = f"{self.by.year}年底前基本消除{self.found_before.year - 1}年及以前排查发现的重大事故隐患存量"
        en = f"stock of major hazards found before {self.found_before} cleared by {self.by}"
        lv = levels.get(self.by)
        if lv is None:
            return _not_reached(self, zh, en, self.source, self.allowed, self.by)
        last = date.fromordinal(self.found_before.toordinal() - 1)
        value = lv.majors_open_found_between(None, last)
        return TargetOutcome(
            self.id,
            zh,
            en,
            value <= self.allowed,
            float(value),
            float(self.allowed),
            f"{self.by} 存量重大隐患仍有 {value} 项未销号（允许 {self.allowed} 项）",
            f"{value} stock major hazards still open on {self.by} (allowed: {self.allowed})",
            self.source,
            self.by,
        )


@attrs.frozen
class InflowCurbed:
    """Open new major hazards at the end of ``by`` are no more than at the end of ``baseline`` (times ``ratio``).

    "有效遏制增量" (new majors effectively curbed) by the end of 2025 [S16; seed:000 一(二)] is read as: the
    number of open major hazards found since the campaign start does not grow from the end of 2024 to the
    end of 2025 [inference]; ``ratio`` below 1 asks for a reduction.
    """

    by: date = date(2025, 12, 31)
    baseline: date = date(2024, 12, 31)
    found_from: date = date(2024, 1, 1)
    ratio: float = 1.0
    id: str = "inflow_curbed"
    source: str = "S16; seed:000 一(二); seed:004; inference"

    def __attrs_post_init__(self) -> None:
        if not self.ratio > 0:
            raise InvalidInput("ratio", self.ratio, "must be above zero")

    def checkpoints(self) -> tuple[date, ...]:
        return (self.baseline, self.by)

    def evaluate(self, levels: Mapping[date, Levels]) -> TargetOutcome:
        zh = f"{self.by.year}年底前有效遏制重大事故隐患增量"
        en = f"new major hazards effectively curbed by {self.by}"
        base, end = levels.get(self.baseline), levels.get(self.by)
        if base is None or end is None:
            return _not_reached(self, zh, en, self.source, self.ratio, self.by)
        before = base.majors_open_found_between(self.found_from, None)
        after = end.majors_open_found_between(self.found_from, None)
        limit = before * self.ratio
        return TargetOutcome(
            self.id,
            zh,
            en,
            after <= limit,
            float(after),
            float(limit),
            f"{self.by} 未销号的新增重大隐患 {after} 项，{self.baseline} 为 {before} 项"
            + (
                f"（允许：不多于 {self.baseline} 的 {before} 项）"
                if self.ratio == 1
                else f"（允许：不多于 {self.baseline} 的 {self.ratio:g} 倍，即 {limit:g} 项）"
            ),
            f"{after} new major hazards open on {self.by} against {before} on {self.baseline} "
            + (
                f"(allowed: no more than the {before} of {self.baseline})"
                if self.ratio == 1
                else f"(allowed: {self.ratio:g} times the {before} of {self.baseline}, i.e. {limit:g})"
            ),
            self.source,
            self.by,
        )


@attrs.frozen
class DynamicZero:
    """At every quarter end from ``first`` to ``last`` no open major hazard is past its deadline.

    "动态清零" as the normal state by the end of 2026 [S16; seed:000 一(二)] is read as: hazards keep being found
    (dynamic), but every open major hazard is within its deadline at each quarter end of the year
    [inference]; ``allowed`` overdue majors are tolerated.
    """

    first: date = date(2026, 1, 1)
    last: date = date(2026, 12, 31)
    allowed: int = 0
    id: str = "dynamic_zero"
    source: str = "S16; seed:000 一(二); seed:004; inference"

    def checkpoints(self) -> tuple[date, ...]:
        return quarter_ends(self.first, self.last)

    def evaluate(self, levels: Mapping[date, Levels]) -> TargetOutcome:
        zh = f"{self.last.year}年底前形成重大事故隐患动态清零常态化机制"
        en = f"dynamic zeroing of major hazards as the normal state by {self.last}"
        days = self.checkpoints()
        have = [levels[d] for d in days if d in levels]
        if not days or len(have) < len(days):
            return _not_reached(self, zh, en, self.source, self.allowed, self.last)
        worst = max(lv.overdue.get("major", 0) for lv in have)
        bad = [lv.at.isoformat() for lv in have if lv.overdue.get("major", 0) > self.allowed]
        return TargetOutcome(
            self.id,
            zh,
            en,
            worst <= self.allowed,
            float(worst),
            float(self.allowed),
            f"各季末逾期未销号重大隐患最多 {worst} 项（允许 {self.allowed} 项）"
            + (f"，超出的季末：{'、'.join(bad)}" if bad else ""),
            f"at most {worst} overdue open major hazards at a quarter end (allowed: {self.allowed})"
            + (f"; over on {', '.join(bad)}" if bad else ""),
            self.source,
            self.last,
        )


@attrs.frozen
class MajorsGoverned:
    """Every major hazard found by ``found_by`` has an adopted plan (五落实) or is closed by ``by``.

    三星乡's 2023 action: a ledger by the end of August (集中排查), and by the end of November every major
    hazard under 措施、责任、资金、时限和预案 "五落实" (重点整治) [seed:002 四(二)(三)].
    """

    found_by: date = date(2023, 8, 31)
    by: date = date(2023, 11, 30)
    allowed: int = 0
    id: str = "majors_governed"
    source: str = "seed:002 四(二)(三)"

    def checkpoints(self) -> tuple[date, ...]:
        return (self.by,)

    def evaluate(self, levels: Mapping[date, Levels]) -> TargetOutcome:
        zh = f"{self.found_by}前排查的重大隐患于{self.by}前全部落实“五落实”"
        en = f"every major hazard found by {self.found_by} under an adopted plan (五落实) by {self.by}"
        lv = levels.get(self.by)
        if lv is None:
            return _not_reached(self, zh, en, self.source, self.allowed, self.by)
        value = lv.majors_unplanned_found_by(self.found_by)
        return TargetOutcome(
            self.id,
            zh,
            en,
            value <= self.allowed,
            float(value),
            float(self.allowed),
            f"{self.by} 仍有 {value} 项重大隐患未落实治理方案（允许 {self.allowed} 项）",
            f"{value} major hazards still without an adopted plan on {self.by} (allowed: {self.allowed})",
            self.source,
            self.by,
        )
