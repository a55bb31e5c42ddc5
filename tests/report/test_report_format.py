"""Cell texts of the endpoint table, and small-cell suppression of single cells."""

from __future__ import annotations

from typing import Any

import pytest

from spinemet_etl.report.format import format_cell, format_p

MEDIAN = {"endpoint": "os_median_months", "n": 249}
PAIN = {"endpoint": "pain_relief_pct", "n": 130}


@pytest.mark.parametrize(
    ("row", "text"),
    [
        ({**MEDIAN, "estimate": 20.9, "se": 2.7, "ci_lower": 17.1, "ci_upper": 25.0},
         "20.9 ± 2.7 (95 % CI 17.1–25.0)"),
        ({**MEDIAN, "estimate": 20.94, "se": None, "ci_lower": 17.1, "ci_upper": None},
         "20.9 (95 % CI 17.1–NR)"),
        ({**MEDIAN, "estimate": None}, "NR"),
        ({**MEDIAN, "n": 0, "estimate": None}, "–"),
        ({**PAIN, "estimate": 110 / 120 * 100, "numerator": 110, "denominator": 120,
          "ci_lower": 85.34, "ci_upper": 95.41},
         "91.7 % (95 % CI 85.3–95.4) 110/120"),
        ({**PAIN, "estimate": None, "numerator": 0, "denominator": 0}, "–"),
        ({"endpoint": "intraop_death_n", "n": 249, "estimate": 1.0, "numerator": 1}, "1"),
        ({"endpoint": "patients_n", "n": 249, "estimate": 249.0}, "249"),
        ({"endpoint": "os_rate_12m", "n": 40, "estimate": 61.25, "ci_lower": 47.0,
          "ci_upper": 79.8}, "61.2 % (95 % CI 47.0–79.8)"),
        ({"endpoint": "tomita_cindex", "n": 200, "estimate": 0.6349, "ci_lower": 0.59,
          "ci_upper": 0.68}, "0.63 (95 % CI 0.59–0.68), n = 200"),
        ({"endpoint": "os_cox_hr_en_bloc", "n": 249, "estimate": 0.5, "ci_lower": 0.25,
          "ci_upper": 1.0}, "HR 0.50 (95 % CI 0.25–1.00)"),
        ({"endpoint": "os_logrank_centers", "n": 249, "estimate": 12.345}, "χ² = 12.35"),
        ({"endpoint": "mortality_30d_pct_re", "n": 249, "estimate": 2.81, "ci_lower": 1.2,
          "ci_upper": 6.3}, "2.8 % (95 % CI 1.2–6.3)"),
    ],
    ids=[
        "median-se-ci", "median-open-ci", "median-not-reached", "median-no-patients",
        "proportion", "proportion-empty", "count", "patients", "km-rate", "cindex",
        "hazard-ratio", "chi-square", "random-effects",
    ],
)  # fmt: skip
def test_format_cell(row: dict[str, Any], text: str) -> None:
    assert format_cell(row) == text


@pytest.mark.parametrize(
    ("p_value", "text"),
    [(0.0004, "< 0.001"), (0.0212, "0.021"), (0.43, "0.43"), (1.0, "1.00"), (None, "–")],
    ids=["tiny", "small", "large", "one", "null"],
)
def test_format_p(p_value: float | None, text: str) -> None:
    assert format_p(p_value) == text


COUNT = {"endpoint": "intraop_death_n", "n": 100, "denominator": 100}


@pytest.mark.parametrize(
    ("row", "text"),
    [
        ({**COUNT, "estimate": 0, "numerator": 0}, "0"),
        ({**COUNT, "estimate": 1, "numerator": 1}, "<5"),
        ({**COUNT, "estimate": 4, "numerator": 4}, "<5"),
        ({**COUNT, "estimate": 5, "numerator": 5}, "5"),
        ({**COUNT, "estimate": 97, "numerator": 97}, "<5"),
        ({**COUNT, "estimate": 100, "numerator": 100}, "100"),
        ({"endpoint": "patients_n", "n": 3, "estimate": 3}, "<5"),
        ({**PAIN, "estimate": 2.5, "numerator": 3, "denominator": 120, "ci_lower": 0.9,
          "ci_upper": 7.1}, "<5/120"),
        ({**PAIN, "estimate": 99.2, "numerator": 119, "denominator": 120, "ci_lower": 95.4,
          "ci_upper": 99.9}, ">115/120"),
        ({**PAIN, "estimate": 50.0, "numerator": 2, "denominator": 4, "ci_lower": 15.0,
          "ci_upper": 85.0}, "<5"),
        ({**PAIN, "estimate": 50.0, "numerator": 60, "denominator": 120, "ci_lower": 41.2,
          "ci_upper": 58.8}, "50.0 % (95 % CI 41.2–58.8) 60/120"),
        ({**MEDIAN, "n": 3, "estimate": 9.0}, "– (n <5)"),
        ({**MEDIAN, "n": 5, "estimate": 9.0}, "9.0"),
    ],
    ids=[
        "zero-shown", "one-hidden", "four-hidden", "five-shown", "complement-hidden",
        "all-shown", "small-center", "pct-small-numerator", "pct-small-complement",
        "pct-small-denominator", "pct-shown", "median-small-n", "median-n-at-k",
    ],
)  # fmt: skip
def test_suppression_of_a_cell(row: dict[str, Any], text: str) -> None:
    assert format_cell(row, suppress_below=5) == text
