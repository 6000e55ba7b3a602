"""Ensembles: one scenario over many seeds, in parallel — local processes or a Dask cluster.

One seeded run is one possible three years; an ensemble is the distribution of them. :func:`ensemble` runs
a scenario over many seeds and returns, for every figure and quarter, its spread over the seeds (mean,
median, 90 % interval) and for every campaign target the probability of meeting it with a Wilson interval;
:func:`ensemble_compare` runs the same seeds under other policies (common random numbers: each seed meets
the same hazards under both) and returns the paired differences.

**By reference.** A run ships only an :class:`EnsembleSpec` — the scenario's file or module path and the
policies' ``file.py:Class`` / ``module:Class`` references, all strings — and each worker process loads them
itself (once per process). Workers send back compact KPI records (a few hundred numbers per seed), never
audit logs or engines.

**Executors.** ``workers=1`` runs in this process; ``workers=N`` (or ``"auto"``, every core) runs N worker
processes, each fed one seed at a time, so a worker that dies loses only the seed it was running, which is
rerun in a fresh process; ``dask=`` sends the seeds to a Dask distributed cluster (the ``distributed``
extra), whose scheduler reruns the tasks of a lost worker. A seed that kills its worker
:data:`MAX_ATTEMPTS` times stops the ensemble with :class:`hazardflow.EnsembleTaskFailed`.

**Byte-identical.** Records are keyed by seed and aggregated in seed order with exactly rounded sums, so
the same seeds give the same :meth:`Ensemble.to_json` whatever the number of workers or the executor.

A region can run as its counties in parallel (``partition="county"``): each (seed, county) is one task and
the counties' figures are summed exactly (:mod:`._partition`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._exceptions import EnsembleTaskFailed, InvalidInput
from ._stats import Difference, Probability, Spread, difference, probability, spread

if TYPE_CHECKING:
    from ._result import Period, SimulationResult
    from ._scenario import Scenario

__all__ = [
    "KPIS",
    "MAX_ATTEMPTS",
    "MONTHLY_KPIS",
    "Ensemble",
    "EnsembleComparison",
    "EnsembleSpec",
    "Execution",
    "Kpi",
    "TargetProbability",
    "ensemble",
    "ensemble_compare",
    "parse_seeds",
    "run_task",
]

#: How often one task may be started before the ensemble gives up on it (a seed that keeps killing workers).
MAX_ATTEMPTS = 3


# ── the figures kept per seed ──────────────────────────────────────────────────────────────────────
@attrs.frozen
class Kpi:
    """A figure kept for every seed and period: a stable ``key``, its labels, and whether it is a rate."""

    key: str
    zh: str
    en: str
    rate: bool = False
    level: bool = False


def _missed(p: Period) -> int:
    return sum(p.flows.missed.values())


_KPI_FUNCS: tuple[tuple[Kpi, Callable[[Period], float | int | None]], ...] = (
    (Kpi("opened", "新发现隐患", "hazards found"), lambda p: p.total_opened()),
    (Kpi("closed", "销号隐患", "hazards closed"), lambda p: p.closed()),
    (Kpi("on_time_rate", "按期销号率", "on-time closure rate", rate=True), lambda p: p.on_time_rate()),
    (
        Kpi("on_time_rate.general", "一般隐患按期销号率", "on-time rate, general", rate=True),
        lambda p: p.on_time_rate(grade="general"),
    ),
    (
        Kpi("on_time_rate.major", "重大隐患按期销号率", "on-time rate, major", rate=True),
        lambda p: p.on_time_rate(grade="major"),
    ),
    (Kpi("days_to_close.mean", "平均销号天数", "mean days to close"), lambda p: p.days_to_close()["mean"]),
    (Kpi("days_to_close.median", "销号天数中位数", "median days to close"), lambda p: p.days_to_close()["median"]),
    (Kpi("missed", "逾期（各环节期限）", "deadlines missed"), _missed),
    (Kpi("rung.1", "达到第1级督办", "cases reaching ladder rung 1"), lambda p: p.flows.reached.get(1, 0)),
    (Kpi("extensions", "延期申请", "extension requests"), lambda p: p.event_count("hazard", "request_extension")),
    (Kpi("rejections", "审核不通过", "reviews rejected"), lambda p: p.event_count("hazard", "reject")),
    (
        Kpi("escalations", "提级（蓄水池）", "escalations proposed"),
        lambda p: p.event_count("escalation", "propose_escalation"),
    ),
    (
        Kpi("escalations.accepted", "上级接收提级", "escalations accepted"),
        lambda p: p.event_count("escalation", "accept_escalation"),
    ),
    (
        Kpi("reopened", "回头看重新整改", "reopened after a look-back (回头看)"),
        lambda p: p.event_count("hazard", "reopen"),
    ),
    (Kpi("filings", "按要求报送", "reports filed"), lambda p: p.event_count("report_obligation", "fulfil")),
    (
        Kpi("filings.overdue", "报送逾期", "reports overdue"),
        lambda p: p.event_count("report_obligation", "mark_overdue"),
    ),
    (Kpi("refused", "被规则拒绝的操作", "commands refused by the rules"), lambda p: sum(p.flows.refused.values())),
    (
        Kpi("open_majors", "期末未销号重大隐患", "open major hazards at the end", level=True),
        lambda p: p.levels.open_majors,
    ),
    (
        Kpi("open_majors.stock", "其中存量", "of which stock", level=True),
        lambda p: p.levels.open_majors_stock,
    ),
    (Kpi("open_majors.new", "其中增量", "of which new", level=True), lambda p: p.levels.open_majors_new),
    (
        Kpi("overdue_majors", "期末逾期未销号重大隐患", "overdue open major hazards at the end", level=True),
        lambda p: p.levels.overdue.get("major", 0),
    ),
    (
        Kpi("overdue", "期末逾期未销号", "overdue open cases at the end", level=True),
        lambda p: sum(p.levels.overdue.values()),
    ),
    (
        Kpi("under_sanction", "期末处于督办中", "open cases under a ladder rung at the end", level=True),
        lambda p: p.levels.under_sanction,
    ),
)
#: Every figure an ensemble keeps per seed and period (quarters, years, the whole run).
KPIS: tuple[Kpi, ...] = tuple(k for k, _f in _KPI_FUNCS)
#: Figures kept at every month end too (for the fan charts).
MONTHLY_KPIS: tuple[Kpi, ...] = tuple(
    k for k in KPIS if k.key in ("open_majors", "open_majors.stock", "open_majors.new", "overdue_majors")
)


def _record(result: SimulationResult) -> dict[str, Any]:
    """The compact figures of one run: every KPI of every period, month-end levels, target verdicts."""
    periods = result.of_kind("quarter", "partial", "year", "total")
    months = {lv.at: lv for lv in result.levels}
    month_ends = sorted(d for d in months if (date.fromordinal(d.toordinal() + 1)).day == 1)
    return {
        "seed": result.seed,
        "digest": result.audit_digest,
        "labels": [p.label for p in periods],
        "kpis": {k.key: [f(p) for p in periods] for k, f in _KPI_FUNCS},
        "months": [f"{d.year:04d}-{d.month:02d}" for d in month_ends],
        "monthly": {
            "open_majors": [months[d].open_majors for d in month_ends],
            "overdue_majors": [months[d].overdue.get("major", 0) for d in month_ends],
            "open_majors.stock": [months[d].open_majors_stock for d in month_ends],
            "open_majors.new": [months[d].open_majors_new for d in month_ends],
        },
        "targets": [
            {"id": t.id, "zh": t.name_zh, "en": t.name_en, "passed": t.passed, "value": t.value} for t in result.targets
        ],
        "stats": {k: v for k, v in result.stats.to_json(timing=False).items() if isinstance(v, int)},
    }


# ── what a worker receives ─────────────────────────────────────────────────────────────────────────
@attrs.frozen
class EnsembleSpec:
    """What a worker needs to run one seed, all by reference (strings and dates, nothing live).

    ``scenario`` is a scenario file (``examples/scenarios/x.py[:name]``; made absolute, so every worker on
    the machine or on a shared file system finds it) or an importable ``module[:attribute]``. ``compare``
    holds policy references (``file.py:Class`` or ``module:Class``); each variant of the comparison runs
    with them in force. ``partition`` ``"county"`` runs each county as its own task.
    """

    scenario: str
    compare: tuple[str, ...] = ()
    until: date | None = None
    partition: Literal["none", "county"] = "none"

    def __attrs_post_init__(self) -> None:
        if self.partition not in ("none", "county"):
            raise InvalidInput("partition", self.partition, "unknown partition", ("county", "none"))

    @classmethod
    def of(
        cls,
        scenario: str,
        *,
        compare: Sequence[str] = (),
        until: date | None = None,
        partition: Literal["none", "county"] = "none",
    ) -> EnsembleSpec:
        """A spec with file references made absolute."""
        return cls(_absolute(scenario), tuple(_absolute(c) for c in compare), until, partition)


def _absolute(spec: str) -> str:
    if not isinstance(spec, str) or not spec:
        raise InvalidInput("scenario", spec, "an ensemble takes references: a file path or module[:attribute], as text")
    target, sep, attr = spec.partition(":") if not (len(spec) > 2 and spec[1] == ":") else (spec, "", "")
    if target.endswith(".py"):
        return str(Path(target).resolve()) + sep + attr
    return spec


_LOADED: dict[EnsembleSpec, tuple[list[Scenario], tuple[frozenset[str] | None, ...]]] = {}


def _load(spec: EnsembleSpec) -> tuple[list[Scenario], tuple[frozenset[str] | None, ...]]:
    """The scenario variants and partitions of ``spec``, loaded once per process."""
    hit = _LOADED.get(spec)
    if hit is None:
        from ._compare import replace_policies
        from ._load import load_policy, load_scenario
        from ._partition import counties

        base = load_scenario(spec.scenario)
        variants = [base]
        if spec.compare:
            variants.append(replace_policies(base, [load_policy(c) for c in spec.compare]))
        parts: tuple[frozenset[str] | None, ...] = (None,)
        if spec.partition == "county":
            parts = tuple(codes for _c, codes in counties(base))
        hit = _LOADED[spec] = (variants, parts)
    return hit


def run_task(spec: EnsembleSpec, seed: int, part: int | None) -> list[Any]:
    """One task on a worker: ``seed`` (one partition of it, or all) under every variant of ``spec``.

    Returns one compact KPI record per variant; for a partition, the partition's figures (counts cut at the
    boundaries, for :func:`._partition.merge_results`), never an audit log.
    """
    from ._runner import Simulation

    variants, parts = _load(spec)
    out: list[Any] = []
    for scenario in variants:
        only = parts[part] if part is not None else None
        sim = Simulation(scenario, seed=seed, until=spec.until, townships=only)
        result = sim.run()
        out.append(result if part is not None else _record(result))
    return out


def parse_seeds(text: str | Iterable[int]) -> tuple[int, ...]:
    """Seeds from ``"1-200"``, ``"1,5,9"`` or ``"1-10,20-30"`` (or integers): sorted, without repeats."""
    if isinstance(text, str):
        seeds: list[int] = []
        for part in text.replace(" ", "").split(","):
            lo, dash, hi = part.partition("-")
            try:
                a = int(lo)
                b = int(hi) if dash else a
            except ValueError:
                raise InvalidInput(
                    "seeds", text, "must be seeds or ranges of seeds, such as 1-200 or 1,5,9 or 1-10,20-30"
                ) from None
            if a < 0 or b < a:
                raise InvalidInput("seeds", part, "a range runs from a non-negative seed up to a larger one (1-200)")
            seeds.extend(range(a, b + 1))
    else:
        seeds = []
        for s in text:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise InvalidInput("seeds", s, "seeds are non-negative integers")
            seeds.append(s)
    if not seeds:
        raise InvalidInput("seeds", str(text), "name at least one seed")
    return tuple(sorted(set(seeds)))


# ── executing ──────────────────────────────────────────────────────────────────────────────────────
@attrs.define
class Execution:
    """How an ensemble ran (never part of its figures): executor, workers, tasks, reruns, wall time."""

    executor: str
    workers: int
    tasks: int = 0
    reruns: int = 0
    wall_seconds: float = 0.0

    @property
    def seeds_per_second(self) -> float:
        return 0.0 if self.wall_seconds <= 0 else self.tasks / self.wall_seconds


Task = tuple[int, int | None]
Done = Callable[[Task, list[Any]], None]


def _workers(workers: int | str) -> int:
    if workers == "auto":  # every core this process may run on
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInput("workers", workers, "must be a number of processes (1 or more) or 'auto' (every core)")
    return workers


def _run_inline(spec: EnsembleSpec, tasks: Sequence[Task], done: Done, ex: Execution) -> None:
    for task in tasks:
        done(task, run_task(spec, *task))


def _context() -> Any:
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported the simulator once: a fresh worker starts in milliseconds.
        ctx.set_forkserver_preload(["hazardflow.simulation._ensemble", "hazardflow.simulation._runner"])
        return ctx
    return multiprocessing.get_context("spawn")


def _run_processes(spec: EnsembleSpec, tasks: Sequence[Task], done: Done, ex: Execution, n: int) -> None:
    """N single-process pools, each fed one task at a time: a dead process costs only its own task."""
    from collections import Counter, deque
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = _context()
    queue = deque(tasks)
    attempts: Counter[Task] = Counter()
    pools = [ProcessPoolExecutor(1, mp_context=ctx) for _ in range(min(n, len(tasks)))]
    running: dict[Future[list[Any]], tuple[int, Task]] = {}

    def feed(slot: int) -> None:
        if queue:
            task = queue.popleft()
            attempts[task] += 1
            try:
                fut = pools[slot].submit(run_task, spec, *task)
            except BrokenProcessPool:  # the idle process of this slot died: start a fresh one
                pools[slot].shutdown(wait=False, cancel_futures=True)
                pools[slot] = ProcessPoolExecutor(1, mp_context=ctx)
                fut = pools[slot].submit(run_task, spec, *task)
            running[fut] = (slot, task)

    try:
        for slot in range(len(pools)):
            feed(slot)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: running[f][1]):
                slot, task = running.pop(fut)
                try:
                    out = fut.result()
                except BrokenProcessPool:
                    pools[slot].shutdown(wait=False, cancel_futures=True)
                    pools[slot] = ProcessPoolExecutor(1, mp_context=ctx)
                    if attempts[task] >= MAX_ATTEMPTS:
                        raise EnsembleTaskFailed(task[0], task[1], attempts[task], "its worker process died") from None
                    ex.reruns += 1
                    queue.appendleft(task)
                else:
                    done(task, out)
                feed(slot)
    finally:
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)


def _run_dask(spec: EnsembleSpec, tasks: Sequence[Task], done: Done, ex: Execution, dask: Any) -> None:
    try:
        from distributed import Client, as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise InvalidInput(
            "dask",
            str(dask),
            "running on a Dask cluster needs the distributed package",
            hint='install it with pip install "hazardflow[distributed]"',
        ) from None
    own = isinstance(dask, str)
    client = Client(dask, timeout="30s") if own else dask  # type: ignore[no-untyped-call]
    try:
        ex.workers = len(client.scheduler_info().get("workers", {}))
        token = secrets.token_hex(6)  # this run's task keys, apart from any other run on the cluster
        futures = {}
        for seed, part in tasks:
            key = f"hazardflow-ensemble-{token}-{seed}-{'all' if part is None else part}"
            futures[client.submit(run_task, spec, seed, part, key=key, pure=False)] = (seed, part)
        for fut in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            task = futures[fut]
            try:
                out = fut.result()
            except KilledWorker as exc:
                raise EnsembleTaskFailed(task[0], task[1], MAX_ATTEMPTS, f"it killed Dask workers ({exc})") from None
            except FutureCancelledError as exc:
                raise EnsembleTaskFailed(task[0], task[1], 1, f"the Dask scheduler cancelled it ({exc})") from None
            done(task, out)
            fut.release()
    finally:
        if own:
            client.close()


def _execute(
    spec: EnsembleSpec,
    seeds: tuple[int, ...],
    *,
    workers: int | str,
    dask: Any,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[list[dict[str, Any]]], Execution]:
    """Run every seed (every partition of it) under every variant; records per variant, in seed order."""
    variants, parts = _load(spec)
    n = _workers(workers) if dask is None else 0
    tasks: list[Task] = [(s, p) for s in seeds for p in (range(len(parts)) if parts != (None,) else (None,))]
    ex = Execution("dask" if dask is not None else ("processes" if n > 1 else "inline"), n, len(tasks))
    records: dict[int, list[dict[str, Any]]] = {}
    pending: dict[int, dict[int, list[Any]]] = {}
    finished = 0

    def done(task: Task, out: list[Any]) -> None:
        nonlocal finished
        seed, part = task
        if part is None:
            records[seed] = out
        else:
            got = pending.setdefault(seed, {})
            got[part] = out
            if len(got) == len(parts):
                from ._partition import merge_results

                del pending[seed]
                records[seed] = [
                    _record(merge_results(variants[v], [got[p][v] for p in range(len(parts))]))
                    for v in range(len(variants))
                ]
        finished += 1
        if progress is not None:
            progress(finished, len(tasks))

    started = time.perf_counter()
    if dask is not None:
        _run_dask(spec, tasks, done, ex, dask)
    elif n > 1 and len(tasks) > 1:
        _run_processes(spec, tasks, done, ex, n)
    else:
        _run_inline(spec, tasks, done, ex)
    ex.wall_seconds = time.perf_counter() - started
    per_variant = [[records[s][v] for s in seeds] for v in range(len(variants))]
    return per_variant, ex


# ── the results ────────────────────────────────────────────────────────────────────────────────────
@attrs.frozen
class TargetProbability:
    """A campaign target over the seeds: how often it was met, with a Wilson interval."""

    id: str
    name_zh: str
    name_en: str
    probability: Probability

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "zh": self.name_zh, "en": self.name_en, **self.probability.to_json()}


@attrs.define
class Ensemble:
    """One scenario over many seeds: every seed's figures and their distributions.

    ``records`` hold each seed's compact figures, in seed order. :meth:`spread` gives a figure's
    distribution over the seeds in one period (``"2024Q3"``, ``"2025"``, ``"total"``), :meth:`monthly` its
    distribution at each month end, :meth:`targets` the probability of meeting each campaign target.
    ``execution`` says how it ran and is never part of :meth:`to_json`.
    """

    scenario: str
    scenario_en: str
    label: str
    seeds: tuple[int, ...]
    records: tuple[dict[str, Any], ...]
    execution: Execution | None = attrs.field(default=None, eq=False)

    @property
    def labels(self) -> list[str]:
        """The periods: quarters, years, the whole run."""
        return list(self.records[0]["labels"])

    @property
    def months(self) -> list[str]:
        return list(self.records[0]["months"])

    def values(self, kpi: str, label: str) -> list[float | int | None]:
        """The figure ``kpi`` in period ``label`` for every seed (None where it is undefined)."""
        if kpi not in self.records[0]["kpis"]:
            raise InvalidInput("kpi", kpi, "unknown figure", tuple(k.key for k in KPIS))
        labels = self.labels
        if label not in labels:
            raise InvalidInput("label", label, "no such period in this ensemble", tuple(labels))
        i = labels.index(label)
        return [r["kpis"][kpi][i] for r in self.records]

    def spread(self, kpi: str, label: str) -> Spread:
        """The distribution of ``kpi`` in period ``label`` over the seeds."""
        return spread(self.values(kpi, label))

    def monthly(self, kpi: str) -> list[Spread]:
        """The distribution of a month-end level (``open_majors``, ...) at each month end."""
        if kpi not in self.records[0]["monthly"]:
            raise InvalidInput("kpi", kpi, "not kept at month ends", tuple(k.key for k in MONTHLY_KPIS))
        return [spread([r["monthly"][kpi][i] for r in self.records]) for i in range(len(self.months))]

    def targets(self) -> list[TargetProbability]:
        """Each campaign target: met in how many of the seeds that reached its checkpoint."""
        out = []
        for i, t in enumerate(self.records[0]["targets"]):
            verdicts = [r["targets"][i]["passed"] for r in self.records]
            judged = [v for v in verdicts if v is not None]
            out.append(TargetProbability(t["id"], t["zh"], t["en"], probability(sum(judged), len(judged))))
        return out

    def target_met(self, target_id: str) -> list[bool | None]:
        """Seed by seed: was the target met (None: not judged)?"""
        for i, t in enumerate(self.records[0]["targets"]):
            if t["id"] == target_id:
                return [r["targets"][i]["passed"] for r in self.records]
        raise InvalidInput("target", target_id, "no such target", tuple(t["id"] for t in self.records[0]["targets"]))

    def digest(self) -> str:
        """SHA-256 over the seeds' audit digests, in seed order."""
        return hashlib.sha256("".join(r["digest"] for r in self.records).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """Every distribution and every seed's figures: the same seeds give the same JSON, byte for byte."""
        return {
            "scenario": self.scenario,
            "scenario_en": self.scenario_en,
            "label": self.label,
            "seeds": list(self.seeds),
            "digest": self.digest(),
            "spread_level": 0.9,
            "targets": [t.to_json() for t in self.targets()],
            "kpis": [
                {
                    "key": k.key,
                    "zh": k.zh,
                    "en": k.en,
                    "rate": k.rate,
                    "level": k.level,
                    "periods": {label: self.spread(k.key, label).to_json() for label in self.labels},
                }
                for k in KPIS
            ],
            "monthly": {
                "months": self.months,
                **{k.key: [s.to_json() for s in self.monthly(k.key)] for k in MONTHLY_KPIS},
            },
            "per_seed": [
                {
                    "seed": r["seed"],
                    "digest": r["digest"],
                    "targets": {t["id"]: t["passed"] for t in r["targets"]},
                    "kpis": r["kpis"],
                    "monthly": r["monthly"],
                    "stats": r["stats"],
                }
                for r in self.records
            ],
        }


@attrs.define
class EnsembleComparison:
    """The same seeds under two sets of policies: per-figure paired differences (other minus base)."""

    base: Ensemble
    other: Ensemble
    execution: Execution | None = attrs.field(default=None, eq=False)

    def difference(self, kpi: str, label: str) -> Difference:
        """Seed-by-seed differences of ``kpi`` in period ``label``, with the interval of their mean."""
        return difference(self.base.values(kpi, label), self.other.values(kpi, label))

    def target_difference(self, target_id: str) -> Difference:
        """The difference in the share of seeds meeting a target (each seed a pair: 1 met, 0 missed)."""

        def ones(xs: list[bool | None]) -> list[float | None]:
            return [None if x is None else float(x) for x in xs]

        return difference(ones(self.base.target_met(target_id)), ones(self.other.target_met(target_id)))

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base.to_json(),
            "other": self.other.to_json(),
            "differences": [
                {
                    "key": k.key,
                    "zh": k.zh,
                    "en": k.en,
                    "rate": k.rate,
                    "periods": {label: self.difference(k.key, label).to_json() for label in self.base.labels},
                }
                for k in KPIS
            ],
            "target_differences": {t.id: self.target_difference(t.id).to_json() for t in self.base.targets()},
        }


