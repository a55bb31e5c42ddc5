"""Binomial proportions: the Wilson score interval and the DerSimonian–Laird pooled proportion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spinemet_etl.stats.grouping import FloatArray
from spinemet_etl.stats.km import Z_95


def wilson_interval(successes: np.ndarray, totals: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Wilson score 95 % interval of successes / totals, elementwise; NaN where totals = 0.

    Notes:
        The score interval without continuity correction, z = Φ⁻¹(0.975): R
        `prop.test(x, n, correct = FALSE)$conf.int`. Chosen over the Wald interval
        because it stays inside [0, 1] and keeps its coverage at 0 or n successes,
        which small centers hit often. At 0 (n) successes the lower (upper) limit is
        exactly 0 (1), as the formula gives in exact arithmetic.
    """
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    safe_n = np.where(n > 0, n, 1.0)
    p = x / safe_n
    z2 = Z_95**2
    centre = (p + z2 / (2 * safe_n)) / (1 + z2 / safe_n)
    half = Z_95 * np.sqrt(p * (1 - p) / safe_n + z2 / (4 * safe_n**2)) / (1 + z2 / safe_n)
    empty = n <= 0
    lower = np.where(x == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where(x == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


MAX_REML_ITERATIONS = 1000
REML_TOLERANCE = 1e-12


@dataclass(frozen=True)
class PooledProportion:
    """A random-effects pooled proportion (0–1) with its heterogeneity statistics."""

    estimate: float
    lower: float
    upper: float
    centers: int
    tau2: float
    i2_pct: float
    q: float
    q_p_value: float


def dersimonian_laird(events: np.ndarray, totals: np.ndarray) -> PooledProportion | None:
    """DerSimonian–Laird random-effects pool of per-center proportions on the logit scale.

    Notes:
        Centers with totals = 0 are left out; a center with 0 or all events gets 0.5
        added to both cells (events + 0.5, totals + 1). Within-center variance
        1/x + 1/(n − x); τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw)); I² = max(0,
        (Q − (k − 1)) / Q); Q's p from χ²(k − 1). This is metafor's
        `rma(measure = "PLO", method = "DL")`. None below 2 centers: a random-effects
        pool of one center has no between-center variance to estimate.
    """
    from scipy.special import chdtrc  # = scipy.stats.chi2.sf, without scipy.stats' imports

    centers = _logits(events, totals)
    if centers is None:
        return None
    logit, weights = centers
    fixed = np.sum(weights * logit) / np.sum(weights)
    q = float(np.sum(weights * (logit - fixed) ** 2))
    df = logit.size - 1
    tau2 = max(0.0, (q - df) / (np.sum(weights) - np.sum(weights**2) / np.sum(weights)))
    re_weights = 1 / (1 / weights + tau2)
    pooled = np.sum(re_weights * logit) / np.sum(re_weights)
    se = np.sqrt(1 / np.sum(re_weights))
    return PooledProportion(
        estimate=float(_expit(pooled)),
        lower=float(_expit(pooled - Z_95 * se)),
        upper=float(_expit(pooled + Z_95 * se)),
        centers=int(logit.size),
        tau2=float(tau2),
        i2_pct=100 * max(0.0, (q - df) / q) if q > 0 else 0.0,
        q=q,
        q_p_value=float(chdtrc(df, q)),
    )


def _logits(events: np.ndarray, totals: np.ndarray) -> tuple[FloatArray, FloatArray] | None:
    """Per center with patients, the logit of its proportion and 1 / its variance (0.5
    added to both cells of a center with 0 or all events); None below 2 centers."""
    x = np.asarray(events, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    x, n = x[n > 0], n[n > 0]
    if n.size < 2:
        return None
    corrected = (x == 0) | (x == n)
    x = np.where(corrected, x + 0.5, x)
    n = np.where(corrected, n + 1.0, n)
    return np.log(x / (n - x)), 1 / (1 / x + 1 / (n - x))


@dataclass(frozen=True)
class RemlPool:
    """A REML random-effects pooled proportion (0–1) with its Hartung–Knapp CI, the 95 %
    prediction interval and the heterogeneity statistics."""

    pooled: PooledProportion
    pi_lower: float
    pi_upper: float


def _reml_tau2(logit: FloatArray, variance: FloatArray) -> float:
    """τ² maximizing the restricted likelihood (≥ 0), by metafor's Fisher scoring."""
    tau2 = 0.0
    for _ in range(MAX_REML_ITERATIONS):
        w = 1 / (variance + tau2)
        mu = np.sum(w * logit) / np.sum(w)
        trace = np.sum(w) - np.sum(w**2) / np.sum(w)
        trace_squared = (
            np.sum(w**2) - 2 * np.sum(w**3) / np.sum(w) + (np.sum(w**2) / np.sum(w)) ** 2
        )
        step = (np.sum(w**2 * (logit - mu) ** 2) - trace) / trace_squared
        new = max(0.0, tau2 + step)
        if abs(new - tau2) <= REML_TOLERANCE * max(1.0, tau2):
            return float(new)
        tau2 = new
    return float(tau2)


def reml_hartung_knapp(events: np.ndarray, totals: np.ndarray) -> RemlPool | None:
    """REML random-effects pool on the logit scale, Hartung–Knapp CI, prediction interval.

    Notes:
        metafor `rma(xi, ni, measure = "PLO", method = "REML", test = "knha", add = 1/2,
        to = "only0")` and `predict()`: the same centers and 0.5 correction as
        `dersimonian_laird`; τ² the REML estimate (Fisher scoring from 0, truncated at 0,
        iterated to 1e-12); μ = Σ w y / Σ w with w = 1 / (v + τ²); Hartung–Knapp SE
        √(Σ w (y − μ)² / ((k − 1) Σ w)) (not truncated) and CI μ ± t(k − 1) · SE;
        prediction interval μ ± t(k − 1) · √(τ² + SE²); I² = τ² / (τ² + s²) with s² =
        (k − 1) Σ w₀ / ((Σ w₀)² − Σ w₀²), w₀ = 1 / v; Q and its p as for DL.
    """
    from scipy.special import chdtrc, stdtrit

    centers = _logits(events, totals)
    if centers is None:
        return None
    logit, weights = centers
    k = logit.size
    tau2 = _reml_tau2(logit, 1 / weights)
    w = 1 / (1 / weights + tau2)
    mu = float(np.sum(w * logit) / np.sum(w))
    se = float(np.sqrt(np.sum(w * (logit - mu) ** 2) / ((k - 1) * np.sum(w))))
    t = float(stdtrit(k - 1, 0.975))
    fixed = np.sum(weights * logit) / np.sum(weights)
    q = float(np.sum(weights * (logit - fixed) ** 2))
    typical = (k - 1) * np.sum(weights) / (np.sum(weights) ** 2 - np.sum(weights**2))
    spread = t * np.sqrt(tau2 + se**2)
    pooled = PooledProportion(
        estimate=_expit(mu), lower=_expit(mu - t * se), upper=_expit(mu + t * se), centers=k,
        tau2=tau2, i2_pct=float(100 * tau2 / (tau2 + typical)), q=q,
        q_p_value=float(chdtrc(k - 1, q)),
    )  # fmt: skip
    return RemlPool(pooled, pi_lower=_expit(mu - spread), pi_upper=_expit(mu + spread))


def _expit(value: float) -> float:
    return float(1 / (1 + np.exp(-value)))
