"""Property: a table typed straight from its Arrow rows equals the same table typed from its
frame (values, failures, durations), and Arrow's factorizing equals pandas'."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinemet_etl.harmonize.convert import arrow_factorized
from spinemet_etl.harmonize.process import load_mapping
from spinemet_etl.harmonize.read import SourceTable
from spinemet_etl.harmonize.tables import type_table
from spinemet_etl.readers.arrow_csv import to_frame, with_arrow_provenance

EXAMPLES = int(os.environ.get("SPINEMET_FUZZ_EXAMPLES", "40"))
MAPPING = """\
center_id: demo
tables:
  - name: registry
    kind: csv
    files: "*.csv"
    patient_id: mrn
    missing: ["NA", "-9"]
    decimal: ","
    columns:
      sex: {source: sex, values: {M: male, F: female}}
      birth_date: {source: born, date_format: ["%d.%m.%y", "%d.%m.%Y"]}
      surgery_date: {source: surgery, date_format: ["%d.%m.%Y", "%d.%m.%y"]}
      vas_pain_preop: vas
      kps_preop: kps
      primary_tumor: {source: primary, vocabulary: primary_tumor}
      procedure: {constant: palliative}
      intraop_death: {source: dead, values: {"Y": true, "N": false}}
      vital_status: {source: status, values: {"1": alive, "2": dead}}
      frankel_preop: {source: asia, convert: asia_to_frankel}
      death_date: {source: absent, optional: true}
      local_recurrence_date: {source: contact}
      last_contact_date: {source: months, convert: months_since_surgery}
"""
CELLS = {
    "mrn": ["A1", " A1", "A2", "a2", "B-7", "Ω1", "1.0", None],
    "sex": ["M", "F", "f", "X", "NA", " m ", None],
    "born": ["14.10.63", "01.02.1950", "31.02.60", "NA", "1950-01-01", None],
    "surgery": ["03.02.2015", "3.2.2015", "03.02.15", "29.02.2021", "-9", None],
    "vas": ["4", "4,5", "11", "<1", "-9", "4.5", None],
    "kps": ["80", "80,0", "85,5", "abc", None],
    "primary": ["lung", "Lung", "breast", "spleen", "", None],
    "asia": ["A", "D", "E", "F", "x", None],
    "contact": ["2016-08-01", "2016-13-01", "20160801", None],
    "months": ["12", "3,5", "-2", "x", None],
    "dead": ["Y", "N", "y", "1", None],
    "status": ["1", "2", "2.0", "3", None],
}
VOCABULARY = Path(__file__).resolve().parents[2] / "centers"
"""The demo consortium's mapping folder, whose shared vocabularies the mapping uses."""


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("mapping")
    (folder / "vocabularies").symlink_to(VOCABULARY / "vocabularies")
    (folder / "demo.yaml").write_text(MAPPING, encoding="utf-8")
    return load_mapping(folder / "demo.yaml").tables[0]


rows = st.lists(
    st.fixed_dictionaries({name: st.sampled_from(values) for name, values in CELLS.items()}),
    max_size=25,
)


def _arrow(records: list[dict[str, str | None]], chunks: int) -> pa.Table:
    columns = {
        name: pa.chunked_array(
            [
                pa.array([r[name] for r in part], pa.string())
                for part in np.array_split(np.asarray(records, dtype=object), chunks)
            ],
            pa.string(),
        )
        for name in CELLS
    }
    return with_arrow_provenance(pa.table(columns), "export.csv", 2)


@settings(max_examples=EXAMPLES, deadline=None)
@given(records=rows, chunks=st.integers(1, 4))
def test_arrow_rows_type_as_their_frame(table, records, chunks) -> None:  # type: ignore[no-untyped-def]
    arrow = _arrow(records, chunks)
    from_arrow = type_table(SourceTable(table, arrow), VOCABULARY, {})
    from_frame = type_table(SourceTable(table, to_frame(arrow)), VOCABULARY, {})
    pd.testing.assert_frame_equal(from_arrow.values, from_frame.values, check_exact=True)
    pd.testing.assert_frame_equal(from_arrow.failures, from_frame.failures, check_exact=True)
    assert from_arrow.durations == from_frame.durations


def test_arrow_rows_report_what_the_frame_reports(table) -> None:  # type: ignore[no-untyped-def]
    """A hand-made case: the failures and their shown values, birth dates masked, a
    two-digit year after the surgery refused."""
    clean = {name: values[0] for name, values in CELLS.items()} | {"born": "01.02.1950"}
    records = [
        clean | {"mrn": "A1"},
        clean | {"mrn": "A2", "vas": "<1"},
        clean | {"mrn": "A3", "born": "31.02.60"},
        clean | {"mrn": "A4", "born": "14.10.63"},
    ]
    typed = type_table(SourceTable(table, _arrow(records, 2)), VOCABULARY, {})
    found = typed.failures[["_pos", "column", "check_code", "failure_value"]]
    assert found.values.tolist() == [
        [1, "vas_pain_preop", "unparseable-number", "<1"],
        [2, "age_at_surgery_years", "unparseable-date", "***"],
        [3, "age_at_surgery_years", "unparseable-date", "***"],
    ]
    assert typed.values["_pid"].tolist() == ["A1", "A2", "A3", "A4"]


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    parts=st.lists(
        st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "b", " a", "é", "1", "1.0"]))),
        max_size=5,
    )
)
def test_arrow_factorized_is_pandas_factorize(parts: list[list[str | None]]) -> None:
    column = pa.chunked_array([pa.array(part, pa.string()) for part in parts], pa.string())
    found = arrow_factorized(column)
    values = pd.Series([value for part in parts for value in part], dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.asarray([*found.uniques, None], dtype=object)
    expected = np.asarray([*uniques, None], dtype=object)
    assert lookup[found.codes].tolist() == expected[codes].tolist()
    assert sorted(found.uniques.tolist()) == sorted(uniques.tolist())
    assert found.uniques.dtype == object and found.codes.dtype == np.intp
