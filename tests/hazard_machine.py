"""A Hypothesis state machine that runs random people's commands on hazard cases and checks them against a model.

The model (:class:`Model`) is a plain-dict restatement of the hazard lifecycle, written from the domain rules and
not from the engine's code: which trigger leads where from which state, which roles may fire it and where they
must sit, the rule each command must satisfy, and what it records. Every command goes to the engine *and* to the
model; the outcome (accepted with the model's new state, or refused with the model's error type) must agree, a
refused command must leave the store exactly as it was, and after every step the invariants of DESIGN.md hold:

1. a case is closed only after an approved review by an authorized actor who neither rectified nor submitted it
   (a listed case also needs the listing authority's delisting);
2. a major hazard never starts rectification before it is reported to every recipient the policy names, and
   listed where the policy requires listing;
3. every accepted command appends exactly one event per case it changes; the hash chains verify and replaying
   the events reproduces each stored case;
4. once supervision moved up, the lower tier can no longer approve, reject or void;

plus: ``allowed()`` lists exactly the triggers ``fire()`` accepts with a valid payload, open cases with a running
deadline have exactly one armed deadline timer, terminal cases have none.

Plug any store in with :func:`machine_for` (the memory store here; the SQL stores in their own test modules)::

    TestHazardOnSqlite = machine_for(lambda: SqlStore("sqlite://"), "HazardOnSqlite")
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from hazard_world import COUNTY, OTHER_TOWNSHIP, OTHER_UNIT, REPORT_BODY, TOWNSHIP, UNIT, People, StrictCounty
from hazardflow import (
    SYSTEM,
    Actor,
    Case,
    CaseNotFoundError,
    CommandRefused,
    Engine,
    GuardRejected,
    HazardflowError,
    InvalidInput,
    NotAuthorized,
    SequentialIds,
    SimulatedClock,
    TransitionNotAllowed,
    replay,
)
from hazardflow._calendar import local_date
from hazardflow._jurisdiction import is_within, level_of
from hazardflow.abc import Store
from hazardflow.policies import NationalBaseline
from hazardflow.testing import snapshot_store

# ── the model: the hazard lifecycle restated as plain data ────────────────────────────────────────────

UNIT_ROLES = frozenset({"inspector", "safety_manager", "principal_officer"})
GOV = frozenset({"supervisor", "sector_department", "township_officer", "safety_committee_office", "fire_rescue"})
ACTIVE = ("registered", "confirming", "reporting", "rectifying", "extension_requested", "under_review")
OPEN = (*ACTIVE, "awaiting_delisting")
TIMED = OPEN[1:]
TERMINAL = ("closed", "voided")

#: (state, trigger) → next state; None keeps the state. ``approve`` from review depends on the listing.
TABLE: dict[tuple[str, str], str | None] = {
    ("registered", "fix_on_spot"): "closed",
    ("registered", "set_deadline"): "rectifying",
    ("registered", "confirm_major"): "confirming",
    ("confirming", "confirm_major"): "confirming",
    ("confirming", "report"): "reporting",
    ("reporting", "report"): "reporting",
    ("reporting", "adopt_plan"): "rectifying",
    ("rectifying", "submit_review"): "under_review",
    ("under_review", "approve"): "closed",
    ("under_review", "reject"): "rectifying",
    ("awaiting_delisting", "delist"): "closed",
    ("rectifying", "request_extension"): "extension_requested",
    ("extension_requested", "grant_extension"): "rectifying",
    ("extension_requested", "deny_extension"): "rectifying",
    ("closed", "reopen"): "rectifying",
    **{(s, "list_for_supervision"): None for s in ("reporting", "rectifying", "extension_requested", "under_review")},
    **{(s, "void"): "voided" for s in ACTIVE},
    **{(s, t): None for s in OPEN for t in ("order_stop", "lift_stop", "assign_department")},
}
PERSON_TRIGGERS = tuple(sorted({t for _, t in TABLE}))
#: Triggers beside the main path (drawn less often when moving a case on).
SIDE_TRIGGERS = frozenset({"void", "order_stop", "lift_stop", "assign_department"})
#: Triggers only the engine fires, and the states they exist in.
SYSTEM_TRIGGERS: dict[str, tuple[str, ...]] = {
    "mark_overdue": TIMED,
    "remind": TIMED,
    "sanction": TIMED,
    "transfer_supervision": OPEN,
    "link_tipoff": OPEN,
}

LISTING_AUTHORITY = frozenset({"safety_committee_office", "supervisor"})
#: Who may fire what, and where: "case" (the case's jurisdiction) or "owner" (the tier that supervises it).
ROLES: dict[str, tuple[frozenset[str], str]] = {
    "register": (UNIT_ROLES | GOV, "case"),
    "fix_on_spot": (UNIT_ROLES | GOV, "owner"),  # it closes the case: the supervising tier's call
    "set_deadline": (frozenset({"safety_manager", "principal_officer"}) | GOV, "case"),
    "confirm_major": (frozenset({"safety_manager", "principal_officer"}) | GOV, "case"),
    "report": (frozenset({"safety_manager", "principal_officer"}), "case"),
    "list_for_supervision": (LISTING_AUTHORITY, "owner"),
    "adopt_plan": (frozenset({"principal_officer"}), "case"),
    "submit_review": (frozenset({"safety_manager", "principal_officer"}), "case"),
    "delist": (LISTING_AUTHORITY, "owner"),
    "request_extension": (frozenset({"principal_officer"}), "case"),
    "grant_extension": (frozenset({"safety_manager"}) | GOV, "owner"),
    "deny_extension": (frozenset({"safety_manager"}) | GOV, "owner"),
    "void": (frozenset({"safety_manager"}) | GOV, "owner"),
    "reopen": (GOV, "owner"),
    "order_stop": (
        frozenset({"principal_officer", "supervisor", "sector_department", "township_officer", "fire_rescue"}),
        "case",
    ),
    "lift_stop": (frozenset({"supervisor", "sector_department", "township_officer", "fire_rescue"}), "case"),
    "assign_department": (frozenset({"township_officer", "emergency_office", "safety_committee_office"}), "owner"),
}
#: 审核销号: majors by territorial departments, generals also by the unit's safety department [S1 §23; seed:000].
MAJOR_REVIEWERS = frozenset({"supervisor", "sector_department", "township_officer", "fire_rescue"})
GENERAL_REVIEWERS = frozenset({"safety_manager"}) | GOV
LEVEL_RANK = {"village": 0, "township": 1, "county": 2, "city": 3, "province": 4, "national": 5}
DEPARTMENTS = ("emergency_management", "fire_department", "housing_construction", "transport")


class StrictTownshipRules(StrictCounty):
    """The stricter county, without the working-day lead time for extensions (the unit tests cover that)."""

    policy_id = "test.strict-county-stateful"
    extension_lead = None


#: Anyone: the unit's people, the township, the county, neighbours, and people who must be refused.
EVERYONE = (
    People.inspector,
    People.fixer,
    People.manager,
    People.boss,
    People.other_unit_manager,
    People.officer,
    People.officer2,
    People.other_officer,
    People.township_supervisor,
    People.supervisor,
    People.other_county_supervisor,
    People.committee,
    People.city_committee,
    People.clerk,
    Actor("e-dual", "兼任", {"principal_officer", "safety_manager"}, UNIT, TOWNSHIP),
    Actor("x-sys", "冒充系统", {"system", "supervisor"}, "hazardflow", COUNTY),
)


def actors() -> st.SearchStrategy[Actor]:
    return st.sampled_from(EVERYONE)


class Model:
    """What the rules say about one case, as a plain dict."""

    def __init__(self, policy: NationalBaseline) -> None:
        self.policy = policy

    def open_fields(
        self, actor: Actor, payload: dict[str, Any], jurisdiction: str
    ) -> tuple[type | None, dict[str, Any]]:
        """The error ``register`` must raise (or None) and the facts of the new case."""
        m = {
            "state": "registered",
            "grade": payload.get("grade"),
            "industry": payload.get("industry"),
            "unit": payload.get("business_unit"),
            "jurisdiction": jurisdiction,
            "owning": jurisdiction,
            "listed": False,
            "listing_at": None,
            "stop": "none",
            "confirmed_by": [],
            "reported_to": set(),
            "rectified_by": None,
            "submitted_by": None,
            "extension_by": None,
            "rectify_day": None,
            "department": "emergency_management",
        }
        if "system" in actor.roles:
            return NotAuthorized, m
        if payload.get("_malformed"):
            return InvalidInput, m
        if self.authorizing_role("register", m, actor) is None:
            return NotAuthorized, m
        if payload["source"] in ("public_report_verified", "internal_whistleblower"):
            return GuardRejected, m
        if payload["grade"] == "major" and self.policy.require_criteria_for_major and not payload.get("criteria"):
            return GuardRejected, m
        return None, m

    def authorizing_role(self, trigger: str, m: dict[str, Any], actor: Actor) -> str | None:
        if trigger in ("approve", "reject"):
            roles, scope = (MAJOR_REVIEWERS if m["grade"] == "major" else GENERAL_REVIEWERS), "owner"
        else:
            roles, scope = ROLES[trigger]
        for role in sorted(actor.roles & roles):
            if role in UNIT_ROLES:
                if actor.org == m["unit"] and not (scope == "owner" and m["owning"] != m["jurisdiction"]):
                    return role
                continue
            target = m["owning"] if scope == "owner" else m["jurisdiction"]
            if is_within(target, actor.jurisdiction):
                return role
        return None

    def outcome(
        self, m: dict[str, Any], trigger: str, actor: Actor, payload: dict[str, Any], today: date
    ) -> type | None:
        """The error type the command must raise, or None when it must be accepted."""
        state = m["state"]
        if "system" in actor.roles:
            return NotAuthorized
        if trigger in SYSTEM_TRIGGERS:
            return NotAuthorized if state in SYSTEM_TRIGGERS[trigger] else TransitionNotAllowed
        if (state, trigger) not in TABLE:
            return TransitionNotAllowed
        role = self.authorizing_role(trigger, m, actor)
        if role is None:
            return NotAuthorized
        if payload.get("_malformed"):
            return InvalidInput
        return None if self.rule_holds(m, trigger, actor, role, payload, today) else GuardRejected

    def rule_holds(
        self, m: dict[str, Any], trigger: str, actor: Actor, role: str, p: dict[str, Any], today: date
    ) -> bool:
        major = m["grade"] == "major"
        recipients = set(self.policy.report_recipients)
        levels = self.policy.confirmation_level_count
        if trigger == "fix_on_spot":
            spot_ok = not (isinstance(self.policy, StrictCounty) and m["industry"] == "chemicals")
            return not major and spot_ok and p["fixed_by"] != actor.id
        if trigger == "set_deadline":
            return not major and date.fromisoformat(p["deadline"]) >= today
        if trigger == "confirm_major":
            return major and len(m["confirmed_by"]) < levels and actor.id not in m["confirmed_by"]
        if trigger == "report":
            return (
                len(m["confirmed_by"]) >= levels
                and not recipients <= m["reported_to"]
                and p["recipient"] not in m["reported_to"]
            )
        if trigger == "list_for_supervision":
            return major and not m["listed"] and LEVEL_RANK[level_of(actor.jurisdiction)] >= LEVEL_RANK["county"]
        if trigger == "adopt_plan":
            listed_ok = m["listed"] or not self.policy.listing_rule.required
            plan_ok = p["funds_amount"] > 0 and date.fromisoformat(p["deadline"]) >= today
            return recipients <= m["reported_to"] and listed_ok and plan_ok
        if trigger == "submit_review":
            return not major or bool(p.get("evaluation_report"))
        if trigger in ("approve", "reject"):
            return actor.id not in (m["rectified_by"], m["submitted_by"])
        if trigger == "delist":
            # 挂牌督办 by X is 摘牌 by X: the same organisation of the same jurisdiction.
            return m["listing_at"] is not None and m["listing_at"] == (actor.jurisdiction, actor.org)
        if trigger == "request_extension":
            return m["rectify_day"] is None or date.fromisoformat(p["requested_deadline"]) > m["rectify_day"]
        if trigger == "grant_extension":
            new = p.get("new_deadline")
            return actor.id != m["extension_by"] and (new is None or date.fromisoformat(new) >= today)
        if trigger == "deny_extension":
            return actor.id != m["extension_by"]
        if trigger == "void":
            return role not in UNIT_ROLES or m["state"] == "registered"
        if trigger == "reopen":
            return date.fromisoformat(p["deadline"]) >= today
        if trigger == "order_stop":
            return p["level"] != m["stop"]
        if trigger == "lift_stop":
            return m["stop"] != "none" and not (major and self.policy.stop_every_major)
        if trigger == "assign_department":
            return p["department"] != m["department"]
        raise AssertionError(trigger)

    def apply(self, m: dict[str, Any], trigger: str, actor: Actor, p: dict[str, Any], today: date) -> None:
        """Record an accepted command."""
        dest = TABLE[(m["state"], trigger)]
        if trigger == "approve" and m["listed"]:
            dest = "awaiting_delisting"
        if trigger == "fix_on_spot":
            m["rectified_by"] = p["fixed_by"]
        elif trigger == "set_deadline":
            m["rectify_day"] = date.fromisoformat(p["deadline"])
        elif trigger == "confirm_major":
            m["confirmed_by"].append(actor.id)
            if len(m["confirmed_by"]) >= self.policy.confirmation_level_count and self.policy.stop_every_major:
                m["stop"] = "full"
        elif trigger == "report":
            m["reported_to"].add(p["recipient"])
        elif trigger == "list_for_supervision":
            m["listed"], m["listing_at"] = True, (actor.jurisdiction, actor.org)
        elif trigger == "adopt_plan":
            m["rectify_day"] = date.fromisoformat(p["deadline"])
        elif trigger == "submit_review":
            m["submitted_by"], m["rectified_by"] = actor.id, p["rectified_by"]
        elif trigger == "approve":
            m["stop"] = "none"
        elif trigger == "delist":
            m["listed"] = False
        elif trigger == "request_extension":
            m["extension_by"] = actor.id
            m["requested_day"] = date.fromisoformat(p["requested_deadline"])
        elif trigger == "grant_extension":
            new = p.get("new_deadline")
            m["rectify_day"] = date.fromisoformat(new) if new else m["requested_day"]
            m["extension_by"] = None
        elif trigger == "deny_extension":
            m["extension_by"] = None
        elif trigger == "reopen":
            m["rectified_by"] = m["submitted_by"] = None
            m["rectify_day"] = date.fromisoformat(p["deadline"])
        elif trigger == "order_stop":
            m["stop"] = p["level"]
        elif trigger == "lift_stop":
            m["stop"] = "none"
        elif trigger == "assign_department":
            m["department"] = p["department"]
        if dest is not None:
            m["state"] = dest

    def payload(self, m: dict[str, Any], trigger: str, actor: Actor, today: date, mode: str) -> dict[str, Any]:
        """A payload: ``valid`` (passes every rule it can), ``adversarial`` (breaks one) or ``malformed``."""
        bad = mode == "adversarial"
        later = (today + timedelta(days=20)).isoformat()
        past = (today - timedelta(days=1)).isoformat()
        p: dict[str, Any]
        if trigger == "fix_on_spot":
            p = {
                "fixed_by": actor.id if bad else ("e-chen" if actor.id != "e-chen" else "e-zhang"),
                "measures": "更换防护罩",
            }
        elif trigger == "set_deadline":
            p = {"deadline": past if bad else later, "measures": "限期整改", "responsible": "李安全"}
        elif trigger == "confirm_major":
            p = {"opinion": "确认为重大事故隐患"}
        elif trigger == "report":
            pending = sorted(set(self.policy.report_recipients) - m["reported_to"])
            done = sorted(m["reported_to"])
            recipient = (done or pending)[0] if bad else (pending or done or ["supervising_department"])[0]
            p = {"recipient": recipient, **REPORT_BODY}
        elif trigger == "list_for_supervision":
            p = {"document_no": "石安办〔2024〕9号"}
        elif trigger == "adopt_plan":
            from hazard_world import PLAN

            p = {**PLAN, "deadline": later, "funds_amount": 0 if bad else 120000}
        elif trigger == "submit_review":
            p = {"evidence": ["照片.jpg"], "rectified_by": "e-chen"}
            if m["grade"] == "major" and not bad:
                p["evaluation_report"] = "评估：已消除"
        elif trigger in ("approve", "confirm_major"):
            p = {"opinion": "同意"}
        elif trigger in ("reject", "deny_extension", "void", "lift_stop"):
            p = {"reason": "理由"}
        elif trigger == "delist":
            p = {}
        elif trigger == "request_extension":
            base = m["rectify_day"] or today
            asked = base if bad else base + timedelta(days=15)
            p = {"reason": "设备到货延迟", "requested_deadline": asked.isoformat(), "interim_measures": ["专人值守"]}
        elif trigger == "grant_extension":
            p = {"opinion": "同意延期"}
            if bad:
                p["new_deadline"] = past
        elif trigger == "reopen":
            p = {"finding": "recurrence", "reason": "回头看发现反弹", "deadline": past if bad else later}
        elif trigger == "order_stop":
            level = m["stop"] if bad and m["stop"] != "none" else ("partial" if m["stop"] != "partial" else "full")
            p = {"level": level, "reason": "整改期间"}
        elif trigger == "assign_department":
            others = [d for d in DEPARTMENTS if d != m["department"]]
            p = {"department": m["department"] if bad else others[0]}
        elif trigger in SYSTEM_TRIGGERS:
            p = {"key": "rectify", "due_at": "2024-03-21T00:00:00+08:00"}
        else:
            p = {}
        if mode == "malformed":
            p = {**p, "bogus_field": 1}
            p["_malformed"] = True
        return p


def _send(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "_malformed"}


class _Probe(Exception):
    """Raised inside a batch to throw away a probing command's writes."""


