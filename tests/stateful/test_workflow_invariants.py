"""Invariants 4 and 6 of the design, as a Hypothesis state machine mixing tip-offs, hazards and escalations.

4. A case owned by a higher tier cannot be approved, voided or otherwise closed by the lower tier.
6. A tip-off never becomes a hazard case without verification, and the reporter's identity never appears in
   events, case fields, exports or logs.

A plain-dict model predicts the outcome of every command (accepted or refused, and the owning tier of every
hazard); the engine must agree step by step, and the invariants are checked over the whole audit record after
every step. Runs on every store in ``STORES``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule
from structlog.testing import capture_logs

from hazardflow import CommandRefused, Engine, HazardflowError, InvalidInput
from hazardflow._jurisdiction import is_within
from hazardflow.abc import Store
from hazardflow.persistence.memory import MemoryStore
from workflow_support import COUNTY, OTHER_TOWNSHIP, TOWNSHIP, make_engine, person

CITY = "500000"
TOWNSHIPS = (TOWNSHIP, OTHER_TOWNSHIP)
UNITS = {TOWNSHIP: "BU-SANXING", OTHER_TOWNSHIP: "BU-XITUO"}
PARENT = {TOWNSHIP: COUNTY, OTHER_TOWNSHIP: COUNTY, COUNTY: CITY}
VERIFIED = ("public_report_verified", "internal_whistleblower")
SOURCES = ("enterprise_self_inspection", "supervisory_inspection", "enforcement", *VERIFIED)
CLOSING = {"approve", "void", "fix_on_spot", "reject", "delist", "reopen", "grant_extension", "deny_extension"}
CLOSERS = ("approve", "reject", "void", "fix_on_spot")
GOV_REVIEWERS = {"supervisor", "sector_department", "township_officer", "safety_committee_office", "fire_rescue"}


def memory_store() -> Store:
    return MemoryStore()


_WHERE: dict[str, Any] = {}


def sqlite_store() -> Store:
    from hazardflow.persistence.sql import SqlStore

    path: Path = _WHERE["sqlite"]
    path.unlink(missing_ok=True)
    return SqlStore(f"sqlite:///{path}")


def postgres_store() -> Store:
    import psycopg
    import sqlalchemy as sa

    from hazardflow.persistence.sql import SqlStore

    url: str = _WHERE["postgres"]
    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("TRUNCATE hf_outbox, hf_confidential, hf_idempotency, hf_timer, hf_event, hf_case")
    return SqlStore(url)


#: Store factories the machine runs on (SQL ones get their file or database from the test's fixtures).
STORES: dict[str, Callable[[], Store]] = {"memory": memory_store, "sqlite": sqlite_store, "postgres": postgres_store}


def _people() -> dict[str, Any]:
    p: dict[str, Any] = {}
    for code, tag in ((TOWNSHIP, "sx"), (OTHER_TOWNSHIP, "xt")):
        p[f"{tag}-desk"] = person(f"{tag}-desk", "complaint_officer", code)
        p[f"{tag}-officer"] = person(f"{tag}-officer", "township_officer", code)
        p[f"{tag}-eo"] = person(f"{tag}-eo", "emergency_office", code)
        p[f"{tag}-leader"] = person(f"{tag}-leader", "leader_in_charge", code)
        p[f"{tag}-head"] = person(f"{tag}-head", "head", code)
        p[f"{tag}-both"] = person(f"{tag}-both", ("leader_in_charge", "head"), code)
        p[f"{tag}-manager"] = person(f"{tag}-manager", "safety_manager", code, UNITS[code])
    p["county-office"] = person("county-office", "safety_committee_office", COUNTY)
    p["county-supervisor"] = person("county-supervisor", "supervisor", COUNTY)
    p["county-leader"] = person("county-leader", "leader_in_charge", COUNTY)
    p["county-head"] = person("county-head", "head", COUNTY)
    p["county-both"] = person("county-both", ("leader_in_charge", "head"), COUNTY)
    p["city-office"] = person("city-office", "safety_committee_office", CITY)
    return p


PEOPLE = _people()
APPROVERS = sorted(k for k in PEOPLE if k.endswith(("-leader", "-head", "-both")))
PROPOSERS = ["sx-eo", "xt-eo", "county-office"]
DECIDERS = ["county-office", "city-office", "sx-officer"]
REVIEWERS = ["sx-officer", "xt-officer", "county-supervisor", "city-office", "sx-manager", "xt-manager"]


def _tag(code: str) -> str:
    return "sx" if code == TOWNSHIP else "xt"


def _note(text: str) -> None:
    if currently_in_test_context():  # the hand-driven checks below run the rules outside Hypothesis
        event(text)


class WorkflowInvariants(RuleBasedStateMachine):
    """Tip-offs, hazards and escalations on one engine; a dict model predicts every outcome."""

    store_factory: Callable[[], Store] = staticmethod(memory_store)

    tipoffs = Bundle("tipoffs")
    hazards = Bundle("hazards")
    escalations = Bundle("escalations")

    def __init__(self) -> None:
        super().__init__()
        self._logs_cm = capture_logs()
        self.logs = self._logs_cm.__enter__()
        self.engine: Engine = make_engine(type(self).store_factory())
        # model
        self.tip: dict[str, dict[str, Any]] = {}
        self.haz: dict[str, dict[str, Any]] = {}
        self.esc: dict[str, dict[str, Any]] = {}
        self.identities: list[str] = []
        self.n = 0

    def teardown(self) -> None:
        try:
            self._check_identities(full=True)
            assert self.engine.verify_audit().ok
        finally:
            self.engine.close()
            self._logs_cm.__exit__(None, None, None)

    # ── helpers ────────────────────────────────────────────────────────────────────────────────────
    def _expect(self, ok: bool, fn: Callable[[], Any]) -> Any:
        """Run a command: accepted when the model says ``ok``, refused (and nothing written) otherwise."""
        before = [(c.id, c.rev) for c in self.engine.cases()]
        refused: HazardflowError | None = None
        try:
            result = fn()
        except (CommandRefused, InvalidInput) as err:
            refused = err
        if refused is not None:
            assert not ok, f"model expected acceptance, engine refused: {refused}"
            assert [(c.id, c.rev) for c in self.engine.cases()] == before
            _note(f"refused: {type(refused).__name__}")
            return None
        assert ok, f"model expected a refusal, engine accepted: {result}"
        _note(f"accepted: {getattr(result, 'workflow', '?')} -> {getattr(result, 'state', '?')}")
        return result

    # ── a starting point: a hazard in each township and a tip-off ──────────────────────────────────
    @initialize(target=hazards)
    def first_hazard(self) -> str:
        return self.register(TOWNSHIP, "supervisory_inspection")

    @initialize(target=tipoffs)
    def first_tipoff(self) -> str:
        return self.receive(TOWNSHIP, "public", "other")

    # ── tip-offs ───────────────────────────────────────────────────────────────────────────────────
    @rule(
        target=tipoffs,
        where=st.sampled_from(TOWNSHIPS),
        channel=st.sampled_from(["public", "internal_whistleblower"]),
        category=st.sampled_from(["blocked_fire_exit", "fire_system_disabled", "other"]),
    )
    def receive(self, where: str, channel: str, category: str) -> str:
        self.n += 1
        name, phone = f"举报人{self.n:03d}号", f"139{self.n:08d}"
        self.identities += [name, phone]
        t = self.engine.open_case(
            "tipoff",
            actor=PEOPLE[f"{_tag(where)}-desk"],
            jurisdiction=where,
            channel=channel,
            category=category,
            description="群众反映安全出口堵塞",
            location="场镇仓库",
            business_unit=UNITS[where],
            industry="fire_safety",
            reporter_name=name,
            reporter_contact=phone,
        )
        self.tip[t.id] = {"state": "received", "where": where, "hazard": None}
        return t.id

    @rule(t=tipoffs)
    def start_verification(self, t: str) -> None:
        m = self.tip[t]
        ok = m["state"] == "received"
        officer = PEOPLE[f"{_tag(m['where'])}-officer"]
        if self._expect(ok, lambda: self.engine.fire(t, "start_verification", actor=officer)) is not None:
            m["state"] = "verifying"

    @rule(t=tipoffs)
    def substantiate(self, t: str) -> None:
        m = self.tip[t]
        ok = m["state"] == "verifying"
        officer = PEOPLE[f"{_tag(m['where'])}-officer"]
        payload = {"findings": "属实", "grade": "general", "nature": "unsafe_condition"}
        done = self._expect(ok, lambda: self.engine.fire(t, "substantiate", actor=officer, payload=payload))
        if done is not None:
            m["state"] = "substantiated"
            hid = done.fields["hazard_id"]
            m["hazard"] = hid
            self.haz[hid] = self._new_hazard(m["where"], tipoff=t)

    @rule(t=tipoffs)
    def dismiss(self, t: str) -> None:
        m = self.tip[t]
        officer = PEOPLE[f"{_tag(m['where'])}-officer"]
        ok = m["state"] == "verifying"
        if self._expect(ok, lambda: self.engine.fire(t, "dismiss", actor=officer, payload={"reason": "不实"})):
            m["state"] = "unfounded"

    @rule(t=tipoffs, h=hazards)
    def merge(self, t: str, h: str) -> None:
        m, hm = self.tip[t], self.haz[h]
        officer = PEOPLE[f"{_tag(m['where'])}-officer"]
        ok = m["state"] in ("received", "verifying") and hm["open"] and hm["where"] == m["where"]
        if self._expect(ok, lambda: self.engine.fire(t, "merge_duplicate", actor=officer, payload={"hazard_id": h})):
            m["state"] = "merged"
            m["hazard"] = h

    # ── hazards ────────────────────────────────────────────────────────────────────────────────────
    def _new_hazard(self, where: str, tipoff: str | None = None) -> dict[str, Any]:
        return {"where": where, "owner": where, "state": "registered", "open": True, "pending": None, "tipoff": tipoff}

    @rule(target=hazards, where=st.sampled_from(TOWNSHIPS), source=st.sampled_from(SOURCES))
    def register(self, where: str, source: str) -> str:
        ok = source not in VERIFIED
        case = self._expect(
            ok,
            lambda: self.engine.open_case(
                "hazard",
                actor=PEOPLE[f"{_tag(where)}-officer"],
                jurisdiction=where,
                grade="general",
                source=source,
                nature="unsafe_condition",
                industry="construction",
                business_unit=UNITS[where],
                location="工地",
                description="脚手架缺陷",
            ),
        )
        if case is None:
            # Keep the bundle fed with a real hazard so later rules have something to act on.
            return self.register(where, "supervisory_inspection")  # type: ignore[no-any-return]
        self.haz[case.id] = self._new_hazard(where)
        return case.id

    @rule(h=hazards)
    def to_review(self, h: str) -> None:
        hm = self.haz[h]
        ok = hm["state"] == "registered"
        where = hm["where"]

        def go() -> Any:
            self.engine.fire(
                h,
                "set_deadline",
                actor=PEOPLE[f"{_tag(where)}-officer"],
                payload={"deadline": "2025-12-31", "measures": "整改", "responsible": "项目经理"},
            )
            return self.engine.fire(
                h,
                "submit_review",
                actor=PEOPLE[f"{_tag(where)}-manager"],
                payload={"evidence": ["照片"], "rectified_by": "u-worker"},
            )

        if self._expect(ok, go) is not None:
            hm["state"] = "under_review"

    @rule(
        h=hazards,
        who=st.sampled_from(REVIEWERS),
        trigger=st.sampled_from(CLOSERS),
    )
    def close_attempt(self, h: str, who: str, trigger: str) -> None:
        hm = self.haz[h]
        actor = PEOPLE[who]
        gov = bool(actor.roles & GOV_REVIEWERS)
        if gov:
            authorized = is_within(hm["owner"], actor.jurisdiction)
        else:  # the unit's safety manager: own unit only, and never once supervision moved up
            authorized = actor.org == UNITS[hm["where"]] and hm["owner"] == hm["where"]
        state = hm["state"]
        if trigger in ("approve", "reject"):
            ok = state == "under_review" and authorized and gov  # the manager submitted it: never its reviewer
        elif trigger == "void":
            ok = hm["open"] and authorized and (gov or state == "registered")
        else:
            ok = state == "registered" and authorized
        payload = {
            "approve": {"opinion": "同意"},
            "reject": {"reason": "不合格"},
            "void": {"reason": "误报"},
            "fix_on_spot": {"fixed_by": "u-worker", "measures": "立即整改"},
        }[trigger]
        if hm["owner"] != hm["where"] and hm["open"]:
            _note(f"{trigger} in {state} of an escalated hazard by the {'owning' if authorized else 'lower'} tier")
        done = self._expect(ok, lambda: self.engine.fire(h, trigger, actor=actor, payload=payload))
        if done is not None:
            hm["state"] = done.state
            hm["open"] = done.closed_at is None
            if trigger in ("approve", "fix_on_spot", "void"):
                assert not hm["open"]

    # ── escalations ────────────────────────────────────────────────────────────────────────────────
    @rule(target=escalations, h=hazards, who=st.one_of(st.just("owner"), st.sampled_from(PROPOSERS)))
    def propose(self, h: str, who: str) -> Any:
        hm = self.haz[h]
        if who == "owner":  # the proposer of the tier that owns the hazard (the usual case)
            # (no proposer at the city: a city-owned hazard is refused, as the model says)
            who = {TOWNSHIP: "sx-eo", OTHER_TOWNSHIP: "xt-eo"}.get(hm["owner"], "county-office")
        actor = PEOPLE[who]
        ok = hm["open"] and hm["owner"] == actor.jurisdiction and hm["pending"] is None
        case = self._expect(
            ok,
            lambda: self.engine.open_case(
                "escalation",
                actor=actor,
                jurisdiction=actor.jurisdiction,
                hazard_id=h,
                reason="high_risk",
                explanation="风险较大",
            ),
        )
        if case is None:
            return multiple()
        assert case.fields["target_jurisdiction"] == PARENT[actor.jurisdiction]
        self.esc[case.id] = {
            "state": "proposed",
            "hazard": h,
            "tier": actor.jurisdiction,
            "target": PARENT[actor.jurisdiction],
            "proposer": actor.id,
            "approved": [],
        }
        hm["pending"] = case.id
        return case.id

    @rule(e=escalations, who=st.one_of(st.just("next"), st.sampled_from(APPROVERS)))
    def approve(self, e: str, who: str) -> None:
        if e not in self.esc:
            return
        em = self.esc[e]
        steps = ("leader_in_charge", "head")
        n = len(em["approved"])
        if who == "next":  # the leader whose turn it is at the proposing tier
            tag = {TOWNSHIP: "sx", OTHER_TOWNSHIP: "xt", COUNTY: "county"}[em["tier"]]
            who = f"{tag}-{'leader' if n == 0 else 'head'}"
        actor = PEOPLE[who]
        ok = (
            em["state"] in ("proposed", "approving")
            and actor.jurisdiction == em["tier"]
            and steps[n] in actor.roles
            and actor.id not in em["approved"]
            and actor.id != em["proposer"]
            and self.haz[em["hazard"]]["open"]
        )
        done = self._expect(
            ok, lambda: self.engine.fire(e, "approve_escalation", actor=actor, payload={"opinion": "同意"})
        )
        if done is not None:
            em["approved"].append(actor.id)
            em["state"] = "pooled" if len(em["approved"]) == len(steps) else "approving"
            assert done.state == em["state"]
            if em["state"] == "pooled":
                assert done.owning_jurisdiction == em["target"]

    @rule(e=escalations, who=st.one_of(st.just("pool"), st.sampled_from(DECIDERS)), accept=st.booleans())
    def decide(self, e: str, who: str, accept: bool) -> None:
        if e not in self.esc:
            return
        em = self.esc[e]
        if who == "pool":  # the office of the tier whose pool it is
            who = "county-office" if em["target"] == COUNTY else "city-office"
        actor = PEOPLE[who]
        hm = self.haz[em["hazard"]]
        at_pool = actor.jurisdiction == em["target"] and "township_officer" not in actor.roles
        ok = em["state"] == "pooled" and at_pool and (hm["open"] or not accept)
        trigger = "accept_escalation" if accept else "return_escalation"
        payload = {"opinion": "接收"} if accept else {"reason": "退回乡镇"}
        if self._expect(ok, lambda: self.engine.fire(e, trigger, actor=actor, payload=payload)) is not None:
            em["state"] = "accepted" if accept else "returned"
            hm["pending"] = None
            if accept:
                hm["owner"] = em["target"]

    @rule(e=escalations, who=st.sampled_from(["sx-eo", "xt-eo", "county-office", "county-supervisor"]))
    def withdraw(self, e: str, who: str) -> None:
        if e not in self.esc:
            return
        em = self.esc[e]
        actor = PEOPLE[who]
        ok = em["state"] in ("proposed", "approving") and actor.jurisdiction == em["tier"]
        if self._expect(
            ok, lambda: self.engine.fire(e, "withdraw_escalation", actor=actor, payload={"reason": "撤回"})
        ):
            em["state"] = "withdrawn"
            self.haz[em["hazard"]]["pending"] = None

    # ── the natural next step (keeps long paths reachable within a bounded number of steps) ────────────
    @rule(t=tipoffs, found=st.booleans())
    def advance_tipoff(self, t: str, found: bool) -> None:
        state = self.tip[t]["state"]
        if state == "received":
            self.start_verification(t)
        elif state == "verifying":
            (self.substantiate if found else self.dismiss)(t)

    @rule(e=escalations, accept=st.booleans())
    def advance_escalation(self, e: str, accept: bool) -> None:
        em = self.esc.get(e)
        if em is None:
            return
        if em["state"] in ("proposed", "approving"):
            self.approve(e, "next")
        elif em["state"] == "pooled":
            self.decide(e, "pool", accept)

    @rule(h=hazards, accept=st.booleans())
    def escalate_all_the_way(self, h: str, accept: bool) -> None:
        """Propose by the owning tier, admit step by step, and let the pool decide."""
        proposed = self.propose(h, "owner")
        if not isinstance(proposed, str):
            return
        self.approve(proposed, "next")
        self.approve(proposed, "next")
        self.decide(proposed, "pool", accept)

    @rule(
        target=hazards,
        where=st.sampled_from(TOWNSHIPS),
        who=st.sampled_from(["county-supervisor", "city-office"]),
        trigger=st.sampled_from(CLOSERS),
        submitted=st.booleans(),
    )
    def escalated_close(self, where: str, who: str, trigger: str, submitted: bool) -> str:
        """Invariant 4 head on: a new hazard escalated and accepted; every closing command of the township's
        officer and of the unit's manager is tried (the model expects each refused), then ``who`` tries one."""
        h = self.register(where, "enforcement")
        self.escalate_all_the_way(h, accept=True)
        if submitted:
            self.to_review(h)
        for lower in (f"{_tag(where)}-officer", f"{_tag(where)}-manager"):
            for closer in CLOSERS:
                self.close_attempt(h, lower, closer)
        self.close_attempt(h, who, trigger)
        return h

    @rule(h=hazards, who=st.sampled_from(REVIEWERS))
    def review_round(self, h: str, who: str) -> None:
        """Submit for review (if still registered), then an approval attempt by ``who``."""
        self.to_review(h)
        self.close_attempt(h, who, "approve")

    @rule(t=tipoffs, found=st.booleans())
    def verify_all_the_way(self, t: str, found: bool) -> None:
        self.advance_tipoff(t, found)
        self.advance_tipoff(t, found)

    @rule(hours=st.sampled_from([1, 25, 80]))
    def time_passes(self, hours: int) -> None:
        self.engine.clock.advance(hours=hours)  # type: ignore[attr-defined]
        self.engine.run_due()

    # ── invariants ─────────────────────────────────────────────────────────────────────────────────
    @invariant()
    def model_agrees(self) -> None:
        for hid, hm in self.haz.items():
            case = self.engine.get(hid)
            assert case.owning_jurisdiction == hm["owner"], hid
            assert case.fields.get("escalation_pending") == hm["pending"], hid
            assert (case.closed_at is None) == hm["open"], hid
        for tid, tm in self.tip.items():
            assert self.engine.get(tid).state == tm["state"], tid
        for eid, em in self.esc.items():
            assert self.engine.get(eid).state == em["state"], eid

    @invariant()
    def owner_scoped_commands_come_from_the_owning_tier(self) -> None:
        # Invariant 4 over the whole record: replay each hazard's owning tier event by event.
        for hid in self.haz:
            owner = None
            jurisdiction = None
            for ev in self.engine.history(hid):
                if ev.seq == 1:
                    owner = jurisdiction = ev.changes["jurisdiction"]
                assert owner is not None
                if ev.trigger in CLOSING:
                    if ev.actor_role in ("inspector", "safety_manager", "principal_officer"):
                        assert owner == jurisdiction, (hid, ev.seq, ev.trigger, ev.actor_id)
                    else:
                        assert is_within(owner, ev.actor_jurisdiction), (hid, ev.seq, ev.trigger, ev.actor_id)
                if ev.seq > 1 and "owning_jurisdiction" in ev.changes:
                    new = ev.changes["owning_jurisdiction"]
                    assert ev.trigger == "transfer_supervision"
                    assert new != owner, "supervision only moves up"
                    assert is_within(owner, new), "supervision only moves up"
                    owner = new

    @invariant()
    def hazards_from_reports_were_verified(self) -> None:
        # Invariant 6: a verified-report hazard exists only for a tip-off that was checked and found true.
        spawned = 0
        for case in self.engine.cases(workflow="hazard"):
            tid = case.fields.get("tipoff_id")
            if case.source in VERIFIED or tid is not None:
                spawned += 1
                assert tid is not None, case.id
                assert case.source in VERIFIED, case.id
                tip = self.engine.get(tid)
                assert tip.state == "substantiated"
                assert tip.fields["hazard_id"] == case.id
                kinds = [e.type for e in self.engine.history(tid)]
                assert kinds.index("tipoff.verification_started") < kinds.index("tipoff.substantiated")
        assert spawned == sum(1 for t in self.tip.values() if t["state"] == "substantiated")

    @invariant()
    def identities_stay_confidential(self) -> None:
        self._check_identities(full=False)

    def _check_identities(self, *, full: bool) -> None:
        if not self.identities:
            return
        texts = [json.dumps(self.logs, ensure_ascii=False, default=str)]
        if full:
            for case in self.engine.cases():
                texts.append(repr(case))
                texts.append(json.dumps([e.to_dict() for e in self.engine.history(case.id)], ensure_ascii=False))
        else:
            for case in self.engine.cases():
                texts.append(json.dumps(self.engine.history(case.id)[-1].to_dict(), ensure_ascii=False))
                texts.append(repr(case.fields))
        blob = "\n".join(texts)
        for secret in self.identities:
            assert secret not in blob, f"reporter identity {secret!r} leaked"


