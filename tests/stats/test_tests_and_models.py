"""Log-rank, Cox, concordance and pooled proportions against hand-worked and textbook values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spinemet_etl.stats.concordance import harrell_c
from spinemet_etl.stats.cox import cox_categorical
from spinemet_etl.stats.logrank import logrank_test
from spinemet_etl.stats.proportions import dersimonian_laird, wilson_interval


def test_logrank_two_groups_by_hand() -> None:
    # A: deaths at 1 and 3; B: death at 2, censored at 4.
    # t=1: n=4 (A 2), E_A = 2/4, V = 1·3/(4·3) · (2 − 2·2/4) = 0.25
    # t=2: n=3 (A 1), E_A = 1/3, V = 1·2/(3·2) · (1 − 1/3) = 2/9
    # t=3: n=2 (A 1), E_A = 1/2, V = 1·1/(2·1) · (1 − 1/2) = 0.25
    # O_A − E_A = 2 − 4/3 = 2/3; chi² = (2/3)² / (13/18) = 8/13
    result = logrank_test(
        np.array([1.0, 3.0, 2.0, 4.0]), np.array([1, 1, 1, 0]), np.array([0, 0, 1, 1]), 2
    )
    assert result.chisq == pytest.approx(8 / 13, rel=1e-12)
    assert result.df == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(8 / 13 / 2)), rel=1e-12)


def test_stratified_logrank_sums_over_strata() -> None:
    # The same two-group data twice, in two strata: O − E and V both double, chi² doubles.
    time = np.array([1.0, 3.0, 2.0, 4.0] * 2)
    result = logrank_test(
        time, np.array([1, 1, 1, 0] * 2), np.array([0, 0, 1, 1] * 2), 2,
        strata=np.array([0] * 4 + [1] * 4),
    )  # fmt: skip
    assert result.chisq == pytest.approx(16 / 13, rel=1e-12)


def test_logrank_with_one_group_is_no_test() -> None:
    result = logrank_test(np.array([1.0, 2.0]), np.array([1, 1]), np.array([0, 0]), 2)
    assert result.chisq is None and result.p_value is None


def test_cox_reference_swap_inverts_the_hazard_ratio() -> None:
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    event = np.array([1, 1, 1, 0, 1, 1, 0, 1], dtype=bool)
    level = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    strata = np.zeros(8, dtype=np.int64)
    forward = cox_categorical(time, event, level, 2, strata)
    backward = cox_categorical(time, event, 1 - level, 2, strata)
    assert forward.hazard_ratio[0] == pytest.approx(1 / backward.hazard_ratio[0], rel=1e-8)
    assert forward.p_value[0] == pytest.approx(backward.p_value[0], rel=1e-8)


def test_concordance_counts_pairs_like_r() -> None:
    # R: concordance(Surv(t, s) ~ x) on t = 1,1,2,2,3; s = 1,1,0,1,0; x = 1,2,3,3,5 gives
    # concordant 7, discordant 0, tied.x 1 (the event and the censoring at t = 2, both
    # x = 3), tied.y 1 (the two deaths at t = 1, not comparable): C = 7.5 / 8.
    pairs = harrell_c(
        np.zeros(5, dtype=np.int64), np.array([1.0, 1, 2, 2, 3]), np.array([1, 1, 0, 1, 0]),
        np.array([1.0, 2, 3, 3, 5]), 1,
    )  # fmt: skip
    assert (pairs.concordant[0], pairs.discordant[0], pairs.tied_score[0]) == (7, 0, 1)
    assert pairs.c_index[0] == 0.9375


def test_concordance_reverse_and_missing_scores() -> None:
    group = np.zeros(4, dtype=np.int64)
    time = np.array([1.0, 2.0, 3.0, 4.0])
    event = np.ones(4, dtype=bool)
    score = np.array([4.0, 3.0, np.nan, 1.0])
    assert harrell_c(group, time, event, score, 1).c_index[0] == 0.0
    assert harrell_c(group, time, event, score, 1, reverse=True).c_index[0] == 1.0


def test_concordance_without_comparable_pairs_is_nan() -> None:
    pairs = harrell_c(np.zeros(2, np.int64), np.array([1.0, 2.0]), np.zeros(2), np.ones(2), 1)
    assert np.isnan(pairs.c_index[0])


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)],
    ids=["newcombe-81-of-263", "newcombe-15-of-148", "newcombe-0-of-20"],
)
def test_wilson_matches_newcombe_1998(x: int, n: int, lower: float, upper: float) -> None:
    # Newcombe RG, Stat Med 1998;17:857, table I, method 3 (score interval, no correction).
    lo, hi = wilson_interval(np.array([x]), np.array([n]))
    assert (lo[0], hi[0]) == pytest.approx((lower, upper), abs=5e-5)
    assert x > 0 or lo[0] == 0.0


def test_wilson_of_an_empty_denominator_is_nan() -> None:
    lo, hi = wilson_interval(np.array([0]), np.array([0]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_dersimonian_laird_homogeneous_centers() -> None:
    # 10/20 twice: logit 0, w = 1/(1/10 + 1/10) = 5 each, Q = 0, τ² = 0,
    # se = √(1/10), CI = expit(±1.959964 · 0.316228).
    pooled = dersimonian_laird(np.array([10, 10]), np.array([20, 20]))
    assert pooled is not None
    half = 1.959963984540054 * math.sqrt(0.1)
    assert pooled.estimate == pytest.approx(0.5)
    assert pooled.lower == pytest.approx(1 / (1 + math.exp(half)), rel=1e-12)
    assert (pooled.tau2, pooled.q, pooled.i2_pct) == (0.0, 0.0, 0.0)


def test_dersimonian_laird_heterogeneous_centers_and_zero_cell() -> None:
    # 2/20 and 18/20: logits ±log 9, v = 1/2 + 1/18, w = 1.8; Q = 2 · 1.8 · (log 9)²;
    # τ² = (Q − 1) / (3.6 − 1.8²·2/3.6); I² = (Q − 1)/Q. A 0/5 center gets +0.5 and +1.
    pooled = dersimonian_laird(np.array([2, 18, 0]), np.array([20, 20, 0]))
    assert pooled is not None and pooled.centers == 2
    q = 2 * 1.8 * math.log(9) ** 2
    assert pooled.q == pytest.approx(q, rel=1e-12)
    assert pooled.tau2 == pytest.approx((q - 1) / (3.6 - 1.8), rel=1e-12)
    assert pooled.i2_pct == pytest.approx(100 * (q - 1) / q, rel=1e-12)
    assert pooled.estimate == pytest.approx(0.5, rel=1e-12)
    corrected = dersimonian_laird(np.array([0, 5]), np.array([5, 5]))
    assert corrected is not None and corrected.estimate == pytest.approx(0.5, rel=1e-12)


def test_dersimonian_laird_needs_two_centers() -> None:
    assert dersimonian_laird(np.array([3]), np.array([10])) is None
