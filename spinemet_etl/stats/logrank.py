"""The log-rank test across k groups, optionally stratified, as R `survdiff` computes it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import BoolArray, FloatArray, IntArray, sorted_inverse


@dataclass(frozen=True)
class RiskTable:
    """At-risk and death counts per (stratum, distinct event time) cell × group; `time`
    is each cell's event time."""

    at_risk: FloatArray
    deaths: FloatArray
    time: FloatArray | None = None


@dataclass(frozen=True)
class LogrankResult:
    """Chi-square, degrees of freedom and p; chisq is None when R would report no test."""

    chisq: float | None
    df: int
    p_value: float | None
    observed: FloatArray
    expected: FloatArray


def risk_table(
    time: FloatArray, event: BoolArray, group: IntArray, n_groups: int, strata: IntArray
) -> RiskTable:
    """Numbers at risk (time ≥ t) and deaths per group at every event time of every stratum."""
    ones = np.ones(time.size, dtype=np.int64)
    return risk_table_cells(time, event.astype(np.int64), ones, group, n_groups, strata)


def risk_table_cells(
    time: FloatArray,
    deaths: IntArray,
    total: IntArray,
    group: IntArray,
    n_groups: int,
    strata: IntArray,
) -> RiskTable:
    """`risk_table` from counts: each cell has `total` patients, `deaths` of them died at `time`.

    Cells may repeat a (stratum, group, time); patients are counted, never rows, so a
    cell of k patients gives the same table as k rows of one patient.
    """
    distinct, time_rank = sorted_inverse(time)
    n_times = int(time_rank.max()) + 1 if time.size else 1
    key = strata.astype(np.int64) * n_times + time_rank
    cell_keys = np.unique(key[deaths > 0])
    cell_end = (cell_keys // n_times + 1) * n_times
    at_risk = np.zeros((cell_keys.size, n_groups))
    dead = np.zeros((cell_keys.size, n_groups))
    order = np.lexsort((key, group))
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    for level in range(n_groups):
        rows = order[bounds[level] : bounds[level + 1]]
        keys = key[rows]
        patients = np.concatenate([[0], np.cumsum(total[rows])])
        died = np.concatenate([[0], np.cumsum(deaths[rows])])
        first = np.searchsorted(keys, cell_keys)
        at_risk[:, level] = patients[np.searchsorted(keys, cell_end)] - patients[first]
        dead[:, level] = died[np.searchsorted(keys, cell_keys, side="right")] - died[first]
    return RiskTable(at_risk=at_risk, deaths=dead, time=distinct[cell_keys % n_times])


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
    return logrank_from_table(risk_table(times, events, codes, n_groups, strata_codes))


def logrank_from_table(table: RiskTable) -> LogrankResult:
    """`logrank_test` of a risk table (at-risk and deaths per stratum × event time × group)."""
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
