"""Tiny literal patients and endpoint frames for the report's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

ENDPOINT_COLUMNS = [
    "center_id", "stratum", "endpoint", "n", "estimate", "numerator", "denominator",
    "se", "ci_lower", "ci_upper", "p_value", "method",
]  # fmt: skip
EndpointFrame = Callable[[list[dict[str, Any]]], pd.DataFrame]


def endpoint_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """An endpoint table (EndpointsModel dtypes) from a few hand-written rows."""
    full = [{"stratum": "all", "method": "hand-made", **row} for row in rows]
    frame = pd.DataFrame(full).reindex(columns=ENDPOINT_COLUMNS)
    for column in ("n", "numerator", "denominator"):
        frame[column] = frame[column].astype("Int64")
    for column in ("estimate", "se", "ci_lower", "ci_upper", "p_value"):
        frame[column] = frame[column].astype("float64")
    return frame


@pytest.fixture(scope="session")
def held_manifest() -> dict[str, Any]:
    """A run manifest: bologna published, lyon held with its data from an earlier run."""
    return {
        "run_id": "20261126T020000Z-3f2a",
        "status": "needs_attention",
        "uses_development_key": True,
        "centers": {
            "bologna": {
                "status": "published",
                "error": None,
                "files": [{"name": "a.xlsx", "rows_read": 130, "rows_harmonized": 120,
                           "rows_quarantined": 10}],
                "data_run_id": "20261126T020000Z-3f2a",
                "top_quarantine_reasons": [
                    {"check_code": "unparseable-date", "rows": 7},
                    {"check_code": "out-of-range", "rows": 3},
                ],
            },
            "lyon": {
                "status": "held",
                "error": {"type": "QualityGateError", "code": "quality-gate-failed",
                          "message": "center `lyon`: 12 patients, 80 last time; check the export."},
                "files": [{"name": "b.xls", "rows_read": 14, "rows_harmonized": 12,
                           "rows_quarantined": 2}],
                "data_run_id": "20261101T020000Z-aaaa",
                "top_quarantine_reasons": [{"check_code": "missing-required", "rows": 2}],
            },
        },
    }  # fmt: skip


@pytest.fixture
def make_endpoints() -> EndpointFrame:
    return endpoint_frame


@pytest.fixture(scope="session")
def two_centers() -> pd.DataFrame:
    """Two centers and the pooled scope, with the headline numbers of the Bologna series."""
    return endpoint_frame(
        [
            {"center_id": "bologna", "endpoint": "patients_n", "n": 120, "estimate": 120},
            {"center_id": "lyon", "endpoint": "patients_n", "n": 12, "estimate": 12},
            {"center_id": "ALL", "endpoint": "patients_n", "n": 132, "estimate": 132},
            {"center_id": "bologna", "endpoint": "intraop_death_n", "n": 120,
             "estimate": 1, "numerator": 1, "denominator": 120},
            {"center_id": "lyon", "endpoint": "intraop_death_n", "n": 12,
             "estimate": 0, "numerator": 0, "denominator": 12},
            {"center_id": "ALL", "endpoint": "intraop_death_n", "n": 132,
             "estimate": 1, "numerator": 1, "denominator": 132},
            {"center_id": "bologna", "endpoint": "pain_relief_pct", "n": 120,
             "estimate": 110 / 120 * 100, "numerator": 110, "denominator": 120,
             "ci_lower": 85.34, "ci_upper": 95.41},
            {"center_id": "lyon", "endpoint": "pain_relief_pct", "n": 12,
             "estimate": 75.0, "numerator": 9, "denominator": 12,
             "ci_lower": 46.77, "ci_upper": 91.11},
            {"center_id": "bologna", "endpoint": "os_median_months", "n": 120,
             "estimate": 20.9, "se": 2.7, "ci_lower": 17.1, "ci_upper": 25.0},
            {"center_id": "lyon", "endpoint": "os_median_months", "n": 12,
             "estimate": None},
            {"center_id": "bologna", "endpoint": "os_events_n", "n": 120, "estimate": 96,
             "numerator": 96, "denominator": 120},
            {"center_id": "lyon", "endpoint": "os_events_n", "n": 12, "estimate": 4,
             "numerator": 4, "denominator": 12},
            {"center_id": "ALL", "endpoint": "os_logrank_centers", "n": 132,
             "estimate": 5.312, "p_value": 0.0212, "method": "log-rank; df=1"},
            {"center_id": "ALL", "endpoint": "pain_relief_pct_re", "n": 132,
             "estimate": 88.2, "ci_lower": 75.0, "ci_upper": 95.0,
             "method": "DerSimonian-Laird; tau2=0.31; I2=42.0%; Q p=0.19"},
        ]
    )  # fmt: skip


@pytest.fixture(scope="session")
def patients() -> pd.DataFrame:
    """Ten patients of two centers: the columns the report reads, nothing identifying."""
    return pd.DataFrame(
        {
            "center_id": ["bologna"] * 6 + ["lyon"] * 4,
            "procedure": pd.Categorical(
                ["palliative", "curettage", "en_bloc", "palliative", "curettage", "palliative",
                 "palliative", "en_bloc", "curettage", "palliative"],
                categories=["palliative", "curettage", "en_bloc"],
            ),
            "os_months": [2.0, 8.5, 30.0, 14.0, 40.0, 0.0, 5.0, 26.0, 13.0, 7.0],
            "os_event": [True, True, False, True, False, True, True, False, True, False],
            "tomita": pd.array([2, 4, 3, 7, 9, None, 6, 5, 8, 10], dtype="Int16"),
            "sex": pd.Categorical(["male", "female", "male", "male", "female", "female",
                                   "male", "female", "female", "male"]),
            "age_at_surgery_years": [61.0, 55.0, 70.0, 48.0, 66.0, 59.0, 72.0, 50.0, 63.0, 58.0],
            "primary_tumor": pd.Categorical(["breast", "lung", "kidney", "prostate", "breast",
                                             "melanoma", "lung", "breast", "thyroid", "kidney"]),
            "kps_preop": pd.array([80, 50, 90, None, 70, 40, None, None, None, None],
                                  dtype="Int16"),
            "ecog_preop": pd.array([None] * 6 + [1, 2, 3, 0], dtype="Int16"),
            "visceral_mets": pd.Categorical(["none", "removable", "none", "unremovable", None,
                                             "none", "none", "none", "removable", None]),
            "frankel_preop": pd.Categorical(list("DEECBEEDAE"), categories=list("ABCDE"),
                                            ordered=True),
            "frankel_postop": pd.Categorical(["E", "E", "E", "D", "B", None, "E", "D", "B", "E"],
                                             categories=list("ABCDE"), ordered=True),
            "anesthetic_risk": pd.Categorical(["low", "high", "low", "low", None, "high",
                                               "low", "low", "high", "low"]),
            "tokuhashi_revised": pd.array([12, 8, 10, None, 13, 5, 9, 11, 7, 14], dtype="Int16"),
            "surgery_date": pd.to_datetime(
                ["2010-03-02", "2011-06-15", "2012-01-10", "2012-09-30", "2013-05-05",
                 "2014-02-20", "2009-11-11", "2010-07-07", "2011-12-01", "2012-04-04"]),
            "last_contact_date": pd.to_datetime(
                ["2010-05-02", "2012-02-28", "2014-07-10", "2013-11-30", "2016-09-05",
                 "2014-02-20", "2010-04-11", "2012-09-07", "2013-01-01", "2012-11-04"]),
        }
    )  # fmt: skip


RE_METHOD = "REML; test=knha; centers=2; tau2=0.1234; I2=37.5%; Q=3.1; Q p=0.078"


def _pooled(code: str, **values: Any) -> dict[str, Any]:
    return {"center_id": "ALL", "endpoint": code, "n": 132, **values}


@pytest.fixture(scope="session")
def v2_endpoints(two_centers: pd.DataFrame) -> pd.DataFrame:
    """`two_centers` with version-2 pooled rows: en bloc HR, PH test, REML pain relief and PI."""
    extra = endpoint_frame(
        [
            _pooled("os_cox_hr_en_bloc", estimate=0.30, ci_lower=0.2, ci_upper=0.45, p_value=1e-5),
            _pooled("os_cox_ph_global_p", estimate=9.6, p_value=0.008),
            _pooled("pain_relief_pct_re_reml", estimate=87.0, ci_lower=70.0, ci_upper=95.0,
                    method=RE_METHOD),
            _pooled("pain_relief_pct_pi", estimate=87.0, ci_lower=40.0, ci_upper=98.5,
                    method=RE_METHOD),
            {"center_id": "bologna", "stratum": "procedure=en_bloc",
             "endpoint": "os_median_months", "n": 6, "estimate": 14.2},
            {"center_id": "bologna", "stratum": "procedure=en_bloc", "endpoint": "os_events_n",
             "n": 6, "estimate": 2},
        ]
    )  # fmt: skip
    return pd.concat([two_centers, extra], ignore_index=True)
