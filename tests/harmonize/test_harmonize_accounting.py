"""Property: over randomly dirtied small exports, every row is harmonized or quarantined, once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.harmonize.harmonize_helpers import accounting_holds, run, write_mapping

MAPPING = """\
center_id: demo
tables:
  - name: registry
    kind: csv
    files: "*.csv"
    read: {delimiter: ";"}
    patient_id: mrn
    missing: ["NA", "-9"]
    decimal: ","
    columns:
      sex: {source: sex, values: {M: male, F: female}}
      age_at_surgery_years: age
      primary_tumor: primary
      vas_pain_preop: vas
      frankel_preop: frankel
      surgery_date: {source: surgery, date_format: "%d.%m.%Y"}
      procedure: procedure
      intraop_death: {source: intraop, values: {"Y": true, "N": false}}
      vital_status: {source: status, values: {alive: alive, dead: dead}}
      death_date: {source: death, date_format: "%d.%m.%Y"}
      last_contact_date: {source: contact, date_format: "%d.%m.%Y"}
"""
HEADER = ["mrn", "sex", "age", "primary", "vas", "frankel", "surgery", "procedure", "intraop",
          "status", "death", "contact"]  # fmt: skip
CLEAN = ["M", "61,5", "lung", "4", "D", "03.02.2015", "palliative", "N", "alive", "", "01.08.2016"]
DIRT: dict[str, tuple[str, str]] = {
    "none": ("sex", "M"),
    "age": ("age", "340"),
    "vas": ("vas", "11"),
    "frankel": ("frankel", "F"),
    "text": ("vas", "<1"),
    "date": ("surgery", "2015-02-03"),
    "missing": ("sex", "NA"),
    "blank": ("procedure", ""),
    "category": ("primary", "spleen"),
    "flag": ("status", "dead"),
    "intraop": ("intraop", "Y"),
    "id": ("mrn", ""),
}
FUZZ_EXAMPLES = int(os.environ.get("SPINEMET_FUZZ_EXAMPLES", "10"))

rows = st.lists(
    st.tuples(st.integers(0, 5), st.lists(st.sampled_from(sorted(DIRT)), max_size=3)),
    min_size=0,
    max_size=12,
)


def _fields(patient: int, dirt: list[str]) -> dict[str, str]:
    fields = dict(zip(HEADER, [f"Z{patient}", *CLEAN], strict=True))
    for kind in dirt:
        column, value = DIRT[kind]
        fields[column] = value
    return fields


def _is_dirty(patient: int, dirt: list[str]) -> bool:
    return _fields(patient, dirt) != _fields(patient, [])


def _export(spec: list[tuple[int, list[str]]]) -> str:
    lines = [";".join(HEADER), *(";".join(_fields(*row).values()) for row in spec)]
    return "\n".join(lines) + "\n"


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(spec=rows)
def test_fuzz_every_row_is_harmonized_or_quarantined_exactly_once(
    spec: list[tuple[int, list[str]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        mapping = write_mapping(root / "centers", MAPPING)
        (root / "demo").mkdir()
        (root / "demo" / "export.csv").write_text(_export(spec), encoding="utf-8")
        result = run(mapping, root / "demo")
    assert accounting_holds(result)
    published = set(result.patients["source_row"])
    quarantined = set(result.quarantine["source_row"])
    assert published | quarantined == set(range(1, len(spec) + 1))
    assert not published & quarantined
    assert result.quarantine["check_code"].notna().all()
    dirty = {number for number, row in enumerate(spec, start=1) if _is_dirty(*row)}
    assert dirty <= quarantined
