"""Simulation ensembles: statistics, seeds, executors agreeing byte for byte, paired comparisons, partitions.

The multi-process and Dask cluster runs are in ``tests/slow/test_ensemble_executors.py``.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date
from statistics import NormalDist
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ensemble_scenarios import N_HAZARDS, SPOT_SHARE, TARGET_P, TWO_COUNTIES, ref
from hazardflow import EnsembleTaskFailed, InvalidInput
from hazardflow.simulation import (
    KPIS,
    EnsembleSpec,
    Simulation,
    counties,
    ensemble,
    ensemble_compare,
    merge_results,
    parse_seeds,
    simulate,
)
from hazardflow.simulation._stats import difference, probability, quantile, spread, t_quantile


# ── statistics ─────────────────────────────────────────────────────────────────────────────────────
def test_quantile_interpolates_between_order_statistics() -> None:
    xs = [1.0, 2.0, 3.0, 4.0]
    assert quantile(xs, 0.0) == 1.0
    assert quantile(xs, 1.0) == 4.0
    assert quantile(xs, 0.5) == 2.5
    assert quantile(xs, 0.25) == pytest.approx(1.75)


@pytest.mark.parametrize(
    ("p", "df", "exact"),
    [(0.975, 1, 12.706205), (0.975, 2, 4.302653), (0.975, 3, 3.182446), (0.975, 9, 2.262157), (0.95, 19, 1.729133)],
)
def test_t_quantile_matches_the_tables(p: float, df: int, exact: float) -> None:
    assert t_quantile(p, df) == pytest.approx(exact, rel=2e-3)


def test_wilson_interval_matches_the_formula_worked_by_hand() -> None:
    # 90 of 100: p = 0.9, z = 1.959964 -> (0.8256, 0.9448) (Wilson 1927; Newcombe 1998 table I style).
    p = probability(90, 100)
    assert (p.p, round(p.low or 0, 4), round(p.high or 0, 4)) == (0.9, 0.8256, 0.9448)
    none = probability(0, 10)
    assert none.low == 0.0
    assert none.high == pytest.approx(0.2775, abs=1e-4)
    assert probability(0, 0).p is None


@given(st.integers(0, 500), st.integers(1, 500), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_interval_holds_the_estimate_inside_zero_one(met: int, extra: int, level: float) -> None:
    judged = met + extra - 1 if met + extra - 1 >= met else met
    judged = max(judged, 1)
    met = min(met, judged)
    p = probability(met, judged, level)
    assert p.low is not None
    assert p.high is not None
    assert p.p is not None
    assert 0.0 <= p.low <= p.p <= p.high <= 1.0


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_spread_does_not_depend_on_the_order_of_the_seeds(values: list[int], rnd: object) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = spread(values), spread(shuffled)
    assert a == b
    assert a.min is not None
    assert a.max is not None
    assert a.p05 is not None
    assert a.p95 is not None
    assert a.median is not None
    assert a.min <= a.p05 <= a.median <= a.p95 <= a.max


@given(st.lists(st.integers(-50, 50), min_size=2, max_size=40))
def test_identical_pairs_differ_by_exactly_zero(values: list[int]) -> None:
    d = difference(values, values)
    assert (d.mean, d.low, d.high, d.median, d.p05, d.p95) == (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert not d.distinguishable


def test_a_constant_shift_is_distinguishable_and_noise_is_not() -> None:
    base = [float(i % 7) for i in range(30)]
    assert difference(base, [x + 1 for x in base]).distinguishable
    noise = [x + (1 if i % 2 else -1) for i, x in enumerate(base)]
    assert not difference(base, noise).distinguishable


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: probability(5, 3), "met"),
        (lambda: probability(1, 3, level=1.5), "level"),
        (lambda: difference([1.0], [1.0, 2.0]), "other"),
        (lambda: t_quantile(0.5, 0), "df"),
        (lambda: quantile([], 0.5), "values"),
    ],
)
def test_bad_statistics_input_is_refused(call: object, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        call()  # type: ignore[operator]
    assert info.value.field == field


# ── seeds and references ───────────────────────────────────────────────────────────────────────────
def test_seeds_read_ranges_and_lists() -> None:
    assert parse_seeds("1-5") == (1, 2, 3, 4, 5)
    assert parse_seeds("3,1-2, 9") == (1, 2, 3, 9)
    assert parse_seeds([4, 2, 2]) == (2, 4)


@pytest.mark.parametrize("bad", ["", "a-b", "5-1", "-3", "1-2,x"])
def test_bad_seeds_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_seeds(bad)
    assert info.value.field == "seeds"
    assert "1-200" in str(info.value) or "seed" in str(info.value)


def test_bad_executor_options_are_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        ensemble(ref("BINOMIAL"), "1-2", workers=0)
    assert info.value.field == "workers"
    assert "auto" in str(info.value)
    with pytest.raises(InvalidInput) as info:
        EnsembleSpec(ref("BINOMIAL"), partition="township")  # type: ignore[arg-type]
    assert info.value.allowed == ("county", "none")
    with pytest.raises(InvalidInput):
        ensemble_compare(ref("BINOMIAL"), [], "1-2")


def test_an_unknown_scenario_reference_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        ensemble(ref("NO_SUCH"), "1")
    assert info.value.field == "scenario"


def test_an_unknown_partition_township_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        Simulation(TWO_COUNTIES, seed=1, townships=frozenset({"999999999"}))
    assert info.value.field == "townships"
    assert "341721100" in info.value.allowed


def test_the_task_failure_error_names_the_seed_and_a_way_to_see_why() -> None:
    err = EnsembleTaskFailed(7, None, 3, "its worker process died")
    assert err.code == "hazardflow.ensemble_task_failed"
    assert "seed 7" in str(err)
    assert "--seed 7" in str(err)


# ── one seed of an ensemble is the single run ──────────────────────────────────────────────────────
def test_each_seed_of_an_ensemble_is_the_single_run_of_that_seed() -> None:
    e = ensemble(ref("SMALL"), "1-3")
    from ensemble_scenarios import SMALL

    for seed, record in zip(e.seeds, e.records, strict=True):
        single = simulate(SMALL, seed=seed)
        assert record["digest"] == single.audit_digest
        assert record["kpis"]["closed"][-1] == single.total.closed()
        assert [t["passed"] for t in record["targets"]] == [t.passed for t in single.targets]


def test_paired_compare_of_identical_policies_gives_exactly_zero() -> None:
    # The scenario runs under the national baseline; comparing it with the national baseline is comparing
    # two identical policies: every pair of runs is the same run.
    cmp = ensemble_compare(ref("TWO_COUNTIES"), ["hazardflow.policies:NationalBaseline"], "1-3")
    for label in cmp.base.labels:
        for key in ("opened", "closed", "on_time_rate", "open_majors", "missed"):
            d = cmp.difference(key, label)
            assert d.n == 3 or key == "on_time_rate"
            assert d.mean in (0.0, None)
            assert not d.distinguishable
    assert cmp.base.to_json()["per_seed"] == cmp.other.to_json()["per_seed"]


def test_paired_compare_sees_a_real_policy_difference() -> None:
    # 三星乡's rules against the national baseline: the same hazards, different rules.
    cmp = ensemble_compare(ref("SMALL"), ["hazardflow_seed_policies:SanxingTownship"], "1-4")
    assert all(b["digest"] != o["digest"] for b, o in zip(cmp.base.records, cmp.other.records, strict=True))
    for b, o in zip(cmp.base.records, cmp.other.records, strict=True):
        assert b["kpis"]["opened"] == o["kpis"]["opened"]  # common random numbers: the same hazards found
    assert cmp.other.label == "SanxingTownship"
    assert any(cmp.difference(k.key, "total").mean for k in KPIS)


# ── partitions ─────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_region_run_as_its_counties_gives_the_whole_runs_figures(seed: int) -> None:
    whole = simulate(TWO_COUNTIES, seed=seed)
    parts = [Simulation(TWO_COUNTIES, seed=seed, townships=codes).run() for _c, codes in counties(TWO_COUNTIES)]
    assert len(parts) == 2
    assert all(p.stats.cases for p in parts)
    merged = merge_results(TWO_COUNTIES, parts)
    a, b = whole.to_json(timing=False), merged.to_json(timing=False)
    assert a.pop("audit_digest") != b.pop("audit_digest")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    # escalations crossed tiers: to the counties' pools and on to the city's
    assert whole.total.event_count("escalation", "accept_escalation") > 0


def _lives(only: frozenset[str] | None, seed: int) -> dict[str, list[list[tuple[str, str, str]]]]:
    """Every case's life (trigger, instant, state) keyed by its opening event (case ids differ by partition)."""
    buf = io.StringIO()
    Simulation(TWO_COUNTIES, seed=seed, townships=only, audit_log=buf).run()
    by_case: dict[str, list[dict[str, Any]]] = {}
    for line in buf.getvalue().splitlines():
        ev = json.loads(line)
        by_case.setdefault(ev["case_id"], []).append(ev)
    out: dict[str, list[list[tuple[str, str, str]]]] = {}
    for events in by_case.values():
        first = events[0]
        payload = {k: v for k, v in first["payload"].items() if not k.endswith("_id")}  # ids are per partition
        key = json.dumps([first["workflow"], first["occurred_at"], payload], sort_keys=True)
        out.setdefault(key, []).append([(e["trigger"], e["occurred_at"], e["to_state"]) for e in events])
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_every_case_lives_the_same_life_in_its_county_as_in_the_whole_region(seed: int) -> None:
    whole = _lives(None, seed)
    seen = 0
    for _county, codes in counties(TWO_COUNTIES):
        for key, lives in _lives(codes, seed).items():
            assert whole[key] == lives, key
            seen += len(lives)
    assert seen == sum(len(v) for v in whole.values())
    late = [e for lives in whole.values() for life in lives for e in life if e[0] == "reject"]
    assert late  # rejected fixes, back under passed deadlines, are part of the check


