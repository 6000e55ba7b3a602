"""Engine overhead per ``fire`` and memory per open case, beside a raw ``transitions`` trigger and a dict table.

Run: ``.venv/bin/python benchmarks/engine.py`` (``--cases 2000 --rounds 7`` by default; ``--quick`` for a smoke run).

What is timed, in interleaved rounds so that machine drift hits every contender alike:

* **engine**: ``Engine.fire(case_id, "approve", actor=..., payload={"opinion": ...})`` on an in-memory engine
  holding the round's cases, each a general hazard under review (the full command path: load, route,
  authorize, validate the payload, guards, effects, the shared machine, the hash-chained audit event, timers
  cancelled, atomic commit). GC stays on, as in production.
* **engine lifecycle**: the mean over every ``fire`` of a general hazard's path
  ``set_deadline → submit_review → reject → submit_review → approve`` (arming and cancelling timers each step).
* **engine approve, 4 layers**: the same approve with the township's policy a chain of four layers (national,
  province, county, township, each stating a rule of its own), composed when the chain is first resolved and
  cached per pin: the cost of resolving a case's layered policy on every ``fire``.
* **transitions raw**: the engine's pattern without the engine: one shared, stock ``transitions.Machine``
  (its own ``Transition`` class, ``model=None``, ``auto_transitions=False``, ``send_event=True``, the same
  hazard table's rows) and ``machine.events["approve#<row>"].trigger(row)`` on a ``__slots__`` row in
  ``under_review``. (The engine's compiled machine uses a kernel ``Transition`` that skips transitions' empty
  callback chains; the baseline deliberately does not.)
* **dict table**: ``row.state = TABLE[(row.state, "approve")]`` on the same kind of row.

Each round prepares every contender (untimed), then times them in slices of 50 fires taken in turn, so a
change of machine load hits all of them alike. Each figure is the median over rounds of (round time / fires)
with the range (min-max); each ratio is taken per round (the same interleaved slices) and reported as median
and range. Absolute microseconds drift on a shared machine; the ratios are the result.

Memory: after opening ``--cases`` general hazards and ordering each rectified by a deadline (so each holds an
armed deadline timer and a reminder), the deep size of everything the in-memory store keeps for them except
their audit events (case snapshots with their fields and deadline, timer rows, the timer index and heap,
idempotency and confidential maps) is divided by the number of cases. Every object is counted once with
``sys.getsizeof`` while walking ``gc.get_referents`` from the store's containers, so objects shared between
cases (interned state names, the policy) amortise to nearly nothing. Audit events are reported separately.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

from hazardflow import Actor, Engine, SequentialIds, SimulatedClock
from hazardflow.persistence.memory import MemoryStore
from hazardflow.workflows.hazard import HAZARD_SPEC

PY = sys.version.split()[0]
TOWNSHIP = "500240204"
UNIT = "500240204-BU-0001"
INSPECTOR = Actor("e-zhang", "张检查", {"inspector"}, UNIT, TOWNSHIP)
MANAGER = Actor("e-li", "李安全", {"safety_manager"}, UNIT, TOWNSHIP)
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
REGISTER = {
    "grade": "general",
    "source": "enterprise_self_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": UNIT,
    "location": "一号车间",
    "description": "砂轮机防护罩缺失",
}
ORDER = {"deadline": "2024-03-20", "measures": "加装防护罩", "responsible": "李安全"}
SUBMIT = {"evidence": ["整改后照片.jpg"], "rectified_by": MANAGER.id}
APPROVE = {"opinion": "现场复核通过"}
REJECT = {"reason": "防护罩尺寸不符"}


class Row:
    """The kind of row the engine's shared machine moves."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _layers() -> list[type]:
    from hazardflow.policies import Layer, extend

    class Province(Layer):
        policy_id = "bench.province"
        policy_version = "1"
        jurisdiction = "500000"
        name = "省"
        escalate_only_major_or_stuck = True

    class County(Layer):
        policy_id = "bench.county"
        policy_version = "1"
        jurisdiction = "500240"
        name = "县"
        stop_every_major = True

    class Township(Layer):
        policy_id = "bench.township"
        policy_version = "1"
        jurisdiction = TOWNSHIP
        name = "乡"
        report_recipients = extend("township_government")

    return [Province, County, Township]


def new_engine(layered: bool = False) -> Engine:
    return Engine(
        store=MemoryStore(),
        clock=SimulatedClock("2024-03-04T09:00:00+08:00"),
        ids=SequentialIds(8),
        policies=_layers() if layered else None,
    )


