"""The county-scale simulation in memory and on SQLite, beside the engine's raw ``fire`` rate measured in the same run.

Run: ``.venv/bin/python benchmarks/simulation.py`` (the whole three years, memory and SQLite; ``--quick`` runs the
first quarter only; ``--no-sqlite`` skips the SQLite run).

The scenario is ``examples/scenarios/dongzhi_county_2024_2026.py``: 15 townships, about 5,000 business units and
about 100,000 hazard cases over 2024-2026, with tip-offs, the overdue ladder and every behaviour of the default
:class:`~hazardflow.simulation.Behaviour`. Each measurement runs in a fresh process, so its peak resident memory
(``ru_maxrss``) is its own:

* **engine raw**: a general hazard's commands straight through ``Engine.open_case`` / ``Engine.fire`` on the same
  kind of store the simulation uses (``MemoryStore(retention="evict")``): register → set_deadline → submit_review
  → approve, ``--raw-cases`` cases. Measured before and after the simulations; the mean is the baseline.
* **simulation, memory**: ``simulate(scenario, seed)``: simulated cases/s, committed commands/s (every audit
  event: the people's commands, timer firings and follow-ups), wall and CPU seconds, peak memory.
* **simulation, memory, first year**: the same run stopped at 2024-12-31. Its peak memory beside the full run's
  shows whether memory grows with closed cases (it should not: closed cases are dropped, figures are kept by a
  listener).
* **simulation, SQLite**: the same run on a fresh SQLite file (one transaction per simulated window, plus the
  engine's own commit per timer firing), and again stopped at 2024-12-31 for its peak memory.

The ratio *simulation commands/s ÷ raw commands/s* shows what the simulator itself costs on top of the engine
(its event heap, draws, KPI listener and the timer sweeps). Absolute figures drift on a shared machine; CPU
seconds are reported beside wall seconds for that reason.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "examples" / "scenarios" / "dongzhi_county_2024_2026.py"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_raw(cases: int) -> dict[str, Any]:
    from hazardflow import Actor, Engine, SequentialIds, SimulatedClock
    from hazardflow.persistence.memory import MemoryStore

    township, unit = "500240204", "500240204-industry_trade-001"
    inspector = Actor("i", "检查员", {"inspector"}, unit, township)
    manager = Actor("m", "安全员", {"safety_manager"}, unit, township)
    fixer = Actor("f", "维修工", {"inspector"}, unit, township)
    head = Actor("h", "安全员2", {"safety_manager"}, unit, township)
    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    engine = Engine(store=MemoryStore(retention="evict"), clock=clock, ids=SequentialIds())
    register = {
        "grade": "general",
        "source": "enterprise_self_inspection",
        "nature": "unsafe_condition",
        "industry": "industry_trade",
        "business_unit": unit,
        "location": "三星乡 一号车间",
        "description": "工贸一般事故隐患（模拟）",
    }
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(cases):
        case = engine.open_case("hazard", actor=inspector, jurisdiction=township, **register)
        engine.fire(
            case.id,
            "set_deadline",
            actor=manager,
            payload={"deadline": "2024-03-20", "measures": "限期整改", "responsible": "主要负责人"},
        )
        submit = {"evidence": ["整改后照片"], "rectified_by": fixer.id}
        engine.fire(case.id, "submit_review", actor=manager, payload=submit)
        engine.fire(case.id, "approve", actor=head, payload={"opinion": "经现场复核，整改到位"})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    commands = 4 * cases
    return {"commands": commands, "wall": wall, "cpu": cpu, "commands_per_second": commands / wall}


def child_sim(url: str | None, until: str | None, seed: int) -> dict[str, Any]:
    from hazardflow.simulation import load_scenario, simulate

    scenario = load_scenario(str(SCENARIO))
    c0 = time.process_time()
    result = simulate(scenario, seed=seed, url=url, until=date.fromisoformat(until) if until else None)
    cpu = time.process_time() - c0
    st = result.stats
    return {
        "cases": st.cases,
        "tipoffs": st.tipoffs,
        "commands": st.commands,
        "wall": st.wall_seconds,
        "cpu": cpu,
        "cases_per_second": st.cases_per_second,
        "commands_per_second": st.commands_per_second,
        "open_cases_at_end": st.open_cases_at_end,
        "peak_mb": _peak_mb(),
        "digest": result.audit_digest,
        "targets": {t.id: t.passed for t in result.targets},
    }


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="simulate the first quarter only")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--raw-cases", type=int, default=5000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "raw":
            data = child_raw(int(rest[0]))
        else:
            url = None if rest[0] == "memory" else rest[0]
            data = child_sim(url, rest[1] if rest[1] != "-" else None, int(rest[2]))
        print(json.dumps(data))
        return

    until = "2024-03-31" if args.quick else "-"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; scenario {SCENARIO.name}, seed {args.seed}")
    raw_before = run_child("raw", str(args.raw_cases))
    memory = run_child("sim", "memory", until, str(args.seed))
    first_year = None if args.quick else run_child("sim", "memory", "2024-12-31", str(args.seed))
    sqlite = sqlite_first_year = None
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = run_child("sim", f"sqlite:///{tmp}/county.db", until, str(args.seed))
            if not args.quick:
                sqlite_first_year = run_child("sim", f"sqlite:///{tmp}/first.db", "2024-12-31", str(args.seed))
    raw_after = run_child("raw", str(args.raw_cases))
    raw = (raw_before["commands_per_second"] + raw_after["commands_per_second"]) / 2

    print(
        f"engine raw fire (memory, evicting): {raw:,.0f} commands/s "
        f"(before {raw_before['commands_per_second']:,.0f}, after {raw_after['commands_per_second']:,.0f})"
    )
    rows = [
        ("memory", memory),
        ("memory, 2024 only", first_year),
        ("sqlite", sqlite),
        ("sqlite, 2024 only", sqlite_first_year),
    ]
    print(
        f"{'run':<20}{'cases':>9}{'commands':>10}{'wall s':>8}{'cpu s':>8}{'cases/s':>9}"
        f"{'cmd/s':>9}{'÷ raw':>7}{'peak MB':>9}{'open at end':>12}"
    )
    for name, r in rows:
        if r is None:
            continue
        print(
            f"{name:<20}{r['cases']:>9,}{r['commands']:>10,}{r['wall']:>8.1f}{r['cpu']:>8.1f}"
            f"{r['cases_per_second']:>9,.0f}{r['commands_per_second']:>9,.0f}"
            f"{r['commands_per_second'] / raw:>7.2f}{r['peak_mb']:>9.1f}{r['open_cases_at_end']:>12,}"
        )
    if first_year is not None:
        print(
            f"memory: {first_year['peak_mb']:.1f} MB after one simulated year, {memory['peak_mb']:.1f} MB after "
            f"three ({first_year['cases']:,} vs {memory['cases']:,} cases)"
        )
    if sqlite is not None:
        print(f"sqlite audit digest equals memory's: {sqlite['digest'] == memory['digest']}")
    if sqlite_first_year is not None and sqlite is not None:
        first, full = sqlite_first_year["peak_mb"], sqlite["peak_mb"]
        print(f"sqlite: {first:.1f} MB after one simulated year, {full:.1f} MB after three")
    print(f"targets: {memory['targets']}")


if __name__ == "__main__":
    main()
