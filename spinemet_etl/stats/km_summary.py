"""Summaries of grouped Kaplan–Meier curves: median and its CI and SE, restricted mean, rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import (
    FloatArray,
    first_in_group,
    last_in_group,
    segmented_cumsum,
    take_or_nan,
)
from spinemet_etl.stats.km import Z_95, GroupedKM, log_ci

MEDIAN_TOLERANCE = float(np.finfo(float).eps ** 0.5)
COLLETT_UPPER, COLLETT_LOWER = 0.55, 0.45
"""The survival levels around the median between which Collett's SE takes the curve's slope."""


@dataclass(frozen=True)
class GroupValues:
    """One value per group with its SE and 95 % limits (NaN = not estimable)."""

    estimate: FloatArray
    se: FloatArray
    lower: FloatArray
    upper: FloatArray


def median_of_curve(km: GroupedKM, curve: FloatArray) -> FloatArray:
    """Per group, the time where `curve` (Ŝ, or a CI limit) first reaches 0.5, by R's rule.

    Notes:
        R's `minmin` (survival, `survmean`): keep the non-missing values below
        0.5 + √ε (ε = machine epsilon, √ε ≈ 1.5e-8); the median is the first kept time,
        except when that value equals 0.5 within √ε and a later kept value is lower:
        then the midpoint of the first time and the first time the value drops. NaN when
        the curve never reaches 0.5.
    """
    keep = ~np.isnan(curve) & (curve < 0.5 + MEDIAN_TOLERANCE)
    first = first_in_group(keep, km.group, km.n_groups)
    found = first >= 0
    first_value = np.full(km.n_groups, np.nan)
    first_value[found] = curve[first[found]]
    drops = keep & (curve < first_value[km.group])
    later = first_in_group(drops, km.group, km.n_groups)
    at_half = found & (np.abs(first_value - 0.5) < MEDIAN_TOLERANCE) & (later >= 0)
    median = take_or_nan(km.time, first)
    median[at_half] = (km.time[first[at_half]] + km.time[later[at_half]]) / 2
    return median


def median_survival(km: GroupedKM) -> GroupValues:
    """Median, Brookmeyer–Crowley 95 % CI as R prints it, and Collett's SE of the median.

    Notes:
        The CI limits are the medians of the pointwise lower and upper log-scale curves,
        by the same rule as the median (R `print.survfit`). The SE is Collett's (Modelling
        Survival Data in Medical Research, §2.4), the "median ± SE" of clinical papers:
        se(Ŝ(t̂)) / f̂ with Greenwood's se on the survival scale and f̂ = (Ŝ(û) − Ŝ(l̂)) /
        (l̂ − û), û the last event time with Ŝ ≥ 0.55, l̂ the first with Ŝ ≤ 0.45, both
        within √ε as R's median rule (a curve at exactly 0.55, computed as 0.5499…9 by
        one program and 0.55 by another, would otherwise pick another û).
    """
    median = median_of_curve(km, km.surv)
    return GroupValues(
        estimate=median,
        se=_collett_se(km, median),
        lower=median_of_curve(km, km.lower),
        upper=median_of_curve(km, km.upper),
    )


def _collett_se(km: GroupedKM, median: FloatArray) -> FloatArray:
    """se(Ŝ(t̂)) / f̂ per group; NaN where t̂, û or l̂ does not exist."""
    is_event = km.n_event > 0
    upper = km.surv >= COLLETT_UPPER - MEDIAN_TOLERANCE
    lower = km.surv <= COLLETT_LOWER + MEDIAN_TOLERANCE
    u_row = last_in_group(is_event & upper, km.group, km.n_groups)
    l_row = first_in_group(is_event & lower, km.group, km.n_groups)
    density = (take_or_nan(km.surv, u_row) - take_or_nan(km.surv, l_row)) / (
        take_or_nan(km.time, l_row) - take_or_nan(km.time, u_row)
    )
    at_median = _row_at(km, np.nan_to_num(median, nan=-np.inf))
    se_surv = take_or_nan(km.surv_se(), at_median)
    return np.where(np.isnan(median), np.nan, se_surv / density)


def _row_at(km: GroupedKM, times: FloatArray) -> np.ndarray:
    """Per group, the last row with time ≤ times[group]; -1 where none."""
    counts = np.bincount(km.group[km.time <= times[km.group]], minlength=km.n_groups)
    return np.where(counts > 0, km.starts[:-1] + counts - 1, -1)


def survival_at(km: GroupedKM, at: float) -> GroupValues:
    """Ŝ(at) per group with Greenwood's SE (survival scale) and the log-scale 95 % CI.

    Notes:
        As R `summary(fit, times = at)` (extend = FALSE): NaN when `at` is beyond the
        group's largest observed time (event or censoring), Ŝ = 1 with SE 0 before the
        first time, and NaN limits (and SE) where Ŝ = 0.
    """
    row = _row_at(km, np.full(km.n_groups, at))
    last_time = take_or_nan(km.time, km.starts[1:] - 1)
    last_time[np.diff(km.starts) == 0] = np.nan
    surv = np.where(row >= 0, take_or_nan(km.surv, row), 1.0)
    var_log = np.where(row >= 0, take_or_nan(km.var_log, row), 0.0)
    lower, upper = log_ci(surv, var_log)
    beyond = ~(at <= last_time)
    se = np.where(surv > 0, surv * np.sqrt(np.where(surv > 0, var_log, 0.0)), np.nan)
    return GroupValues(
        estimate=np.where(beyond, np.nan, surv),
        se=np.where(beyond, np.nan, se),
        lower=np.where(beyond, np.nan, lower),
        upper=np.where(beyond, np.nan, upper),
    )


def at_risk(km: GroupedKM, at: float) -> FloatArray:
    """Per group, the patients still at risk at `at`: those whose time is ≥ `at`.

    Notes:
        As R `summary(fit, times = at, extend = TRUE)$n.risk`: 0 beyond the last time.
    """
    leaving = np.where(km.time >= at, km.n_event + km.n_censor, 0)
    return np.asarray(np.bincount(km.group, weights=leaving, minlength=km.n_groups), np.float64)


def restricted_mean(km: GroupedKM, horizon: float | None = None) -> GroupValues:
    """Area under each group's curve from 0 to a limit, with R's SE and a CI when the
    limit is a common `horizon`.

    Notes:
        R `survmean`: with `horizon` None the limit is the curve's own last time (event
        or censoring; `print(fit, rmean = "individual")`), with no CI, as R prints none;
        with a `horizon` (`summary(fit, rmean = horizon)$table`) the curve is cut there,
        the CI is rmean ± z·se, and the value is NaN when the horizon lies beyond the
        group's last time. The SE is √(Σ_j h_j A_j²) over the times t_j within the
        limit, with h_j = d_j / (n_j (n_j − d_j)) (0 where n_j = d_j) and A_j the area
        from t_j to the limit.
    """
    empty = np.diff(km.starts) == 0
    last_time = take_or_nan(km.time, np.where(empty, -1, km.starts[1:] - 1))
    limit = last_time if horizon is None else np.full(km.n_groups, float(horizon))
    area, se = _area_to(km, limit)
    unknown = empty | ~(limit <= last_time)
    nan = np.full(km.n_groups, np.nan)
    if horizon is None:
        lower, upper = nan, nan
    else:
        lower, upper = area - Z_95 * se, area + Z_95 * se
    return GroupValues(
        estimate=np.where(unknown, np.nan, area),
        se=np.where(unknown, np.nan, se),
        lower=np.where(unknown, np.nan, lower),
        upper=np.where(unknown, np.nan, upper),
    )


def _area_to(km: GroupedKM, limit: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per group, the area under Ŝ from 0 to `limit` and its SE (R `survmean`)."""
    first_row = np.zeros(km.time.size, dtype=bool)
    first_row[km.starts[:-1][np.diff(km.starts) > 0]] = True
    inside = km.time <= limit[km.group]
    prev_time = np.where(first_row, 0.0, np.roll(km.time, 1))
    prev_surv = np.where(first_row, 1.0, np.roll(km.surv, 1))
    rectangles = np.where(inside, (km.time - prev_time) * prev_surv, 0.0)
    row = _row_at(km, limit)
    kept_time = np.where(row >= 0, take_or_nan(km.time, row), 0.0)
    kept_surv = np.where(row >= 0, take_or_nan(km.surv, row), 1.0)
    tail = np.nan_to_num((limit - kept_time) * kept_surv)
    area = np.bincount(km.group, weights=rectangles, minlength=km.n_groups) + tail
    area_after = area[km.group] - segmented_cumsum(rectangles, km.starts, km.group)
    terms = np.where(inside, km.hazard_term * area_after**2, 0.0)
    return area, np.sqrt(np.bincount(km.group, weights=terms, minlength=km.n_groups))
