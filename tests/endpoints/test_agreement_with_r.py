"""The endpoint table agrees with R `survival` 3.x on R's lung and veteran data and odd cohorts."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.endpoints import compute_endpoints

pytestmark = [pytest.mark.integration, pytest.mark.slow]

R_DIR = Path(__file__).resolve().parents[1] / "r"
COX_ENDPOINTS = {"os_cox_hr_curettage", "os_cox_hr_en_bloc"}
VALUE_COLUMNS = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]
COUNT_COLUMNS = ["n", "numerator", "denominator"]


def _rscript(script: str, *args: Path) -> None:
    subprocess.run(["Rscript", str(R_DIR / script), *map(str, args)], check=True, timeout=120)


def _lung(raw: pd.DataFrame) -> pd.DataFrame:
    """R's lung mapped onto the canonical schema: inst = center, ph.ecog decides the procedure."""
    raw = raw[raw["inst"].notna()].reset_index(drop=True)
    ecog = raw["ph.ecog"]
    karno = raw["ph.karno"]
    pat_karno = raw["pat.karno"]
    recurrence = raw["wt.loss"].map(lambda w: None if pd.isna(w) else bool(w > 10))
    return pd.DataFrame({
        "center_id": [f"inst{int(i):02d}" for i in raw["inst"]],
        "procedure": np.select([ecog == 0, ecog == 1], ["en_bloc", "curettage"], "palliative"),
        "days": raw["time"],
        "dead": raw["status"] == 2,
        "sex": np.where(raw["sex"] == 1, "male", "female"),
        "age": raw["age"].astype(float),
        "vas_pre": (raw["age"] % 11).astype(float),
        "vas_post": ((raw["age"] * 7) % 11).astype(float),
        "frankel_pre": [None if pd.isna(e) else "EDCBA"[int(e)] for e in ecog],
        "frankel_post": [
            None if pd.isna(k) else "BBBBBBCCDDE"[int(k) // 10] for k in pat_karno
        ],
        "local_recurrence": recurrence,
        "lr_days": (raw["time"] // 2).astype(float),
        "tokuhashi": (karno // 10).round().astype("Int16"),
        "tomita": (10 - (pat_karno // 20).round()).astype("Int16"),
        "anesthetic_risk": [None if pd.isna(k) else ("high" if k < 70 else "low") for k in karno],
    })  # fmt: skip


def _veteran(raw: pd.DataFrame) -> pd.DataFrame:
    """R's veteran mapped: cell type = center, prior therapy and treatment decide the procedure."""
    procedure = np.select(
        [raw["prior"] == 10, raw["trt"] == 2], ["en_bloc", "curettage"], "palliative"
    )
    return pd.DataFrame({
        "center_id": raw["celltype"].astype(str),
        "procedure": procedure,
        "days": raw["time"],
        "dead": raw["status"] == 1,
        "sex": np.where(raw["age"] % 2 == 0, "male", "female"),
        "age": raw["age"].astype(float),
        "tokuhashi": (raw["karno"] // 10).astype("Int16"),
        "tomita": (2 + np.minimum(raw["diagtime"], 80) // 10).astype("Int16"),
    })  # fmt: skip


def _odd_cohorts() -> pd.DataFrame:
    """Ties, an all-censored center, a curve sitting at exactly 0.5, one patient, empty strata."""
    ties = pd.DataFrame({
        "center_id": "syn_ties",
        "procedure": ["palliative", "curettage", "en_bloc"] * 4,
        "days": [0, 30, 30, 30, 61, 61, 61, 61, 200, 200, 400, 400],
        "dead": [1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1],
        "intraop_death": [True] + [False] * 11,
        "tokuhashi": [3, 5, 5, 8, 8, 8, 10, 12, 12, 15, 15, 9],
        "tomita": [10, 8, 8, 6, 6, 6, 4, 4, 2, 2, 2, 5],
        "vas_pre": [8.0, 7.3, 6, 2, 1.9, 9, 5, 5, 4, 10, 3, 7],
        "vas_post": [None, 5.3, 5, 0, 0, 9, 1, 4, 1, 2, 1, 7],
    })  # fmt: skip
    censored = pd.DataFrame({
        "center_id": "syn_censored", "procedure": "palliative",
        "days": [40, 100, 100, 300, 900], "dead": [0, 0, 0, 0, 0],
    })  # fmt: skip
    half = pd.DataFrame({
        "center_id": "syn_half", "procedure": ["curettage", "en_bloc"] * 3,
        "days": [30, 60, 91, 120, 150, 200], "dead": [1, 1, 1, 0, 1, 1],
    })  # fmt: skip
    single = pd.DataFrame({"center_id": ["syn_single"], "procedure": ["en_bloc"], "days": [75],
                           "dead": [1]})  # fmt: skip
    return pd.concat([ties, censored, half, single], ignore_index=True)


def _write_canonical(patients: pd.DataFrame, path: Path) -> None:
    out = patients.copy()
    for column in ["intraop_death", "local_recurrence"]:
        out[column] = out[column].map({True: "TRUE", False: "FALSE"}).astype(object)
    for column in ["surgery_date", "last_contact_date", "death_date", "local_recurrence_date"]:
        out[column] = out[column].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False, float_format="%.17g")


@pytest.fixture(scope="module")
def r_datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("r_datasets")
    _rscript("export_datasets.R", folder)
    return {name: pd.read_csv(folder / f"{name}.csv") for name in ("lung", "veteran")}


COHORTS = ["lung", "veteran_and_odd"]


@pytest.fixture(scope="module", params=COHORTS)
def agreement(
    request: pytest.FixtureRequest,
    r_datasets: dict[str, pd.DataFrame],
    tmp_path_factory: pytest.TempPathFactory,
    make_patients: Callable[[pd.DataFrame], pd.DataFrame],
) -> pd.DataFrame:
    """Python's and R's endpoint rows, merged on (center_id, stratum, endpoint)."""
    if request.param == "lung":
        short = _lung(r_datasets["lung"])
    else:
        short = pd.concat([_veteran(r_datasets["veteran"]), _odd_cohorts()], ignore_index=True)
    patients = make_patients(short)
    folder = tmp_path_factory.mktemp(request.param)
    _write_canonical(patients, folder / "patients.csv")
    _rscript("endpoints.R", folder / "patients.csv", folder / "r.csv")
    r_rows = pd.read_csv(folder / "r.csv", keep_default_na=True)
    python_rows = compute_endpoints(patients)
    return python_rows.merge(
        r_rows, on=["center_id", "stratum", "endpoint"], how="left", suffixes=("", "_r"),
        indicator=True,
    )  # fmt: skip


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
