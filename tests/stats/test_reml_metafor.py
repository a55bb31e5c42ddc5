"""REML / Hartung–Knapp pooling and the prediction interval against metafor, with τ² > 0."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from spinemet_etl.stats.proportions import reml_hartung_knapp

pytestmark = [pytest.mark.integration]

CASES = {
    "heterogeneous": ([2, 15, 30, 8, 40, 3], [40, 50, 60, 45, 55, 38]),
    "zero_and_all_cells": ([0, 12, 20, 5], [10, 30, 20, 25]),
    "two_centers": ([5, 30], [50, 40]),
}
METAFOR = """
suppressPackageStartupMessages(library(metafor))
fit <- rma(xi = c({x}), ni = c({n}), measure = "PLO", method = "REML", test = "knha",
           add = 1/2, to = "only0", control = list(threshold = 1e-12, maxiter = 1000))
p <- predict(fit, transf = plogis)
cat(sprintf('{{"tau2": %.17g, "i2": %.17g, "q": %.17g, "qp": %.17g, "est": %.17g, "lo": %.17g,
"hi": %.17g, "pilo": %.17g, "pihi": %.17g}}', fit$tau2, fit$I2, fit$QE, fit$QEp, p$pred,
p$ci.lb, p$ci.ub, p$pi.lb, p$pi.ub))
"""


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_reml_hartung_knapp_is_metafors(case: str) -> None:
    events, totals = CASES[case]
    script = METAFOR.format(x=", ".join(map(str, events)), n=", ".join(map(str, totals)))
    r = json.loads(
        subprocess.run(
            ["Rscript", "-e", script], check=True, capture_output=True, text=True, timeout=120
        ).stdout
    )
    result = reml_hartung_knapp(np.array(events), np.array(totals))
    assert result is not None
    pooled = result.pooled
    ours = [pooled.tau2, pooled.i2_pct, pooled.q, pooled.q_p_value, pooled.estimate,
            pooled.lower, pooled.upper, result.pi_lower, result.pi_upper]  # fmt: skip
    theirs = [r[key] for key in ("tau2", "i2", "q", "qp", "est", "lo", "hi", "pilo", "pihi")]
    assert np.allclose(ours, theirs, rtol=1e-6, atol=1e-12), (ours, theirs)
    if case == "heterogeneous":
        assert pooled.tau2 > 0.1 and result.pi_lower < pooled.lower


def test_fewer_than_two_centers_is_not_pooled() -> None:
    assert reml_hartung_knapp(np.array([3, 4]), np.array([10, 0])) is None
