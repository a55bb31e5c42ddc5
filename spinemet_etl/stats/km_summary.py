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
from spinemet_etl.stats.km import GroupedKM, log_ci

MEDIAN_TOLERANCE = float(np.finfo(float).eps ** 0.5)


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
        (l̂ − û), û the last event time with Ŝ ≥ 0.55, l̂ the first with Ŝ ≤ 0.45.
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
    u_row = last_in_group(is_event & (km.surv >= 0.55), km.group, km.n_groups)
    l_row = first_in_group(is_event & (km.surv <= 0.45), km.group, km.n_groups)
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


def restricted_mean(km: GroupedKM) -> GroupValues:
    """Area under each group's curve from 0 to its largest observed time, with R's SE.

    Notes:
        R `print(fit, rmean = "individual")` (`survmean`): the upper limit is the curve's
        own last time (event or censoring); the SE is √(Σ_j h_j A_j²) with h_j = d_j /
        (n_j (n_j − d_j)) (0 where n_j = d_j) and A_j the area from t_j to the limit.
        No CI: R prints none.
    """
    first_row = np.zeros(km.time.size, dtype=bool)
    first_row[km.starts[:-1][np.diff(km.starts) > 0]] = True
    prev_time = np.where(first_row, 0.0, np.roll(km.time, 1))
    prev_surv = np.where(first_row, 1.0, np.roll(km.surv, 1))
    rectangles = (km.time - prev_time) * prev_surv
    area = np.bincount(km.group, weights=rectangles, minlength=km.n_groups)
    area_after = area[km.group] - segmented_cumsum(rectangles, km.starts, km.group)
    variance = np.bincount(km.group, weights=km.hazard_term * area_after**2, minlength=km.n_groups)
    empty = np.diff(km.starts) == 0
    nan = np.full(km.n_groups, np.nan)
    return GroupValues(
        estimate=np.where(empty, np.nan, area),
        se=np.where(empty, np.nan, np.sqrt(variance)),
        lower=nan,
        upper=nan,
    )
