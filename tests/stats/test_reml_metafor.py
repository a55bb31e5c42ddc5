"""REML / Hartung–Knapp pooling and the prediction interval against metafor, with τ² > 0.

metafor's results are committed in tests/r/reference/reml.csv (`make r-reference`, from
tests/r/reml.R), so this needs no R; tests/endpoints/test_r_reference.py proves in CI that
metafor still gives them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.stats.proportions import reml_hartung_knapp
from tests.endpoints.r_reference import REFERENCE

METAFOR = pd.read_csv(REFERENCE / "reml.csv").set_index("case")
RESULTS = ["tau2", "i2_pct", "q", "q_p_value", "estimate", "lower", "upper", "pi_lower",
           "pi_upper"]  # fmt: skip


def _counts(text: str) -> np.ndarray:
    return np.array([int(value) for value in text.split(";")])


@pytest.mark.parametrize("case", list(METAFOR.index))
def test_reml_hartung_knapp_is_metafors(case: str) -> None:
    r = METAFOR.loc[case]
    result = reml_hartung_knapp(_counts(r["events"]), _counts(r["totals"]))
    assert result is not None
    pooled = result.pooled
    ours = [pooled.tau2, pooled.i2_pct, pooled.q, pooled.q_p_value, pooled.estimate,
            pooled.lower, pooled.upper, result.pi_lower, result.pi_upper]  # fmt: skip
    theirs = r[RESULTS].to_numpy(dtype=float)
    assert np.allclose(ours, theirs, rtol=1e-6, atol=1e-12), (ours, theirs)


def test_the_cases_have_between_center_variance() -> None:
    """Each case exercises τ² > 0, where the prediction interval is wider than the CI."""
    assert (METAFOR["tau2"] > 1).all()
    assert (METAFOR["pi_lower"] < METAFOR["lower"]).all()
    assert (METAFOR["pi_upper"] > METAFOR["upper"]).all()


def test_fewer_than_two_centers_is_not_pooled() -> None:
    assert reml_hartung_knapp(np.array([3, 4]), np.array([10, 0])) is None
