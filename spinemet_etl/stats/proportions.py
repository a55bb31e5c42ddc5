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

    x = np.asarray(events, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    x, n = x[n > 0], n[n > 0]
    if n.size < 2:
        return None
    corrected = (x == 0) | (x == n)
    x = np.where(corrected, x + 0.5, x)
    n = np.where(corrected, n + 1.0, n)
    logit = np.log(x / (n - x))
    weights = 1 / (1 / x + 1 / (n - x))
    fixed = np.sum(weights * logit) / np.sum(weights)
    q = float(np.sum(weights * (logit - fixed) ** 2))
    df = n.size - 1
    tau2 = max(0.0, (q - df) / (np.sum(weights) - np.sum(weights**2) / np.sum(weights)))
    re_weights = 1 / (1 / weights + tau2)
    pooled = np.sum(re_weights * logit) / np.sum(re_weights)
    se = np.sqrt(1 / np.sum(re_weights))
    return PooledProportion(
        estimate=float(_expit(pooled)),
        lower=float(_expit(pooled - Z_95 * se)),
        upper=float(_expit(pooled + Z_95 * se)),
        centers=int(n.size),
        tau2=float(tau2),
        i2_pct=100 * max(0.0, (q - df) / q) if q > 0 else 0.0,
        q=q,
        q_p_value=float(chdtrc(df, q)),
    )


def _expit(value: float) -> float:
    return float(1 / (1 + np.exp(-value)))
