"""The run summary and endpoint table shown as Prefect artifacts (plain functions)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from flows.artifacts import endpoint_rows, shown_count, summary_markdown

MANIFEST: dict[str, Any] = {
    "run_id": "20261126T020000Z-3f2a", "status": "needs_attention",
    "started_at": "2026-11-26T02:00:00+00:00", "finished_at": "2026-11-26T02:03:12+00:00",
    "key_fingerprint": "ab" * 32,
    "centers": {
        "bologna": {
            "status": "published", "error": None, "rows_harmonized": 241,
            "rows_quarantined": 8,
            "files": [{"rows_read": 249}],
            "top_quarantine_reasons": [{"check_code": "out-of-range", "rows": 5}],
            "quality_gate": {"passed": True, "checks": []},
        },
        "lyon": {
            "status": "held", "error": None, "rows_harmonized": 3, "rows_quarantined": 0,
            "files": [{"rows_read": 3}], "top_quarantine_reasons": [],
            "quality_gate": {"passed": False, "checks": [
                {"name": "patient_count", "passed": False, "message": "3 patients; expected 40."},
            ]},
        },
    },
}  # fmt: skip
ENDPOINTS = pd.DataFrame(
    {
        "center_id": ["bologna", "bologna", "lyon", "bologna"],
        "stratum": ["all", "all", "all", "procedure=en_bloc"],
        "endpoint": ["patients_n", "os_median_months", "patients_n", "patients_n"],
        "n": [241, 241, 3, 20],
        "estimate": [241.0, 20.9, 3.0, 20.0],
        "ci_lower": [None, 17.5, None, None],
        "ci_upper": [None, 25.0, None, None],
        "p_value": [None, None, None, None],
    }
)


@pytest.mark.parametrize(
    ("count", "k", "shown"),
    [(0, 5, "0"), (3, 5, "<5"), (5, 5, "5"), (3, 0, "3"), (None, 5, "–")],
    ids=["zero-shown", "small-suppressed", "k-shown", "off", "missing"],
)
def test_shown_count(count: int | None, k: int, shown: str) -> None:
    assert shown_count(count, k) == shown


def test_summary_has_a_row_per_center_and_what_needs_attention() -> None:
    text = summary_markdown(MANIFEST, ENDPOINTS, suppress_below=5)
    assert "| bologna | published | 249 | 241 | 8 | out-of-range (5) | 20.9 (17.5–25.0) |" in text
    assert "| lyon | held | <5 | <5 | 0 | – | not reached |" in text
    assert "**lyon** held by the quality gate: 3 patients; expected 40." in text


def test_endpoint_rows_keep_stratum_all_and_suppress_small_counts() -> None:
    rows = endpoint_rows(ENDPOINTS, suppress_below=5)
    assert [(r["center_id"], r["endpoint"]) for r in rows] == [
        ("bologna", "patients_n"), ("bologna", "os_median_months"), ("lyon", "patients_n"),
    ]  # fmt: skip
    assert rows[2]["n"] == "<5" and rows[2]["estimate"] == "<5"
    assert rows[1]["estimate"] == 20.9 and rows[1]["ci_upper"] == 25.0
