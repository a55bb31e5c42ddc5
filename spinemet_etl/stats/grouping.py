"""Vectorized helpers over rows sorted by group: segment starts, segmented sums, first and last;
distinct values in order without sorting the rows."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def sorted_inverse(values: npt.ArrayLike) -> tuple[FloatArray, IntArray]:
    """`np.unique(values, return_inverse=True)` of a float array: its distinct values in
    order (NaN last, once) and each value's index among them.

    Notes:
        The values are hashed once (pandas' factorize) and only the distinct ones sorted,
        instead of sorting every row: for 4.2M OS times, a few thousand distinct,
        0.06 s against np.unique's 0.64–0.78 s (and 0.30 s for np.searchsorted into it).
    """
    codes, distinct = pd.factorize(np.asarray(values, dtype=np.float64), use_na_sentinel=False)
    order = np.argsort(distinct, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return np.asarray(distinct[order], dtype=np.float64), rank[codes]


def segment_starts(group: IntArray, n_groups: int) -> IntArray:
    """Index of each group's first row in `group` (sorted ascending); length n_groups + 1."""
    bounds = np.arange(n_groups + 1, dtype=np.result_type(group.dtype, np.int32))
    return np.searchsorted(group, bounds).astype(np.int64)


def segmented_cumsum(values: FloatArray, starts: IntArray, group: IntArray) -> FloatArray:
    """Running sum of `values` that restarts at every group's first row."""
    total = np.cumsum(values)
    before = np.concatenate([[0.0], total])[starts[:-1]]
    return total - before[group]


def first_in_group(mask: BoolArray, group: IntArray, n_groups: int) -> IntArray:
    """Row index of each group's first row where `mask` holds; -1 where none does."""
    rows = np.flatnonzero(mask)
    found = np.full(n_groups, -1, dtype=np.int64)
    groups, first = np.unique(group[rows], return_index=True)
    found[groups] = rows[first]
    return found


def last_in_group(mask: BoolArray, group: IntArray, n_groups: int) -> IntArray:
    """Row index of each group's last row where `mask` holds; -1 where none does."""
    rows = np.flatnonzero(mask)[::-1]
    found = np.full(n_groups, -1, dtype=np.int64)
    groups, first = np.unique(group[rows], return_index=True)
    found[groups] = rows[first]
    return found


def take_or_nan(values: FloatArray, index: IntArray) -> FloatArray:
    """values[index], NaN where index is -1."""
    out = np.full(index.shape, np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


def group_sort_order(
    group: IntArray, n_groups: int, time: FloatArray, event_first: BoolArray | None = None
) -> IntArray:
    """Row order by (group, time[, events before censorings]), by stable sorts.

    The last sort, on the group as int16, is numpy's radix sort: fast for millions of rows.
    """
    if event_first is None:
        order = np.argsort(time, kind="stable")
    else:
        order = np.argsort(~event_first, kind="stable")
        order = order[np.argsort(time[order], kind="stable")]
    small = group.astype(np.int16 if n_groups < 2**15 else np.int64)
    return order[np.argsort(small[order], kind="stable")]
