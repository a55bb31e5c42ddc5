"""Table 1 and the patient flow: counts worked by hand on the ten fixture patients."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from spinemet_etl.report import render_report
from spinemet_etl.report.baseline import CATEGORICAL, baseline_table, class_tally
from spinemet_etl.report.flow import center_flows, first_failures, flow_rows


def _lines(table: Any) -> dict[str, list[str]]:
    """Table 1's lines by "Variable / category" (headings by their own label)."""
    lines, variable = {}, ""
    for row in table.rows:
        variable = row.label if row.heading else variable
        lines[row.label if row.heading else f"{variable} / {row.label}"] = row.cells
    return lines


@pytest.fixture(scope="module")
def quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "center_id": ["bologna", "bologna", "bologna", "lyon"],
            "source_file": ["a.xlsx", "a.xlsx", "a.xlsx", "b.xls"],
            "source_row": [3, 3, 7, 2],
            "check_code": ["out-of-range", "missing-required", "death-before-surgery",
                           "duplicate-patient"],
        }
    )  # fmt: skip


def test_table_one_counts_shares_and_missing(patients: pd.DataFrame) -> None:
    lines = _lines(baseline_table(patients, 0))
    assert lines["Patients"] == ["6", "4", "10"]
    assert lines["Sex / Men"] == ["3 (50.0 %)", "2 (50.0 %)", "5 (50.0 %)"]
    assert (
        lines["Age at surgery, mean ± SD (years)"][1] == "60.8 ± 9.2"
    )  # 72, 50, 63, 58: SS 254.75 / 3
    assert lines["Primary tumor / Breast"] == ["2 (33.3 %)", "1 (25.0 %)", "3 (30.0 %)"]
    assert lines["Visceral metastases / Missing"] == ["1", "1", "2"]
    assert lines["Frankel grade before surgery / A"] == ["0 (0.0 %)", "1 (25.0 %)", "1 (10.0 %)"]


def test_a_variable_a_center_does_not_collect_is_not_counted_missing(
    patients: pd.DataFrame,
) -> None:
    lines = _lines(baseline_table(patients, 0))
    assert lines["Karnofsky performance status"] == [
        "",
        "not collected",
        "not collected in 1 of 2 centers",
    ]
    assert lines["Karnofsky performance status / KPS 50–70"] == ["2 (40.0 %)", "", "2 (40.0 %)"]
    assert lines["Karnofsky performance status / Missing"] == ["1", "", "1"]
    assert lines["ECOG performance status"][0] == "not collected"
    assert lines["ECOG performance status / ECOG 0–1"] == ["", "2 (50.0 %)", "2 (50.0 %)"]
    assert lines["ECOG performance status / Missing"] == ["", "0", "0"]


def test_table_one_suppresses_small_center_counts(patients: pd.DataFrame) -> None:
    lines = _lines(baseline_table(patients, 5))
    assert lines["Patients"] == ["6", "<5", "10"]
    assert lines["Sex / Men"] == ["<5", "<5", "5 (50.0 %)"]  # pooled column exact
    assert lines["Age at surgery, mean ± SD (years)"][1] == "– (n <5)"


def test_a_row_failing_several_rules_counts_once_under_the_first(quarantine: pd.DataFrame) -> None:
    first = first_failures(quarantine)
    assert len(first) == 3
    row_3 = first[(first["center_id"] == "bologna") & (first["source_row"] == 3)]
    assert row_3["check_code"].tolist() == ["missing-required"]


def test_flow_per_center(
    patients: pd.DataFrame, quarantine: pd.DataFrame, held_manifest: dict[str, Any]
) -> None:
    rows = {r.center_id: r for r in flow_rows(center_flows(patients, quarantine), held_manifest, 0)}
    bologna, lyon = rows["bologna"], rows["lyon"]
    assert (bologna.rows_read, bologna.excluded_total, bologna.analysed) == ("130", "2", "6")
    assert bologna.excluded == [("missing-required", "1"), ("death-before-surgery", "1")]
    assert bologna.cutoff == "2016-09-05 (latest last contact)"
    assert bologna.period == "2010-03 to 2014-02"
    assert (lyon.rows_read, lyon.analysed, lyon.period) == ("14", "4", "2009-11 to 2012-04")


def test_flow_uses_the_stated_cutoff_and_suppresses(
    patients: pd.DataFrame, quarantine: pd.DataFrame
) -> None:
    manifest = {"centers": {
        "lyon": {"rows_read": 6, "data_cutoff": {"date": "2014-06-30", "source": "mapping"}},
        "bologna": {"data_cutoff": {"date": "2016-09-05", "source": "latest_last_contact"}},
    }}  # fmt: skip
    rows = {r.center_id: r for r in flow_rows(center_flows(patients, quarantine), manifest, 5)}
    assert rows["lyon"].cutoff == "2014-06-30 (stated)"
    assert rows["bologna"].cutoff == "2016-09-05 (latest last contact)"
    assert (rows["lyon"].rows_read, rows["lyon"].analysed) == ("6", "<5")
    assert rows["bologna"].excluded_total == "<5" and rows["bologna"].rows_read == "–"


def test_page_shows_flow_and_table_one(
    patients: pd.DataFrame, two_centers: pd.DataFrame, quarantine: pd.DataFrame
) -> None:
    html = render_report(patients, two_centers, quarantine=quarantine)
    flow = html[html.index('id="flow"') : html.index('id="baseline"')]
    assert "missing-required: 1" in flow and "2016-09-05 (latest last contact)" in flow
    baseline = html[html.index('id="baseline"') : html.index('id="endpoints"')]
    assert "not collected in 1 of 2 centers" in baseline
    assert re.search(r">Men</th><td[^>]*>3 \(50\.0 %\)</td>", baseline)


def test_class_tally_counts_each_patients_own_class() -> None:
    """Each variable's tally, classified once per distinct value, is the count of every
    patient classified alone (nulls, unknown codes and out-of-band numbers included)."""
    values = {
        "sex": pd.Series(["male", "female", None, "female", "other"], dtype="category"),
        "primary_tumor": pd.Series(["breast", "lung", "breast", None, "unknown site"]),
        "kps_preop": pd.Series([40, 90, None, 70, 200], dtype="Int64"),
        "ecog_preop": pd.Series([0.0, 2.0, float("nan"), 5.0, 2.0]),
        "visceral_mets": pd.Series(["none", "removable", "unremovable", None, "none"]),
        "frankel_preop": pd.Series(["E", "A", "D", "E", None], dtype="category"),
        "anesthetic_risk": pd.Series(["low", "high", "high", None, "low"]),
        "tokuhashi_revised": pd.Series([3, 9, 15, None, 12], dtype="Int64"),
        "tomita": pd.Series([2, 10, 11, None, 5], dtype="Int64"),
    }
    for _, column, classify in CATEGORICAL:
        codes = classify(values[column]).cat.codes.to_numpy()
        one_by_one = [int((codes == code).sum()) for code in range(-1, codes.max() + 1)]
        tally = class_tally(classify, values[column])
        assert tally[: len(one_by_one)] == one_by_one, column
        assert sum(tally) == len(values[column]), column
