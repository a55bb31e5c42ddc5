"""R's reference results for the agreement tests: `make r-reference` writes them.

The R scripts in tests/r/ produce them: `export_datasets.R` writes R's lung and veteran
data, which are mapped here onto canonical patients (two cohorts), `endpoints.R`
computes every endpoint of each cohort with R `survival` and `metafor`, and `reml.R`
gives metafor's REML / Hartung-Knapp pool of a few small cases. Everything lands in
tests/r/reference/, committed, so the agreement tests need no R; CI regenerates it with R
and checks that it equals the committed files (tests/endpoints/test_r_reference.py).

Usage: python -m tests.endpoints.r_reference [FOLDER]   (default tests/r/reference)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.endpoints.conftest import build_patients

R_DIR = Path(__file__).resolve().parents[1] / "r"
REFERENCE = R_DIR / "reference"
DATASETS = ("lung", "veteran")
COHORTS = ("lung", "veteran_and_odd")
FIFTY = "fifty_centers"
PROPORTIONS_POOLED = ("mortality_30d_pct", "pain_relief_pct", "neuro_improvement_pct",
                      "local_control_pct")  # fmt: skip
VERSION_2 = (
    "os_events_n", "os_at_risk_6m", "os_at_risk_12m", "os_at_risk_24m", "os_rmst_24m",
    "os_rmst_60m", "lc_cuminc_12m", "lc_cuminc_24m", "followup_completeness_pct",
    "alive_seen_12m_pct", "tokuhashi_cindex_stratified", "tomita_cindex_stratified",
    "os_cox_ph_global_p",
    *(f"{name}{suffix}" for name in PROPORTIONS_POOLED for suffix in ("_re_reml", "_pi")),
)  # fmt: skip
"""The endpoint codes version 2 of endpoints.md adds (besides the C-indices' SE and CI)."""


def require_rscript() -> None:
    """Skip the calling test where R is missing, naming what to install (CI fails instead)."""
    if shutil.which("Rscript") is None:
        pytest.skip(
            "Rscript not found: install R and its survival and metafor packages "
            "(Debian: apt-get install r-base-core r-cran-survival r-cran-metafor)"
        )


def rscript(script: str, *args: Path) -> None:
    """Run one of tests/r/'s scripts; a failure raises with R's own message on stderr."""
    subprocess.run(["Rscript", str(R_DIR / script), *map(str, args)], check=True, timeout=300)


def lung(raw: pd.DataFrame) -> pd.DataFrame:
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


def veteran(raw: pd.DataFrame) -> pd.DataFrame:
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


def odd_cohorts() -> pd.DataFrame:
    """Ties, an all-censored center, a curve sitting at exactly 0.5, one patient, empty strata,
    and a center followed past 60 months whose recurrences compete with deaths (tied too)."""
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
    long = pd.DataFrame({
        "center_id": "syn_long", "procedure": ["palliative", "curettage", "en_bloc"] * 3,
        "days": [200, 365, 500, 730, 900, 1200, 1827, 2100, 2400],
        "dead": [1, 1, 0, 1, 1, 0, 1, 0, 1],
        "local_recurrence": [False, True, True, None, True, False, True, False, False],
        "lr_days": [None, 365, 300, None, 400, None, 1000, None, None],
    })  # fmt: skip
    return pd.concat([ties, censored, half, single, long], ignore_index=True)


def fifty_centers(seed: int = 50) -> pd.DataFrame:
    """50 centers of 3 to 14 patients: ties of days, every procedure, scores with gaps."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 15, size=50)
    n = int(sizes.sum())
    days = rng.integers(0, 40, n) * 60
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


def write_canonical(patients: pd.DataFrame, path: Path) -> None:
    out = patients.copy()
    for column in ["intraop_death", "local_recurrence"]:
        out[column] = out[column].map({True: "TRUE", False: "FALSE"}).astype(object)
    for column in ["surgery_date", "last_contact_date", "death_date", "local_recurrence_date"]:
        out[column] = out[column].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False, float_format="%.17g")


def read_datasets(folder: Path) -> dict[str, pd.DataFrame]:
    """R's lung and veteran data as written by export_datasets.R."""
    return {name: pd.read_csv(folder / f"{name}.csv") for name in DATASETS}


def cohort_patients(name: str, datasets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The canonical patients of one cohort of COHORTS, or of FIFTY."""
    if name == FIFTY:
        return build_patients(fifty_centers())
    if name == "lung":
        return build_patients(lung(datasets["lung"]))
    short = pd.concat([veteran(datasets["veteran"]), odd_cohorts()], ignore_index=True)
    return build_patients(short)


def write_reference(folder: Path) -> None:
    """R's datasets, each cohort's patients.csv and R's endpoints.csv, metafor's reml.csv,
    and the stratified C of fifty small centers (the federated equivalence test's)."""
    folder.mkdir(parents=True, exist_ok=True)
    rscript("export_datasets.R", folder)
    rscript("reml.R", folder / "reml.csv")
    datasets = read_datasets(folder)
    for name in COHORTS:
        (folder / name).mkdir(exist_ok=True)
        write_canonical(cohort_patients(name, datasets), folder / name / "patients.csv")
        rscript("endpoints.R", folder / name / "patients.csv", folder / name / "endpoints.csv")
    (folder / FIFTY).mkdir(exist_ok=True)
    write_canonical(cohort_patients(FIFTY, datasets), folder / FIFTY / "patients.csv")
    rscript("stratified_concordance.R", folder / FIFTY / "patients.csv",
            folder / FIFTY / "stratified_c.csv")  # fmt: skip


def r_stratified_c(name: str) -> pd.DataFrame:
    """R's center-stratified C and SE of the pooled scope (stratum, endpoint, estimate, se)."""
    if name == FIFTY:
        return pd.read_csv(REFERENCE / FIFTY / "stratified_c.csv")
    rows = pd.read_csv(REFERENCE / name / "endpoints.csv")
    stratified = (rows["center_id"] == "ALL") & rows["endpoint"].str.endswith("_stratified")
    return rows.loc[stratified, ["stratum", "endpoint", "estimate", "se"]]


if __name__ == "__main__":
    write_reference(Path(sys.argv[1]) if len(sys.argv) > 1 else REFERENCE)
