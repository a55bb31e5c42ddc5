"""Kaplan–Meier table, median, CI, restricted mean and rates against hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spinemet_etl.stats.km import Z_95, km_curve, km_grouped
from spinemet_etl.stats.km_summary import (
    median_of_curve,
    median_survival,
    restricted_mean,
    survival_at,
)

# Five patients, worked on paper (events before censorings at a tied time):
#   time  event   n  d  c   S                      Greenwood Σ d/(n(n-d))
#   2     1       5  1  0   4/5       = 0.8        1/(5·4)            = 0.05
#   3     1, 0    4  1  1   0.8 · 3/4 = 0.6        0.05 + 1/(4·3)     = 0.133333…
#   5     1       2  1  0   0.6 · 1/2 = 0.3        0.133333 + 1/(2·1) = 0.633333…
#   8     0       1  0  1   0.3                    0.633333…
# Median: first S ≤ 0.5 is at t = 5 (S = 0.3, not 0.5): 5.
# Restricted mean to t = 8: 2·1 + 1·0.8 + 2·0.6 + 3·0.3 = 4.9.
#   Its variance: Σ h_j (area after t_j)² = 0.05·2.9² + (1/12)·2.1² + 0.5·0.9² = 1.193.
# Collett: û = 3 (S = 0.6 ≥ 0.55), l̂ = 5 (S = 0.3 ≤ 0.45), f = (0.6 − 0.3)/(5 − 3) = 0.15;
#   se(S(5)) = 0.3 · √0.633333 ; se(median) = that / 0.15.
FIVE_TIME = np.array([3.0, 2.0, 5.0, 3.0, 8.0])
FIVE_EVENT = np.array([True, True, True, False, False])


def _one_group(time: np.ndarray, event: np.ndarray):  # type: ignore[no-untyped-def]
    return km_grouped(np.zeros(time.size, dtype=np.int64), time, event, 1)


def test_km_table_matches_the_hand_computation() -> None:
    table = km_curve(FIVE_TIME, FIVE_EVENT)
    assert table.time.tolist() == [2.0, 3.0, 5.0, 8.0]
    assert table.n_risk.tolist() == [5, 4, 2, 1]
    assert table.n_event.tolist() == [1, 1, 1, 0]
    assert table.n_censor.tolist() == [0, 1, 0, 1]
    assert table.surv == pytest.approx([0.8, 0.6, 0.3, 0.3], rel=1e-12)
    sigma = math.sqrt(0.05)
    assert table.lower[0] == pytest.approx(math.exp(math.log(0.8) - Z_95 * sigma), rel=1e-12)
    assert table.upper[0] == 1.0  # exp(log 0.8 + z σ) = 1.24, capped at 1


def test_z_is_the_exact_normal_quantile_not_1_96() -> None:
    assert pytest.approx(1.959963984540054, abs=1e-15) == Z_95


def test_median_rmean_and_collett_se_match_the_hand_computation() -> None:
    km = _one_group(FIVE_TIME, FIVE_EVENT)
    median = median_survival(km)
    assert median.estimate[0] == 5.0
    assert median.se[0] == pytest.approx(0.3 * math.sqrt(0.05 + 1 / 12 + 0.5) / 0.15, rel=1e-12)
    rmean = restricted_mean(km)
    assert rmean.estimate[0] == pytest.approx(4.9, rel=1e-12)
    assert rmean.se[0] == pytest.approx(math.sqrt(1.193), rel=1e-12)


@pytest.mark.parametrize(
    ("at", "surv", "se"),
    [(1.0, 1.0, 0.0), (4.0, 0.6, 0.6 * math.sqrt(0.05 + 1 / 12)), (8.0, 0.3, None),
     (9.0, None, None)],
    ids=["before-first-time", "between-times", "at-last-time", "beyond-last-time"],
)  # fmt: skip
def test_survival_at_a_fixed_time(at: float, surv: float | None, se: float | None) -> None:
    rate = survival_at(_one_group(FIVE_TIME, FIVE_EVENT), at)
    if surv is None:
        assert np.isnan(rate.estimate[0]) and np.isnan(rate.lower[0])
    else:
        assert rate.estimate[0] == pytest.approx(surv, rel=1e-12)
    if se is not None:
        assert rate.se[0] == pytest.approx(se, rel=1e-12)


def test_median_midpoint_rule_when_the_curve_sits_at_one_half() -> None:
    # S = 0.75, 0.5, 0.25, 0 at t = 1, 2, 3, 4: S(2) = 0.5 exactly, drops at 3: (2 + 3) / 2.
    km = _one_group(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4, dtype=bool))
    assert median_survival(km).estimate[0] == 2.5


def test_median_at_one_half_followed_only_by_censoring_is_that_time() -> None:
    # S = 0.5 from t = 2 on and never lower: the first time it reaches 0.5.
    km = _one_group(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, True, False, False]))
    assert median_of_curve(km, km.surv)[0] == 2.0


def test_center_with_no_events_has_no_median_and_full_survival() -> None:
    km = _one_group(np.array([1.0, 5.0, 9.0]), np.zeros(3, dtype=bool))
    median = median_survival(km)
    assert np.isnan(median.estimate[0]) and np.isnan(median.se[0])
    assert survival_at(km, 6.0).estimate[0] == 1.0
    assert restricted_mean(km).estimate[0] == 9.0


@pytest.mark.parametrize(
    ("event", "median", "rmean"),
    [(True, 4.0, 4.0), (False, None, 4.0)],
    ids=["one-death", "one-censored"],
)
def test_center_with_one_patient(event: bool, median: float | None, rmean: float) -> None:
    km = _one_group(np.array([4.0]), np.array([event]))
    estimate = median_survival(km).estimate[0]
    assert np.isnan(estimate) if median is None else estimate == median
    assert restricted_mean(km).estimate[0] == rmean


def test_groups_are_independent_and_an_empty_group_is_all_nan() -> None:
    group = np.array([0, 0, 0, 0, 2, 2, 2, 2, 2])
    time = np.array([1.0, 2.0, 3.0, 4.0, *FIVE_TIME])
    event = np.array([True] * 4 + FIVE_EVENT.tolist())
    km = km_grouped(group, time, event, 3)
    median = median_survival(km).estimate
    assert median[0] == 2.5 and np.isnan(median[1]) and median[2] == 5.0
    assert np.isnan(restricted_mean(km).estimate[1])
    assert np.isnan(survival_at(km, 1.0).estimate[1])


@pytest.mark.parametrize("n", [20, 100], ids=["below-0.55", "above-0.45"])
def test_collett_se_takes_a_curve_at_exactly_055_and_045_as_reaching_them(n: int) -> None:
    # n deaths at t = k², none censored: Ŝ = 0.55 exactly after 0.45n deaths and 0.45
    # after 0.55n, computed as 0.5499…9 (n = 20) or 0.4500…1 (n = 100). û = (0.45n)²,
    # l̂ = (0.55n)², f̂ = 0.1 / (l̂ − û). The median is where Ŝ = 0.5, n/2 deaths in
    # (midway to the next time); Greenwood's variance there is 0.5² (1/(n/2) − 1/n)
    # = 0.25 / n, so SE = (0.5 / √n) / f̂ = 5 (l̂ − û) / √n: 44.72 for 20, 500 for 100.
    k = np.arange(1, n + 1)
    km = km_grouped(np.zeros(n, dtype=np.int64), (k**2).astype(float), np.ones(n, bool), 1)
    u_hat, l_hat = (0.45 * n) ** 2, (0.55 * n) ** 2
    assert median_survival(km).se[0] == pytest.approx(5 * (l_hat - u_hat) / math.sqrt(n), rel=1e-9)


def test_km_of_counted_cells_is_that_of_the_patients_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    time = rng.integers(0, 60, 300) / 30.4375
    event = rng.random(300) < 0.7
    times, cell = np.unique(time, return_inverse=True)
    counts = np.bincount(2 * cell + ~event, minlength=2 * times.size)
    kept = np.flatnonzero(counts)
    counted = km_curve(times[kept // 2], kept % 2 == 0, counts[kept])
    rows = km_curve(time, event)
    for name in ("time", "n_risk", "n_event", "n_censor", "surv", "lower", "upper"):
        np.testing.assert_array_equal(getattr(counted, name), getattr(rows, name))
