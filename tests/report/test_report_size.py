"""A consortium of 200 centers still gives a page of a few hundred kilobytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from spinemet_etl.endpoints import ENDPOINT_CODES
from spinemet_etl.report import render_report

N_CENTERS = 200
MAX_PAGE_BYTES = 600_000


def _consortium(
    endpoint_frame: Callable[[list[dict[str, Any]]], pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    centers = [f"center_{i:03d}" for i in range(N_CENTERS)]
    sizes = rng.integers(5, 40, size=N_CENTERS)
    patients = pd.DataFrame(
        {
            "center_id": np.repeat(centers, sizes),
            "procedure": pd.Categorical(
                rng.choice(["palliative", "curettage", "en_bloc"], size=sizes.sum()),
                categories=["palliative", "curettage", "en_bloc"],
            ),
            "os_months": rng.exponential(20.0, size=sizes.sum()).round(1),
            "os_event": rng.random(sizes.sum()) < 0.7,
            "tomita": pd.array(rng.integers(2, 11, size=sizes.sum()), dtype="Int16"),
        }
    )
    rows: list[dict[str, Any]] = [
        {"stratum": "all", "center_id": center, "endpoint": code, "n": int(n), "estimate": 88.9,
         "numerator": int(n) - 1, "denominator": int(n), "ci_lower": 70.1, "ci_upper": 96.2,
         "se": 2.7}
        for center, n in [*zip(centers, sizes, strict=True), ("ALL", sizes.sum())]
        for code in ENDPOINT_CODES
    ]  # fmt: skip
    rows += [
        {**row, "stratum": f"procedure={procedure}"}
        for row in rows
        for procedure in ("palliative", "curettage", "en_bloc")
    ]
    return patients, endpoint_frame(rows)


def test_page_for_200_centers_stays_small(
    make_endpoints: Callable[[list[dict[str, Any]]], pd.DataFrame],
) -> None:
    patients, endpoints = _consortium(make_endpoints)
    html = render_report(patients, endpoints)
    assert len(html.encode("utf-8")) < MAX_PAGE_BYTES
    assert f"the 12 largest centers of {N_CENTERS} are drawn" in html
    assert f"The 40 largest centers of {N_CENTERS} are drawn" in html
    assert html.count('<th scope="col">center_') == N_CENTERS + 3 * 12  # + 12 per procedure
    assert f"The 12 largest centers of {N_CENTERS} have a column here" in html