def open_cases(engine: Engine, n: int, *, submit: bool) -> list[str]:
    ids = []
    for _ in range(n):
        case = engine.open_case("hazard", actor=INSPECTOR, jurisdiction=TOWNSHIP, **REGISTER)
        engine.fire(case.id, "set_deadline", actor=OFFICER, payload=ORDER)
        if submit:
            engine.fire(case.id, "submit_review", actor=MANAGER, payload=SUBMIT)
        ids.append(case.id)
    return ids


CHUNK = 50  # fires per timed slice; slices of every contender alternate so load changes hit them alike


def _engine_approve(n: int, layered: bool = False) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    engine = new_engine(layered)
    ids = open_cases(engine, n, submit=True)
    if layered:
        assert len(engine.get(ids[0]).policy_chain) == 4
    fire = engine.fire

    def run(lo: int, hi: int) -> None:
        for cid in ids[lo:hi]:
            fire(cid, "approve", actor=OFFICER, payload=APPROVE)

    def check() -> None:
        assert all(engine.get(cid).state == "closed" for cid in ids)

    return run, check


def _engine_lifecycle(n: int) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    engine = new_engine()
    ids = [engine.open_case("hazard", actor=INSPECTOR, jurisdiction=TOWNSHIP, **REGISTER).id for _ in range(n)]
    fire = engine.fire
    steps = (
        ("set_deadline", OFFICER, ORDER),
        ("submit_review", MANAGER, SUBMIT),
        ("reject", OFFICER, REJECT),
        ("submit_review", MANAGER, SUBMIT),
        ("approve", OFFICER, APPROVE),
    )
    # One "fire" unit here is one step; a slice of CHUNK units walks CHUNK // 5 cases through all five steps.
    per_case = len(steps)

    def run(lo: int, hi: int) -> None:
        for cid in ids[lo // per_case : hi // per_case]:
            for trigger, actor, payload in steps:
                fire(cid, trigger, actor=actor, payload=payload)

    def check() -> None:
        done = ids[: n // per_case]
        assert all(engine.get(cid).state == "closed" for cid in done)

    return run, check


_APPROVE_ROW = next(i for i, t in enumerate(HAZARD_SPEC.transitions) if t.trigger == "approve" and t.dest == "closed")


def _plain_machine() -> Any:
    """A stock ``transitions.Machine`` (its own ``Transition`` class) over the same hazard table."""
    from transitions import Machine

    rows = [
        {"trigger": f"{t.trigger}#{i}", "source": list(t.sources), "dest": t.dest}
        for i, t in enumerate(HAZARD_SPEC.transitions)
        if t.sources
    ]
    return Machine(
        model=None,
        states=[st.id for st in HAZARD_SPEC.states],
        transitions=rows,
        initial=HAZARD_SPEC.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


_MACHINE = _plain_machine()


def _transitions_raw(n: int) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    trigger = _MACHINE.events[f"approve#{_APPROVE_ROW}"].trigger
    rows = [Row("under_review") for _ in range(n)]

    def run(lo: int, hi: int) -> None:
        for row in rows[lo:hi]:
            trigger(row)

    def check() -> None:
        assert all(r.state == "closed" for r in rows)

    return run, check


_TABLE: dict[tuple[str, str], str] = {}
for _t in HAZARD_SPEC.transitions:
    for _src in _t.sources:
        if _t.dest is not None:
            _TABLE.setdefault((_src, _t.trigger), _t.dest)  # the first row (approve → closed when not listed)


def _dict_table(n: int) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    rows = [Row("under_review") for _ in range(n)]
    table = _TABLE

    def run(lo: int, hi: int) -> None:
        for row in rows[lo:hi]:
            row.state = table[(row.state, "approve")]

    def check() -> None:
        assert all(r.state == "closed" for r in rows)

    return run, check


# ── where the time goes ──────────────────────────────────────────────────────────────────────────────
def _without(part: str) -> Callable[[int], tuple[Callable[[int, int], None], Callable[[], None]]]:
    """The approve contender with one part of the command path replaced by a no-op (for the breakdown)."""
    import hazardflow._engine as core
    from hazardflow._model import FrozenDict

    def make(n: int) -> tuple[Callable[[int, int], None], Callable[[], None]]:
        engine = new_engine()
        ids = open_cases(engine, n, submit=True)
        rows = engine.lifecycle("hazard").by_trigger["approve"]
        patches: list[tuple[Any, str, Any]] = []
        if part == "canonical JSON":
            patches.append((core, "canonical_bytes", lambda data: b"{}"))
        elif part == "SHA-256":
            patches.append((core, "hash_canonical", lambda text, key: "0" * 64))
        elif part == "transitions trigger":

            def direct(dest: str) -> Callable[[Row], None]:
                def move(row: Row) -> None:
                    row.state = dest

                return move

            patches.extend((r, "move", direct(r.dest or "")) for r in rows)
        elif part == "store commit":
            patches.append((engine.store, "commit", lambda writes: None))
        elif part == "payload validation":
            patches.append((core, "check_payload", lambda fields, payload, choices, what: FrozenDict(payload)))
        elif part == "authorization":
            patches.append((engine, "_authorize", lambda row, case, actor, policy: "township_officer"))
        elif part == "guards":
            patches.append((engine, "_run_guards", lambda ctx, row, policy: None))
        elif part == "effects":
            patches.extend((r, "effects", ()) for r in rows)
        fire = engine.fire

        def run(lo: int, hi: int) -> None:
            saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
            for obj, name, value in patches:
                setattr(obj, name, value)
            try:
                for cid in ids[lo:hi]:
                    fire(cid, "approve", actor=OFFICER, payload=APPROVE)
            finally:
                for obj, name, value in saved:
                    setattr(obj, name, value)

        return run, lambda: None

    return make


BREAKDOWN_PARTS = (
    "transitions trigger",
    "canonical JSON",
    "SHA-256",
    "store commit",
    "payload validation",
    "authorization",
    "guards",
    "effects",
)


def breakdown(n: int, rounds: int) -> None:
    """Each part's cost inside ``approve``: the fire with that part replaced by a no-op, against the full fire.

    Every variant and the raw trigger run in the same round, in interleaved slices like the headline figures
    (so machine drift hits them alike), with the garbage collector off (so a collection landing in one
    variant does not blur the others); each part's cost is the median over rounds of (full - variant) taken
    per round. The collector's own share is a separate round pair with it on.
    """
    variants: dict[str, Callable[[int], Any]] = {"full": _engine_approve, "raw": _transitions_raw}
    variants.update({part: _without(part) for part in BREAKDOWN_PARTS})
    saved: dict[str, list[float]] = {part: [] for part in BREAKDOWN_PARTS}
    full: list[float] = []
    raw: list[float] = []
    with_gc: list[float] = []
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            got = one_round(n, variants)
        finally:
            gc.enable()
        full.append(got["full"])
        raw.append(got["raw"])
        for part in BREAKDOWN_PARTS:
            saved[part].append(got["full"] - got[part])
        gc.collect()
        with_gc.append(one_round(n, {"full": _engine_approve})["full"])
    whole = statistics.median(full)
    print(f"where an approve goes ({n} fires per variant, {rounds} rounds, interleaved; parts measured with GC off)")
    print(
        f"  the whole fire, GC off   {whole * 1e6:7.2f} µs  (raw transitions trigger, same slices: "
        f"{statistics.median(raw) * 1e6:.2f} µs)"
    )
    accounted = 0.0
    for part in BREAKDOWN_PARTS:
        cost = statistics.median(saved[part])
        accounted += cost
        print(f"  {part:<24} {cost * 1e6:7.2f} µs  {cost / whole * 100:5.1f}%")
    rest = whole - accounted
    if rest >= 0:
        print(f"  {'everything else':<24} {rest * 1e6:7.2f} µs  {rest / whole * 100:5.1f}%")
    else:
        # A part taken out also takes out the memory its objects would have used (fresh pages, cache lines,
        # garbage-collector work), which the rest of the fire then no longer pays: the savings overlap.
        print(
            f"  (the savings overlap: together {accounted * 1e6:.2f} µs of the whole {whole * 1e6:.2f} µs, because a "
            "part taken out also saves the memory traffic of its objects)"
        )
    gc_on = statistics.median(with_gc)
    print(f"  {'garbage collection':<24} {(gc_on - whole) * 1e6:7.2f} µs  (on top: GC on {gc_on * 1e6:.2f} µs)")
    print("  each part: the time saved when only it is replaced by a no-op; everything else is loading the")
    print("  case, routing, the command context, the event body and change record, the new Case, AuditEvent and")
    print("  Write, cancelling timers, the unit of work")


def one_round(n: int, contenders: dict[str, Callable[[int], Any]]) -> dict[str, float]:
    """Seconds per fire of each contender over one round, slices interleaved."""
    prepared = {name: make(n) for name, make in contenders.items()}
    spent = dict.fromkeys(prepared, 0.0)
    clock = time.perf_counter
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        for name, (run, _) in prepared.items():
            t0 = clock()
            run(lo, hi)
            spent[name] += clock() - t0
    for _, check in prepared.values():
        check()
    return {name: total / n for name, total in spent.items()}


# ── memory ────────────────────────────────────────────────────────────────────────────────────────────
_SKIP = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def deep_size(roots: Iterable[Any], exclude: Iterable[Any] = ()) -> int:
    """Bytes of every object reachable from ``roots`` (each counted once; types, modules, functions skipped),
    not counting ``exclude`` nor what is reachable only through it."""
    seen: set[int] = {id(obj) for obj in exclude}
    total = 0
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SKIP):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def bytes_per_case(n: int, *, order: bool) -> tuple[float, float, dict[str, int]]:
    engine = new_engine()
    store = engine.store
    assert isinstance(store, MemoryStore)
    if order:
        open_cases(engine, n, submit=False)
    else:
        for _ in range(n):
            engine.open_case("hazard", actor=INSPECTOR, jurisdiction=TOWNSHIP, **REGISTER)
    state = [
        store._entries,
        store._timers,
        store._heap,
        store._due,
        store._idem,
        store._confidential,
    ]
    # The audit events hang off each case's entry: counted apart.
    event_lists = [entry.events for entry in store._entries.values()]
    case_bytes = deep_size(state, exclude=event_lists) / n
    event_bytes = deep_size(event_lists) / n
    return case_bytes, event_bytes, store.count()


# ── report ────────────────────────────────────────────────────────────────────────────────────────────
def fmt(values: list[float]) -> str:
    us = [v * 1e6 for v in values]
    return f"{statistics.median(us):8.2f} µs  [{min(us):.2f}-{max(us):.2f}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2000, help="cases (and rows) per round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 cases, 2 rounds")
    parser.add_argument("--breakdown", action="store_true", help="also: where the time of an approve goes")
    args = parser.parse_args(argv)
    n, rounds = (200, 2) if args.quick else (args.cases, args.rounds)

    contenders: dict[str, Callable[[int], Any]] = {
        "engine approve": _engine_approve,
        "engine lifecycle": _engine_lifecycle,
        "engine 4 layers": lambda n: _engine_approve(n, layered=True),
        "transitions raw": _transitions_raw,
        "dict table": _dict_table,
    }
    results: dict[str, list[float]] = {k: [] for k in contenders}
    ratios: dict[str, list[float]] = {"approve": [], "lifecycle": [], "layers": []}
    for _ in range(rounds):
        gc.collect()
        got = one_round(n, contenders)
        for name, value in got.items():
            results[name].append(value)
        ratios["approve"].append(got["engine approve"] / got["transitions raw"])
        ratios["lifecycle"].append(got["engine lifecycle"] / got["transitions raw"])
        ratios["layers"].append(got["engine 4 layers"] / got["engine approve"])
    med = {k: statistics.median(v) for k, v in results.items()}

    print(f"hazardflow engine benchmark: {n} fires per contender per round, {rounds} rounds, Python {PY}")
    print()
    print("µs per fire (median [min-max] over rounds)")
    for name, values in results.items():
        print(f"  {name:<18} {fmt(values)}")
    print()
    print("ratios (per round, over the same interleaved slices: median [min-max])")
    for label, key in (("engine approve", "approve"), ("engine lifecycle", "lifecycle")):
        rs = ratios[key]
        print(f"  {label:<17}/ transitions raw  {statistics.median(rs):6.2f}x  [{min(rs):.2f}-{max(rs):.2f}]")
    rs = ratios["layers"]
    print(f"  engine 4 layers  / engine approve   {statistics.median(rs):6.2f}x  [{min(rs):.2f}-{max(rs):.2f}]")
    print(f"  transitions raw  / dict table       {med['transitions raw'] / med['dict table']:6.2f}x")
    print(f"  engine approve   / dict table       {med['engine approve'] / med['dict table']:6.2f}x")
    print("  target: engine approve within 3x the raw transitions trigger")
    print()
    registered, _, _ = bytes_per_case(n, order=False)
    case_bytes, event_bytes, counts = bytes_per_case(n, order=True)
    print(f"memory per open case (in memory, {n} cases; target < 2048 bytes excluding audit events)")
    print(f"  registered (no deadline, no timers)            {registered:8.0f} bytes")
    print(f"  rectifying (deadline, deadline + reminder)     {case_bytes:8.0f} bytes")
    print(f"  its audit events (2 per case, not counted)     {event_bytes:8.0f} bytes")
    print(f"  store counts: {counts}")
    if args.breakdown:
        print()
        breakdown(n, rounds)


if __name__ == "__main__":
    main()
