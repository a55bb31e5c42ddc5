"""The rendered page: formatted cells, suppression, escaping, manifests, self-containment."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from spinemet_etl.report import render_report
from spinemet_etl.report.tables import TOMITA_LABELS
from spinemet_etl.scores import TOMITA_STRATEGY_CLASSES

EndpointFrame = Callable[[list[dict[str, Any]]], pd.DataFrame]


@pytest.fixture(scope="module")
def plain_page(two_centers: pd.DataFrame, patients: pd.DataFrame) -> str:
    return render_report(patients, two_centers, generated_for_run="run-1")


@pytest.fixture(scope="module")
def held_page(
    two_centers: pd.DataFrame, patients: pd.DataFrame, held_manifest: dict[str, Any]
) -> str:
    return render_report(patients, two_centers, manifest=held_manifest)


@pytest.fixture(scope="module")
def suppressed_page(
    two_centers: pd.DataFrame, patients: pd.DataFrame, held_manifest: dict[str, Any]
) -> str:
    return render_report(patients, two_centers, manifest=held_manifest, suppress_below=5)


def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)


def test_page_holds_the_hand_computed_cells(plain_page: str) -> None:
    html = plain_page
    cells = _cells(html)
    assert "20.9 ± 2.7 (95 % CI 17.1–25.0)" in cells
    assert "91.7 % (95 % CI 85.3–95.4) 110/120" in cells
    assert "NR" in cells  # lyon's median is not reached
    assert "χ² = 5.31" in cells and "0.021" in cells
    assert "88.2 % (95 % CI 75.0–95.0)" in cells
    assert "run-1" in html


def test_tomita_crosstab_counts(plain_page: str) -> None:
    section = plain_page[plain_page.index('id="tomita"') : plain_page.index('id="quality"')]
    pooled = section[section.index(">All centers<") :].split("</tr>")[0]
    cells = _cells(pooled)
    assert len(cells) == 15  # 4 strategy classes and "unknown", times 3 procedures
    assert cells[9:12] == ["1", "2", "0"]  # supportive care: palliative, curettage, en bloc
    assert cells[12:15] == ["1", "0", "0"]  # score unknown


def test_tomita_labels_cover_the_score_classes() -> None:
    assert set(TOMITA_LABELS) == {*TOMITA_STRATEGY_CLASSES, "unknown"}


def test_suppression_hides_small_center_counts_only(suppressed_page: str) -> None:
    html = suppressed_page
    deaths = html[html.index("Intraoperative deaths") :].split("</tr>")[0]
    assert _cells(deaths) == ["&lt;5", "0", "1"]  # bologna 1 hidden, lyon 0 shown, pooled exact
    table = html[html.index('id="endpoints"') :]
    patients_row = table[table.index(">Patients<") :].split("</tr>")[0]
    assert _cells(patients_row) == ["120", "12", "132"]
    pain = html[html.index("Pain relieved") :].split("</tr>")[0]
    assert _cells(pain)[:2] == ["91.7 % (95 % CI 85.3–95.4) 110/120", "&gt;7/12"]  # 3 not relieved


def test_suppression_reaches_numbers_at_risk(make_endpoints: EndpointFrame) -> None:
    patients = pd.DataFrame(
        {
            "center_id": ["bologna"] * 8 + ["lyon"] * 8,
            "procedure": pd.Categorical(["palliative"] * 16),
            "os_months": [1.0, 2.0, 3.0, 4.0, 5.0, 40.0, 50.0, 60.0] * 2,
            "os_event": [True] * 16,
            "tomita": pd.array([5] * 16, dtype="Int16"),
        }
    )
    endpoints = make_endpoints([{"center_id": "ALL", "endpoint": "patients_n", "n": 16}])
    visible = render_report(patients, endpoints)
    hidden = render_report(patients, endpoints, suppress_below=5)
    at_risk_36 = ">3<"  # three patients of each center are at risk at 36 months
    assert at_risk_36 in visible and at_risk_36 not in hidden and "&lt;5" in hidden


def test_hostile_center_name_is_escaped(
    make_endpoints: EndpointFrame, patients: pd.DataFrame
) -> None:
    hostile = '<script>alert("x")</script>'
    endpoints = make_endpoints(
        [{"center_id": hostile, "endpoint": "patients_n", "n": 6, "estimate": 6}]
    )
    manifest = {"run_id": "<b>run</b>", "centers": {hostile: {"status": "failed", "error": {
        "message": "<img src=x onerror=alert(1)>"}}}}  # fmt: skip
    patients = patients.assign(center_id=[hostile] * 6 + ["lyon"] * 4)
    html = render_report(patients, endpoints, manifest=manifest)
    assert "<script>" not in html and "<img" not in html and "<b>run" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html


def test_page_makes_no_network_reference(held_page: str) -> None:
    html = held_page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, flags=re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", html, flags=re.I)
    assert "@import" not in html and "<link" not in html and "<script" not in html
    assert html.count("<svg") == 3


def test_manifest_gives_quality_and_stale_marks(held_page: str) -> None:
    html = held_page
    assert "DEVELOPMENT PSEUDONYMIZATION KEY" in html
    assert "Data shown come from the earlier run 20261101T020000Z-aaaa." in html
    assert 'title="data from run 20261101T020000Z-aaaa">†' in html
    assert "12 patients, 80 last time; check the export." in html
    quality = html[html.index('id="quality"') :]
    bologna = quality[quality.index(">bologna<") :].split("</tr>")[0]
    assert _cells(bologna)[:4] == ["published", "130", "120", "10"]
    assert "unparseable-date: 7" in bologna


def test_quality_counts_are_suppressed(suppressed_page: str) -> None:
    html = suppressed_page
    quality = html[html.index('id="quality"') :]
    lyon = quality[quality.index(">lyon<") :].split("</tr>")[0]
    assert _cells(lyon)[:4] == ["held", "14", "12", "&lt;5"]
    assert "missing-required: &lt;5" in lyon


def test_without_manifest_the_key_is_unknown(plain_page: str) -> None:
    html = plain_page
    assert "DEVELOPMENT PSEUDONYMIZATION KEY" not in html
    assert "unknown (no run manifest)" in html
    assert "No run manifest was found" in html


def test_empty_dataset_gives_a_valid_page(make_endpoints: EndpointFrame) -> None:
    patients = pd.DataFrame(
        {"center_id": pd.Series(dtype=str), "procedure": pd.Series(dtype=str),
         "os_months": pd.Series(dtype=float), "os_event": pd.Series(dtype=bool),
         "tomita": pd.Series(dtype="Int16")}
    )  # fmt: skip
    html = render_report(patients, make_endpoints([]), manifest={"run_id": "r", "centers": {}})
    assert "No center has published data yet" in html
    assert html.rstrip().endswith("</html>") and "<svg" not in html


def _median_cells(html: str) -> list[str]:
    return _cells(html[html.index("Overall survival, median") :].split("</tr>")[0])


@pytest.mark.parametrize(
    ("deaths", "flagged"), [(9, True), (10, False)], ids=["9-deaths", "10-deaths"]
)
def test_median_of_few_deaths_is_flagged(
    make_endpoints: EndpointFrame, patients: pd.DataFrame, deaths: int, flagged: bool
) -> None:
    endpoints = make_endpoints(
        [
            {"center_id": "bologna", "endpoint": "os_median_months", "n": 20, "estimate": 8.0},
            {"center_id": "bologna", "endpoint": "os_events_n", "n": 20, "estimate": deaths},
            {"center_id": "ALL", "endpoint": "patients_n", "n": 20, "estimate": 20},
        ]
    )
    cell = _median_cells(render_report(patients, endpoints))[0]
    assert cell == ("8.0 ‡" if flagged else "8.0")


def test_without_an_events_row_the_deaths_come_from_the_patients(
    make_endpoints: EndpointFrame, patients: pd.DataFrame
) -> None:
    endpoints = make_endpoints(
        [{"center_id": "bologna", "endpoint": "os_median_months", "n": 6, "estimate": 8.0}]
    )
    assert _median_cells(render_report(patients, endpoints))[0] == "8.0 ‡"  # 4 deaths


def test_labels_say_what_they_count(make_endpoints: EndpointFrame, patients: pd.DataFrame) -> None:
    endpoints = make_endpoints(
        [
            {"center_id": "bologna", "endpoint": "male_n", "n": 120, "estimate": 72,
             "numerator": 72, "denominator": 120},
            {"center_id": "bologna", "endpoint": "anesthetic_risk_high_n", "n": 120,
             "estimate": 40, "numerator": 40, "denominator": 114},
            {"center_id": "bologna", "endpoint": "pain_relief_pct", "n": 120, "estimate": 50.0,
             "numerator": 5, "denominator": 10, "method": "wilson; pain_mcid=3"},
            {"center_id": "bologna", "endpoint": "neuro_improvement_pct", "n": 120,
             "estimate": 50.0, "numerator": 5, "denominator": 10},
        ]
    )  # fmt: skip
    html = render_report(patients, endpoints)
    assert _cells(html[html.index("Men, n (% of patients)") :])[0] == "72 (60.0 %)"
    risk = html[html.index("High anesthetic risk, n (% of patients assessed)") :]
    assert _cells(risk)[0] == "40 (35.1 % of 114)"
    assert "VAS fell by ≥ 3 points, among patients with a preoperative VAS ≥ 3" in html
    assert "among Frankel A–D before surgery" in html
    assert "NR = not reached" in html


def test_suppression_hides_a_small_count_and_its_share(
    make_endpoints: EndpointFrame, patients: pd.DataFrame
) -> None:
    endpoints = make_endpoints(
        [
            {"center_id": "bologna", "endpoint": "female_n", "n": 120, "estimate": 3,
             "numerator": 3, "denominator": 120},
            {"center_id": "lyon", "endpoint": "female_n", "n": 12, "estimate": 6,
             "numerator": 6, "denominator": 12},
            {"center_id": "ALL", "endpoint": "female_n", "n": 132, "estimate": 9,
             "numerator": 9, "denominator": 132},
        ]
    )  # fmt: skip
    html = render_report(patients, endpoints, suppress_below=5)
    cells = _cells(html[html.index("Women, n (% of patients)") :].split("</tr>")[0])
    assert cells == ["&lt;5", "6 (50.0 %)", "9 (6.8 %)"]
