"""Pooled comparisons stated honestly: non-randomized hazard ratios, PH test, forest plot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from spinemet_etl.report import render_report
from spinemet_etl.report.figures import heterogeneity_text
from spinemet_etl.report.forest import ForestRow, axis_label, forest_limits

EndpointFrame = Callable[[list[dict[str, Any]]], pd.DataFrame]


def _pooled(code: str, **values: Any) -> dict[str, Any]:
    return {"center_id": "ALL", "endpoint": code, "n": 132, **values}


@pytest.fixture(scope="module")
def v2_page(v2_endpoints: pd.DataFrame, patients: pd.DataFrame) -> str:
    return render_report(patients, v2_endpoints)


def test_hazard_ratios_say_patients_were_not_randomized(v2_page: str) -> None:
    assert "Patients were not randomized" in v2_page
    assert "who was chosen for each operation as much as the operation" in v2_page
    assert "(global, <code>cox.zph</code>): p = 0.008; the hazards are not proportional" in v2_page
    assert "HR 0.30 (95 % CI 0.20–0.45); proportional hazards (global test) p = 0.008" in v2_page


def test_without_ph_row_the_page_says_it_was_not_computed(
    two_centers: pd.DataFrame, patients: pd.DataFrame, make_endpoints: EndpointFrame
) -> None:
    rows = make_endpoints([_pooled("os_cox_hr_curettage", estimate=0.6, ci_lower=0.5,
                                   ci_upper=0.8, p_value=0.001)])  # fmt: skip
    html = render_report(patients, pd.concat([two_centers, rows], ignore_index=True))
    assert "Patients were not randomized" in html
    assert "proportional-hazards test was not computed" in html


def test_no_hazard_ratio_no_caveat(two_centers: pd.DataFrame, patients: pd.DataFrame) -> None:
    assert 'id="not-randomized"' not in render_report(patients, two_centers)


def test_forest_shows_tau2_i2_and_the_prediction_interval(v2_page: str) -> None:
    forest = v2_page[v2_page.index('id="forest"') : v2_page.index('id="tomita"')]
    assert "τ² = 0.123, I² = 37.5 %" in forest
    assert "95 % prediction interval" in forest.split("<svg", 1)[1]
    assert "Pooled (REML, Hartung–Knapp CI)" in forest
    assert "differs more than chance" not in forest


def test_pooled_table_gives_the_prediction_interval(v2_page: str) -> None:
    assert "87.0 % (95 % prediction interval 40.0–98.5)" in v2_page


def test_dersimonian_laird_row_is_used_without_reml(
    two_centers: pd.DataFrame, patients: pd.DataFrame
) -> None:
    html = render_report(patients, two_centers)
    forest = html[html.index('id="forest"') : html.index('id="tomita"')]
    assert "Pooled (DerSimonian–Laird)" in forest and "τ² = 0.31, I² = 42.0 %" in forest
    assert "95 % prediction interval" not in forest.split("<svg", 1)[1]


@pytest.mark.parametrize(
    ("rows", "limits", "label"),
    [
        ([ForestRow("a", 3.0, 1.0, 8.0)], (0.0, 20.0), "% (axis cut to 0–20)"),
        ([ForestRow("a", 50.0, 2.0, 99.0)], (0.0, 100.0), "% (axis 0–100)"),
        ([ForestRow("a", 90.0, 85.0, 95.0)], (80.0, 100.0), "% (axis cut to 80–100)"),
    ],
    ids=["low", "full", "high"],
)
def test_forest_axis_says_when_it_is_cut(
    rows: list[ForestRow], limits: tuple[float, float], label: str
) -> None:
    assert forest_limits(rows) == limits
    assert axis_label(*limits) == label


def test_heterogeneity_text_absent_from_method() -> None:
    assert heterogeneity_text("DerSimonian-Laird; not computed: fewer than two centers") == ""


@pytest.mark.parametrize(
    ("method", "text"),
    [
        ("DL; centers=6; tau2=0.0123; I2=12.5%; Q=5.7; Q p=0.34", "τ² = 0.0123, I² = 12.5 %"),
        ("REML; τ² = 0; I² = 0.0 %", "τ² = 0, I² = 0.0 %"),
    ],
    ids=["ascii", "unicode"],
)
def test_heterogeneity_text_reads_the_method(method: str, text: str) -> None:
    assert heterogeneity_text(method) == text
