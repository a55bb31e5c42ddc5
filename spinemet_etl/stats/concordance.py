"""Harrell's concordance index for many groups at once, as R `concordance()` counts pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import (
    BoolArray,
    FloatArray,
    IntArray,
    group_sort_order,
    segment_starts,
    sorted_inverse,
)

CELL_TALLY_ROWS = 4
"""Cells are tallied, not sorted, when (blocks of equal group, time and status) × (score
values + 1) is at most this many times the rows."""


@dataclass(frozen=True)
class PairCounts:
    """Per group: concordant, discordant and score-tied comparable pairs, and C.

    `influence` holds, per group, Σ dN², Σ dN·dD and Σ dD² over its patients, where dN and
    dD are a patient's influence on the numerator (concordant + tied / 2) and on the
    comparable pairs: the pairs it is part of. From them follows the infinitesimal-
    jackknife variance of C (`c_index_se`).
    """

    concordant: FloatArray
    discordant: FloatArray
    tied_score: FloatArray
    c_index: FloatArray
    influence: tuple[FloatArray, FloatArray, FloatArray] | None = None

    def c_index_se(self) -> FloatArray:
        """R's `sqrt(concordance(...)$var)`: √(Σ (dN − C dD)²) / pairs; NaN without pairs.

        Notes:
            The infinitesimal jackknife (R survival's `concordance`, timewt = "n"):
            Σ_i (dN_i − C dD_i)² / D² = (Σ dN² − 2C Σ dN dD + C² Σ dD²) / D². Counts
            and influence sums of strata add, so a center-stratified C's variance is
            that of the summed sums.
        """
        if self.influence is None:
            return np.full(self.c_index.size, np.nan)
        squares, cross, d_squares = self.influence
        c = self.c_index
        pairs = self.concordant + self.discordant + self.tied_score
        spread = np.maximum(squares - 2 * c * cross + c**2 * d_squares, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pairs > 0, np.sqrt(spread) / pairs, np.nan)


def harrell_c(
    group: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    score: np.ndarray,
    n_groups: int,
    *,
    reverse: bool = False,
    order: IntArray | None = None,
) -> PairCounts:
    """Harrell's C of `score` against (time, event) in every group; NaN without a comparable pair.

    Notes:
        R `concordance(Surv(time, event) ~ score)` (timewt = "n"): a pair is comparable
        when the shorter time is an event; a censoring tied with an event time counts as
        longer (events before censorings, as in the KM); two events at the same time are
        not comparable (R's `tied.y`). Concordant when the longer survivor has the
        higher score (`reverse=True`: the lower score, for scores where higher predicts
        shorter survival); tied scores count ½: C = (concordant + tied / 2) /
        (concordant + discordant + tied). Rows with a NaN score are left out. One
        vectorized pass per distinct score value, so meant for scores with few values;
        the passes run over cells, not patients: patients of equal (group, time, status,
        score) pair alike, so each cell counts once, weighted by its patients (at day
        resolution a few thousand cells per group, whatever the number of patients).
        `order` may pass a precomputed `group_sort_order(group, n_groups, time, event)`.
    """
    g = np.asarray(group, dtype=np.int64)
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=bool)
    codes, n_values = _score_codes(np.asarray(score, dtype=np.float64))
    if order is None:
        order = group_sort_order(g, n_groups, t, event_first=e)
    g, t, e, codes, weight = _cells(g[order], t[order], e[order], codes[order], n_values)
    block_end = _block_ends(g, t, e)[e]
    group_end = segment_starts(g, n_groups)[g[e] + 1]
    lower, tied, scored_after = _score_counts(codes, e, weight, block_end, group_end, n_values)
    higher = scored_after - lower - tied
    concordant, discordant = (lower, higher) if reverse else (higher, lower)
    scored = codes[e] < n_values
    sums = [
        np.bincount(g[e][scored], weights=(x * weight[e])[scored], minlength=n_groups)
        for x in (concordant, discordant, tied)
    ]
    early = [np.where(scored, x, 0.0) for x in (concordant, discordant, tied)]
    late = _earlier_counts(g, t, e, codes, weight, n_values, n_groups)
    late_lower, late_tied, late_higher = late
    late_concordant, late_discordant = (
        (late_higher, late_lower) if reverse else (late_lower, late_higher)
    )
    per_row = [late_concordant, late_discordant, late_tied]
    for row, values in zip(per_row, early, strict=True):
        row[e] += values
    d_numerator = per_row[0] + per_row[2] / 2
    d_pairs = per_row[0] + per_row[1] + per_row[2]

    def by_group(values: FloatArray) -> FloatArray:
        return np.bincount(g, weights=values * weight, minlength=n_groups).astype(np.float64)

    influence = (
        by_group(d_numerator**2), by_group(d_numerator * d_pairs), by_group(d_pairs**2)
    )  # fmt: skip
    return pair_counts(sums[0], sums[1], sums[2], influence)


def _cells(
    g: IntArray, t: FloatArray, e: np.ndarray, codes: IntArray, n_values: int
) -> tuple[IntArray, FloatArray, np.ndarray, IntArray, IntArray]:
    """Sorted rows of equal (group, time, status, score code) merged into one cell each.

    Returns the cells' group, time, status and code, in (group, time, status, code)
    order, and `weight`, the rows each holds. A cell's rows are never comparable with
    one another and alike against every other row, so counting a cell once and
    weighting it gives every row's counts.
    """
    new_block = np.ones(g.size, dtype=bool)
    new_block[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1]) | (e[1:] != e[:-1])
    block = np.cumsum(new_block) - 1
    width = n_values + 1
    key = block * width + codes
    n_keys = (int(block[-1]) + 1) * width if g.size else 0
    if n_keys <= CELL_TALLY_ROWS * g.size:  # ties abound: tally every (block, code)
        tally = np.bincount(key, minlength=n_keys)
        cells = np.flatnonzero(tally)
        rows = np.flatnonzero(new_block)[cells // width]
        return g[rows], t[rows], e[rows], cells % width, tally[cells]
    by_cell = np.argsort(key, kind="stable")
    key = key[by_cell]
    first = np.flatnonzero(np.diff(key, prepend=-1) != 0)
    weight = np.diff(first, append=key.size)
    rows = by_cell[first]
    return g[rows], t[rows], e[rows], codes[rows], weight


def _earlier_counts(
    g: IntArray,
    t: FloatArray,
    e: np.ndarray,
    codes: IntArray,
    weight: IntArray,
    n_values: int,
    n_groups: int,
) -> list[FloatArray]:
    """For each scored cell, the comparable earlier events (events of its group before its
    block of equal time and status) with a lower, equal and higher score; cells sorted,
    `weight` the rows of each."""
    block_start = _block_starts(g, t, e)
    group_start = segment_starts(g, n_groups)[g]
    lower, tied, total = (np.zeros(codes.size) for _ in range(3))
    below = np.zeros(codes.size + 1, dtype=np.int64)
    for value in range(n_values):
        at_most = np.concatenate([[0], np.cumsum(np.where(e & (codes <= value), weight, 0))])
        rows = np.flatnonzero(codes == value)
        starts, stops = group_start[rows], block_start[rows]
        lower[rows] = below[stops] - below[starts]
        tied[rows] = at_most[stops] - at_most[starts] - lower[rows]
        below = at_most
    scored = codes < n_values
    total[scored] = (below[block_start] - below[group_start])[scored]
    return [lower, tied, total - lower - tied]


def pair_counts(
    concordant: np.ndarray,
    discordant: np.ndarray,
    tied: np.ndarray,
    influence: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> PairCounts:
    """PairCounts with C = (concordant + tied / 2) / all comparable pairs, NaN without any."""
    pairs = concordant + discordant + tied
    with np.errstate(invalid="ignore", divide="ignore"):
        c_index = np.where(pairs > 0, (concordant + tied / 2) / pairs, np.nan)
    return PairCounts(
        concordant=concordant.astype(np.float64),
        discordant=discordant.astype(np.float64),
        tied_score=tied.astype(np.float64),
        c_index=c_index.astype(np.float64),
        influence=influence,
    )


def add_pair_counts(parts: list[PairCounts]) -> PairCounts:
    """The counts of disjoint sets of groups (or of pairs) added, and C recomputed.

    The counts are integers held in float64, so their sums are exact in any order; the
    influence sums (quarter-integers) add too, when every part has them.
    """
    influences = [p.influence for p in parts if p.influence is not None]
    influence = None
    if len(influences) == len(parts):
        squares, cross, d_squares = (
            np.sum([one[k] for one in influences], axis=0) for k in range(3)
        )
        influence = (squares, cross, d_squares)
    return pair_counts(
        np.sum([p.concordant for p in parts], axis=0),
        np.sum([p.discordant for p in parts], axis=0),
        np.sum([p.tied_score for p in parts], axis=0),
        influence,
    )


def _score_codes(score: FloatArray) -> tuple[IntArray, int]:
    """Dense codes 0..k-1 in score order, k for NaN; small integer scores skip the sort."""
    known = ~np.isnan(score)
    if not known.any():
        return np.zeros(score.size, dtype=np.int64), 0
    low, high = score[known].min(), score[known].max()
    if high - low < 1024 and np.all(score[known] == np.round(score[known])):
        n_values = int(high - low) + 1
        codes = np.where(known, score - low, n_values).astype(np.int64)
        return codes, n_values
    values, inverse = np.unique(score[known], return_inverse=True)
    codes = np.full(score.size, values.size, dtype=np.int64)
    codes[known] = inverse
    return codes, int(values.size)


def _score_counts(
    codes: IntArray,
    event: np.ndarray,
    weight: IntArray,
    block_end: IntArray,
    group_end: IntArray,
    n_values: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For each event cell: scored rows after it (block_end..group_end) lower, equal, in all."""
    event_codes = codes[event]
    lower = np.zeros(event_codes.size)
    tied = np.zeros(event_codes.size)
    below = np.zeros(codes.size + 1, dtype=np.int64)
    for value in range(n_values):
        at_most = np.concatenate([np.cumsum(np.where(codes <= value, weight, 0)[::-1])[::-1], [0]])
        rows = np.flatnonzero(event_codes == value)
        ends, stops = block_end[rows], group_end[rows]
        lower[rows] = below[ends] - below[stops]
        tied[rows] = (at_most[ends] - at_most[stops]) - lower[rows]
        below = at_most
    return lower, tied, (below[block_end] - below[group_end]).astype(np.float64)


def _block_starts(group: IntArray, time: FloatArray, event: np.ndarray) -> IntArray:
    """For each row, the index of the first row of its block of equal (group, time, event)."""
    new = np.ones(group.size, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (time[1:] != time[:-1]) | (event[1:] != event[:-1])
    starts = np.flatnonzero(new)
    return starts[np.cumsum(new) - 1]


def _block_ends(group: IntArray, time: FloatArray, event: np.ndarray) -> IntArray:
    """For each row, the index just past its block of equal (group, time, event)."""
    new = np.ones(group.size + 1, dtype=bool)
    new[1:-1] = (group[1:] != group[:-1]) | (time[1:] != time[:-1]) | (event[1:] != event[:-1])
    starts = np.flatnonzero(new)
    block = np.cumsum(new[:-1]) - 1
    return starts[block + 1]


def time_blocks(time: FloatArray, event: BoolArray) -> tuple[IntArray, int]:
    """Each row's block, a distinct (time, event) in time order with events before
    censorings at a tied time, and the number of blocks (`pooled_concordance`)."""
    times, rank = sorted_inverse(time)
    block = 2 * rank + (~np.asarray(event, dtype=bool)).astype(np.int64)
    return block, 2 * times.size


def pooled_concordance(
    stratum: IntArray,
    n_strata: int,
    blocks: tuple[IntArray, int],
    score: FloatArray,
    *,
    reverse: bool = False,
) -> PairCounts:
    """`harrell_c` over all rows (index 0) and within each stratum 0..n_strata−1 (index
    1 + stratum; a row of stratum −1 counts in all only), from counts, without sorting rows.
    `blocks` are the rows' `time_blocks` of (time, event).

    Notes:
        Rows are counted into a grid of blocks × score values: a block is a distinct
        (time, event), in time order with events before censorings at a tied time, so
        "the rows after an event's block" are those with a longer time or censored at
        its time, and "the events before a row's block" those comparable with it as the
        shorter time (R `concordance`'s pairs, `harrell_c`'s conventions). Each cell's
        pairs are suffix and prefix sums of the grid; a row's influence (dN, dD) is its
        cell's, so the influence sums are Σ cell count × value. Pair counts are exact
        integers; the influence sums are float sums taken in another order than
        `harrell_c`'s (equal within a few ulps). The grid has 2 × distinct times ×
        score values cells per stratum: the times are whole days in months, so their
        number is bounded by the follow-up span in days, not by the patients.
    """
    codes, n_values = _score_codes(np.asarray(score, dtype=np.float64))
    scored = codes < n_values
    block, n_blocks = blocks[0][scored], blocks[1]
    layer = np.asarray(stratum, dtype=np.int64)[scored] + 1
    cell = (layer * n_blocks + block) * n_values + codes[scored]
    grid = np.bincount(cell, minlength=(n_strata + 1) * n_blocks * max(n_values, 1))
    grid = grid.reshape(n_strata + 1, n_blocks, max(n_values, 1))
    is_event = np.arange(n_blocks) % 2 == 0
    layers = [grid.sum(axis=0), *grid[1:]]
    parts = [_grid_pairs(counts, is_event, reverse) for counts in layers]
    totals = [np.array([part[kind] for part in parts], dtype=np.float64) for kind in range(3)]
    influence = tuple(np.array([part[3][kind] for part in parts]) for kind in range(3))
    return pair_counts(totals[0], totals[1], totals[2], (influence[0], influence[1], influence[2]))


def _by_score(counts: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Per cell, the counts of its block with a lower, the same and a higher score."""
    below = np.cumsum(counts, axis=1) - counts
    return below, counts, counts.sum(axis=1, keepdims=True) - below - counts


def _grid_pairs(
    counts: IntArray, is_event: BoolArray, reverse: bool
) -> tuple[int, int, int, tuple[float, float, float]]:
    """Concordant, discordant and tied pairs of one grid (blocks × score values), and the
    influence sums Σ dN², Σ dN·dD, Σ dD² (see `pooled_concordance`)."""
    after = np.cumsum(counts[::-1], axis=0)[::-1] - counts
    events = counts * is_event[:, None]
    before = np.cumsum(events, axis=0) - events
    after_lower, after_tied, after_higher = _by_score(after)
    before_lower, before_tied, before_higher = _by_score(before)
    early = (after_lower, after_higher) if reverse else (after_higher, after_lower)
    late = (before_higher, before_lower) if reverse else (before_lower, before_higher)
    as_event = [np.where(is_event[:, None], x, 0) for x in (*early, after_tied)]
    concordant, discordant, tied = (
        (x + y).astype(np.float64) for x, y in zip(as_event, (*late, before_tied), strict=True)
    )
    d_numerator = concordant + tied / 2
    d_pairs = concordant + discordant + tied
    weight = counts.astype(np.float64)
    influence = (
        float(np.sum(weight * d_numerator**2)),
        float(np.sum(weight * d_numerator * d_pairs)),
        float(np.sum(weight * d_pairs**2)),
    )
    conc, disc, tie = (int(np.sum(counts * x)) for x in as_event)
    return conc, disc, tie, influence
