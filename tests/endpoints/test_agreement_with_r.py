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
    FIFTY,
    REFERENCE,
    VERSION_2,
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


@pytest.mark.parametrize("cohort", [*COHORTS, FIFTY])
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


def test_r_checks_every_version_2_endpoint() -> None:
    """Each version 2 code has values R computed (C-index SEs too), over both cohorts."""
    r_rows = pd.concat(pd.read_csv(REFERENCE / cohort / "endpoints.csv") for cohort in COHORTS)
    valued = r_rows[r_rows["estimate"].notna()]
    assert set(VERSION_2) <= set(valued["endpoint"])
    c_index = valued[valued["endpoint"].isin(["tokuhashi_cindex", "tomita_cindex"])]
    assert c_index["se"].notna().sum() > 100
    odd = pd.read_csv(REFERENCE / "veteran_and_odd" / "endpoints.csv")
    odd = odd[odd["center_id"] == "ALL"].set_index("endpoint")
    # τ² > 0 in the odd cohort's 30-day mortality: the prediction interval is wider.
    assert odd.loc["mortality_30d_pct_pi", "ci_lower"] < odd.loc[
        "mortality_30d_pct_re_reml", "ci_lower"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("center_id", "endpoint", "expected"),
    [
        ("syn_censored", "os_events_n", 0.0),  # a center without deaths
        ("syn_censored", "lc_cuminc_12m", 0.0),  # no recurrence by t: 0, CI null
        ("syn_single", "os_at_risk_6m", 0.0),  # a single patient, dead at 75 days
        ("syn_single", "os_rmst_24m", None),  # the horizon beyond the last follow-up
        ("syn_half", "lc_cuminc_24m", None),
        ("syn_long", "os_rmst_60m", "value"),  # followed past 60 months
    ],
    ids=["no-events", "no-recurrence", "single-patient", "rmst-beyond", "cuminc-beyond",
         "rmst-60"],
)  # fmt: skip
def test_r_reference_holds_the_edge_cases(
    center_id: str, endpoint: str, expected: float | str | None
) -> None:
    r_rows = pd.read_csv(REFERENCE / "veteran_and_odd" / "endpoints.csv")
    row = r_rows[
        (r_rows["center_id"] == center_id)
        & (r_rows["stratum"] == "all")
        & (r_rows["endpoint"] == endpoint)
    ].iloc[0]
    if expected is None:
        assert pd.isna(row["estimate"])
    elif expected == "value":
        assert row["estimate"] > 0 and row["ci_lower"] < row["estimate"] < row["ci_upper"]
    else:
        assert row["estimate"] == expected and pd.isna(row["ci_lower"])


def test_r_reference_has_empty_strata() -> None:
    """A scope × stratum without patients: R writes n = 0 (compared with ours as all null)."""
    r_rows = pd.read_csv(REFERENCE / "veteran_and_odd" / "endpoints.csv")
    counts = r_rows[(r_rows["center_id"] == "syn_single") & (r_rows["endpoint"] == "patients_n")]
    assert set(counts.loc[counts["n"] == 0, "stratum"]) == {
        "procedure=palliative", "procedure=curettage"
    }  # fmt: skip
