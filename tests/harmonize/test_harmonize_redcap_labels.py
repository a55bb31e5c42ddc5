"""A REDCap export of labels ("CSV (labels)") where the raw data is expected is refused.

Read as codes, its checkboxes (`Checked`) would be unticked on every row and a label that
is also another code would be that code: the center is refused, naming the column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spinemet_etl.errors import SourceError
from tests.harmonize.harmonize_helpers import row_of, run, write_mapping

MAPPING = """\
center_id: demo
tables:
  - name: basal
    kind: redcap
    files: "DATA.csv"
    read: {data_dictionary: "DataDictionary.csv"}
    patient_id: record_id
    columns:
      sex: {source: sexo, labels: true, values: {Hombre: male, Mujer: female}}
      age_at_surgery_years: edad
      primary_tumor: {checkbox: tumor, values: {"1": lung, "2": breast}}
      surgery_date: fecha_cirugia
      procedure: {constant: palliative}
      intraop_death: {constant: false}
      vital_status: {constant: alive}
      last_contact_date: fecha_contacto
      ecog_preop: {source: ecog, labels: true}
"""
DICTIONARY = """\
"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",\
"Choices, Calculations, OR Slider Labels","Field Note"
record_id,basal,,text,"ID",,
sexo,basal,,radio,"Sexo","1, Hombre | 2, Mujer",
edad,basal,,text,"Edad",,
tumor,basal,,checkbox,"Tumor primario","1, Pulmón | 2, Mama",
fecha_cirugia,basal,,text,"Fecha de cirugía",,
fecha_contacto,basal,,text,"Último contacto",,
ecog,basal,,radio,"ECOG","1, 0 | 2, 1 | 3, 2 | 4, 3 | 5, 4 | 6, 5 | 9, NA",
"""
HEADER = (
    "record_id,sexo,edad,tumor___1,tumor___2,fecha_cirugia,fecha_contacto,ecog,basal_complete\n"
)
RAW = HEADER + ("1,1,61,1,0,2020-01-10,2021-01-10,2,2\n2,2,55,0,1,2020-02-11,2021-02-11,3,2\n")


def _center(tmp_path: Path, data: str) -> tuple[Path, Path]:
    landing = tmp_path / "landing" / "demo"
    landing.mkdir(parents=True)
    (landing / "DATA.csv").write_text(data, encoding="utf-8")
    (landing / "DataDictionary.csv").write_text(DICTIONARY, encoding="utf-8")
    return write_mapping(tmp_path / "centers", MAPPING), tmp_path / "landing"


def test_the_raw_export_reads_each_code(tmp_path: Path) -> None:
    result = run(*_center(tmp_path, RAW))
    assert len(result.quarantine) == 0
    first, second = row_of(result, "1"), row_of(result, "2")
    assert (first["sex"], first["primary_tumor"], first["ecog_preop"]) == ("male", "lung", 1)
    assert (second["sex"], second["primary_tumor"], second["ecog_preop"]) == ("female", "breast", 2)


@pytest.mark.parametrize(
    ("column", "labelled", "shown"),
    [("tumor___1", "1,1,61,Checked,Unchecked,", "Checked"),
     ("sexo", "1,Hombre,61,1,0,", "Hombre"),
     ("ecog", None, "0")],
)  # fmt: skip
def test_an_export_of_labels_is_refused_naming_the_column(
    tmp_path: Path, column: str, labelled: str | None, shown: str
) -> None:
    if labelled is None:  # ECOG's labels 1-5 are codes too (a misread), but 0 is none
        data = RAW.replace(",2021-01-10,2,2", ",2021-01-10,0,2")
    else:
        data = RAW.replace("1,1,61,1,0,", labelled)
    with pytest.raises(SourceError) as caught:
        run(*_center(tmp_path, data))
    assert caught.value.code == "redcap-labels-export"
    message = caught.value.message
    assert f"column `{column}`" in message and f"`{shown}`" in message
    assert 'export the data from REDCap again as "CSV (raw data)"' in message


@pytest.mark.parametrize("declared", [True, False])
def test_a_missing_data_code_that_is_a_label_refuses_only_when_undeclared(
    tmp_path: Path, declared: bool
) -> None:
    """REDCap writes a project's missing-data codes (`NA`) as they are, in any field."""
    data = RAW.replace(",2021-01-10,2,2", ",2021-01-10,NA,2")
    mapping, landing = _center(tmp_path, data)
    if declared:
        text = mapping.read_text(encoding="utf-8")
        mapping.write_text(text.replace("    columns:", '    missing: ["NA"]\n    columns:'))
        assert row_of(run(mapping, landing), "1")["ecog_preop"] is pd.NA
        return
    with pytest.raises(SourceError) as caught:
        run(mapping, landing)
    assert caught.value.code == "redcap-labels-export"
    assert "if `NA` is one of the project's missing-data codes, list it under `missing`" in (
        caught.value.message
    )
