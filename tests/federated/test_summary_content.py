"""Exactly what a center summary reveals, worked by hand on a 3-patient center, and why no
summary table can have one row per patient."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars
import pyarrow.parquet as pq
import pytest

from spinemet_etl.endpoints import endpoints_of
from spinemet_etl.endpoints.statistics import from_rows
from spinemet_etl.federated.folder import write_summary_folder
from spinemet_etl.federated.pool import load_centers
from spinemet_etl.federated.summary import merge, split
from tests.endpoints.conftest import build_patients
from tests.federated.conftest import write_summaries

DPM = 30.4375
THREE = pd.DataFrame({
    "center_id": "tiny",
    "procedure": ["palliative", "curettage", "palliative"],
    "days": [10, 100, 400],
    "dead": [True, False, True],
    "sex": ["male", "female", "male"],
    "age": [50.0, 60.0, 70.5],
    "vas_pre": [8.0, np.nan, np.nan],
    "vas_post": [3.0, np.nan, np.nan],
    "frankel_pre": ["C", None, None],
    "frankel_post": ["D", None, None],
    "local_recurrence": [None, True, False],
    "lr_days": [np.nan, 50.0, np.nan],
    "tokuhashi": pd.array([8, 12, 5], dtype="Int16"),
    "tomita": pd.array([4, 2, 6], dtype="Int16"),
    "anesthetic_risk": ["high", None, None],
})  # fmt: skip
ZERO = dict.fromkeys(
    ["age_sum", "age_squares_sum", "age_centered_squares_sum", "followed_up_os_months_sum"], 0.0
)


def _stratum(**values: float) -> dict[str, float]:
    """A stratum's sums: the named values, every other count 0."""
    names = json.loads((Path(__file__).parent / "summary_keys.json").read_text())
    return {name: values.get(name, ZERO.get(name, 0)) for name in names}