def test_a_partitioned_ensemble_equals_the_whole_one_figure_for_figure() -> None:
    whole = ensemble(ref("TWO_COUNTIES"), "1-2")
    parted = ensemble(ref("TWO_COUNTIES"), "1-2", partition="county")
    assert parted.execution is not None
    assert parted.execution.tasks == 4
    a, b = whole.to_json(), parted.to_json()
    for doc in (a, b):
        doc.pop("digest")
        for r in doc["per_seed"]:
            r.pop("digest")
    assert a == b


def test_partitions_of_different_runs_are_not_merged() -> None:
    one = Simulation(TWO_COUNTIES, seed=1, townships=frozenset({"341722100"}), until=date(2024, 3, 31)).run()
    two = Simulation(TWO_COUNTIES, seed=2, townships=frozenset({"341722100"}), until=date(2024, 3, 31)).run()
    with pytest.raises(InvalidInput) as info:
        merge_results(TWO_COUNTIES, [one, two])
    assert info.value.field == "parts"
    with pytest.raises(InvalidInput):
        merge_results(TWO_COUNTIES, [])


# ── a known distribution ───────────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def binomial() -> object:
    return ensemble(ref("BINOMIAL"), "1-400")


def test_the_binomial_scenario_closes_a_binomial_number_of_hazards(binomial: object) -> None:
    e = binomial
    closed = e.values("closed", "total")  # type: ignore[attr-defined]
    assert set(closed) <= set(range(N_HAZARDS + 1))
    mean = sum(closed) / len(closed)
    sd = math.sqrt(N_HAZARDS * SPOT_SHARE * (1 - SPOT_SHARE) / len(closed))
    assert abs(mean - N_HAZARDS * SPOT_SHARE) < 3 * sd


