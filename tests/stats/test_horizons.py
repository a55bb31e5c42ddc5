"""Numbers at risk, restricted mean to a horizon and cumulative incidence, worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spinemet_etl.stats.competing import CompetingCells, cumulative_incidence_at
from spinemet_etl.stats.km import Z_95, GroupedKM, km_grouped
from spinemet_etl.stats.km_summary import at_risk, restricted_mean

# The five patients of test_km: S = 0.8 from 2, 0.6 from 3, 0.3 from 5 to 8 (last time).
FIVE_TIME = np.array([3.0, 2.0, 5.0, 3.0, 8.0])
FIVE_EVENT = np.array([True, True, True, False, False])
ONE_GROUP = np.zeros(5, dtype=np.int64)


def _five() -> GroupedKM:
    return km_grouped(ONE_GROUP, FIVE_TIME, FIVE_EVENT, 1)


@pytest.mark.parametrize(
    ("at", "expected"), [(0.5, 5), (2.0, 5), (2.5, 4), (3.0, 4), (6.0, 1), (8.0, 1), (9.0, 0)]
)
def test_at_risk_counts_times_at_or_after(at: float, expected: int) -> None:
    assert at_risk(_five(), at)[0] == expected


def test_restricted_mean_to_a_horizon_cuts_the_curve_there() -> None:
    # To 4: 2·1 + 1·0.8 + 1·0.6 = 3.4; areas after t_j: 1.4 (from 2), 0.6 (from 3).
    # Variance: 0.05·1.4² + (1/12)·0.6² = 0.128.
    values = restricted_mean(_five(), horizon=4.0)
    assert values.estimate[0] == pytest.approx(3.4)
    assert values.se[0] == pytest.approx(math.sqrt(0.128))
    assert values.lower[0] == pytest.approx(3.4 - Z_95 * math.sqrt(0.128))
    assert values.upper[0] == pytest.approx(3.4 + Z_95 * math.sqrt(0.128))


def test_restricted_mean_before_the_first_time_is_the_horizon() -> None:
    values = restricted_mean(_five(), horizon=1.5)
    assert (values.estimate[0], values.se[0]) == (pytest.approx(1.5), 0.0)


def test_restricted_mean_beyond_the_last_time_is_null() -> None:
    values = restricted_mean(_five(), horizon=8.5)
    assert np.isnan([values.estimate[0], values.se[0], values.lower[0], values.upper[0]]).all()
    assert restricted_mean(_five(), horizon=8.0).estimate[0] == pytest.approx(4.9)


# Four patients: recurrence at 1, death at 2, censored at 3, recurrence at 4.
#   P(1) = 1/4; deaths do not add; S(4−) = (3/4)(2/3)(1) = 1/2, so P(4) = 1/4 + 1/2 · 1/1.
#   At t = 1 each patient's influence is (dN1 − 1/4) / 4: 3/16 once, −1/16 three times,
#   so se = √(12/256), the binomial √(p(1 − p)/n).
FOUR = CompetingCells(
    n_groups=1,
    group=np.zeros(4, dtype=np.int64),
    time=np.array([1.0, 2.0, 3.0, 4.0]),
    events=np.array([1, 0, 0, 1]),
    competing=np.array([0, 1, 0, 0]),
    censored=np.array([0, 0, 1, 0]),
)


@pytest.mark.parametrize(("at", "expected"), [(1.0, 0.25), (3.5, 0.25), (4.0, 0.75)])
def test_cumulative_incidence_counts_deaths_as_competing(at: float, expected: float) -> None:
    assert cumulative_incidence_at(FOUR, at).estimate[0] == pytest.approx(expected)


def test_cumulative_incidence_se_and_log_ci_at_the_first_time() -> None:
    values = cumulative_incidence_at(FOUR, 1.0)
    se = math.sqrt(12 / 256)
    assert values.se[0] == pytest.approx(se)
    assert values.lower[0] == pytest.approx(math.exp(math.log(0.25) - Z_95 * se / 0.25))
    assert values.upper[0] == pytest.approx(min(1.0, math.exp(math.log(0.25) + Z_95 * se / 0.25)))


def test_cumulative_incidence_zero_has_null_ci_and_beyond_last_time_is_null() -> None:
    before = cumulative_incidence_at(FOUR, 0.5)
    assert before.estimate[0] == 0.0
    assert np.isnan([before.lower[0], before.upper[0]]).all()
    assert np.isnan(cumulative_incidence_at(FOUR, 4.5).estimate[0])
