"""Harrell's C counted over cells of tied patients against every pair counted one by one."""

from __future__ import annotations

import numpy as np
import pytest

from spinemet_etl.stats.concordance import harrell_c


def _pairs_one_by_one(
    group: np.ndarray, time: np.ndarray, event: np.ndarray, score: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concordant, discordant, tied per group and Σ dN², Σ dN·dD, Σ dD² by the definition.

    A pair (i, j) of one group, both scored, is comparable when i died first, or died at
    the time j was censored; concordant when j, the longer survivor, has the higher score.
    dN_i and dD_i are i's share of the numerator (concordant + tied / 2) and of the pairs.
    """
    n = time.size
    counts = np.zeros((3, n_groups))
    d_numerator, d_pairs = np.zeros(n), np.zeros(n)
    for i in range(n):
        for j in range(n):
            if group[i] != group[j] or np.isnan(score[i]) or np.isnan(score[j]):
                continue
            shorter = time[i] < time[j] or (time[i] == time[j] and not event[j])
            if not (event[i] and shorter):
                continue
            kind = 0 if score[j] > score[i] else 1 if score[j] < score[i] else 2
            counts[kind, group[i]] += 1
            share = (1.0, 0.0, 0.5)[kind]
            for k in (i, j):
                d_numerator[k] += share
                d_pairs[k] += 1
    sums = [np.bincount(group, weights=w, minlength=n_groups) for w in (
        d_numerator**2, d_numerator * d_pairs, d_pairs**2)]  # fmt: skip
    return counts[0], counts[1], counts[2], np.array(sums)


@pytest.mark.parametrize(
    ("seed", "times"), [(1, 7), (2, 7), (3, 7), (4, 150), (5, 150)],
    ids=["ties-1", "ties-2", "ties-3", "few-ties-1", "few-ties-2"],
)  # fmt: skip
def test_cells_of_tied_patients_count_as_every_pair(seed: int, times: int) -> None:
    # With 7 distinct times most patients share (group, time, status, score) with
    # others, so the cells merge many patients each (tallied); with 150 the blocks
    # times score values outnumber 4 × the rows, so the cells are sorted instead.
    rng = np.random.default_rng(seed)
    n, n_groups = 240, 3
    group = rng.integers(0, n_groups, n)
    time = rng.integers(1, times + 1, n).astype(float)
    event = rng.random(n) < 0.6
    score = rng.integers(0, 4, n).astype(float)
    score[rng.random(n) < 0.1] = np.nan
    concordant, discordant, tied, influence = _pairs_one_by_one(group, time, event, score, n_groups)
    pairs = harrell_c(group, time, event, score, n_groups)
    assert concordant.sum() > 1000 and tied.sum() > 50
    np.testing.assert_array_equal(pairs.concordant, concordant)
    np.testing.assert_array_equal(pairs.discordant, discordant)
    np.testing.assert_array_equal(pairs.tied_score, tied)
    assert pairs.influence is not None
    np.testing.assert_array_equal(np.array(pairs.influence), influence)