class HazardLifecycle(RuleBasedStateMachine):
    """Random commands by random people on a few hazard cases, against :class:`Model`."""

    #: Builds the store each run uses (a fresh, empty one).
    store_factory: ClassVar[Callable[[], Store]]

    def __init__(self) -> None:
        super().__init__()
        self.engine: Engine | None = None
        self.models: dict[str, dict[str, Any]] = {}
        self._verified: dict[str, Case] = {}
        self._walked: dict[str, tuple[int, Case | None]] = {}

    # ── set-up ───────────────────────────────────────────────────────────────────────────────────────
    @initialize(strict=st.booleans(), grade=st.sampled_from(["major", "general"]))
    def start(self, strict: bool, grade: str) -> None:
        self.policy: NationalBaseline = StrictTownshipRules() if strict else NationalBaseline()
        self.model = Model(self.policy)
        self.clock = SimulatedClock("2024-03-04T09:00:00+08:00")
        self.store = type(self).store_factory()
        self.engine = Engine(
            store=self.store,
            clock=self.clock,
            ids=SequentialIds(),
            outbox=True,
            policies=[self.policy] if strict else None,
        )
        # A major and a general hazard from the start; moves favour the first, so majors travel far.
        for g in (grade, "general" if grade == "major" else "major"):
            self.register(People.officer, g, "supervisory_inspection", "industry_trade", UNIT, TOWNSHIP, True, 1)

    def teardown(self) -> None:
        if self.engine is not None:
            report = self.engine.verify_audit()
            self.engine.close()
            assert report.ok, str(report)

    @property
    def today(self) -> date:
        return local_date(self.clock.now())

    def _refused(self, error: type, call: Callable[[], object]) -> HazardflowError:
        assert self.engine is not None
        before = snapshot_store(self.store)
        with pytest.raises(HazardflowError) as info:
            call()
        exc = info.value
        assert isinstance(exc, error), f"expected {error.__name__}, got {exc!r}"
        after = snapshot_store(self.store)
        assert after == before, "a refused command changed the store: " + "; ".join(before.diff(after))
        return exc

    # ── rules ────────────────────────────────────────────────────────────────────────────────────────
    @rule(
        actor=actors(),
        grade=st.sampled_from(["general", "general", "major"]),
        source=st.sampled_from(["enterprise_self_inspection", "supervisory_inspection", "public_report_verified"]),
        industry=st.sampled_from(["industry_trade", "chemicals"]),
        unit=st.sampled_from([UNIT, UNIT, OTHER_UNIT]),
        where=st.sampled_from([TOWNSHIP, TOWNSHIP, TOWNSHIP, OTHER_TOWNSHIP]),
        cite=st.booleans(),
        malformed=st.integers(0, 9),
    )
    def register(
        self, actor: Actor, grade: str, source: str, industry: str, unit: str, where: str, cite: bool, malformed: int
    ) -> None:
        assert self.engine is not None
        if len(self.models) >= 4:
            return
        payload: dict[str, Any] = {
            "grade": grade,
            "source": source,
            "nature": "unsafe_condition",
            "industry": industry,
            "business_unit": unit,
            "location": "储罐区",
            "description": "紧急切断装置缺失",
        }
        if cite:
            payload["criteria"] = ["判定标准 第四条"]
        if malformed == 0:
            payload["grade"] = "catastrophic"
            payload["_malformed"] = True
        error, facts = self.model.open_fields(actor, payload, where)
        engine = self.engine

        def call() -> Case:
            return engine.open_case("hazard", actor=actor, jurisdiction=where, **_send(payload))

        if error is not None:
            self._refused(error, call)
            return
        case = call()
        assert case.state == "registered"
        assert case.rev == 1
        assert len(engine.history(case.id)) == 1
        self.models[case.id] = facts

    @rule(
        data=st.data(),
        actor=actors(),
        trigger=st.sampled_from([*PERSON_TRIGGERS, *SYSTEM_TRIGGERS, "aprove"]),
        mode=st.sampled_from(["valid", "valid", "adversarial", "malformed"]),
    )
    def anyone_fires_anything(self, data: st.DataObject, actor: Actor, trigger: str, mode: str) -> None:
        """Any person fires any trigger (most are refused): the refusals must match the model."""
        cid = data.draw(st.sampled_from(sorted(self.models)), label="case")
        self._command(cid, trigger, actor, mode)

    @rule(data=st.data(), moves=st.integers(1, 10))
    def someone_works_a_case(self, data: st.DataObject, moves: int) -> None:
        """A run of triggers possible from the case's state, by people the rules let fire them: cases go deep."""
        ids = sorted(self.models)
        # Half the runs go to the first case, so some cases travel the whole path.
        cid = data.draw(st.sampled_from([ids[0]] * len(ids) + ids), label="case")
        for _ in range(moves):
            mode = data.draw(st.sampled_from(["valid"] * 8 + ["adversarial", "malformed"]), label="mode")
            self._move(data, cid, mode)

    def _move(self, data: st.DataObject, cid: str, mode: str) -> None:
        m = self.models[cid]
        triggers = sorted({t for (state, t) in TABLE if state == m["state"]})
        ahead = [t for t in triggers if t not in SIDE_TRIGGERS]
        if ahead and data.draw(st.integers(0, 9), label="ahead") < 8:
            triggers = ahead
        if not triggers:
            return
        trigger = data.draw(st.sampled_from(triggers), label="trigger")
        people = [a for a in EVERYONE if "system" not in a.roles and self.model.authorizing_role(trigger, m, a)]
        if not people:
            return
        actor = data.draw(st.sampled_from(people), label="actor")
        self._command(cid, trigger, actor, mode)

    def _command(self, cid: str, trigger: str, actor: Actor, mode: str) -> None:
        assert self.engine is not None
        m = self.models[cid]
        payload = self.model.payload(m, trigger, actor, self.today, mode)
        if trigger == "aprove":
            expected: type | None = TransitionNotAllowed if "system" not in actor.roles else NotAuthorized
        else:
            expected = self.model.outcome(m, trigger, actor, payload, self.today)
        before = self.engine.get(cid)
        n_events = len(self.engine.history(cid))
        engine = self.engine

        def call() -> Case:
            return engine.fire(cid, trigger, actor=actor, payload=_send(payload))

        event(f"{trigger}: {'accepted' if expected is None else expected.__name__}")
        if expected is not None:
            err = self._refused(expected, call)
            if isinstance(err, TransitionNotAllowed) and trigger == "aprove":
                assert "did you mean 'approve'?" in str(err)
            return
        after = call()
        self.model.apply(m, trigger, actor, payload, self.today)
        assert after.state == m["state"], (trigger, after.state, m["state"])
        assert after.rev == before.rev + 1
        assert len(self.engine.history(cid)) == n_events + 1

    # Stay inside the years the holiday calendar covers.
    @precondition(lambda self: self.clock.now().year < 2026)
    @rule(days=st.sampled_from([0, 1, 3, 7, 12, 25]), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        assert self.engine is not None
        self.clock.advance(days=days, hours=hours)
        states = {cid: self.engine.get(cid).state for cid in self.models}
        report = self.engine.run_due()
        assert (report.failed, report.conflicts) == (0, 0)
        for cid, seq in report.events:
            event = self.engine.history(cid)[seq - 1]
            assert event.actor_id == SYSTEM.id
            assert event.trigger in ("mark_overdue", "remind", "sanction")
        # Timers never move a case.
        assert {cid: self.engine.get(cid).state for cid in self.models} == states
        now = self.clock.now()
        for cid in self.models:
            case = self.engine.get(cid)
            if case.deadline is not None and case.deadline.due_at <= now:
                assert case.overdue, f"{cid}: deadline {case.deadline.due_at} passed but the case is not overdue"

    @rule(data=st.data())
    def escalate(self, data: st.DataObject) -> None:
        """Supervision of an open case moves up to the county through the escalation workflow."""
        assert self.engine is not None
        candidates = sorted(c for c, m in self.models.items() if m["state"] in OPEN and m["owning"] == TOWNSHIP)
        if not candidates:
            return
        cid = data.draw(st.sampled_from(candidates), label="escalated case")
        engine = self.engine
        try:
            esc = engine.open_case(
                "escalation",
                actor=People.officer,
                jurisdiction=TOWNSHIP,
                hazard_id=cid,
                reason="beyond_capacity",
                explanation="需县级统筹资金",
            )
            for who in (People.leader, People.head):
                engine.fire(esc.id, "approve_escalation", actor=who, payload={"opinion": "同意提请"})
            engine.fire(esc.id, "accept_escalation", actor=People.supervisor, payload={"opinion": "纳入蓄水池"})
        except CommandRefused:
            # The escalation workflow's own rules (e.g. one escalation at a time); not this model's business.
            return
        assert engine.get(cid).owning_jurisdiction == COUNTY
        self.models[cid]["owning"] = COUNTY

    @rule(data=st.data(), actor=actors())
    def allowed_matches_fire(self, data: st.DataObject, actor: Actor) -> None:
        """``allowed()`` lists exactly the triggers that ``fire()`` accepts with a valid payload."""
        assert self.engine is not None
        engine = self.engine
        cid = data.draw(st.sampled_from(sorted(self.models)), label="case")
        m = self.models[cid]
        before = snapshot_store(self.store)
        offered = set(engine.allowed(cid, actor))
        accepted = set()
        for trigger in (*PERSON_TRIGGERS, *SYSTEM_TRIGGERS):
            payload = _send(self.model.payload(m, trigger, actor, self.today, "valid"))
            try:
                with engine.batch():
                    engine.fire(cid, trigger, actor=actor, payload=payload)
                    raise _Probe
            except _Probe:
                accepted.add(trigger)
            except CommandRefused:
                pass
        assert offered == accepted, f"allowed() {sorted(offered)} but fire() accepts {sorted(accepted)}"
        predicted = {
            t
            for t in PERSON_TRIGGERS
            if self.model.outcome(m, t, actor, self.model.payload(m, t, actor, self.today, "valid"), self.today) is None
        }
        assert accepted == predicted, f"fire() accepts {sorted(accepted)}; the model says {sorted(predicted)}"
        assert snapshot_store(self.store) == before

    @rule(actor=actors())
    def unknown_case(self, actor: Actor) -> None:
        assert self.engine is not None
        engine = self.engine
        self._refused(CaseNotFoundError, lambda: engine.get("HZ-999999"))
        if "system" not in actor.roles:
            self._refused(CaseNotFoundError, lambda: engine.fire("HZ-999999", "approve", actor=actor, payload={}))

    # ── invariants ───────────────────────────────────────────────────────────────────────────────────
    @invariant()
    def agrees_with_the_model(self) -> None:
        if self.engine is None:
            return
        for cid, m in self.models.items():
            case = self.engine.get(cid)
            assert case.state == m["state"], (cid, case.state, m["state"])
            assert case.listed == m["listed"]
            assert case.stop_production == m["stop"]
            assert case.owning_jurisdiction == m["owning"]
            assert set(case.fields.get("reported_to", ())) == m["reported_to"]
            assert (case.closed_at is not None) == (case.state in TERMINAL)

    @invariant()
    def audit_record_holds(self) -> None:
        """Invariant 3: chains verify, revisions count the events, replay reproduces every case.

        Each step checks the cases whose history grew (the refusal checks already prove the others did not
        change); the teardown verifies the whole store once more.
        """
        if self.engine is None:
            return
        for cid in self.models:
            case = self.engine.get(cid)
            seen = self._verified.get(cid)
            if seen is not None and seen.rev == case.rev:
                assert seen == case
                continue
            events = self.engine.history(cid)
            report = self.engine.verify_audit(cid)
            assert report.ok, str(report)
            assert [e.seq for e in events] == list(range(1, case.rev + 1))
            assert replay(events) == case
            self._check_history(cid, events)
            self._verified[cid] = case

    def _check_history(self, cid: str, events: list[Any]) -> None:
        """Invariants 1, 2 and 4 on the events of ``cid`` not checked yet, each against the case before it."""
        assert self.engine is not None
        done, prev = self._walked.get(cid, (0, None))
        for ev in events[done:]:
            now = replay([ev], base=prev)
            if prev is not None:
                self._check_event(events, ev, prev, now)
            prev = now
        self._walked[cid] = (len(events), prev)

    def _check_event(self, events: list[Any], ev: Any, prev: Case, now: Case) -> None:
        assert self.engine is not None
        major = prev.grade == "major"
        assert now.rev == prev.rev + 1
        # 1. Closing: an approved review by an authorized, independent reviewer; a listing needs delisting.
        if ev.to_state == "closed" and ev.from_state != "closed":
            if ev.trigger == "fix_on_spot":
                assert not major
                assert ev.actor_id != ev.payload["fixed_by"]
            elif ev.trigger == "approve":
                assert not prev.listed
                self._check_review(ev, prev)
            else:
                assert ev.trigger == "delist"
                approval = next(e for e in reversed(events[: ev.seq - 1]) if e.trigger == "approve")
                assert approval.to_state == "awaiting_delisting"
                assert is_within(prev.fields["listing"]["jurisdiction"], ev.actor_jurisdiction)
        if ev.trigger == "approve":
            self._check_review(ev, prev)
        # 2. A major hazard starts rectification only reported to everyone, and listed where required.
        if major and ev.to_state == "rectifying" and ev.from_state == "reporting":
            policy = self.engine.policy_for(prev)
            assert set(policy.dual_report_recipients(prev)) <= set(prev.fields.get("reported_to", ()))
            assert prev.listed or not policy.listing(prev).required
        # 4. Once supervision moved up, the lower tier can no longer close (approve, fix on the spot), reject or void.
        if ev.trigger in ("approve", "fix_on_spot", "reject", "void"):
            if ev.actor_role in UNIT_ROLES:
                # The unit acts on its own case only while its township supervises it.
                assert prev.owning_jurisdiction == prev.jurisdiction
            else:
                assert is_within(prev.owning_jurisdiction, ev.actor_jurisdiction)

    @staticmethod
    def _check_review(ev: Any, prev: Case) -> None:
        reviewers = MAJOR_REVIEWERS if prev.grade == "major" else GENERAL_REVIEWERS
        assert ev.actor_role in reviewers
        assert ev.actor_id not in (prev.fields.get("rectified_by"), prev.fields.get("submitted_by"))

    @invariant()
    def timers_follow_the_stage(self) -> None:
        if self.engine is None:
            return
        for cid in self.models:
            case = self.engine.get(cid)
            armed = self.store.armed_timers(cid)
            if case.state in TERMINAL:
                assert armed == [], f"{cid} is {case.state} but still has armed timers {armed}"
            elif case.deadline is not None and not case.overdue:
                deadlines = [t for t in armed if t.kind == "deadline"]
                assert len(deadlines) == 1, f"{cid}: {len(deadlines)} armed deadline timers"
                assert deadlines[0].due_at == case.deadline.due_at


def machine_class(store_factory: Callable[[], Store], name: str) -> type[HazardLifecycle]:
    """:class:`HazardLifecycle` on stores made by ``store_factory`` (called once per example: a fresh, empty store)."""
    return type(name, (HazardLifecycle,), {"store_factory": staticmethod(store_factory)})


def machine_for(store_factory: Callable[[], Store], name: str) -> type:
    """The pytest test class running :class:`HazardLifecycle` on stores made by ``store_factory``."""
    return machine_class(store_factory, name).TestCase  # type: ignore[attr-defined,no-any-return]


def run_machine(store_factory: Callable[[], Store], name: str = "HazardLifecycle") -> None:
    """Run the machine inside an ordinary test function (so the factory can close over pytest fixtures)::

    @pytest.mark.postgres
    def test_hazard_lifecycle_on_postgres(postgres_url):
        run_machine(lambda: emptied(SqlStore(postgres_url)))
    """
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(machine_class(store_factory, name))
