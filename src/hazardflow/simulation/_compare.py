"""One seed under two policies, side by side.

Both runs meet the same hazards — found in the same units at the same instants — and the same people, as
fast or as slow as before (the draws are keyed by the arrival and the purpose, never by the order of
events), so a difference between the two columns is an effect of the rule that changed, not of luck.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

import attrs

from .._exceptions import InvalidInput
from .._glossary import en, zh
from ._result import Period, SimulationResult
from ._runner import Progress, simulate
from ._scenario import Scenario

__all__ = ["Comparison", "Row", "compare", "replace_policies"]


def _jurisdiction_of(policy: Any) -> str:
    code = getattr(policy, "jurisdiction", None)
    if not isinstance(code, str):
        raise InvalidInput("policy", repr(policy), "must be a policy class or instance with a jurisdiction")
    return code


def _name(policy: Any) -> str:
    """``cn.sx.gaoping.sanjia@2024.1+review-5wd 三甲镇``: the policy's id, version and 中文 name, as people know it."""
    pid, version, name = (getattr(policy, a, None) for a in ("policy_id", "policy_version", "name"))
    if isinstance(pid, str) and isinstance(version, str):
        return f"{pid}@{version}" + (f" {name}" if isinstance(name, str) and name else "")
    return str(getattr(policy, "__name__", type(policy).__name__))


def replace_policies(scenario: Scenario, others: Sequence[Any]) -> Scenario:
    """``scenario`` with ``others`` in force: each replaces the scenario's policy of the same jurisdiction."""
    codes = {_jurisdiction_of(p) for p in others}
    kept = [p for p in scenario.policies if _jurisdiction_of(p) not in codes]
    return scenario.with_policies((*kept, *others))


@attrs.frozen
class Row:
    """One figure in both runs: ``key`` is stable (for JSON), ``zh``/``en`` label it."""

    key: str
    zh: str
    en: str
    base: float | None
    other: float | None

    @property
    def delta(self) -> float | None:
        if self.base is None or self.other is None:
            return None
        return round(self.other - self.base, 4)


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _rows_for(p: Period, q: Period) -> list[Row]:
    rows: list[Row] = []

    def add(key: str, zh: str, en: str, f: Callable[[Period], Any]) -> None:
        rows.append(Row(f"{p.label}.{key}", f"{p.label} {zh}", f"{p.label} {en}", _num(f(p)), _num(f(q))))

    add("opened", "新发现隐患", "hazards found", lambda x: x.total_opened())
    add("closed", "销号隐患", "hazards closed", lambda x: x.closed())
    add("on_time_rate", "按期销号率", "on-time closure rate", lambda x: x.on_time_rate())
    add(
        "on_time_rate.general", "一般隐患按期销号率", "on-time rate, general", lambda x: x.on_time_rate(grade="general")
    )
    add("on_time_rate.major", "重大隐患按期销号率", "on-time rate, major", lambda x: x.on_time_rate(grade="major"))
    add("days_to_close.mean", "平均销号天数", "mean days to close", lambda x: x.days_to_close()["mean"])
    add("days_to_close.median", "销号天数中位数", "median days to close", lambda x: x.days_to_close()["median"])

    def missed(key: str) -> Callable[[Period], int]:
        return lambda x: x.flows.missed.get(key, 0)

    def reached(rung: int) -> Callable[[Period], int]:
        return lambda x: x.flows.reached.get(rung, 0)

    for key in sorted(set(p.flows.missed) | set(q.flows.missed)):
        add(f"missed.{key}", f"逾期：{zh('deadline', key)}", f"missed: {en('deadline', key)}", missed(key))
    for r in sorted(set(p.flows.reached) | set(q.flows.reached)):
        add(f"rung.{r}", f"达到第{r}级督办", f"cases reaching rung {r}", reached(r))
    add("extensions", "延期申请", "extension requests", lambda x: x.event_count("hazard", "request_extension"))
    add("rejections", "审核不通过", "reviews rejected", lambda x: x.event_count("hazard", "reject"))
    add(
        "escalations",
        "提级（蓄水池）",
        "escalations proposed",
        lambda x: x.event_count("escalation", "propose_escalation"),
    )
    add("refused", "被规则拒绝的操作", "commands refused by the rules", lambda x: sum(x.flows.refused.values()))
    add("open_majors", "期末未销号重大隐患", "open major hazards at the end", lambda x: x.levels.open_majors)
    add("open_majors.stock", "其中存量", "of which stock", lambda x: x.levels.open_majors_stock)
    add("open_majors.new", "其中增量", "of which new", lambda x: x.levels.open_majors_new)
    add("overdue", "期末逾期未销号", "overdue open cases at the end", lambda x: sum(x.levels.overdue.values()))
    return rows


@attrs.define
class Comparison:
    """Two runs of one scenario and seed under two sets of policies."""

    base: SimulationResult
    other: SimulationResult
    base_label: str
    other_label: str

    def rows(self, labels: Iterable[str] | None = None) -> list[Row]:
        """Figures of each year (and the whole run), base beside other."""
        wanted = list(labels) if labels is not None else [p.label for p in self.base.of_kind("year", "total")]
        out: list[Row] = []
        for label in wanted:
            out.extend(_rows_for(self.base.period(label), self.other.period(label)))
        return out

    def differences(self) -> list[Row]:
        """Only the rows whose figures differ."""
        return [r for r in self.rows() if r.base != r.other]

    def to_json(self) -> dict[str, Any]:
        return {
            "base": {"label": self.base_label, "result": self.base.to_json()},
            "other": {"label": self.other_label, "result": self.other.to_json()},
            "rows": [
                {"key": r.key, "zh": r.zh, "en": r.en, "base": r.base, "other": r.other, "delta": r.delta}
                for r in self.rows()
            ],
            "targets": [
                {"id": a.id, "base": a.passed, "other": b.passed}
                for a, b in zip(self.base.targets, self.other.targets, strict=True)
            ],
        }


def compare(
    scenario: Scenario,
    other_policies: Sequence[Any],
    *,
    seed: int,
    until: date | None = None,
    url: str | None = None,
    other_url: str | None = None,
    progress: Callable[[str, Progress], None] | None = None,
) -> Comparison:
    """Run ``scenario`` with ``seed`` as written, then with ``other_policies`` in force; same hazards, same people."""
    if not other_policies:
        raise InvalidInput("other_policies", (), "name at least one policy to compare with")
    variant = replace_policies(scenario, other_policies)

    def hook(name: str) -> Callable[[Progress], None] | None:
        if progress is None:
            return None
        return lambda p: progress(name, p)

    base = simulate(scenario, seed=seed, until=until, url=url, progress=hook("base"))
    other = simulate(variant, seed=seed, until=until, url=other_url, progress=hook("other"))
    label = ", ".join(_name(p) for p in other_policies)
    # The base column is named after the policies the other ones replace (the rest is common to both runs).
    codes = {_jurisdiction_of(p) for p in other_policies}
    replaced = [p for p in scenario.policies if _jurisdiction_of(p) in codes]
    if not replaced and "000000" in codes:
        from ..policies.base import NationalBaseline

        replaced = [NationalBaseline]
    base_label = ", ".join(_name(p) for p in replaced) or "base"
    return Comparison(base, other, base_label, label)
