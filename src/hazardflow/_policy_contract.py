"""The policy contract: one pytest suite every jurisdiction policy must pass.

Subclass :class:`PolicyContract` in a test module and name the policy (a class or an instance)::

    from hazardflow.testing import PolicyContract
    from my_township import SanxingTownship

    class TestSanxing(PolicyContract):
        policy = SanxingTownship

The suite checks the policy's definition (sound against the shipped lifecycles, every rule tagged with its
source), its answers (grades map onto the national scale, the statutory dual-report pair, no on-the-spot fix
of a major hazard, no enterprise closing its own major hazard, the reporter's identity kept from enterprises,
deadlines and reporting dates that resolve forward on the working calendar), and then drives the real engine
through random hazard cases under the policy (Hypothesis), checking the invariants after every command: a
case closes only after an approved review by a role the policy authorizes, who is neither the rectifier nor
the submitter, and a listed case only after delisting; a major hazard is rectified only once it is reported to
every recipient the policy names and listed where the policy requires it; an accepted command appends exactly
one event and the hash chain and replay verify; a refused command changes nothing; an open case with a
deadline has exactly one armed deadline timer. Hypothesis and pytest are imported only when a test runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from ._calendar import DeadlineSpec, Roll, Unit, local_date, resolve
from ._jurisdiction import NATIONAL, ancestors, canonical, level_of

if TYPE_CHECKING:
    from ._engine import Engine
    from ._lifecycle import CompiledTransition, Field
    from ._model import Actor, Case
    from .abc import JurisdictionPolicy

__all__ = ["PolicyContract"]

_UNIT = "BU-CONTRACT"
_ENTERPRISE = ("inspector", "safety_manager", "principal_officer")
_GOVERNMENT = (
    "supervisor",
    "sector_department",
    "township_officer",
    "safety_committee_office",
    "fire_rescue",
    "emergency_office",
    "leader_in_charge",
    "head",
    "complaint_officer",
)
#: Sources a hazard can be registered with directly (reported ones come through their tip-off).
_DIRECT_SOURCES = ("enterprise_self_inspection", "supervisory_inspection", "enforcement", "monitoring_alarm", "expert")
_PERSON_FIELDS = ("fixed_by", "rectified_by", "responsible", "responsible_person")
#: Triggers that do not move a case forward; drawn less often so random cases reach their later stages.
_SIDE_TRIGGERS = frozenset({"void", "order_stop", "lift_stop", "assign_department", "reopen", "request_extension"})


class PolicyContract:
    """The pytest suite a jurisdiction policy passes to prove it keeps hazardflow's invariants.

    Set ``policy`` (class or instance). ``parents`` may list other policies to register beside it (its
    county's, say); ``start`` is the simulated start instant (inside the working calendar's data);
    ``examples`` caps the Hypothesis examples of each property (the active profile may lower it further) and
    ``steps`` the commands per random case. ``require_sources = False`` skips the source-tag review for a
    policy still in draft.
    """

    policy: ClassVar[Any] = None
    parents: ClassVar[tuple[Any, ...]] = ()
    start: ClassVar[datetime] = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)
    examples: ClassVar[int] = 12
    steps: ClassVar[int] = 30
    require_sources: ClassVar[bool] = True
    #: Shrink a failing random case to a minimal one (slower on failure, clearer report).
    shrink: ClassVar[bool] = True

    # ── helpers ───────────────────────────────────────────────────────────────────────────────────
    def make_policy(self) -> JurisdictionPolicy:
        """The policy under test, as an instance."""
        import inspect

        if self.policy is None:
            raise TypeError(f"{type(self).__name__} must set `policy = <your policy class>`")
        made: Any = self.policy() if inspect.isclass(self.policy) else self.policy
        p: JurisdictionPolicy = made
        return p

    def make_engine(self, policy: JurisdictionPolicy | None = None) -> Engine:
        """A fresh engine on a simulated clock with the policy (and its parents) registered."""
        from ._clock import SimulatedClock
        from ._engine import Engine, SequentialIds

        p = policy if policy is not None else self.make_policy()
        start = self.start
        effective = getattr(p, "effective_from", None)
        if effective is not None and local_date(start) < effective:
            # Start the day the policy takes effect (09:00 Beijing), so new cases pin it.
            start = datetime(effective.year, effective.month, effective.day, 1, 0, tzinfo=UTC)
        return Engine(clock=SimulatedClock(start), policies=[*self.parents, p], ids=SequentialIds())

    def case_jurisdiction(self, policy: JurisdictionPolicy) -> str:
        """Where the random cases are opened: the policy's own division (Beijing's 东华门街道 nationally)."""
        code = canonical(policy.jurisdiction)
        return code if code != NATIONAL else "110101001"

    def _settings(self) -> Any:
        from hypothesis import HealthCheck, Phase, settings

        current = settings.default
        cap = min(self.examples, current.max_examples) if current is not None else self.examples
        phases = tuple(p for p in Phase if self.shrink or p is not Phase.shrink)
        return settings(max_examples=cap, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=phases)

    def _probe(self, policy: JurisdictionPolicy, engine: Engine, state: str, grade: str) -> Case:
        from .policies.validation import probe_cases

        for case in probe_cases(policy, engine.workflows["hazard"], state):
            if case.fields.get("grade") == grade:
                return case
        raise AssertionError(f"no probe case for grade {grade!r}")

    # ── the definition ───────────────────────────────────────────────────────────────────────────
    def test_definition_is_sound(self) -> None:
        """No validation problem: deadlines, roles, triggers, ways out, a ladder that ends, nesting."""
        from ._engine import Engine
        from .policies.validation import check_policy

        policy = self.make_policy()
        engine = Engine(policies=list(self.parents))  # the shipped lifecycles, without the policy under test
        problems = check_policy(policy, engine)
        assert not problems, "\n".join(problems)

    def test_every_rule_is_sourced(self) -> None:
        """Every rule a layer sets carries a source tag (a regulation, a seed document, or ``inference``)."""
        if not self.require_sources:
            return
        from .policies.validation import check_sources

        problems = check_sources(self.make_policy())
        assert not problems, "\n".join(problems)

    def test_grades_map_onto_the_national_scale(self) -> None:
        """Grades run low to high and map onto 一般/重大, with at least one of each [S1 §3]."""
        policy = self.make_policy()
        grades = list(policy.choices("grades"))
        national = [policy.national_grade(g) for g in grades]
        assert set(national) == {"general", "major"}, f"grades {grades} map onto {national}"
        assert national == sorted(national, key=lambda g: g == "major"), f"grades {grades} do not run low to high"

    def test_major_hazard_rules(self) -> None:
        """For every major grade: the statutory pair is reported to, no on-the-spot fix, no enterprise closes it."""
        from ._engine import ENTERPRISE_ROLES

        policy = self.make_policy()
        engine = self.make_engine(policy)
        majors = [g for g in policy.choices("grades") if policy.national_grade(g) == "major"]
        for grade in majors:
            case = self._probe(policy, engine, "reporting", grade)
            recipients = list(policy.dual_report_recipients(case))
            assert {"supervising_department", "workers_congress"} <= set(recipients), recipients
            assert not policy.on_the_spot_fix(case).ok, f"a {grade!r} hazard may be fixed on the spot"
            review = self._probe(policy, engine, "under_review", grade)
            perm = policy.permission("hazard", "approve", review)
            roles = perm.roles if perm is not None else engine.workflows["hazard"].by_trigger["approve"][0].roles
            assert not (set(roles) & ENTERPRISE_ROLES), sorted(roles)
            assert policy.confirmation_levels(case) >= 1, "a major hazard needs at least one confirmation"

    def test_reporter_identity_is_kept_from_enterprises(self) -> None:
        """No enterprise role may read who reported it [S3 §73 verify]."""
        from ._engine import ENTERPRISE_ROLES

        leaked = self.make_policy().reporter_visible_roles() & ENTERPRISE_ROLES
        assert not leaked, f"enterprise roles may read the reporter: {sorted(leaked)}"

    def test_deadlines_resolve_forward(self) -> None:
        """Every stage limit and reporting date resolves after its start, on the working calendar's terms."""
        from hypothesis import given
        from hypothesis import strategies as st

        policy = self.make_policy()
        engine = self.make_engine(policy)
        specs: list[DeadlineSpec] = []
        for lc in engine.workflows.values():
            for st_ in lc.states.values():
                if st_.deadline and not st_.terminal:
                    from .policies.validation import probe_cases

                    for case in probe_cases(policy, lc, st_.id):
                        for fields in ({}, {"industry": "fire_safety"}):
                            probe = case if not fields else _with_fields(case, fields)
                            spec = policy.deadline(st_.deadline, probe)
                            if spec is not None and spec not in specs:
                                specs.append(spec)
        specs.extend(ob.due for ob in policy.reporting_obligations() if ob.due not in specs)
        calendar = policy.calendar
        lo, hi = getattr(calendar, "covered_years", (2024, 2025))
        first = datetime(max(lo, 2020), 1, 1, tzinfo=UTC)
        last = datetime(min(hi, 2026), 10, 1, tzinfo=UTC)

        @self._settings()  # type: ignore[untyped-decorator]
        @given(
            st.sampled_from(specs) if specs else st.nothing(),
            st.datetimes(first.replace(tzinfo=None), last.replace(tzinfo=None)),
        )
        def check(spec: DeadlineSpec, naive: datetime) -> None:
            start = naive.replace(tzinfo=UTC)
            due = resolve(spec, start, calendar).due_at
            assert due > start or spec.amount == 0
            if spec.unit in (Unit.WORKING_DAY,) or spec.roll is Roll.NEXT_WORKING_DAY:
                last_day = local_date(due - timedelta(microseconds=1))
                assert calendar.is_working_day(last_day), (spec, start, last_day)

        if specs:
            check()

    # ── the lifecycle under the policy ────────────────────────────────────────────────────────────
    def test_random_cases_keep_the_invariants(self) -> None:
        """Random hazard cases, driven through the real engine under the policy, keep every invariant."""
        from hypothesis import given
        from hypothesis import strategies as st

        @self._settings()  # type: ignore[untyped-decorator]
        @given(st.data())
        def walk(data: Any) -> None:
            _Walk(self, data).run()

        walk()


