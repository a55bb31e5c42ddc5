"""Each center's page counts, added up: the same tables as all rows at once, worked by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.report.baseline import baseline_table, combine_baseline
from spinemet_etl.report.counts import CenterCounts, center_counts, counts_from_document
from spinemet_etl.report.flow import center_flows, combine_flows
from spinemet_etl.report.procedures import combine_frankel, frankel_transitions
from spinemet_etl.report.tables import combine_crosstab


def _kept(counts: CenterCounts) -> CenterCounts:
    """The counts as the statistics cache keeps them: through JSON, the ages aside."""
    document = json.loads(json.dumps(counts.to_document(), allow_nan=False))
    return counts_from_document(document, counts.ages.copy())


@pytest.fixture(scope="module")
def kept(patients: pd.DataFrame) -> list[CenterCounts]:
    """Each center's counts from its own rows only, kept and read back."""
    return [
        _kept(center_counts(center, patients[patients["center_id"] == center]))
        for center in ("bologna", "lyon")
    ]


def _lines(rows: list[object]) -> dict[str, list[str]]:
    return {row.label: row.cells for row in rows}  # type: ignore[attr-defined]


def test_one_centers_counts_worked_by_hand(kept: list[CenterCounts]) -> None:
    lyon = kept[1]
    assert lyon.patients == 4
    assert lyon.deaths == {
        "all": 2, "procedure=palliative": 1, "procedure=curettage": 1, "procedure=en_bloc": 0,
    }  # fmt: skip
    assert lyon.baseline is not None and lyon.baseline["sex"] == [0, 2, 2]  # none, men, women
    assert lyon.baseline["kps_preop"] == [4, 0, 0, 0]  # not collected: all without a class
    assert lyon.frankel is not None
    # palliative: E→E and E→E (grade E is row 4, cell 4 × 6 + 4)
    assert lyon.frankel["palliative"][4 * 6 + 4] == 2 and sum(lyon.frankel["palliative"]) == 2
    # Tomita 6 palliative, 5 en bloc, 8 curettage, 10 palliative (class × 3 + procedure)
    expected = [0] * 15
    expected[2 * 3 + 0] = expected[1 * 3 + 2] = expected[3 * 3 + 1] = expected[3 * 3 + 0] = 1
    assert lyon.crosstab == expected
    assert lyon.flow == {"surgery_from": "2009-11", "surgery_to": "2012-04", "cutoff": "2013-01-01"}
    assert lyon.ages.tolist() == [72.0, 50.0, 63.0, 58.0]


@pytest.mark.parametrize("k", [0, 5], ids=["exact", "suppressed"])
def test_kept_counts_give_the_tables_of_all_rows(
    patients: pd.DataFrame, kept: list[CenterCounts], k: int
) -> None:
    assert combine_baseline(kept, k) == baseline_table(patients, k)
    assert combine_frankel(kept, k) == frankel_transitions(patients, k)
    assert combine_flows(kept, None) == center_flows(patients, None)


def test_small_cells_are_hidden_after_adding_the_centers(kept: list[CenterCounts]) -> None:
    crosstab = _lines(combine_crosstab(kept, 3))
    # Tomita 4–5 curettage: bologna 1 (hidden), lyon 0, pooled 1 shown exactly
    assert crosstab["bologna"][1 * 3 + 1] == "<3"
    assert crosstab["lyon"][1 * 3 + 1] == "0"
    assert crosstab["ALL"][1 * 3 + 1] == "1"
    baseline = _lines(combine_baseline(kept, 5).rows)
    assert baseline["Patients"] == ["6", "<5", "10"]
    # the men: bologna's 3 and lyon's 2 hidden, the pooled 5 of 10 exact
    assert baseline["Men"] == ["<5", "<5", "5 (50.0 %)"]


def test_pooled_age_is_that_of_all_rows_in_their_order(kept: list[CenterCounts]) -> None:
    ages = [61.0, 55.0, 70.0, 48.0, 66.0, 59.0, 72.0, 50.0, 63.0, 58.0]
    table = _lines(combine_baseline(kept, 0).rows)
    pooled = table["Age at surgery, mean ± SD (years)"][-1]
    # mean 602 / 10; squares about it 563.6, / 9 = 62.62, SD 7.91
    assert pooled == f"{np.mean(ages):.1f} ± {np.std(ages, ddof=1):.1f}" == "60.2 ± 7.9"


def test_counts_of_another_format_or_disagreeing_with_the_rows_are_refused(
    kept: list[CenterCounts],
) -> None:
    document = kept[0].to_document()
    with pytest.raises(ValueError, match="format"):
        counts_from_document({**document, "format": 99}, kept[0].ages)
    with pytest.raises(ValueError, match="disagree"):
        counts_from_document({**document, "patients": 2}, kept[0].ages)
