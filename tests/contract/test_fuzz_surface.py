"""Hostile values against the whole public surface, on every store (issue 12).

Every public ``Engine`` method, the store contract's calls and every command of the command line get wrong types,
huge strings, control characters and lone surrogates, naive datetimes, negative and huge numbers, unknown triggers,
roles, jurisdictions and workflows, and bad URLs, one argument at a time. Each call either succeeds or raises a
:class:`~hazardflow.HazardflowError` subclass (an :class:`~hazardflow.InvalidInput` names the argument it
refuses), its message stays bounded, and after every refusal the store's snapshot is exactly what it was.

The ``ci`` Hypothesis profile bounds the number of examples. ``scripts/fuzz_count.py`` runs the suite and
prints how many calls it tried, and of what outcome.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hazard_world import ORDER, REGISTER, TOWNSHIP, UNIT, People, World
from hazardflow import (
    Actor,
    DeadlineSpec,
    Engine,
    HazardflowError,
    InvalidInput,
    SequentialIds,
    SimulatedClock,
)
from hazardflow.cli import app
from hazardflow.testing import snapshot_store

#: Outcomes of every call tried, by kind (written to $HAZARDFLOW_FUZZ_COUNTS when set; see scripts/fuzz_count.py).
COUNTS: Counter[str] = Counter()

# ── hostile values ──────────────────────────────────────────────────────────────────────────────────

#: Every code point, controls and lone surrogates included (Hypothesis leaves surrogates out by default).
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None)
HOSTILE_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "\t",
            "\x00",
            "a\x00b",
            "\x1b[31m红\x1b[0m",
            "\x85",
            "\x7f",
            "\ud800",
            "\u202e反转",
            "SET_DEADLINE",
            "Approve",
            "hazard\x00",
            "500240204\x00",
            "999999",
            "robert'); DROP TABLE hf_case;--",
        ]
    ),
    st.builds(lambda n, c: c * n, st.sampled_from([65, 201, 5001, 100_000, 1_000_000]), st.sampled_from("x隐\x00")),
)
HOSTILE = st.one_of(
    HOSTILE_TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([-1, 0, 2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.integers(), HOSTILE_TEXT), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.binary(max_size=4),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
    st.builds(object),
    st.sampled_from(["http://127.0.0.1/x", "postgres://u:pw@127.0.0.1:1/db", "sqlite:///\x00.db", "mysql://x/y"]),
)

T0 = datetime.fromisoformat("2024-03-04T09:00:00+08:00")


# ── the world on each store ─────────────────────────────────────────────────────────────────────────


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    if request.param == "memory":
        engine = Engine(clock=clock, ids=SequentialIds(), outbox=True)
    else:
        url = (
            f"sqlite:///{tmp_path / 'fuzz.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue("fresh_postgres_url")
        )
        engine = Engine.from_url(url, clock=clock, ids=SequentialIds(), outbox=True)
    w = World(engine, clock)
    w.register()  # HZ-000001: registered
    w.ordered()  # HZ-000002: rectifying
    engine.open_case(
        "tipoff",
        actor=People.clerk,
        jurisdiction=TOWNSHIP,
        channel="public",
        category="blocked_fire_exit",
        description="安全出口被堵",
        location="仓库",
        business_unit=UNIT,
        industry="fire_safety",
        reporter_name="举报人甲",
        reporter_contact="13900001111",
    )  # TO-000003
    yield w
    engine.close()
    _flush_counts()


def _flush_counts() -> None:
    path = os.environ.get("HAZARDFLOW_FUZZ_COUNTS")
    if path and COUNTS:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(dict(COUNTS)) + "\n")
        COUNTS.clear()


# ── one call with one hostile argument ──────────────────────────────────────────────────────────────


@attrs.frozen
class Call:
    """A public call with one argument replaced by a hostile value; ``names`` are what an InvalidInput may name."""

    what: str
    names: frozenset[str]
    run: Callable[[Engine], object]


def _actor_with(field: str, value: Any) -> Actor:
    return attrs.evolve(People.officer, **{field: value})


def _consume(result: object) -> object:
    if isinstance(result, Iterator):
        return list(result)
    return result


def engine_calls() -> st.SearchStrategy[Call]:
    h = HOSTILE
    case, ordered = "HZ-000001", "HZ-000002"
    register = {**REGISTER, "grade": "general"}

    def open_with(**over: Any) -> Callable[[Engine], object]:
        args: dict[str, Any] = {"actor": People.inspector, "jurisdiction": TOWNSHIP, **register}
        args.update(over)
        workflow = args.pop("workflow", "hazard")
        return lambda e: e.open_case(workflow, **args)

    def fire_with(**over: Any) -> Callable[[Engine], object]:
        args: dict[str, Any] = {"case_id": case, "trigger": "set_deadline", "actor": People.officer, "payload": ORDER}
        args.update(over)
        return lambda e: e.fire(args.pop("case_id"), args.pop("trigger"), **args)

    field_keys = st.sampled_from(sorted(register))
    order_keys = st.sampled_from(sorted(ORDER))
    actor_fields = st.sampled_from(["id", "name", "org", "jurisdiction"])

    def prefetch(ids: Any) -> Callable[[Engine], object]:
        def run(e: Engine) -> object:
            with e.batch():
                return e.prefetch(ids)

        return run

    def run_due(**over: Any) -> Callable[[Engine], object]:
        return lambda e: e.run_due(**over)

    def obligations(**over: Any) -> Callable[[Engine], object]:
        args: dict[str, Any] = {
            "party_kind": "business_unit",
            "jurisdiction": TOWNSHIP,
            "start": date(2024, 1, 1),
            "end": date(2024, 3, 31),
            "actor": People.officer,
        }
        args.update(over)
        party = args.pop("party_id", UNIT)
        return lambda e: e.open_obligations(party, **args)

    def resolve(**over: Any) -> Callable[[Engine], object]:
        args: dict[str, Any] = {"spec": DeadlineSpec.working_days(3), "start": T0, "jurisdiction": TOWNSHIP}
        args.update(over)
        return lambda e: e.resolve_deadline(args.pop("spec"), args.pop("start"), **args)

    def one(name: str, *names: str) -> frozenset[str]:
        return frozenset((name, *names))

    return st.one_of(
        # open_case
        st.builds(lambda v: Call("open_case.workflow", one("workflow"), open_with(workflow=v)), h),
        st.builds(lambda v: Call("open_case.actor", one("actor"), open_with(actor=v)), h),
        st.builds(lambda v: Call("open_case.jurisdiction", one("jurisdiction"), open_with(jurisdiction=v)), h),
        st.builds(lambda v: Call("open_case.key", one("idempotency_key"), open_with(idempotency_key=v)), h),
        st.builds(lambda v: Call("open_case.case_id", one("case_id"), open_with(case_id=v)), h),
        st.builds(lambda k, v: Call(f"open_case.{k}", one(k), open_with(**{k: v})), field_keys, h),
        st.builds(lambda k, v: Call("open_case.unknown", one(k), open_with(**{k: v})), HOSTILE_TEXT.filter(bool), h),
        st.builds(
            lambda f, v: Call(f"open_case.actor.{f}", one(f"actor.{f}"), open_with(actor=_actor_with(f, v))),
            actor_fields,
            h,
        ),
        # fire
        st.builds(lambda v: Call("fire.case_id", one("case_id"), fire_with(case_id=v)), h),
        st.builds(lambda v: Call("fire.trigger", one("trigger"), fire_with(trigger=v)), h),
        st.builds(lambda v: Call("fire.actor", one("actor"), fire_with(actor=v)), h),
        st.builds(lambda v: Call("fire.payload", one("payload"), fire_with(payload=v)), h),
        st.builds(lambda v: Call("fire.key", one("idempotency_key"), fire_with(idempotency_key=v)), h),
        st.builds(lambda k, v: Call(f"fire.payload.{k}", one(k), fire_with(payload={**ORDER, k: v})), order_keys, h),
        st.builds(
            lambda k, v: Call("fire.payload.unknown", one(str(k)), fire_with(payload={**ORDER, k: v})),
            HOSTILE_TEXT,
            h,
        ),
        st.builds(
            lambda f, v: Call(f"fire.actor.{f}", one(f"actor.{f}"), fire_with(actor=_actor_with(f, v))),
            actor_fields,
            h,
        ),
        st.builds(
            lambda v: Call(
                "fire.reason", one("reason"), fire_with(case_id=ordered, trigger="void", payload={"reason": v})
            ),
            h,
        ),
        # reading
        st.builds(lambda v: Call("get", one("case_id"), lambda e: e.get(v)), h),
        st.builds(lambda v: Call("history", one("case_id"), lambda e: e.history(v)), h),
        st.builds(lambda v: Call("allowed.case_id", one("case_id"), lambda e: e.allowed(v, People.officer)), h),
        st.builds(lambda v: Call("allowed.actor", one("actor"), lambda e: e.allowed(case, v)), h),
        st.builds(lambda v: Call("verify_audit", one("case_id"), lambda e: e.verify_audit(v)), h),
        st.builds(
            lambda k, v: Call(f"cases.{k}", one(k), lambda e: list(e.cases(**{k: v}))),
            st.sampled_from(["workflow", "jurisdiction", "state", "department", "open_only"]),
            h,
        ),
        st.builds(lambda v: Call("lifecycle", one("workflow"), lambda e: e.lifecycle(v)), h),
        st.builds(
            lambda v: Call(
                "reporter.purpose", one("purpose"), lambda e: e.reporter("TO-000003", People.clerk, purpose=v)
            ),
            h,
        ),
        st.builds(
            lambda v: Call("reporter.actor", one("actor"), lambda e: e.reporter("TO-000003", v, purpose="核实")), h
        ),
        st.builds(lambda v: Call("prefetch", one("case_ids"), prefetch(v)), h),
        st.builds(lambda v: Call("prefetch.item", one("case_ids"), prefetch([case, v])), h),
        # timers
        st.builds(lambda v: Call("run_due.now", one("now"), run_due(now=v)), h),
        st.builds(lambda v: Call("run_due.limit", one("limit"), run_due(limit=v)), h),
        st.builds(lambda v: Call("run_due.owner", one("owner"), run_due(owner=v)), h),
        st.builds(lambda v: Call("run_due.hold", one("hold_seconds"), run_due(hold_seconds=v)), h),
        # obligations and deadlines
        st.builds(
            lambda k, v: Call(f"open_obligations.{k}", one(k), obligations(**{k: v})),
            st.sampled_from(["party_id", "party_kind", "jurisdiction", "start", "end", "actor", "obligations"]),
            h,
        ),
        st.builds(
            lambda k, v: Call(f"resolve_deadline.{k}", one(k), resolve(**{k: v})),
            st.sampled_from(["spec", "start", "jurisdiction", "key"]),
            h,
        ),
        st.builds(lambda v: Call("subscribe", one("listener"), lambda e: e.subscribe(v)()), h),
    )


def check_call(engine: Engine, call: Call) -> None:
    """Run ``call``: success, or a typed error naming the argument, and nothing changed by a refusal."""
    before = snapshot_store(engine.store)
    try:
        _consume(call.run(engine))
    except HazardflowError as exc:
        text = str(exc)
        assert len(text) < 3000, f"{call.what}: unbounded message ({len(text)} characters)"
        if isinstance(exc, InvalidInput):
            assert exc.field in call.names or exc.field.startswith(tuple(call.names)), (  # noqa: PT017 - the call is drawn
                f"{call.what}: InvalidInput names {exc.field!r}, not the argument {sorted(call.names)}: {text[:300]}"
            )
        after = snapshot_store(engine.store)
        assert after == before, f"{call.what}: a refusal changed the store: " + "; ".join(before.diff(after))
        COUNTS[f"refused:{type(exc).__name__}"] += 1
    except Exception as exc:  # pragma: no cover - what the suite exists to catch
        COUNTS["untyped"] += 1
        raise AssertionError(f"{call.what}: untyped {type(exc).__name__}: {str(exc)[:300]}") from exc
    else:
        COUNTS["succeeded"] += 1
    COUNTS["engine_calls"] += 1


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=250)
@given(call=engine_calls())
def test_every_engine_method_refuses_hostile_values(world: World, call: Call) -> None:
    check_call(world.engine, call)


# ── the store contract ──────────────────────────────────────────────────────────────────────────────


def store_calls() -> st.SearchStrategy[tuple[str, Callable[[Any], object], object]]:
    """(what, call, the answer every store gives for a value no store holds; None when it may raise)."""
    t = HOSTILE_TEXT
    return st.one_of(
        st.builds(lambda v: ("load_case", lambda s: s.load_case(v), None), t),
        st.builds(lambda v: ("has_case", lambda s: s.has_case(v), False), t),
        st.builds(lambda v: ("load_cases", lambda s: s.load_cases([v]), []), t),
        st.builds(lambda v: ("load_events", lambda s: s.load_events(v), []), t),
        st.builds(lambda v: ("lookup_idempotency", lambda s: s.lookup_idempotency(v, v), None), t),
        st.builds(lambda v: ("armed_timers", lambda s: s.armed_timers(v), []), t),
        st.builds(lambda v: ("get_timer", lambda s: s.get_timer(v), None), t),
        st.builds(lambda v: ("read_confidential", lambda s: s.read_confidential(v), None), t),
        st.builds(lambda v: ("iter_events", lambda s: list(s.iter_events(v)), []), t),
        st.builds(lambda v: ("iter_cases", lambda s: list(s.iter_cases(state=v)), []), t),
        st.builds(lambda v: ("due_timers.now", lambda s: s.due_timers(v, limit=5), ...), HOSTILE),
        st.builds(lambda v: ("due_timers.limit", lambda s: s.due_timers(T0, limit=v), ...), HOSTILE),
        st.builds(lambda v: ("claim_timer.id", lambda s: _close(s.claim_timer(v, T0)), ...), HOSTILE),
        st.builds(lambda v: ("claim_timer.now", lambda s: _close(s.claim_timer("HZ-000002/2/d", v)), ...), HOSTILE),
        st.builds(lambda v: ("hold_timer.owner", lambda s: s.hold_timer("nope", owner=v, until=T0), ...), HOSTILE),
        st.builds(lambda v: ("hold_timer.until", lambda s: s.hold_timer("nope", owner="w", until=v), ...), HOSTILE),
    )


def _close(claim: Any) -> object:
    if claim is not None:
        claim.close()
    return claim


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], max_examples=120)
@given(call=store_calls())
def test_the_store_contract_answers_hostile_values_alike(world: World, call: tuple[str, Any, object]) -> None:
    what, run, nothing = call
    store = world.engine.store
    before = snapshot_store(store)
    try:
        got = run(store)
    except HazardflowError as exc:
        message = f"{what}: every store answers {nothing!r} for a value none holds, not {exc!r}"
        assert nothing is ..., message
        COUNTS[f"store_refused:{type(exc).__name__}"] += 1
    except Exception as exc:  # pragma: no cover
        COUNTS["untyped"] += 1
        raise AssertionError(f"{what}: untyped {type(exc).__name__}: {str(exc)[:300]}") from exc
    else:
        if nothing is not ...:
            assert got == nothing, f"{what}: {got!r}"
        COUNTS["store_succeeded"] += 1
    assert snapshot_store(store) == before
    COUNTS["store_calls"] += 1


# ── the command line ────────────────────────────────────────────────────────────────────────────────


def cli_calls(tmp: Path) -> st.SearchStrategy[list[str]]:
    t = HOSTILE_TEXT.filter(lambda s: "\x00" not in s and len(s) < 10_000).map(str)
    db = f"sqlite:///{tmp / 'cli.db'}"
    return st.one_of(
        st.builds(lambda v: ["lifecycle", "show", v], t),
        st.builds(lambda v: ["lifecycle", "show", "hazard", "--format", v], t),
        st.builds(lambda v: ["demo", "--store", v], t),
        st.builds(lambda v: ["db", "current", "--url", v], t),
        st.builds(lambda v: ["db", "upgrade", "--url", db, "--revision", v], t),
        st.builds(lambda v: ["audit", "verify", "--url", v], t),
        st.builds(lambda v: ["audit", "verify", "--url", db, "--case", v], t),
        st.builds(lambda v: ["worker", "--url", v, "--once"], t),
        st.builds(lambda v: ["worker", "--url", db, "--once", "--batch", v], t),
        st.builds(lambda v: ["policy", "show", v], t),
        st.builds(lambda v: ["policy", "show", "500240204", "--at", v], t),
        st.builds(lambda v: ["policy", "list", "--import", v], t),
        st.builds(lambda v: ["policy", "check", "--import", v], t),
        st.builds(lambda v: ["simulate", v, "--out", str(tmp / "out")], t),
        st.builds(lambda v: ["simulate", "nope.py", "--store", v, "--out", str(tmp / "out")], t),
    )


def test_every_command_refuses_hostile_arguments_cleanly(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--url", db]).exit_code == 0

    @settings(suppress_health_check=[HealthCheck.too_slow], max_examples=120)
    @given(args=cli_calls(tmp_path))
    def run(args: list[str]) -> None:
        res = runner.invoke(app, args)
        COUNTS["cli_calls"] += 1
        assert res.exception is None or isinstance(res.exception, SystemExit), (
            f"{args[:3]}: {type(res.exception).__name__}: {str(res.exception)[:300]}"
        )
        assert "Traceback" not in res.output
        COUNTS[f"cli_exit:{res.exit_code}"] += 1

    saved = structlog.get_config()  # `hazardflow worker` configures logging for its process
    try:
        run()
    finally:
        structlog.configure(**saved)
    _flush_counts()
