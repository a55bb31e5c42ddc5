"""The plain pooled C counted on a grid of (time, event) blocks: R's pairs, `harrell_c`'s values."""

from __future__ import annotations

import numpy as np
import pytest

from spinemet_etl.stats.concordance import harrell_c, pooled_concordance, time_blocks


def test_grid_counts_pairs_like_r() -> None:
    # R: concordance(Surv(t, s) ~ x) on t = 1,1,2,2,3; s = 1,1,0,1,0; x = 1,2,3,3,5 gives
    # concordant 7, discordant 0, tied.x 1, tied.y 1 (not comparable): C = 7.5 / 8.
    # Strata 0,1,0,1,0: stratum 0 holds rows 1, 3, 5 (t 1, 2, 3; x 1, 3, 5): 2 pairs from
    # the death at t = 1, both concordant; stratum 1 rows 2, 4 (both deaths, t 1 and 2,
    # x 2 and 3): 1 concordant pair.
    time, event = np.array([1.0, 1, 2, 2, 3]), np.array([True, True, False, True, False])
    counts = pooled_concordance(
        np.array([0, 1, 0, 1, 0]), 2, time_blocks(time, event), np.array([1.0, 2, 3, 3, 5])
    )
    assert counts.concordant.tolist() == [7, 2, 1]
    assert counts.discordant.tolist() == [0, 0, 0]
    assert counts.tied_score.tolist() == [1, 0, 0]
    assert counts.c_index[0] == 0.9375


@pytest.mark.parametrize("reverse", [False, True], ids=["higher-better", "reversed"])
@pytest.mark.parametrize("seed", range(6))
def test_grid_equals_sorting_every_row(seed: int, reverse: bool) -> None:
    """Ties of time, of status and of score, missing scores, strata: the same pairs as
    `harrell_c` (checked against R), and influence sums equal up to float rounding."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 500))
    time = rng.integers(0, 40, n) / 30.4375
    event = rng.random(n) < 0.6
    score = rng.integers(0, 8, n).astype(np.float64)
    score[rng.random(n) < 0.2] = np.nan
    stratum = rng.integers(0, 3, n)
    grid = pooled_concordance(stratum, 3, time_blocks(time, event), score, reverse=reverse)
    everyone = harrell_c(np.zeros(n, np.int64), time, event, score, 1, reverse=reverse)
    by_stratum = harrell_c(stratum, time, event, score, 3, reverse=reverse)
    for kind in ("concordant", "discordant", "tied_score", "c_index"):
        expected = np.concatenate([getattr(everyone, kind), getattr(by_stratum, kind)])
        np.testing.assert_array_equal(getattr(grid, kind), expected)
    assert grid.influence is not None and everyone.influence is not None
    assert by_stratum.influence is not None
    for ours, all_rows, strata in zip(
        grid.influence, everyone.influence, by_stratum.influence, strict=True
    ):
        np.testing.assert_allclose(ours, np.concatenate([all_rows, strata]), rtol=1e-13)
    np.testing.assert_allclose(
        grid.c_index_se(),
        np.concatenate([everyone.c_index_se(), by_stratum.c_index_se()]),
        rtol=1e-9,
    )


def test_grid_without_scores_has_no_pairs() -> None:
    time, event = np.array([1.0, 2.0]), np.array([True, False])
    counts = pooled_concordance(np.zeros(2, np.int64), 1, time_blocks(time, event),
                                np.full(2, np.nan))  # fmt: skip
    assert counts.concordant.tolist() == [0, 0] and np.isnan(counts.c_index).all()
