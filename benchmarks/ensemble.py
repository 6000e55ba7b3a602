"""Ensembles: seeds per second on one process, two processes and a two-worker Dask LocalCluster, interleaved in one
run; and a city of four counties run whole on one process against county by county on two processes.

Run: ``.venv/bin/python benchmarks/ensemble.py`` (``--seeds 16 --rounds 2``; ``--no-province`` skips the city).

* **三甲镇** (``examples/scenarios/sanjia_2024_2026.py``, about 3,000 cases a seed): the same seeds on
  ``workers=1`` (this process), ``workers=2`` (two worker processes, started afresh for each ensemble, their start
  and scenario loading included) and a Dask ``LocalCluster`` of two worker processes with one thread each (started
  once, warmed with one small ensemble so its workers have loaded the scenario, as a long-lived cluster has). The
  three are interleaved round by round, and every round checks that the three results are byte-identical.
  Targets: two processes at least 1.8 times one; Dask within 15 % of the process pool.
* **池州市** (``examples/scenarios/chizhou_city_2024_2026.py``, four counties, about 160,000 cases a seed): one seed
  run whole in a fresh process, against the same seed as its four counties on two worker processes
  (``partition="county"``); wall time, peak resident memory of the whole run and of each worker process (sampled
  every 0.2 s), and a check that the counties' summed figures equal the whole run's.

The machine is shared: the load average is printed beside each round. Read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
SANJIA = str(ROOT / "examples" / "scenarios" / "sanjia_2024_2026.py")
CHIZHOU = str(ROOT / "examples" / "scenarios" / "chizhou_city_2024_2026.py")


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _dump(e: Any) -> str:
    return json.dumps(e.to_json(), ensure_ascii=False)


class _Sampler:
    """Peak RSS of every worker process (children of the forkserver) while a block runs."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                try:
                    if "forkserver" in " ".join(child.cmdline()):
                        for w in child.children():
                            rss = w.memory_info().rss / 2**20
                            self.peaks[w.pid] = max(self.peaks.get(w.pid, 0.0), rss)
                except psutil.NoSuchProcess:
                    continue
            self._stop.wait(0.2)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def sanjia(seeds: int, rounds: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    from hazardflow.simulation import ensemble

    chosen = f"1-{seeds}"
    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - t0
        ensemble(SANJIA, "1-2", dask=client)  # warm: the workers load the scenario once, as a live cluster has
        runs: dict[str, list[float]] = {"1 process": [], "2 processes": [], "Dask LocalCluster, 2 workers": []}
        for r in range(rounds):
            load = _load()
            one = ensemble(SANJIA, chosen, workers=1)
            two = ensemble(SANJIA, chosen, workers=2)
            dask = ensemble(SANJIA, chosen, dask=client)
            assert _dump(one) == _dump(two) == _dump(dask), "executors disagree"
            for name, e in zip(runs, (one, two, dask), strict=True):
                runs[name].append(seeds / e.execution.wall_seconds)
            print(
                f"  round {r + 1}: load {load}; seeds/s "
                + ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items())
                + "; identical results: yes",
                flush=True,
            )
    best = {k: max(v) for k, v in runs.items()}
    mean = {k: sum(v) / len(v) for k, v in runs.items()}
    base, pool, dask_ = (mean[k] for k in runs)
    return {
        "seeds": seeds,
        "rounds": rounds,
        "cluster_start_seconds": round(started, 2),
        "seeds_per_second_mean": {k: round(v, 3) for k, v in mean.items()},
        "seeds_per_second_best": {k: round(v, 3) for k, v in best.items()},
        "ratio_2_processes_to_1": round(pool / base, 3),
        "ratio_dask_to_pool": round(dask_ / pool, 3),
        "per_round": {k: [round(x, 3) for x in v] for k, v in runs.items()},
    }


def child_whole(seed: int) -> dict[str, Any]:
    from hazardflow.simulation import load_scenario, simulate

    t0 = time.perf_counter()
    r = simulate(load_scenario(CHIZHOU), seed=seed)
    wall = time.perf_counter() - t0
    doc = r.to_json(timing=False)
    doc.pop("audit_digest")
    return {
        "wall_seconds": round(wall, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cases": r.stats.cases,
        "commands": r.stats.commands,
        "figures": json.dumps(doc, sort_keys=True),
    }


def province(seed: int) -> dict[str, Any]:
    from hazardflow.simulation import Simulation, counties, load_scenario, merge_results

    load = _load()
    done = subprocess.run(
        [sys.executable, __file__, "--child-whole", str(seed)], capture_output=True, text=True, check=True
    )
    whole = json.loads(done.stdout)
    from hazardflow.simulation import ensemble

    with _Sampler() as sampler:
        parted = ensemble(CHIZHOU, str(seed), workers=2, partition="county")
    ex = parted.execution
    assert ex is not None
    # the counties' summed figures against the whole run, figure for figure (run here, one county after another)
    sc = load_scenario(CHIZHOU)
    parts = [Simulation(sc, seed=seed, townships=codes).run() for _c, codes in counties(sc)]
    merged = merge_results(sc, parts).to_json(timing=False)
    merged.pop("audit_digest")
    exact = json.dumps(merged, sort_keys=True) == whole["figures"]
    return {
        "seed": seed,
        "load_before": load,
        "counties": len(counties(sc)),
        "cases": whole["cases"],
        "commands": whole["commands"],
        "whole_one_process_seconds": whole["wall_seconds"],
        "whole_peak_mb": whole["peak_mb"],
        "by_county_two_processes_seconds": round(ex.wall_seconds, 2),
        "speed_up": round(whole["wall_seconds"] / ex.wall_seconds, 2),
        "worker_peak_mb": sorted(round(v, 1) for v in sampler.peaks.values()),
        "summed_counties_equal_whole_run": exact,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-province", action="store_true")
    ap.add_argument("--province-seed", type=int, default=1)
    ap.add_argument("--child-whole", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_whole is not None:
        print(json.dumps(child_whole(args.child_whole)))
        return
    print(f"{os.cpu_count()} cores; load {_load()}", flush=True)
    print(f"三甲镇, seeds 1-{args.seeds}, {args.rounds} interleaved rounds:", flush=True)
    out: dict[str, Any] = {"sanjia": sanjia(args.seeds, args.rounds)}
    s = out["sanjia"]
    print(
        f"  mean seeds/s: {s['seeds_per_second_mean']}; 2 processes ÷ 1 = {s['ratio_2_processes_to_1']} "
        f"(target ≥ 1.8); Dask ÷ pool = {s['ratio_dask_to_pool']} (target ≥ 0.85); "
        f"cluster start {s['cluster_start_seconds']} s",
        flush=True,
    )
    if not args.no_province:
        print(f"池州市, seed {args.province_seed}: whole on 1 process, then by county on 2 processes:", flush=True)
        out["province"] = p = province(args.province_seed)
        print(
            f"  {p['cases']:,} cases, {p['commands']:,} commands; whole {p['whole_one_process_seconds']} s "
            f"(peak {p['whole_peak_mb']} MB); by county {p['by_county_two_processes_seconds']} s "
            f"(x{p['speed_up']}; worker peaks {p['worker_peak_mb']} MB); summed counties equal the whole run: "
            f"{p['summed_counties_equal_whole_run']}",
            flush=True,
        )
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