def _spec(
    scenario: str | EnsembleSpec, compare: Sequence[str], until: date | None, partition: Literal["none", "county"]
) -> EnsembleSpec:
    if isinstance(scenario, EnsembleSpec):
        return scenario
    return EnsembleSpec.of(scenario, compare=compare, until=until, partition=partition)


def ensemble(
    scenario: str | EnsembleSpec,
    seeds: str | Iterable[int],
    *,
    until: date | None = None,
    workers: int | str = 1,
    dask: Any = None,
    partition: Literal["none", "county"] = "none",
    progress: Callable[[int, int], None] | None = None,
) -> Ensemble:
    """Run the scenario at ``scenario`` (a file or module reference) over ``seeds``; see the module doc.

    ``workers``: processes on this machine (``"auto"``: every core); ``dask``: a scheduler address
    (``"tcp://host:8786"``) or a ``distributed.Client``. ``progress(done, total)`` is called per task.
    """
    spec = _spec(scenario, (), until, partition)
    chosen = parse_seeds(seeds)
    (records,), ex = _execute(spec, chosen, workers=workers, dask=dask, progress=progress)
    variants, _parts = _load(spec)
    return Ensemble(variants[0].name, variants[0].name_en, "base", chosen, tuple(records), ex)


def ensemble_compare(
    scenario: str | EnsembleSpec,
    policies: Sequence[str],
    seeds: str | Iterable[int],
    *,
    until: date | None = None,
    workers: int | str = 1,
    dask: Any = None,
    partition: Literal["none", "county"] = "none",
    progress: Callable[[int, int], None] | None = None,
) -> EnsembleComparison:
    """Run ``seeds`` as written and with ``policies`` (references) in force: paired, seed by seed."""
    spec = _spec(scenario, policies, until, partition)
    if not spec.compare:
        raise InvalidInput("policies", (), "name at least one policy to compare with (file.py:Class or module:Class)")
    chosen = parse_seeds(seeds)
    (base, other), ex = _execute(spec, chosen, workers=workers, dask=dask, progress=progress)
    variants, _parts = _load(spec)
    label = ", ".join(c.rsplit(":", 1)[-1] if ":" in c else Path(c).stem for c in spec.compare)
    return EnsembleComparison(
        Ensemble(variants[0].name, variants[0].name_en, "base", chosen, tuple(base)),
        Ensemble(variants[1].name, variants[1].name_en, label, chosen, tuple(other)),
        ex,
    )
