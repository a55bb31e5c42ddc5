"""REDCap number fields: each read with the decimal mark its validation in the dictionary gives.

The export is REDCapR's test project `decimal-comma-and-dot` (tests/harmonize/redcapr/):
`1,54` in a field validated `number_comma_decimal` and `1.54` in one validated `number`,
side by side, as REDCap holds them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from spinemet_etl.errors import Place
from spinemet_etl.readers.options import RedcapOptions
from spinemet_etl.readers.redcap import decimal_marks_from_dictionary, read_dictionary
from tests.harmonize.harmonize_helpers import reasons, row_of, run, write_mapping

REDCAPR = Path(__file__).parent / "redcapr" / "decimal-comma-and-dot"
HEIGHTS = {"1": 1.54, "2": 1.84, "3": 1.95, "4": 1.61}
"""The heights of REDCapR's four records, as its `height_dot` and `height_comma` hold them."""
NAMES = {"1": "Valdez", "2": "Rich", "3": "Furtado", "4": "Akbar"}

MAPPING = """\
center_id: demo
tables:
  - name: demographics
    kind: redcap
    files: "data.csv"
    read: {data_dictionary: "dictionary.csv"}
    patient_id: record_id
    identifiers: [name]
    columns:
      sex: {constant: female}
      age_at_surgery_years: {constant: 60}
      primary_tumor: {constant: lung}
      surgery_date: fecha_cirugia
      procedure: {constant: palliative}
      intraop_death: {constant: false}
      vital_status: {constant: alive}
      last_contact_date: fecha_contacto
      vas_pain_preop: height_comma
      vas_pain_postop: height_dot
"""


def _center(tmp_path: Path, mapping: str = MAPPING) -> tuple[Path, Path]:
    """The export with two date columns added after REDCap's own (their cells unchanged)."""
    landing = tmp_path / "landing" / "demo"
    landing.mkdir(parents=True)
    shutil.copy(REDCAPR / "dictionary.csv", landing / "dictionary.csv")
    header, *rows = (REDCAPR / "data.csv").read_text(encoding="utf-8").splitlines()
    lines = [f"{header},fecha_cirugia,fecha_contacto"]
    lines += [f"{row},2020-01-10,2021-01-10" for row in rows]
    (landing / "data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return write_mapping(tmp_path / "centers", mapping), tmp_path / "landing"


JOINED = """\
  - name: heights
    role: join
    kind: redcap
    files: "data.csv"
    read: {data_dictionary: "dictionary.csv"}
    patient_id: record_id
    columns:
      vas_pain_postop: height_dot
"""


@pytest.mark.parametrize("shape", ["own-id", "record-id", "two-tables"])
def test_each_number_field_is_read_with_its_validations_mark(tmp_path: Path, shape: str) -> None:
    mapping = MAPPING
    if shape == "record-id":  # the id carried over the record's rows (a frame when typed)
        mapping = MAPPING.replace("    identifiers: [name]\n", "").replace(
            "    patient_id: record_id", "    record_id: record_id\n    patient_id: name"
        )
    if shape == "two-tables":  # the export's last table takes only its own columns
        mapping = MAPPING.replace("      vas_pain_postop: height_dot\n", "") + JOINED
    carried = shape == "record-id"
    result = run(*_center(tmp_path, mapping))
    assert len(result.quarantine) == 0 and len(result.patients) == 4
    for record, height in HEIGHTS.items():
        row = row_of(result, NAMES[record] if carried else record)
        assert row["vas_pain_preop"] == height  # "1,54": number_comma_decimal
        assert row["vas_pain_postop"] == height  # "1.54": number


@pytest.mark.parametrize(
    ("stated", "refused", "written"),
    [('decimal: ","', "vas_pain_postop", ["1.54", "1.84", "1.95", "1.61"]),
     ("thousands: \"'\"", "vas_pain_preop", ["1,54", "1,84", "1,95", "1,61"])],
    ids=["decimal", "thousands"],
)  # fmt: skip
def test_the_marks_the_table_states_win_over_the_dictionarys(
    tmp_path: Path, stated: str, refused: str, written: list[str]
) -> None:
    """A table's `thousands` states its decimal mark too: the default `.` beside it."""
    mapping = MAPPING.replace("    identifiers:", f"    {stated}\n    identifiers:")
    result = run(*_center(tmp_path, mapping))
    assert len(result.patients) == 0
    expected = [(row, refused, "unparseable-number", value) for row, value in enumerate(written, 1)]
    assert reasons(result) == expected
    mark = "." if refused == "vas_pain_postop" else ","
    hint = f'validates the field with `{mark}`: state `decimal: "{mark}"` on the column'
    assert all(hint in message for message in result.quarantine["message"])


@pytest.mark.parametrize("stated", ['decimal: "."', 'thousands: "\'"'])
def test_the_marks_the_column_states_win(tmp_path: Path, stated: str) -> None:
    mapping = MAPPING.replace(
        "vas_pain_preop: height_comma", f"vas_pain_preop: {{source: height_comma, {stated}}}"
    )
    result = run(*_center(tmp_path, mapping))
    codes = {(code, column) for _row, column, code, _value in reasons(result)}
    assert codes == {("unparseable-number", "vas_pain_preop")}
    assert len(result.patients) == 0


def test_the_dictionary_states_a_mark_only_for_text_fields_validated_as_numbers() -> None:
    dictionary = pd.DataFrame(
        {
            "field": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
            "form": "f",
            "type": ["text", "text", "TEXT", "text", "slider", "calc", "text", "text", "text",
                     "text"],
            "choices": None,
            "validation": ["number_comma_decimal", "number_2dp_comma_decimal", "number",
                           "integer", "number", None, "date_dmy", "number_3dp", " float ",
                           "number_comma"],
        }
    )  # fmt: skip
    assert decimal_marks_from_dictionary(dictionary) == {
        "a": ",", "b": ",", "c": ".", "d": ".", "h": ".", "i": ".",
    }  # fmt: skip
    assert decimal_marks_from_dictionary(dictionary.drop(columns=["validation"])) == {}


def test_the_real_dictionarys_validations() -> None:
    place = Place("demo", "dictionary.csv")
    dictionary = read_dictionary(
        REDCAPR / "dictionary.csv", RedcapOptions(data_dictionary="dictionary.csv"), place
    )
    assert decimal_marks_from_dictionary(dictionary) == {
        "height_dot": ".", "height_comma": ",", "weight_dot": ".", "weight_comma": ",",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "written", "typed", "column"),
    [("height_comma", '"1,54"', "1.540", "vas_pain_preop"),
     ("height_dot", "1.54", "1,540", "vas_pain_postop")],
)  # fmt: skip
def test_the_other_mark_is_never_read_as_a_thousands_separator(
    tmp_path: Path, field: str, written: str, typed: str, column: str
) -> None:
    mapping, landing = _center(tmp_path)
    data = landing / "demo" / "data.csv"
    text = data.read_text(encoding="utf-8")
    assert text.count(written) == 1
    data.write_text(text.replace(written, f'"{typed}"'), encoding="utf-8")
    result = run(mapping, landing)
    assert reasons(result) == [(1, column, "unparseable-number", typed)]  # not 1540
    assert len(result.patients) == 3