def test_intervals_cover_the_true_values_at_their_stated_rate(binomial: object) -> None:
    """20 disjoint ensembles of 20 seeds: the 95 % intervals should each miss about once in twenty.

    With the nominal 95 %, the chance that 16 or fewer of 20 intervals cover the truth is about 1.6 %; an
    interval built too narrow (a z of 1 instead of 1.96, say) covers about 68 % and fails this test.
    """
    e = binomial
    met = e.target_met("open_generals_at_most")  # type: ignore[attr-defined]
    closed = e.values("closed", "total")  # type: ignore[attr-defined]
    covered_p = covered_mean = 0
    for g in range(20):
        chunk = slice(20 * g, 20 * (g + 1))
        p = probability(sum(bool(x) for x in met[chunk]), 20)
        assert p.low is not None
        assert p.high is not None
        covered_p += p.low <= TARGET_P <= p.high
        zeros = [0.0] * 20
        d = difference(zeros, [float(x) for x in closed[chunk]])
        assert d.low is not None
        assert d.high is not None
        covered_mean += d.low <= N_HAZARDS * SPOT_SHARE <= d.high
    assert covered_p >= 17
    assert covered_mean >= 17
    # the 90 % spread of the figure sits on the binomial's own 5 % and 95 % quantiles (give or take one)
    s = e.spread("closed", "total")  # type: ignore[attr-defined]
    normal = NormalDist(N_HAZARDS * SPOT_SHARE, math.sqrt(N_HAZARDS * SPOT_SHARE * (1 - SPOT_SHARE)))
    assert s.p05 is not None
    assert s.p95 is not None
    assert abs(s.p05 - normal.inv_cdf(0.05)) <= 1.5
    assert abs(s.p95 - normal.inv_cdf(0.95)) <= 1.5
    # and the probability over all 400 seeds is close to the truth
    whole = e.targets()[0].probability  # type: ignore[attr-defined]
    assert whole.low is not None
    assert whole.high is not None
    assert whole.low <= TARGET_P <= whole.high


def test_the_json_holds_every_distribution_and_every_seed(binomial: object) -> None:
    doc = binomial.to_json()  # type: ignore[attr-defined]
    assert len(doc["per_seed"]) == 400
    assert {k["key"] for k in doc["kpis"]} >= {"opened", "closed", "on_time_rate", "open_majors"}
    assert set(doc["kpis"][0]["periods"]) == {"2024Q1", "2024", "total"}
    assert doc["targets"][0]["judged"] == 400
    assert doc["monthly"]["months"] == ["2024-01", "2024-02", "2024-03"]
    json.dumps(doc, ensure_ascii=False)
