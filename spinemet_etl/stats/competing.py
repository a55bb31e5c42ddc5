"""Aalen–Johansen cumulative incidence with a competing event, for many groups at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import (
    FloatArray,
    IntArray,
    segment_starts,
    segmented_cumsum,
    take_or_nan,
)
from spinemet_etl.stats.km import Z_95
from spinemet_etl.stats.km_summary import GroupValues


@dataclass(frozen=True)
class CompetingCells:
    """Counts per (group, distinct time), rows sorted by both: events of interest, competing
    events and censorings at each time."""

    n_groups: int
    group: IntArray
    time: FloatArray
    events: IntArray
    competing: IntArray
    censored: IntArray


def _at_risk(cells: CompetingCells, starts: IntArray) -> FloatArray:
    """Patients of the group at or after each cell's time."""
    total = cells.events + cells.competing + cells.censored
    after = np.cumsum(total[::-1])[::-1]
    following = np.append(after, 0)[starts[1:]]
    return np.asarray(after - following[cells.group], dtype=np.float64)


def cumulative_incidence_at(cells: CompetingCells, at: float) -> GroupValues:
    """The Aalen–Johansen probability of the event of interest by `at`, per group, with R's
    infinitesimal-jackknife SE and log-scale 95 % CI.

    Notes:
        As R `summary(survfit(Surv(time, state) ~ 1), times = at)` for the state of
        interest: P(t) = Σ_{t_k ≤ t} S(t_k−) d1_k / n_k, S the all-cause Kaplan–Meier.
        The SE is the square root of Σ_i U_i², U_i each patient's influence on P(at),
        which depends only on the patient's time and state, so it is summed over the
        cells: with h1_k = d1_k / n_k, h_k = (d1_k + d2_k) / n_k and c_k = (S(t_k−) h1_k −
        b_k h_k) / n_k, b_k = (P(at) − P(t_k)) / (1 − h_k), a patient leaving at T has
        U = −Σ_{t_k ≤ min(T, at)} c_k, plus (S(t_k−) − b_k) / n_k for an event of interest
        at T ≤ at, or −b_k / n_k for a competing one. CI: exp(log P ± z · se / P), upper
        capped at 1 (R `survfit_confint`, logse = FALSE); NaN where P = 0. NaN beyond the
        group's largest observed time.
    """
    starts = segment_starts(cells.group, cells.n_groups)
    n_risk = _at_risk(cells, starts)
    d1, d2 = cells.events.astype(np.float64), cells.competing.astype(np.float64)
    h1, h = d1 / n_risk, (d1 + d2) / n_risk
    first_row = np.zeros(cells.time.size, dtype=bool)
    first_row[starts[:-1][np.diff(starts) > 0]] = True
    ends = h < 1
    log_factor = np.log1p(-np.where(ends, h, 0.0))
    surv_after = np.where(ends, np.exp(segmented_cumsum(log_factor, starts, cells.group)), 0.0)
    surv_before = np.where(first_row, 1.0, np.roll(surv_after, 1))
    incidence = segmented_cumsum(surv_before * h1, starts, cells.group)
    inside = cells.time <= at
    row = _last_inside(inside, cells, starts)
    estimate = np.nan_to_num(take_or_nan(incidence, row))
    b = np.where(ends, (estimate[cells.group] - incidence) / np.where(ends, 1 - h, 1.0), 0.0)
    drift = segmented_cumsum(
        np.where(inside, (surv_before * h1 - b * h) / n_risk, 0.0), starts, cells.group
    )
    squares = (
        cells.censored * drift**2
        + d1 * (-drift + (surv_before - b) / n_risk) ** 2
        + d2 * (-drift - b / n_risk) ** 2
    )
    total = cells.events + cells.competing + cells.censored
    variance = _group_sum(cells, np.where(inside, squares, 0.0))
    drift_at = np.nan_to_num(take_or_nan(drift, row))
    variance += _group_sum(cells, np.where(inside, 0, total)) * drift_at**2
    return _values(estimate, np.sqrt(variance), cells, starts, at)


def _group_sum(cells: CompetingCells, values: np.ndarray) -> FloatArray:
    sums = np.bincount(cells.group, weights=values, minlength=cells.n_groups)
    return np.asarray(sums, dtype=np.float64)


def _last_inside(inside: np.ndarray, cells: CompetingCells, starts: IntArray) -> IntArray:
    """Per group, its last row with time ≤ at (rows are sorted by time); -1 where none."""
    rows_inside = np.bincount(cells.group[inside], minlength=cells.n_groups)
    return np.where(rows_inside > 0, starts[:-1] + rows_inside - 1, -1)


def _values(
    estimate: FloatArray, se: FloatArray, cells: CompetingCells, starts: IntArray, at: float
) -> GroupValues:
    """Estimate, SE and log-scale CI; all NaN beyond the group's last time or without rows."""
    last = np.full(cells.n_groups, -np.inf)
    has_rows = np.diff(starts) > 0
    last[has_rows] = cells.time[starts[1:][has_rows] - 1]
    beyond = ~(at <= last)
    positive = estimate > 0
    log_estimate = np.log(np.where(positive, estimate, 1.0))
    half_width = Z_95 * se / np.where(positive, estimate, 1.0)
    lower = np.where(positive, np.exp(log_estimate - half_width), np.nan)
    upper = np.where(positive, np.minimum(np.exp(log_estimate + half_width), 1.0), np.nan)
    nan = np.nan
    return GroupValues(
        estimate=np.where(beyond, nan, estimate),
        se=np.where(beyond, nan, se),
        lower=np.where(beyond, nan, lower),
        upper=np.where(beyond, nan, upper),
    )