def _case_for(store_kind: str, share: float, steps: int) -> Any:
    machine = type(f"WorkflowInvariants_{store_kind}", (WorkflowInvariants,), {"store_factory": STORES[store_kind]})
    case = machine.TestCase
    base = settings.default
    case.settings = settings(
        base,
        max_examples=max(5, int(base.max_examples * share)),
        stateful_step_count=min(steps, base.stateful_step_count),
    )
    return case


TestWorkflowInvariantsMemory = _case_for("memory", 1.0, 60)


class TestWorkflowInvariantsSqlite(_case_for("sqlite", 0.15, 25)):  # type: ignore[misc]
    @pytest.fixture(autouse=True)
    def _file(self, tmp_path: Path) -> None:
        _WHERE["sqlite"] = tmp_path / "workflows.db"


@pytest.mark.postgres
class TestWorkflowInvariantsPostgres(_case_for("postgres", 0.1, 25)):  # type: ignore[misc]
    @pytest.fixture(autouse=True)
    def _database(self, postgres_url: str) -> None:
        _WHERE["postgres"] = postgres_url


def test_refusals_in_the_model_are_real() -> None:
    # A model that always predicts "refused" would make the machine vacuous: check one accepted path by hand.
    machine = WorkflowInvariants()
    try:
        h = machine.register(TOWNSHIP, "supervisory_inspection")
        e = machine.propose(h, "sx-eo")
        machine.approve(e, "sx-leader")
        machine.approve(e, "sx-head")
        machine.decide(e, "county-office", accept=True)
        assert machine.haz[h]["owner"] == COUNTY
        machine.to_review(h)
        machine.close_attempt(h, "sx-officer", "approve")
        assert machine.haz[h]["open"]
        machine.close_attempt(h, "county-supervisor", "approve")
        assert not machine.haz[h]["open"]
        machine.model_agrees()
        machine.owner_scoped_commands_come_from_the_owning_tier()
    finally:
        machine.teardown()


def test_model_catches_a_lower_tier_closure() -> None:
    # If the engine let the township approve a county-owned case, the machine would fail.
    machine = WorkflowInvariants()
    try:
        h = machine.register(TOWNSHIP, "supervisory_inspection")
        machine.haz[h]["owner"] = COUNTY  # the model believes supervision moved up; the engine does not
        machine.to_review(h)
        with pytest.raises(AssertionError, match="model expected a refusal"):
            machine.close_attempt(h, "sx-officer", "approve")
    finally:
        machine.teardown()
