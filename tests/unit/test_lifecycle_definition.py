"""A broken lifecycle table is refused when the engine is built: one error listing every problem, with hints."""

from __future__ import annotations

import attrs
import pytest

from hazardflow import Engine, Field, LifecycleDefinitionError, LifecycleSpec, State, Transition, Workflow
from hazardflow.workflows import HAZARD
from hazardflow.workflows.hazard import HAZARD_SPEC


def _guard(ctx: object) -> object:
    raise AssertionError("never fired")


BROKEN = Workflow(
    LifecycleSpec(
        id="hazard_broken",
        initial="registerd",
        states=(
            State("registered"),
            State("rectifying", deadline="rectfy"),
            State("under_review"),
            State("closed"),
            State("closed"),
            State("voided"),
            State("frobnicated"),
        ),
        transitions=(
            Transition("register", (), "registered", ("inspector",)),
            Transition("register", (), "registered", ("inspector",)),
            Transition("set_deadline", ("registered",), "rectifyng", ("supervisr",), guards=("grade_is_generl",)),
            Transition("submit_review", ("rectifying",), "under_review", (), effects=("record_submision",)),
            Transition("approve", ("under_review",), "closed", ("township_officer",), when="not_listd"),
            Transition("approve", ("under_review",), "closed", ("township_officer",)),
            Transition("approve", ("under_review",), "voided", ("township_officer",)),
            Transition("explode", ("registered",), "closed", ("system",), scope="case"),
            Transition("mark_overdue", ("rectifying",), None, ("system", "supervisor"), scope="system"),
            Transition(
                "reject",
                ("under_review",),
                "rectifying",
                ("township_officer",),
                payload=(Field("reason", "text"), Field("reason", "text"), Field("level", "choice")),
                reason="reasn",
            ),
            Transition("void", ("closed",), "voided", ("township_officer",), scope="tier"),  # type: ignore[arg-type]
        ),
    ),
    guards={"grade_is_general": _guard},  # type: ignore[dict-item]
    effects={"record_submission": lambda ctx: None},
    routes={"not_listed": lambda ctx: True},
)

EXPECTED = [
    "state 'closed' is declared twice",
    "state 'frobnicated' has no label in the glossary",
    "initial state 'registerd' is not declared; did you mean 'registered'?",
    "no terminal state: a case could never be finished",
    "state 'rectifying' names deadline key 'rectfy' that has no glossary label",
    "exactly one opening row (sources=()) is required, found 2",
    "transition #2 'set_deadline': unknown destination state 'rectifyng'; did you mean 'rectifying'?",
    "transition #2 'set_deadline': unknown guard 'grade_is_generl'; did you mean 'grade_is_general'?",
    "transition #2 'set_deadline': unknown role 'supervisr'; did you mean 'supervisor'?",
    "transition #3 'submit_review': unknown effect 'record_submision'; did you mean 'record_submission'?",
    "transition #3 'submit_review': no role may fire it",
    "transition #4 'approve': unknown routing predicate 'not_listd'; did you mean 'not_listed'?",
    "transition #7 'explode': trigger has no label in the glossary",
    "transition #8 'mark_overdue': a system-scoped row may only name the 'system' role",
    "transition #9 'reject': a payload field is declared twice",
    "transition #9 'reject': reason field 'reasn' is not a payload field; did you mean 'reason'?",
    "transition #9 'reject': choice field 'level' needs choices",
    "transition #10 'void': unknown scope 'tier'; allowed: 'case', 'owner', 'system'",
    "trigger 'approve' has 3 rows from state 'under_review' without a 'when' to choose between them",
]


def test_every_problem_is_listed_with_hints() -> None:
    with pytest.raises(LifecycleDefinitionError) as info:
        Engine(workflows=[HAZARD, BROKEN])
    err = info.value
    assert err.code == "hazardflow.lifecycle_definition"
    assert err.workflow == "hazard_broken"
    for problem in EXPECTED:
        assert problem in err.problems, problem
    text = str(err)
    assert text.startswith(f"lifecycle 'hazard_broken' has {len(err.problems)} problem(s):\n  - ")
    for problem in EXPECTED:
        assert f"\n  - {problem}" in text


def test_reachability_and_a_way_out() -> None:
    spec = attrs.evolve(
        HAZARD_SPEC,
        id="hazard_islands",
        states=(*HAZARD_SPEC.states, State("received"), State("verifying")),
        transitions=(
            *HAZARD_SPEC.transitions,
            Transition("start_verification", ("received",), "verifying", ("supervisor",)),
        ),
    )
    workflow = attrs.evolve(HAZARD, spec=spec)
    with pytest.raises(LifecycleDefinitionError) as info:
        Engine(workflows=[workflow])
    assert set(info.value.problems) == {
        "state 'received' cannot be reached from the initial state 'registered'",
        "state 'verifying' cannot be reached from the initial state 'registered'",
        "state 'received' has no path to a terminal state",
        "state 'verifying' has no path to a terminal state",
    }


def test_a_workflow_id_is_registered_once() -> None:
    from hazardflow import InvalidInput

    with pytest.raises(InvalidInput) as info:
        Engine(workflows=[HAZARD, HAZARD])
    assert "a workflow id may be registered only once" in str(info.value)


def test_the_shipped_lifecycle_is_sound() -> None:
    engine = Engine()
    compiled = engine.lifecycle("hazard")
    # One shared machine, no per-model auto transitions.
    assert compiled.machine.models == []
    assert not any(name.startswith("to_") for name in compiled.machine.events)
