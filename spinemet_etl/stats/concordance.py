"""Harrell's concordance index for many groups at once, as R `concordance()` counts pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import FloatArray, IntArray, group_sort_order, segment_starts


@dataclass(frozen=True)
class PairCounts:
    """Per group: concordant, discordant and score-tied comparable pairs, and C."""

    concordant: FloatArray
    discordant: FloatArray
    tied_score: FloatArray
    c_index: FloatArray


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
        vectorized pass per distinct score value, so meant for scores with few values.
        `order` may pass a precomputed `group_sort_order(group, n_groups, time, event)`.
    """
    g = np.asarray(group, dtype=np.int64)
    t = np.asarray(time, dtype=np.float64)
    e = np.asarray(event, dtype=bool)
    codes, n_values = _score_codes(np.asarray(score, dtype=np.float64))
    if order is None:
        order = group_sort_order(g, n_groups, t, event_first=e)
    g, t, e, codes = g[order], t[order], e[order], codes[order]
    block_end = _block_ends(g, t, e)[e]
    group_end = segment_starts(g, n_groups)[g[e] + 1]
    lower, tied, scored_after = _score_counts(codes, e, block_end, group_end, n_values)
    higher = scored_after - lower - tied
    concordant, discordant = (lower, higher) if reverse else (higher, lower)
    scored = codes[e] < n_values
    sums = [
        np.bincount(g[e][scored], weights=x[scored], minlength=n_groups)
        for x in (concordant, discordant, tied)
    ]
    return pair_counts(sums[0], sums[1], sums[2])


def pair_counts(concordant: np.ndarray, discordant: np.ndarray, tied: np.ndarray) -> PairCounts:
    """PairCounts with C = (concordant + tied / 2) / all comparable pairs, NaN without any."""
    pairs = concordant + discordant + tied
    with np.errstate(invalid="ignore", divide="ignore"):
        c_index = np.where(pairs > 0, (concordant + tied / 2) / pairs, np.nan)
    return PairCounts(
        concordant=concordant.astype(np.float64),
        discordant=discordant.astype(np.float64),
        tied_score=tied.astype(np.float64),
        c_index=c_index.astype(np.float64),
    )


def add_pair_counts(parts: list[PairCounts]) -> PairCounts:
    """The counts of disjoint sets of groups (or of pairs) added, and C recomputed.

    The counts are integers held in float64, so their sums are exact in any order.
    """
    return pair_counts(
        np.sum([p.concordant for p in parts], axis=0),
        np.sum([p.discordant for p in parts], axis=0),
        np.sum([p.tied_score for p in parts], axis=0),
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
    codes: IntArray, event: np.ndarray, block_end: IntArray, group_end: IntArray, n_values: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For each event row: scored rows after it (block_end..group_end) lower, equal, in all."""
    event_codes = codes[event]
    lower = np.zeros(event_codes.size)
    tied = np.zeros(event_codes.size)
    below = np.zeros(codes.size + 1, dtype=np.int64)
    for value in range(n_values):
        at_most = np.concatenate([np.cumsum((codes <= value)[::-1])[::-1], [0]])
        rows = np.flatnonzero(event_codes == value)
        ends, stops = block_end[rows], group_end[rows]
        lower[rows] = below[ends] - below[stops]
        tied[rows] = (at_most[ends] - at_most[stops]) - lower[rows]
        below = at_most
    return lower, tied, (below[block_end] - below[group_end]).astype(np.float64)


def _block_ends(group: IntArray, time: FloatArray, event: np.ndarray) -> IntArray:
    """For each row, the index just past its block of equal (group, time, event)."""
    new = np.ones(group.size + 1, dtype=bool)
    new[1:-1] = (group[1:] != group[:-1]) | (time[1:] != time[:-1]) | (event[1:] != event[:-1])
    starts = np.flatnonzero(new)
    block = np.cumsum(new[:-1]) - 1
    return starts[block + 1]
