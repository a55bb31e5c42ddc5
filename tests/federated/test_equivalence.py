"""Pooling center summaries gives the endpoint table of the patient rows (federated.md).

Counts exactly and estimates to 1e-9 relative, on R's lung and veteran cohorts with the
edge cases and on a 50-center synthetic consortium, version 2 endpoints included; the
pooled C-indices, the one stated exception, are null from summaries, and their
center-stratified versions (C, SE) agree with R's `concordance(Surv ~ score +
strata(center_id))`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.endpoints import compute_endpoints
from tests.endpoints.r_reference import (
    FIFTY,
    REFERENCE,
    VERSION_2,
    cohort_patients,
    r_stratified_c,
    read_datasets,
)
from tests.federated.conftest import (
    STRATIFIED_C,
    assert_same_endpoints,
    pooled_c_rows,
    pooled_from_folders,
    stratified_c_rows,
)

COHORTS = ["lung", "veteran_and_odd", FIFTY]
POOLED_BY_REML = [f"{name}{suffix}" for name in ("pain_relief_pct", "neuro_improvement_pct",
                  "local_control_pct") for suffix in ("_re_reml", "_pi")]  # fmt: skip
WITHOUT_VALUES = {  # version 2 codes without a value, and why
    "lung": {"os_rmst_60m"},  # no one followed 60 months
    "veteran_and_odd": set(POOLED_BY_REML),  # VAS, Frankel and recurrence in one center only
    FIFTY: {"neuro_improvement_pct_re_reml", "neuro_improvement_pct_pi"},  # no Frankel grades
}


@pytest.fixture(scope="module", params=COHORTS)
def cohort_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def cohort(cohort_name: str) -> pd.DataFrame:
    """R's lung and veteran cohorts and fifty small centers, as in tests/r/reference/."""
    return cohort_patients(cohort_name, read_datasets(REFERENCE))


@pytest.mark.integration
@pytest.mark.slow
def test_pooled_summaries_equal_the_central_table(
    cohort_name: str, cohort: pd.DataFrame, tmp_path: Path
) -> None:
    central = compute_endpoints(cohort)
    pooled = pooled_from_folders(cohort, tmp_path / "outbox")
    assert_same_endpoints(central, pooled)
    assert central["estimate"].notna().sum() > 300
    valued = central.loc[central["estimate"].notna(), "endpoint"]
    assert set(VERSION_2) - set(valued) == WITHOUT_VALUES[cohort_name]
    assert central.loc[central["endpoint"] == "tomita_cindex", "se"].notna().sum() > 10


@pytest.mark.integration
@pytest.mark.slow
def test_pooled_c_is_rs_center_stratified_c(
    cohort_name: str, cohort: pd.DataFrame, tmp_path: Path
) -> None:
    pooled = pooled_from_folders(cohort, tmp_path / "outbox")
    ours = pooled[stratified_c_rows(pooled)].merge(
        r_stratified_c(cohort_name), on=["stratum", "endpoint"], suffixes=("", "_r")
    )
    assert len(ours) == 2 * 4
    for column in ("estimate", "se"):
        both = ours[[column, f"{column}_r"]].to_numpy(dtype=float)
        assert np.allclose(both[:, 0], both[:, 1], rtol=1e-9, equal_nan=True), ours.to_string()
    assert all("strata(center_id)" in m for m in ours["method"])
    assert set(ours["endpoint"]) == set(STRATIFIED_C)
    plain = pooled[pooled_c_rows(pooled)]
    assert plain["estimate"].isna().all() and plain["se"].isna().all()
    assert all("not computed from summaries" in m for m in plain["method"])
