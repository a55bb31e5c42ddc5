"""The endpoint table agrees with R `survival` 3.x on R's lung and veteran data and odd cohorts.

R's results are committed in tests/r/reference/ (`make r-reference`), so these tests need
no R; tests/endpoints/test_r_reference.py proves in CI that R still gives those results.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.endpoints import compute_endpoints
from tests.endpoints.r_reference import (
    COHORTS,
    REFERENCE,
    cohort_patients,
    read_datasets,
    write_canonical,
)

pytestmark = pytest.mark.slow

COX_ENDPOINTS = {"os_cox_hr_curettage", "os_cox_hr_en_bloc"}
VALUE_COLUMNS = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]
COUNT_COLUMNS = ["n", "numerator", "denominator"]


@pytest.fixture(scope="module", params=COHORTS)
def agreement(request: pytest.FixtureRequest) -> pd.DataFrame:
    """Python's and R's endpoint rows, merged on (center_id, stratum, endpoint)."""
    patients = cohort_patients(request.param, read_datasets(REFERENCE))
    r_rows = pd.read_csv(REFERENCE / request.param / "endpoints.csv", keep_default_na=True)
    python_rows = compute_endpoints(patients)
    return python_rows.merge(
        r_rows, on=["center_id", "stratum", "endpoint"], how="left", suffixes=("", "_r"),
        indicator=True,
    )  # fmt: skip


@pytest.mark.parametrize("cohort", COHORTS)
def test_r_computed_these_very_patients(cohort: str, tmp_path: Path) -> None:
    """R's results are of the patients built here; else `make r-reference` is due."""
    write_canonical(cohort_patients(cohort, read_datasets(REFERENCE)), tmp_path / "patients.csv")
    committed = REFERENCE / cohort / "patients.csv"
    assert (tmp_path / "patients.csv").read_bytes() == committed.read_bytes(), (
        f"{committed} is not what the cohort builds now: run `make r-reference`"
    )


def _mismatches(rows: pd.DataFrame, column: str, rtol: float) -> pd.DataFrame:
    rows = rows[rows["_merge"] == "both"]
    ours = rows[column].astype(float).to_numpy()
    theirs = rows[f"{column}_r"].astype(float).to_numpy()
    both_null = np.isnan(ours) & np.isnan(theirs)
    close = np.isclose(ours, theirs, rtol=rtol, atol=1e-12)
    return rows.loc[
        ~(both_null | close), ["center_id", "stratum", "endpoint", column, f"{column}_r"]
    ]


def test_r_computes_every_row_with_patients(agreement: pd.DataFrame) -> None:
    not_in_r = agreement[agreement["_merge"] != "both"]
    assert (not_in_r["n"] == 0).all(), not_in_r[["center_id", "stratum", "endpoint"]]
    assert not_in_r[VALUE_COLUMNS].isna().all().all()
    assert (agreement["_merge"] == "both").sum() > 500


@pytest.mark.parametrize("column", COUNT_COLUMNS, ids=COUNT_COLUMNS)
def test_counts_are_exactly_rs(agreement: pd.DataFrame, column: str) -> None:
    mismatches = _mismatches(agreement, column, rtol=0.0)
    assert mismatches.empty, mismatches.to_string()


@pytest.mark.parametrize("column", VALUE_COLUMNS, ids=VALUE_COLUMNS)
def test_estimates_agree_with_r(agreement: pd.DataFrame, column: str) -> None:
    rows = agreement[~agreement["endpoint"].isin(COX_ENDPOINTS)]
    if column == "se":
        rows = rows[~rows["endpoint"].str.endswith("_pct") & ~rows["endpoint"].str.endswith("_re")]
    mismatches = _mismatches(rows, column, rtol=1e-6)
    assert mismatches.empty, mismatches.to_string()


@pytest.mark.parametrize("column", VALUE_COLUMNS, ids=VALUE_COLUMNS)
def test_cox_agrees_with_r(agreement: pd.DataFrame, column: str) -> None:
    rows = agreement[agreement["endpoint"].isin(COX_ENDPOINTS)]
    assert rows["estimate"].notna().all()
    mismatches = _mismatches(rows, column, rtol=1e-4)
    assert mismatches.empty, mismatches.to_string()