def _with_fields(case: Case, fields: dict[str, Any]) -> Case:
    import attrs

    from ._model import FrozenDict

    return attrs.evolve(case, fields=FrozenDict({**case.fields, **fields}))


class _Walk:
    """One random hazard case under the policy, checked after every step."""

    def __init__(self, contract: PolicyContract, data: Any) -> None:
        from ._model import Actor

        self.contract = contract
        self.data = data
        self.policy = contract.make_policy()
        self.engine = contract.make_engine(self.policy)
        self.here = contract.case_jurisdiction(self.policy)
        levels = [c for c in ancestors(self.here) if c != NATIONAL]
        people: list[Actor] = []
        for role in _ENTERPRISE:
            for n in (1, 2):
                people.append(Actor(f"{role}-{n}", f"{role} {n}", {role}, _UNIT, self.here))
        for code in levels:
            for role in _GOVERNMENT:
                if role == "township_officer" and level_of(code) not in ("township", "village"):
                    continue
                for n in (1, 2):
                    people.append(Actor(f"{role}@{code}-{n}", f"{role} {n}", {role}, f"org@{code}", code))
        self.people = people
        self.case_id = ""

    # ── drawing ──────────────────────────────────────────────────────────────────────────────────
    def _value(self, field: Field, case: Case | None) -> Any:
        from hypothesis import strategies as st

        from ._glossary import terms

        draw = self.data.draw
        today = local_date(self.engine.now())
        if field.name in _PERSON_FIELDS:
            return draw(st.sampled_from([p.id for p in self.people[:6]] + ["worker-9"]))
        kind = field.kind
        if kind in ("str", "text"):
            return {"business_unit": _UNIT}.get(field.name, f"{field.name}-值")
        if kind in ("int", "number"):
            return draw(st.integers(0, 500_000))
        if kind == "bool":
            return draw(st.booleans())
        if kind == "date":
            return (today + timedelta(days=draw(st.integers(-2, 60)))).isoformat()
        if kind == "datetime":
            return self.engine.now().isoformat()
        if kind == "str_list":
            if field.name == "criteria":
                return self._criteria(case)
            return ["证据-1"]
        if kind == "mapping":
            return {}
        choices: Any = field.choices
        if isinstance(choices, tuple):
            return draw(st.sampled_from(choices))
        if isinstance(choices, str) and choices.startswith("policy:"):
            options = list(self.policy.choices(choices[7:]))
        else:
            options = [t.id for t in terms(str(choices))]
        if field.name == "source":
            options = [o for o in options if o in _DIRECT_SOURCES] or options
        return draw(st.sampled_from(sorted(options)))

    def _criteria(self, case: Case | None) -> list[str]:
        from hypothesis import strategies as st

        catalog = getattr(self.policy, "criteria_catalog", None)
        industry = case.fields.get("industry") if case is not None else None
        if catalog is None or industry is None:
            return ["条目-1"]
        sets = catalog.in_force(industry, local_date(self.engine.now()))
        items = [i.id for s in sets for i in s.items]
        return [self.data.draw(st.sampled_from(items))] if items else ["条目-1"]

    def _payload(
        self, fields: tuple[Field, ...], case: Case | None, seed: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from hypothesis import strategies as st

        out: dict[str, Any] = dict(seed or {})
        for f in fields:
            if f.name in out:
                continue
            if f.required or self.data.draw(st.booleans()):
                if f.name in ("tipoff_id", "discovered_at", "department") and not f.required:
                    continue
                out[f.name] = self._value(f, case)
        return out

    # ── running ──────────────────────────────────────────────────────────────────────────────────
    def _open(self) -> bool:
        from hypothesis import strategies as st

        from ._exceptions import HazardflowError

        lc = self.engine.workflows["hazard"]
        for _ in range(4):
            actor = self.data.draw(st.sampled_from([p for p in self.people if p.roles & lc.opener.roles]))
            grade = self.data.draw(st.sampled_from(list(self.policy.choices("grades"))))
            industry = self.data.draw(st.sampled_from(["industry_trade", "fire_safety", "chemicals", "construction"]))
            fields = self._payload(lc.opener.payload, None, {"grade": grade, "industry": industry})
            if "criteria" in fields or (
                self.policy.national_grade(grade) == "major"
                and self.policy.criteria_required(_probe_case(grade, industry))
            ):
                fields["criteria"] = self._criteria(_probe_case(grade, industry))
            try:
                case = self.engine.open_case("hazard", actor=actor, jurisdiction=self.here, **fields)
            except HazardflowError:
                continue
            self.case_id = case.id
            return True
        return False

    def _candidates(self, case: Case, *, allowed_only: bool) -> list[tuple[CompiledTransition, Actor]]:
        """(row, person) pairs to try: the ones ``allowed()`` lists, or any pair the policy authorizes."""
        lc = self.engine.workflows["hazard"]
        rows = [r for r in lc.by_state.get(case.state, ()) if r.scope != "system"]
        out: list[tuple[CompiledTransition, Actor]] = []
        for person in self.people:
            permitted = set(self.engine.allowed(self.case_id, person)) if allowed_only else None
            seen: set[str] = set()
            for row in rows:
                if row.trigger in seen:
                    continue
                seen.add(row.trigger)
                if permitted is not None:
                    if row.trigger in permitted:
                        out.append((row, person))
                    continue
                perm = self.policy.permission("hazard", row.trigger, case)
                roles = perm.roles if perm is not None else row.roles
                if person.roles & roles:
                    out.append((row, person))
        return out

    def _choose(self, options: list[tuple[CompiledTransition, Actor]]) -> tuple[CompiledTransition, Actor]:
        """Pick a trigger (a side step such as void only now and then), then a person who may fire it."""
        from hypothesis import strategies as st

        side = sorted({r.trigger for r, _ in options if r.trigger in _SIDE_TRIGGERS})
        forward = sorted({r.trigger for r, _ in options if r.trigger not in _SIDE_TRIGGERS})
        if forward and (not side or self.data.draw(st.integers(0, 9)) > 0):
            trigger = self.data.draw(st.sampled_from(forward))
        else:
            trigger = self.data.draw(st.sampled_from(side))
        pairs = [(r, p) for r, p in options if r.trigger == trigger]
        index: int = self.data.draw(st.integers(0, len(pairs) - 1))
        return pairs[index]

    def _snapshot(self) -> tuple[Any, ...]:
        case = self.engine.get(self.case_id)
        events = len(self.engine.history(self.case_id))
        timers = tuple(sorted((t.id, t.due_at, t.kind) for t in self.engine.store.armed_timers(self.case_id)))
        return case, events, timers

    def run(self) -> None:
        from hypothesis import assume
        from hypothesis import strategies as st

        from ._exceptions import HazardflowError

        assume(self._open())
        self.check()
        for _ in range(self.contract.steps):
            case = self.engine.get(self.case_id)
            if case.closed_at is not None:
                break
            if self.data.draw(st.integers(0, 5)) == 0:
                self.engine.clock.advance(timedelta(days=self.data.draw(st.integers(1, 20))))  # type: ignore[attr-defined]
                self.engine.run_due()
                self.check()
                continue
            options = self._candidates(case, allowed_only=self.data.draw(st.integers(0, 5)) > 0)
            if not options:
                continue
            row, actor = self._choose(options)
            payload = self._payload(row.payload, case)
            before = self._snapshot()
            try:
                self.engine.fire(self.case_id, row.trigger, actor=actor, payload=payload)
            except HazardflowError:
                assert self._snapshot() == before, f"refused {row.trigger!r} changed the case"
                continue
            after = self._snapshot()
            assert after[1] == before[1] + 1, "an accepted command appends exactly one event"
            self.check()

    # ── invariants ───────────────────────────────────────────────────────────────────────────────
    def check(self) -> None:
        engine, policy = self.engine, self.policy
        case = engine.get(self.case_id)
        events = engine.history(self.case_id)
        report = engine.verify_audit(self.case_id)
        assert report.ok, str(report)
        assert case.rev == len(events)
        assert {(e.policy_id, e.policy_version) for e in events} == {(policy.policy_id, policy.policy_version)}
        timers = engine.store.armed_timers(self.case_id)
        deadlines = [t for t in timers if t.kind == "deadline"]
        if case.closed_at is not None:
            assert not timers, f"a finished case keeps armed timers: {timers}"
        elif case.deadline is not None and not case.overdue:
            assert [t.due_at for t in deadlines] == [case.deadline.due_at], (case.deadline, deadlines)
        else:
            assert not deadlines
        for ev in events:
            if ev.trigger == "sanction":
                assert int(ev.payload["rung"]) <= len(policy.ladder(str(ev.payload["key"]), case))
        triggers = [e.trigger for e in events]
        major = case.grade is not None and policy.national_grade(case.grade) == "major"
        if major and "adopt_plan" in triggers:
            at = triggers.index("adopt_plan")
            reported = {e.payload.get("recipient") for e in events[:at] if e.trigger == "report"}
            owed = set(policy.dual_report_recipients(case))
            assert owed <= reported, f"rectification began before reporting to {sorted(owed - reported)}"
            if policy.listing(case).required:
                assert "list_for_supervision" in triggers[:at], "rectification began before the required listing"
        if case.state == "closed":
            _check_closure(policy, case, events)


def _probe_case(grade: str, industry: str) -> Case:
    from ._model import Case, FrozenDict

    now = datetime(2024, 3, 4, tzinfo=UTC)
    return Case(
        "P",
        "hazard",
        "registered",
        0,
        "110101001",
        "110101001",
        "p",
        "1",
        now,
        now,
        FrozenDict({"grade": grade, "industry": industry}),
    )


def _check_closure(policy: JurisdictionPolicy, case: Case, events: list[Any]) -> None:
    last = events[-1]
    if last.trigger == "fix_on_spot":
        assert policy.national_grade(str(case.grade)) == "general"
        assert last.actor_id != last.payload.get("fixed_by")
        return
    approvals = [e for e in events if e.trigger == "approve"]
    assert approvals, "closed without an approved review"
    approval = approvals[-1]
    submits = [e for e in events[: approval.seq - 1] if e.trigger == "submit_review"]
    assert submits, "approved without a submission"
    submit = submits[-1]
    assert approval.actor_id not in (submit.actor_id, submit.payload.get("rectified_by"))
    perm = policy.permission("hazard", "approve", case)
    if perm is not None:
        assert approval.actor_role in perm.roles
    if any(e.trigger == "list_for_supervision" for e in events[: approval.seq]):
        assert last.trigger == "delist", "a listed case closed without delisting"
