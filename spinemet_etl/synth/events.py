"""Binary events of a synthetic cohort: a logistic model per row, an expected or exact count."""

from __future__ import annotations

import numpy as np
from scipy.special import logit


def draw_events(
    rng: np.random.Generator,
    eligible: np.ndarray,
    log_odds: np.ndarray | float,
    share: float,
    *,
    exact: bool,
) -> np.ndarray:
    """A mask of the eligible rows that have the event.

    Row i has logit P(event) = logit(`share`) + `log_odds`_i: `share` is the chance of
    a reference row (log-odds 0). With `exact`, exactly round(share × eligible count)
    rows have the event instead: `share` is then the share of the eligible rows.

    Notes:
        Both modes are one latent-variable model: row i has the event when
        log_odds_i + ε_i exceeds a threshold, ε_i standard logistic. Without `exact`
        the threshold is −logit(share), so events are independent Bernoulli draws
        (real binomial noise, as in a real center). With `exact` the threshold is
        set by the count, so a center calibrated to a published series reproduces
        its numbers up to rounding while the covariates still decide who has the
        event (e.g. Frankel A patients rarely improve even when 88 % of A–D do).
    """
    index = np.flatnonzero(eligible)
    chosen = np.zeros(eligible.size, dtype=bool)
    offsets = np.broadcast_to(np.asarray(log_odds, dtype=np.float64), eligible.shape)[index]
    key = offsets + rng.logistic(size=index.size)
    if exact:
        count = min(round(share * index.size), index.size)
        chosen[index[np.argsort(-key, kind="stable")[:count]]] = True
    else:
        chosen[index[key + logit(share) > 0]] = True
    return chosen
