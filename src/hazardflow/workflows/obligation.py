"""The ``report_obligation`` lifecycle: a periodic report a party owes by a calendar date (报送任务).

16号令 §14 makes a unit file its hazard statistics quarterly, before the 15th of the first month of the next
quarter, and yearly, before 31 January [S1 §14]; township plans add monthly progress reports "before the
29th of each month" and an annual summary "before 1 December" [seed:000 保障(六)]. Each obligation of a
party for one period is a case: ``open_obligation`` opens it in state ``due`` with its deadline pinned from
the policy's :class:`~hazardflow.policies.base.ReportingObligation` (the calendar-date rule counted from the
first day of the period), ``fulfil`` files it. While it is due, the same timers as any stage deadline run:
reminders before the date (``remind``, non-interrupting), ``mark_overdue`` at 24:00 of the last day, then the
policy's overdue ladder against the party that owes the report (函告 → 通报 → 约谈 → 曝光). Filing stops the
ladder; a late filing is recorded as late.

Periods are written ``2026-W07`` (ISO week, Monday to Sunday), ``2026-02-H1`` (half month: the 1st to the
15th; ``H2`` the 16th to the month's end), ``2026-02`` (month), ``2026-Q1`` (quarter), ``2026-H1`` (half year)
and ``2026`` (year). Weekly and half-monthly cadences are 衡阳's "每周一统计、每半月一调度" [seed:003 item 6].
:func:`open_obligations` (also :meth:`hazardflow.Engine.open_obligations`) opens every obligation a party owes
for a range of periods, once: calling it again returns the cases already open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from .._calendar import SHANGHAI, local_date
from .._exceptions import InvalidInput
from .._lifecycle import Field, LifecycleSpec, State, Transition, Workflow, guard
from .._model import GuardResult
from ._common import TIMER_EFFECTS, timer_rows

if TYPE_CHECKING:
    from .._model import Actor, Case
    from .._rules import ReportingObligation
    from ..abc import CommandContext, EngineHandle

__all__ = [
    "OBLIGATION",
    "OBLIGATION_SPEC",
    "Period",
    "open_obligations",
    "period_start",
    "periods_between",
]

Period = Literal["week", "half_month", "month", "quarter", "half_year", "year"]

#: Offices that open obligations and record filings they receive (安委办, 应急办, supervisors).
OFFICES = ("safety_committee_office", "emergency_office", "supervisor", "township_officer")
#: Those who file: the unit's people, a department's staff, a township's officers, or the receiving office.
FILERS = ("safety_manager", "principal_officer", "sector_department", *OFFICES)
RECEIVING_OFFICES = frozenset({"safety_committee_office", "emergency_office", "supervisor"})

OPEN = (
    Field("obligation", "str"),
    Field("period", "str", max_length=10),
    Field("party_kind", "choice", choices="party"),
    Field("party_id", "str"),
    Field("party_name", "str", required=False),
)
FULFIL = (
    Field("document_no", "str", required=False),
    Field("summary", "text", required=False),
    Field("attachments", "str_list", required=False),
)

# fmt: off
OBLIGATION_SPEC = LifecycleSpec(
    id="report_obligation",
    id_prefix="RO",
    initial="due",
    states=(
        State("due",       deadline="obligation"),
        State("fulfilled", terminal=True),
    ),
    transitions=(
        #          trigger            sources   dest         roles    scope   guards                                   payload  effects
        Transition("open_obligation", (),       "due",       OFFICES, "case", ("obligation_of_policy", "period_valid"), OPEN,    ("init_obligation",), event="obligation.opened"),
        Transition("fulfil",          ("due",), "fulfilled", FILERS,  "case", ("filed_by_party",),                     FULFIL,  ("record_filing",),   event="obligation.fulfilled"),
        *timer_rows(("due",)),
    ),
)
# fmt: on

_PATTERNS: dict[str, re.Pattern[str]] = {
    "week": re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$"),
    "half_month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-H([12])$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "half_year": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}
_EXAMPLES = {
    "week": "2026-W07",
    "half_month": "2026-02-H1",
    "month": "2026-02",
    "quarter": "2026-Q1",
    "half_year": "2026-H1",
    "year": "2026",
}


def period_start(period: Period, label: str) -> date:
    """The first day of the period ``label`` (``2026-W07``, ``2026-02-H1``, ``2026-02``, ``2026-Q1``, ``2026-H1``,
    ``2026``)."""
    pattern = _PATTERNS.get(period)
    if pattern is None:
        raise InvalidInput("period", period, "unknown kind of period", allowed=tuple(sorted(_PATTERNS)))
    m = pattern.match(label) if isinstance(label, str) else None
    if m is None:
        raise InvalidInput("period", label, f"is not a {period} period; write it like {_EXAMPLES[period]!r}")
    year = int(m.group(1))
    if period == "week":
        try:
            return date.fromisocalendar(year, int(m.group(2)), 1)
        except ValueError:
            raise InvalidInput("period", label, f"ISO year {year} has no week {int(m.group(2))}") from None
    if period == "half_month":
        return date(year, int(m.group(2)), 1 if m.group(3) == "1" else 16)
    if period == "month":
        return date(year, int(m.group(2)), 1)
    if period == "quarter":
        return date(year, (int(m.group(2)) - 1) * 3 + 1, 1)
    if period == "half_year":
        return date(year, 1 if m.group(2) == "1" else 7, 1)
    return date(year, 1, 1)


def _label(period: Period, day: date) -> str:
    if period == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if period == "half_month":
        return f"{day.year}-{day.month:02d}-H{1 if day.day <= 15 else 2}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if period == "half_year":
        return f"{day.year}-H{1 if day.month <= 6 else 2}"
    return f"{day.year}"


def _next(period: Period, day: date) -> date:
    if period == "week":
        return day + timedelta(days=7)
    if period == "half_month" and day.day == 1:
        return day.replace(day=16)
    if period == "half_month":
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    step = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[period]
    month0 = day.month - 1 + step
    return date(day.year + month0 // 12, month0 % 12 + 1, 1)


def periods_between(period: Period, start: date, end: date) -> list[str]:
    """Labels of every ``period`` that overlaps ``start``..``end`` (both inclusive), oldest first."""
    if period not in _PATTERNS:
        raise InvalidInput("period", period, "unknown kind of period", allowed=tuple(sorted(_PATTERNS)))
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidInput(name, value, "must be a date (datetime.date)")
    if end < start:
        raise InvalidInput("end", end.isoformat(), f"must not be before start ({start.isoformat()})")
    cursor = period_start(period, _label(period, start))
    out = []
    while cursor <= end:
        out.append(_label(period, cursor))
        cursor = _next(period, cursor)
    return out


def _obligation(ctx: CommandContext) -> ReportingObligation | None:
    wanted = ctx.payload.get("obligation")
    for ob in ctx.policy.reporting_obligations():
        if ob.id == wanted:
            return ob
    return None


# ── guards ─────────────────────────────────────────────────────────────────────────────────────────
@guard(needs_payload=True)
def obligation_of_policy(ctx: CommandContext) -> GuardResult:
    ob = _obligation(ctx)
    if ob is None:
        known = ", ".join(sorted(o.id for o in ctx.policy.reporting_obligations())) or "none"
        return GuardResult.deny(
            f"本辖区政策没有报送任务 {ctx.payload['obligation']!r}",
            f"the jurisdiction's policy names no reporting obligation {ctx.payload['obligation']!r}; known: {known}",
        )
    if ob.party != ctx.payload["party_kind"]:
        return GuardResult.deny(
            "该报送任务不由此类主体承担",
            f"obligation {ob.id!r} is owed by a {ob.party}, not a {ctx.payload['party_kind']}",
        )
    return GuardResult.allow()


@guard(needs_payload=True)
def period_valid(ctx: CommandContext) -> GuardResult:
    ob = _obligation(ctx)
    if ob is None:
        return GuardResult.allow()  # obligation_of_policy refuses it
    if not _PATTERNS[ob.period].match(ctx.payload["period"]):
        return GuardResult.deny(
            f"报送期间格式应为 {_EXAMPLES[ob.period]}",
            f"obligation {ob.id!r} is per {ob.period}; write the period like {_EXAMPLES[ob.period]!r}",
        )
    return GuardResult.allow()


@guard()
def filed_by_party(ctx: CommandContext) -> GuardResult:
    # The unit's own people are bound to their unit by the engine (business_unit); a department or a
    # township files for itself; the receiving office may record a filing it received [inference].
    f = ctx.case.fields
    kind, party = f.get("party_kind"), f.get("party_id")
    if ctx.role in RECEIVING_OFFICES:
        return GuardResult.allow()
    if kind == "business_unit":
        return GuardResult.allow()  # enterprise roles were checked against business_unit already
    if ctx.actor.org == party or (kind == "township" and ctx.actor.jurisdiction == party):
        return GuardResult.allow()
    return GuardResult.deny(
        "报送须由承担报送任务的主体或接收机关办理",
        f"the report is owed by {kind} {party!r}; only that party or the receiving office may file it",
    )


# ── effects ────────────────────────────────────────────────────────────────────────────────────────
def init_obligation(ctx: CommandContext) -> None:
    ob = _obligation(ctx)
    assert ob is not None  # the guards ran
    p = ctx.payload
    first = period_start(ob.period, p["period"])
    u = ctx.updates
    u["obligation"] = ob.id
    u["period_kind"] = ob.period
    u["period_start"] = first.isoformat()
    u["party_kind"] = p["party_kind"]
    u["party_id"] = p["party_id"]
    if p["party_kind"] == "business_unit":
        u["business_unit"] = p["party_id"]  # so the unit's own people may file it
    # The rule is counted from the first day of the period (下一季度15日前 from 1 October → 15 January).
    ctx.pin("obligation", ob.due, start=datetime.combine(first, time(0, 0), SHANGHAI))


def record_filing(ctx: CommandContext) -> None:
    deadline = ctx.case.deadline
    on_time = deadline is None or ctx.now < deadline.due_at
    ctx.updates.update(
        fulfilled_by=ctx.actor.id,
        fulfilled_on=local_date(ctx.now).isoformat(),
        on_time=on_time,
    )


OBLIGATION = Workflow(
    OBLIGATION_SPEC,
    guards={
        "obligation_of_policy": obligation_of_policy,
        "period_valid": period_valid,
        "filed_by_party": filed_by_party,
    },
    effects={"init_obligation": init_obligation, "record_filing": record_filing, **TIMER_EFFECTS},
)


def open_obligations(
    engine: EngineHandle,
    party_id: str,
    *,
    party_kind: Literal["business_unit", "department", "township"],
    jurisdiction: str,
    start: date,
    end: date,
    actor: Actor,
    obligations: Iterable[str] | None = None,
) -> list[Case]:
    """Open every reporting obligation ``party_id`` owes for the periods overlapping ``start``..``end``.

    The obligations come from the policy that governs ``jurisdiction`` now
    (``policy.reporting_obligations()``), those owed by a ``party_kind``, or only the ids in
    ``obligations``. Each (obligation, party, period) is opened once, in one transaction: a second call
    returns the cases already open. Returns the cases, by obligation then period.
    """
    policy = engine.policies.resolve(jurisdiction, engine.now())
    owed: Sequence[ReportingObligation] = [o for o in policy.reporting_obligations() if o.party == party_kind]
    if obligations is not None:
        if isinstance(obligations, str) or not isinstance(obligations, Iterable):
            raise InvalidInput(
                "obligations",
                obligations if isinstance(obligations, str) else type(obligations).__name__,
                "must be an iterable of obligation ids (a list, a tuple), not a single value",
            )
        wanted = list(obligations)
        known = {o.id for o in owed}
        for w in wanted:
            if not isinstance(w, str) or w not in known:
                raise InvalidInput(
                    "obligations",
                    w,
                    f"is not an obligation a {party_kind} owes under {policy.policy_id}@{policy.policy_version}",
                    allowed=tuple(sorted(known)),
                )
        owed = [o for o in owed if o.id in wanted]
    plan = [(o, label) for o in owed for label in periods_between(o.period, start, end)]
    out: list[Case] = []
    with engine.batch():
        for ob, label in plan:
            case = engine.open_case(
                "report_obligation",
                actor=actor,
                jurisdiction=jurisdiction,
                idempotency_key=f"{ob.id}/{party_kind}:{party_id}/{label}",
                obligation=ob.id,
                period=label,
                party_kind=party_kind,
                party_id=party_id,
            )
            out.append(case)
    return out
