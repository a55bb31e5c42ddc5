"""Kaplan–Meier estimation for many groups at once, with R `survival`'s log-scale CI."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import (
    BoolArray,
    FloatArray,
    IntArray,
    group_sort_order,
    segment_starts,
    segmented_cumsum,
    sorted_inverse,
)

Z_95 = 1.959963984540054
"""Φ⁻¹(0.975) as scipy computes it (`scipy.stats.norm.ppf(0.975)`), without importing scipy."""


@dataclass(frozen=True)
class KMTable:
    """One Kaplan–Meier curve, one row per distinct observed time (event or censoring).

    `surv` is Ŝ just after `time`; `lower`/`upper` the pointwise 95 % log-scale limits
    (NaN where Ŝ = 0, as in R).
    """

    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    surv: FloatArray
    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True)
class GroupedKM:
    """Kaplan–Meier curves of many groups, stacked: rows sorted by (group, time).

    `starts[g]:starts[g + 1]` are group g's rows; `var_log` is Greenwood's variance of
    log Ŝ (Σ d / (n (n − d))), `hazard_term` its increments (0 where n = d, as in R's
    `survmean`).
    """

    n_groups: int
    group: IntArray
    starts: IntArray
    time: FloatArray
    n_risk: IntArray
    n_event: IntArray
    n_censor: IntArray
    surv: FloatArray
    var_log: FloatArray
    hazard_term: FloatArray
    lower: FloatArray
    upper: FloatArray

    def surv_se(self) -> FloatArray:
        """Greenwood's SE of Ŝ on the survival scale (NaN where Ŝ = 0, as in R)."""
        positive = self.surv > 0
        return np.where(
            positive, self.surv * np.sqrt(np.where(positive, self.var_log, 0.0)), np.nan
        )


def _cells(
    group: IntArray, time: FloatArray, event: BoolArray
) -> tuple[IntArray, FloatArray, IntArray, IntArray, IntArray]:
    """Collapse rows sorted by (group, time) to one cell per (group, distinct time)."""
    new = np.ones(group.size, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (time[1:] != time[:-1])
    first = np.flatnonzero(new)
    n_event = np.add.reduceat(event, first, dtype=np.int64) if first.size else first
    n_total = np.diff(np.append(first, group.size))
    return group[first], time[first], first, n_event.astype(np.int64), n_total


def km_grouped(
    group: IntArray,
    time: FloatArray,
    event: BoolArray,
    n_groups: int,
    order: IntArray | None = None,
) -> GroupedKM:
    """Kaplan–Meier curves of every group in one pass, no loop over groups or patients.

    Notes:
        Follows R `survfit(Surv(time, event) ~ group)` with its defaults: Ŝ(t) =
        ∏_{t_j ≤ t} (1 − d_j / n_j), events before censorings at a tied time, Greenwood
        variance on the log scale, and `conf.type = "log"`: exp(log Ŝ ± z σ) with
        z = Φ⁻¹(0.975) (not 1.96) and the upper limit capped at 1. Where Ŝ = 0 the
        limits are NaN, as R's are NA. `order` may pass a precomputed
        `group_sort_order(group, n_groups, time)`.
    """
    if order is None:
        order = group_sort_order(group, n_groups, time)
    return km_sorted(group[order], time[order], event[order], n_groups)


def km_sorted(g: np.ndarray, t: FloatArray, e: BoolArray, n_groups: int) -> GroupedKM:
    """`km_grouped` of rows already sorted by (group, time, events first)."""
    cell_group, cell_time, _, n_event, n_total = _cells(g, t, e)
    return km_cells(cell_group, cell_time, n_event, n_total, n_groups)


def km_cells(
    cell_group: IntArray, cell_time: FloatArray, n_event: IntArray, n_total: IntArray, n_groups: int
) -> GroupedKM:
    """Kaplan–Meier curves from counts: one cell per (group, distinct time), sorted by both.

    `n_event` and `n_total` are each cell's events and patients (events + censorings); the
    number at risk is the group's patients at or after the cell's time. Rows give the same
    cells with `km_sorted`, so both paths are one estimator (`km_grouped`'s conventions).
    """
    starts = segment_starts(cell_group, n_groups)
    n_total = np.asarray(n_total, dtype=np.int64)
    n_event = np.asarray(n_event, dtype=np.int64)
    after = np.cumsum(n_total[::-1])[::-1]
    following = np.append(after, 0)[starts[1:]]
    n_risk = after - following[cell_group]
    dies_out = n_event == n_risk
    survivors = np.where(dies_out, 1, n_risk - n_event)
    log_factor = np.where(dies_out, 0.0, np.log(survivors / n_risk))
    surv = np.exp(segmented_cumsum(log_factor, starts, cell_group))
    surv[dies_out] = 0.0
    hazard_term = np.where(dies_out, 0.0, n_event / (n_risk * survivors.astype(np.float64)))
    var_log = segmented_cumsum(hazard_term, starts, cell_group)
    var_log[dies_out] = np.inf
    lower, upper = log_ci(surv, var_log)
    return GroupedKM(
        n_groups=n_groups,
        group=cell_group,
        starts=starts,
        time=cell_time,
        n_risk=n_risk.astype(np.int64),
        n_event=n_event,
        n_censor=(n_total - n_event).astype(np.int64),
        surv=surv,
        var_log=var_log,
        hazard_term=hazard_term,
        lower=lower,
        upper=upper,
    )


def log_ci(surv: FloatArray, var_log: FloatArray) -> tuple[FloatArray, FloatArray]:
    """R's `conf.type = "log"` limits: exp(log Ŝ ± z σ), upper capped at 1, NaN at Ŝ = 0."""
    positive = surv > 0
    log_surv = np.log(np.where(positive, surv, 1.0))
    half_width = Z_95 * np.sqrt(np.where(positive, var_log, 0.0))
    lower = np.where(positive, np.exp(log_surv - half_width), np.nan)
    upper = np.where(positive, np.minimum(np.exp(log_surv + half_width), 1.0), np.nan)
    return lower, upper


def km_curve(time: np.ndarray, event: np.ndarray, count: np.ndarray | None = None) -> KMTable:
    """The Kaplan–Meier table of one sample, for plotting (R `summary(fit, censored = TRUE)`).

    `count`, when given, is the number of patients each row stands for (rows of counted
    (time, event) cells); the table is that of the patients, bit for bit.

    Notes:
        Same conventions as `km_grouped`: one row per distinct time, events before
        censorings at a tied time, log-scale 95 % CI with z = Φ⁻¹(0.975).
    """
    time_array = np.asarray(time, dtype=np.float64)
    event_array = np.asarray(event, dtype=bool)
    if count is None:
        curves = km_grouped(np.zeros(time_array.size, dtype=np.int64), time_array, event_array, 1)
    else:
        times, cell = sorted_inverse(time_array)
        weight = np.asarray(count, dtype=np.int64)
        n_event = np.bincount(cell, weights=weight * event_array, minlength=times.size)
        n_total = np.bincount(cell, weights=weight, minlength=times.size)
        group = np.zeros(times.size, dtype=np.int64)
        curves = km_cells(group, times, n_event.astype(np.int64), n_total.astype(np.int64), 1)
    return KMTable(
        time=curves.time,
        n_risk=curves.n_risk,
        n_event=curves.n_event,
        n_censor=curves.n_censor,
        surv=curves.surv,
        lower=curves.lower,
        upper=curves.upper,
    )
