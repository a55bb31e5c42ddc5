"""The log-rank test across k groups, optionally stratified, as R `survdiff` computes it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class RiskTable:
    """At-risk and death counts per (stratum, distinct event time) cell × group."""

    at_risk: FloatArray
    deaths: FloatArray


@dataclass(frozen=True)
class LogrankResult:
    """Chi-square, degrees of freedom and p; chisq is None when R would report no test."""

    chisq: float | None
    df: int
    p_value: float | None
    observed: FloatArray
    expected: FloatArray


def _keys_by_group(key: IntArray, group: IntArray, n_groups: int) -> list[IntArray]:
    """Each group's keys, sorted, from one sort of (group, key)."""
    order = np.argsort(group * (int(key.max(initial=0)) + 1) + key)
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    sorted_keys = key[order]
    return [sorted_keys[bounds[level] : bounds[level + 1]] for level in range(n_groups)]


def risk_table(
    time: FloatArray, event: BoolArray, group: IntArray, n_groups: int, strata: IntArray
) -> RiskTable:
    """Numbers at risk (time ≥ t) and deaths per group at every event time of every stratum."""
    time_rank = np.unique(time, return_inverse=True)[1].astype(np.int64)
    n_times = int(time_rank.max()) + 1 if time.size else 1
    key = strata.astype(np.int64) * n_times + time_rank
    cell_keys = np.unique(key[event])
    cell_end = (cell_keys // n_times + 1) * n_times
    at_risk = np.zeros((cell_keys.size, n_groups))
    deaths = np.zeros((cell_keys.size, n_groups))
    everyone = _keys_by_group(key, group, n_groups)
    dead = _keys_by_group(key[event], group[event], n_groups)
    for level in range(n_groups):
        keys, dead_keys = everyone[level], dead[level]
        at_risk[:, level] = np.searchsorted(keys, cell_end) - np.searchsorted(keys, cell_keys)
        right = np.searchsorted(dead_keys, cell_keys, side="right")
        deaths[:, level] = right - np.searchsorted(dead_keys, cell_keys)
    return RiskTable(at_risk=at_risk, deaths=deaths)


def logrank_test(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    strata: np.ndarray | None = None,
) -> LogrankResult:
    """Log-rank chi-square of `group` (codes 0..n_groups-1), summed over `strata` if given.

    Notes:
        R `survdiff(Surv(time, event) ~ group [+ strata(s)])`, rho = 0: observed and
        expected deaths and the hypergeometric variance summed over strata; groups with
        expected = 0 are dropped, the first remaining one is the reference, chi-square
        = (O − E)ᵀ V⁻¹ (O − E) on (groups kept − 1) df. No test (chisq None) below two
        groups with expected deaths, as R then reports chisq = 0 on 0 df.
    """
    times = np.asarray(time, dtype=np.float64)
    events = np.asarray(event, dtype=bool)
    codes = np.asarray(group, dtype=np.int64)
    strata_codes = np.zeros(times.size, np.int64) if strata is None else np.asarray(strata)
    table = risk_table(times, events, codes, n_groups, strata_codes)
    n = table.at_risk.sum(axis=1)
    d = table.deaths.sum(axis=1)
    observed = table.deaths.sum(axis=0)
    expected = (table.at_risk * (d / n)[:, None]).sum(axis=0)
    safe = np.where(n > 1, n, 2.0)
    weight = np.where(n > 1, d * (n - d) / (safe * (safe - 1)), 0.0)
    variance = np.diag((weight[:, None] * table.at_risk).sum(axis=0)) - (
        table.at_risk.T @ ((weight / n)[:, None] * table.at_risk)
    )
    kept = np.flatnonzero(expected > 0)
    df = kept.size - 1
    if kept.size < 2:
        return LogrankResult(None, max(df, 0), None, observed, expected)
    diff = (observed - expected)[kept[1:]]
    from scipy.special import chdtrc  # = scipy.stats.chi2.sf, without scipy.stats' imports

    chisq = float(diff @ np.linalg.solve(variance[np.ix_(kept[1:], kept[1:])], diff))
    return LogrankResult(chisq, df, float(chdtrc(df, chisq)), observed, expected)
