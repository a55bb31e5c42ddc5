"""Results by procedure: per-stratum endpoint tables and Frankel transitions, worked by hand."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from spinemet_etl.report import render_report
from spinemet_etl.report.procedures import frankel_transitions

EndpointFrame = Callable[[list[dict[str, Any]]], pd.DataFrame]


def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)


def test_frankel_transitions_per_procedure(patients: pd.DataFrame) -> None:
    tables = {name: {row.label: row.cells for row in rows}
              for name, rows in frankel_transitions(patients, 0).items()}  # fmt: skip
    # palliative: D→E, C→D, E→(not known), E→E, E→E
    assert tables["palliative"]["C"] == ["0", "0", "0", "1", "0", "0"]
    assert tables["palliative"]["D"] == ["0", "0", "0", "0", "1", "0"]
    assert tables["palliative"]["E"] == ["0", "0", "0", "0", "2", "1"]
    # curettage: E→E, B→B, A→B
    assert tables["curettage"]["A"] == ["0", "1", "0", "0", "0", "0"]
    assert tables["curettage"]["B"] == ["0", "1", "0", "0", "0", "0"]
    assert sum(int(c) for cells in tables["en_bloc"].values() for c in cells) == 2


def test_frankel_transitions_of_a_single_center_are_suppressed(patients: pd.DataFrame) -> None:
    one = patients[patients["center_id"] == "bologna"]
    tables = frankel_transitions(one, 5)
    assert tables["palliative"][2].cells == ["0", "0", "0", "<5", "0", "0"]


def test_page_has_an_endpoint_table_per_procedure(
    make_endpoints: EndpointFrame, patients: pd.DataFrame
) -> None:
    stratum = {"stratum": "procedure=en_bloc"}
    endpoints = make_endpoints(
        [
            {"center_id": "bologna", "endpoint": "patients_n", "n": 6, "estimate": 6},
            {"center_id": "ALL", "endpoint": "patients_n", "n": 6, "estimate": 6},
            {**stratum, "center_id": "bologna", "endpoint": "os_median_months", "n": 6,
             "estimate": 14.2},
            {**stratum, "center_id": "bologna", "endpoint": "os_events_n", "n": 6,
             "estimate": 2},
            {**stratum, "center_id": "ALL", "endpoint": "os_median_months", "n": 6,
             "estimate": 14.2},
            {**stratum, "center_id": "ALL", "endpoint": "os_events_n", "n": 6, "estimate": 2},
        ]
    )  # fmt: skip
    html = render_report(patients, endpoints)
    section = html[html.index('id="procedures"') : html.index('id="pooled"')]
    assert '<h3 id="procedure-en_bloc">En bloc</h3>' in section
    assert 'id="procedure-palliative"' not in section  # no rows of that stratum
    median = section[section.index("Overall survival, median") :].split("</tr>")[0]
    assert _cells(median) == ["14.2 ‡", "14.2 ‡"]  # 2 deaths determine it
    assert 'id="frankel-curettage"' in section