def _summary(tmp_path: Path, short: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """summary.json, and risk_sets.parquet as pyarrow reads it (DuckDB and Polars agree)."""
    write_summaries(build_patients(short), tmp_path)
    (folder,) = tmp_path.glob("*/*")
    document = json.loads((folder / "summary.json").read_text())
    path = folder / "risk_sets.parquet"
    risk = pq.read_table(path).to_pandas()
    assert duckdb.sql(f"select * from '{path}'").df().equals(risk)
    assert polars.read_parquet(path).to_pandas().equals(risk)
    return document, risk


def test_what_a_three_patient_center_reveals(tmp_path: Path) -> None:
    """Worked by hand: patient 1 (palliative) died on day 10; patient 2 (curettage) had a
    local recurrence on day 50 and was last seen alive on day 100; patient 3 (palliative)
    died on day 400 without recurrence. No cut-off is stated, so it is the latest last
    contact, day 400: patient 2's potential follow-up is 400 days, and being seen 300 days
    before it, within 365 days. C-index influence (pairs a patient is part of): in `all`,
    patient 1 is in the concordant pair with 2 and the discordant one with 3 (dN = 1,
    dD = 2), patient 2 in the concordant one (1, 1), patient 3 in the discordant one
    (0, 1): Σ dN² = 2, Σ dN·dD = 3, Σ dD² = 6, for both scores."""
    document, risk = _summary(tmp_path, THREE)
    strata = document["strata"]
    palliative = dict(
        n=2, age_n=2, age_sum=120.5, age_squares_sum=7470.25, age_centered_squares_sum=210.125,
        male_n=2, procedure_palliative_n=2, anesthetic_risk_high_n=1, anesthetic_risk_known_n=1,
        death_30d_postop_n=1, mortality_30d_pct_numerator=1, mortality_30d_pct_denominator=2,
        pain_relief_pct_numerator=1, pain_relief_pct_denominator=1,
        neuro_improvement_pct_numerator=1, neuro_improvement_pct_denominator=1,
        neuro_worsening_pct_denominator=1, followed_up_n=1, followed_up_os_months_sum=400 / DPM,
        local_control_pct_numerator=1, local_control_pct_denominator=1,
        tokuhashi_n=2, tokuhashi_discordant=1, tomita_n=2, tomita_discordant=1,
        followup_observed_days_sum=410, followup_potential_days_sum=410,
        tokuhashi_dd_squares=2, tomita_dd_squares=2,
    )  # fmt: skip
    curettage = dict(
        n=1, age_n=1, age_sum=60.0, age_squares_sum=3600.0, female_n=1, procedure_curettage_n=1,
        mortality_30d_pct_denominator=1, followed_up_n=1, followed_up_os_months_sum=100 / DPM,
        local_control_pct_denominator=1, tokuhashi_n=1, tomita_n=1,
        followup_observed_days_sum=100, followup_potential_days_sum=400, alive_n=1,
        alive_seen_12m_n=1,
    )  # fmt: skip
    everyone = {
        key: palliative.get(key, 0) + curettage.get(key, 0) for key in {*palliative, *curettage}
    }
    everyone.update(
        age_centered_squares_sum=11070.25 - 180.5**2 / 3, tokuhashi_concordant=1,
        tomita_concordant=1, followed_up_os_months_sum=500 / DPM,
        tokuhashi_dn_squares=2, tokuhashi_dn_dd=3, tokuhashi_dd_squares=6,
        tomita_dn_squares=2, tomita_dn_dd=3, tomita_dd_squares=6,
    )  # fmt: skip
    expected = {
        "all": _stratum(**everyone), "procedure=palliative": _stratum(**palliative),
        "procedure=curettage": _stratum(**curettage), "procedure=en_bloc": _stratum(),
    }  # fmt: skip
    assert strata.keys() == expected.keys()
    for stratum, sums in expected.items():
        for name, value in sums.items():
            assert np.isclose(strata[stratum][name], value, rtol=1e-12), (stratum, name)
    columns = ["procedure", "outcome", "time", "events", "competing", "censored"]
    assert risk[columns].values.tolist() == [
        ["palliative", "os", 10, 1, 0, 0],
        ["palliative", "os", 400, 1, 0, 0],
        ["palliative", "lc", 10, 0, 1, 0],
        ["palliative", "lc", 400, 0, 1, 0],
        ["curettage", "os", 100, 0, 0, 1],
        ["curettage", "lc", 50, 1, 0, 0],
    ]
    assert list(risk.columns) == columns
    assert sorted(document) == [
        "center_id", "created", "data_cutoff", "format", "package_version", "pain_mcid",
        "quality", "run_id", "schema_version", "strata", "time_unit", "version",
    ]  # fmt: skip
    assert document["data_cutoff"] == {"date": None, "source": "latest_last_contact"}
    assert "2011-02-05" not in json.dumps(document)  # the latest last contact: day 400


def test_no_summary_table_has_a_row_per_patient(tmp_path: Path) -> None:
    """Rows are keyed by (procedure, outcome, time), never by patient: 600 patients followed
    for 0 to 59 days give at most 3 × 2 × 60 rows, and twice the patients the same rows with
    twice the counts."""
    rng = np.random.default_rng(3)
    short = pd.DataFrame({
        "center_id": "many", "procedure": rng.choice(["palliative", "curettage", "en_bloc"], 600),
        "days": rng.integers(0, 60, 600), "dead": rng.random(600) < 0.5,
    })  # fmt: skip
    document, risk = _summary(tmp_path / "once", short)
    doubled = pd.concat([short, short], ignore_index=True)
    document_2, risk_2 = _summary(tmp_path / "twice", doubled)
    assert list(risk.columns) == ["procedure", "outcome", "time", "events", "competing", "censored"]
    assert len(risk) <= 3 * 2 * 60 < len(short)
    assert not risk.duplicated(["procedure", "outcome", "time"]).any()
    assert risk_2[["procedure", "outcome", "time"]].equals(risk[["procedure", "outcome", "time"]])
    counts = ["events", "competing", "censored"]
    assert risk_2[counts].equals(2 * risk[counts])
    assert list(document["strata"]) == list(document_2["strata"])
    assert document_2["strata"]["all"]["n"] == 2 * document["strata"]["all"]["n"] == 1200


@pytest.mark.parametrize(
    ("unit", "times"),
    [("week", [2, 58, 2, 58, 15, 8]), ("month", [1, 14, 1, 14, 4, 2])],
    ids=["week", "month"],
)
def test_a_coarser_time_unit_rounds_up_and_says_approximate(
    unit: str, times: list[int], tmp_path: Path
) -> None:
    """Days 10, 400, 10, 400, 100 and 50 (the 3-patient center's rows) in whole weeks
    (10/7 → 2, 400/7 → 58, 100/7 → 15, 50/7 → 8) or months of 30.4375 days, rounded up."""
    write_summaries(build_patients(THREE), tmp_path, time_unit=unit)
    centers = load_centers(tmp_path)
    (summary,) = [c.summary for c in centers if c.summary]
    assert summary.time_unit == unit
    assert summary.risk_sets["time"].tolist() == times
    endpoints = endpoints_of(merge([summary]))
    methods = endpoints.drop_duplicates("endpoint").set_index("endpoint")["method"]
    assert f"approximate: follow-up times coarsened to whole {unit}s" in methods["os_median_months"]
    assert "approximate" not in methods["mortality_30d_pct"]


def test_a_stated_cutoff_is_sent_and_read_back(tmp_path: Path) -> None:
    """A cut-off the mapping file states is the center's, not a patient's: it is sent."""
    stats = from_rows(build_patients(THREE), plain_c=False)
    stated = {"date": "2026-11-25", "source": "mapping"}
    entries = {"tiny": {"run_id": "20260101T000000Z-0000", "data_cutoff": stated}}
    (summary,) = split(stats, entries)
    folder = write_summary_folder(summary, tmp_path)
    assert json.loads((folder / "summary.json").read_text())["data_cutoff"] == stated
    assert "2026-11-25 (stated in the mapping file)" in (folder / "summary.html").read_text()
    (center,) = load_centers(tmp_path)
    assert center.summary is not None and center.summary.data_cutoff == stated
