"""Heavy libraries load only in the functions that use them, and constants stay exact."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import norm

from spinemet_etl.stats.km import Z_95

HEAVY = ("scipy", "matplotlib", "lifelines")


def test_z_95_is_scipys_quantile_to_the_last_bit() -> None:
    assert float(norm.ppf(0.975)) == Z_95


@pytest.mark.parametrize(
    "module",
    ["spinemet_etl.report", "spinemet_etl.endpoints", "spinemet_etl.stats.cox",
     "spinemet_etl.stats.logrank", "spinemet_etl.stats.proportions"],
    ids=["report", "endpoints", "cox", "logrank", "proportions"],
)  # fmt: skip
def test_importing_loads_no_heavy_library(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_the_special_functions_are_scipy_stats_tail_probabilities_bit_for_bit() -> None:
    from scipy.special import chdtrc, ndtr
    from scipy.stats import chi2

    rng = np.random.default_rng(7)
    x = np.concatenate([rng.exponential(20.0, 5000), [0.0, 1e-300, 5.5, 1e3]])
    for df in (1, 2, 3, 24, 163):
        assert np.array_equal(chdtrc(df, x), chi2.sf(x, df))
    z = np.concatenate([rng.normal(0.0, 5.0, 5000), [0.0, 40.0]])
    assert np.array_equal(2 * ndtr(-np.abs(z)), 2 * norm.sf(np.abs(z)))
