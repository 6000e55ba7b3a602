"""Ensembles on real processes: one process, two worker processes and a Dask ``LocalCluster`` of two worker
processes give the same result byte for byte; a worker SIGKILLed in the middle of an ensemble loses only the
seed it was running, which is rerun; the command line runs an ensemble, a paired comparison and a cluster run.

The scenarios are small (a fraction of a second a seed); the cluster is started once for the module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from ensemble_scenarios import ref
from hazardflow.simulation import ensemble

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

distributed = pytest.importorskip("distributed", reason="the Dask path needs hazardflow[distributed]")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as lc,
        Client(lc) as client,
    ):
        yield client


def _dump(e: Any) -> str:
    return json.dumps(e.to_json(), ensure_ascii=False, indent=1)


@pytest.fixture(scope="module")
def inline() -> Any:
    return ensemble(ref("SMALL"), "1-8", workers=1)


def test_one_process_two_processes_and_a_dask_cluster_give_identical_results(inline: Any, cluster: Any) -> None:
    two = ensemble(ref("SMALL"), "1-8", workers=2)
    dask = ensemble(ref("SMALL"), "1-8", dask=cluster)
    assert inline.execution.executor == "inline"
    assert two.execution.executor == "processes"
    assert dask.execution.executor == "dask"
    assert dask.execution.workers == 2
    assert _dump(two) == _dump(inline)
    assert _dump(dask) == _dump(inline)
    assert len({r["digest"] for r in inline.records}) == 8  # eight different runs, not one eight times


def test_a_partitioned_comparison_agrees_across_executors(cluster: Any) -> None:
    from hazardflow.simulation import ensemble_compare

    policy = "hazardflow.policies:NationalBaseline"
    one = ensemble_compare(ref("TWO_COUNTIES"), [policy], "1-3", partition="county")
    dask = ensemble_compare(ref("TWO_COUNTIES"), [policy], "1-3", partition="county", dask=cluster)
    assert dask.execution is not None
    assert dask.execution.tasks == 6
    assert json.dumps(one.to_json()) == json.dumps(dask.to_json())


def _pool_workers() -> list[psutil.Process]:
    """The worker processes of this test's process pools (children of the forkserver)."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "forkserver" in " ".join(child.cmdline()):
                out.extend(child.children())
        except psutil.NoSuchProcess:
            continue
    return out


def test_a_killed_worker_process_loses_only_its_seed_which_is_rerun(inline: Any) -> None:
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed:
            for proc in _pool_workers():
                killed.append(proc.pid)
                os.kill(proc.pid, signal.SIGKILL)

    rerun = ensemble(ref("SMALL"), "1-8", workers=2, progress=progress)
    assert killed
    assert rerun.execution is not None
    assert rerun.execution.reruns >= 1
    assert _dump(rerun) == _dump(inline)


def test_a_killed_dask_worker_loses_only_its_seed_which_is_rerun(inline: Any, cluster: Any) -> None:
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed:
            pids = cluster.run(os.getpid)
            for pid in pids.values():
                killed.append(pid)
                os.kill(pid, signal.SIGKILL)

    rerun = ensemble(ref("SMALL"), "1-8", dask=cluster, progress=progress)
    assert len(killed) == 2
    assert _dump(rerun) == _dump(inline)
    cluster.wait_for_workers(2, timeout=60)
    assert not set(cluster.run(os.getpid).values()) & set(killed)  # the nannies started new processes


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("hazardflow")
    env = {**os.environ, "COLUMNS": "100", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [str(exe), "simulate", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=200, check=False
    )


def test_the_command_line_prints_target_probabilities_and_writes_every_distribution(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _cli(ref("SMALL"), "--seeds", "1-4", "--workers", "2", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "target probabilities" in done.stdout
    assert "/4" in done.stdout  # met of judged
    assert "95% CI" in done.stdout
    doc = json.loads((out / "ensemble.json").read_text(encoding="utf-8"))
    assert [r["seed"] for r in doc["per_seed"]] == [1, 2, 3, 4]
    assert {p.name for p in (out / "charts").iterdir()} == {
        f"{n}.{lang}.png" for n in ("fan_open_majors", "fan_on_time", "target_probabilities") for lang in ("zh", "en")
    }
    assert "目标达成概率" in (out / "ensemble.zh.md").read_text(encoding="utf-8")
    assert "Probability of meeting each target" in (out / "ensemble.en.md").read_text(encoding="utf-8")


def test_the_command_line_compares_on_a_dask_cluster(tmp_path: Path, cluster: Any) -> None:
    address = cluster.scheduler.address
    out = tmp_path / "cmp"
    done = _cli(
        ref("SMALL"),
        "--seeds",
        "1-3",
        "--dask",
        address,
        "--compare",
        "hazardflow_seed_policies:SanxingTownship",
        "--out",
        str(out),
        "--no-charts",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "paired" in done.stdout
    assert "Dask cluster of 2 workers" in done.stdout
    doc = json.loads((out / "ensemble_comparison.json").read_text(encoding="utf-8"))
    assert doc["other"]["label"] == "SanxingTownship"
    assert {d["key"] for d in doc["differences"]} >= {"on_time_rate", "open_majors"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seeds", "9-1"), "--seeds"),
        (("--seeds", "1-2", "--workers", "many"), "--workers"),
        (("--seeds", "1-2", "--partition", "township"), "--partition"),
        (("--seeds", "1-2", "--store", "sqlite:///x.db"), "--store"),
    ],
)
def test_the_command_line_refuses_bad_ensemble_options(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    done = _cli(ref("SMALL"), *args, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "o").exists()


def test_a_seed_that_kills_every_worker_stops_the_ensemble_with_a_clear_error() -> None:
    from hazardflow import EnsembleTaskFailed

    with pytest.raises(EnsembleTaskFailed) as info:
        ensemble(ref("crashing"), "1-2", workers=2)
    assert info.value.attempts == 3
    assert info.value.seed in (1, 2)
    assert "worker process died" in str(info.value)
