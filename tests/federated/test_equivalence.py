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
from tests.endpoints.conftest import build_patients
from tests.endpoints.r_reference import (
    REFERENCE,
    cohort_patients,
    read_datasets,
    require_rscript,
    rscript,
    write_canonical,
)
from tests.federated.conftest import (
    STRATIFIED_C,
    assert_same_endpoints,
    pooled_c_rows,
    pooled_from_folders,
    stratified_c_rows,
)


def _fifty_centers(seed: int = 50) -> pd.DataFrame:
    """50 centers of 3 to 14 patients: ties of days, every procedure, scores with gaps."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 15, size=50)
    n = int(sizes.sum())
    days = rng.integers(0, 40, n) * 15
    return pd.DataFrame({
        "center_id": np.repeat([f"c{i:02d}" for i in range(50)], sizes),
        "procedure": rng.choice(["palliative", "curettage", "en_bloc"], n, p=[0.5, 0.3, 0.2]),
        "days": days,
        "dead": rng.random(n) < 0.6,
        "sex": rng.choice(["male", "female"], n),
        "age": np.round(rng.normal(62, 11, n), 1),
        "vas_pre": rng.integers(0, 11, n).astype(float),
        "vas_post": rng.integers(0, 11, n).astype(float),
        "local_recurrence": pd.array(rng.random(n) < 0.2, dtype="boolean"),
        "lr_days": np.floor(days * rng.random(n)),
        "tokuhashi": pd.Series(rng.integers(0, 16, n), dtype="Int16").mask(rng.random(n) < 0.1),
        "tomita": pd.array(rng.integers(2, 11, n), dtype="Int16"),
        "anesthetic_risk": rng.choice(["high", "low"], n),
    })  # fmt: skip


COHORTS = ["lung", "veteran_and_odd", "fifty_centers"]


@pytest.fixture(scope="module", params=COHORTS)
def cohort(request: pytest.FixtureRequest) -> pd.DataFrame:
    """R's lung and veteran cohorts as committed in tests/r/reference/, or fifty centers."""
    if request.param == "fifty_centers":
        return build_patients(_fifty_centers())
    return cohort_patients(request.param, read_datasets(REFERENCE))


@pytest.mark.integration
@pytest.mark.slow
def test_pooled_summaries_equal_the_central_table(cohort: pd.DataFrame, tmp_path: Path) -> None:
    central = compute_endpoints(cohort)
    pooled = pooled_from_folders(cohort, tmp_path / "outbox")
    assert_same_endpoints(central, pooled)
    assert central["estimate"].notna().sum() > 300


@pytest.mark.integration
@pytest.mark.slow
def test_pooled_c_is_rs_center_stratified_c(cohort: pd.DataFrame, tmp_path: Path) -> None:
    require_rscript()
    pooled = pooled_from_folders(cohort, tmp_path / "outbox")
    write_canonical(cohort, tmp_path / "patients.csv")
    rscript("stratified_concordance.R", tmp_path / "patients.csv", tmp_path / "r.csv")
    r_rows = pd.read_csv(tmp_path / "r.csv")
    ours = pooled[stratified_c_rows(pooled)].merge(
        r_rows, on=["stratum", "endpoint"], suffixes=("", "_r")
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
