"""REDCap reader: a longitudinal raw export with repeating instrument, plus its data dictionary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spinemet_etl.errors import SourceError
from spinemet_etl.readers.arrow_csv import column_names
from spinemet_etl.readers.base import ColumnPick
from spinemet_etl.readers.registry import reader_for

RAW = """\
record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,sexo,fecha_cirugia,\
comorb___1,comorb___2,comorb___98,baseline_complete,fecha_visita,estado,seguimiento_complete
1,baseline_arm_1,,,1,2019-03-04,1,0,0,2,,,
1,seguimiento_arm_1,seguimiento,1,,,,,,,2019-06-01,1,2
1,seguimiento_arm_1,seguimiento,2,,,,,,,2019-12-01,2,2
2,baseline_arm_1,,,2,2020-01-10,0,1,0,1,,,
"""

DICTIONARY = """\
"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",\
"Choices, Calculations, OR Slider Labels","Field Note"
record_id,baseline,,text,"ID",,
sexo,baseline,,radio,"Sexo","1, Hombre | 2, Mujer",
fecha_cirugia,baseline,,text,"Fecha de cirugía",,
comorb,baseline,,checkbox,"Comorbilidades","1, Diabetes | 2, Hipertensión, arterial | 98, Otra",
edad,baseline,,calc,"Edad","datediff([fecha_nac],[fecha_cirugia],'y')",
fecha_visita,seguimiento,,text,"Fecha de visita",,
estado,seguimiento,,dropdown,"Estado","1, Vivo | 2, Fallecido",
recidiva,seguimiento,,yesno,"Recidiva local",,
"""


def landing(tmp_path: Path, dictionary: str = DICTIONARY) -> Path:
    (tmp_path / "SPINEMET_DATA_2026-11-25.csv").write_text(RAW, encoding="utf-8")
    (tmp_path / "SPINEMET_DataDictionary_2026-11-01.csv").write_text("old,dictionary\n")
    (tmp_path / "SPINEMET_DataDictionary_2026-11-25.csv").write_text(
        "\ufeff" + dictionary, encoding="utf-8"
    )
    return tmp_path / "SPINEMET_DATA_2026-11-25.csv"


def read(path: Path, pattern: str = "SPINEMET_DataDictionary_*.csv") -> list:
    return reader_for("redcap", "barcelona").read(path, path.name, {"data_dictionary": pattern})


def test_records_and_repeating_instrument_tables(tmp_path: Path) -> None:
    records, visits = read(landing(tmp_path))
    assert records.name == "records"
    assert records.frame["record_id"].tolist() == ["1", "2"]
    assert records.frame["redcap_event_name"].tolist() == ["baseline_arm_1"] * 2
    assert records.frame["sexo"].tolist() == ["1", "2"]
    assert records.frame["comorb___2"].tolist() == ["0", "1"]
    assert records.frame["_source_row"].tolist() == [1, 4]
    assert visits.name == "seguimiento"
    assert visits.frame["redcap_repeat_instance"].tolist() == ["1", "2"]
    assert visits.frame["estado"].tolist() == ["1", "2"]
    assert visits.frame["_source_row"].tolist() == [2, 3]
    assert visits.frame["_source_file"].tolist() == ["SPINEMET_DATA_2026-11-25.csv"] * 2


def test_choice_labels_from_the_newest_dictionary(tmp_path: Path) -> None:
    records, visits = read(landing(tmp_path))
    labels = records.labels
    assert labels["sexo"] == {"1": "Hombre", "2": "Mujer"}
    assert labels["estado"] == {"1": "Vivo", "2": "Fallecido"}
    for column in ("comorb___1", "comorb___2", "comorb___98"):
        assert labels[column] == {"1": "Checked", "0": "Unchecked"}
    assert labels["baseline_complete"] == {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
    assert "seguimiento_complete" in labels
    assert "edad" not in labels and "recidiva" not in labels  # calc; not in the export
    assert visits.labels == labels


def test_choice_label_holding_a_comma(tmp_path: Path) -> None:
    from spinemet_etl.errors import Place
    from spinemet_etl.readers.redcap import checkbox_column, parse_choices

    choices = parse_choices("1, Diabetes | 2, Hipertensión, arterial", "c", Place("b", "d.csv"))
    assert choices == {"1": "Diabetes", "2": "Hipertensión, arterial"}
    assert checkbox_column("comorb", "-1") == "comorb____1"


def test_dictionary_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        read(landing(tmp_path), pattern="dictionary.csv")
    assert caught.value.code == "dictionary-not-found"
    assert "center `barcelona`, file `SPINEMET_DATA_2026-11-25.csv`" in caught.value.message
    assert "`dictionary.csv`" in caught.value.message


def test_dictionary_without_choices_column(tmp_path: Path) -> None:
    broken = DICTIONARY.replace("Choices, Calculations, OR Slider Labels", "Choices")
    with pytest.raises(SourceError) as caught:
        read(landing(tmp_path, broken))
    assert caught.value.code == "dictionary-invalid"
    assert "file `SPINEMET_DataDictionary_2026-11-25.csv`" in caught.value.message


def test_dictionary_with_a_malformed_choice(tmp_path: Path) -> None:
    broken = DICTIONARY.replace('"1, Vivo | 2, Fallecido"', '"1, Vivo | Fallecido"')
    with pytest.raises(SourceError) as caught:
        read(landing(tmp_path, broken))
    assert caught.value.code == "dictionary-invalid"
    assert "column `estado`" in caught.value.message


def test_empty_export(tmp_path: Path) -> None:
    path = landing(tmp_path)
    path.write_bytes(b"")
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.code == "file-empty"


def test_a_pick_keeps_its_columns_and_the_instrument_split(tmp_path: Path) -> None:
    path = landing(tmp_path)
    pick = ColumnPick(frozenset({"record_id", "estado"}), ("comorb___",))
    records, visits = reader_for("redcap", "barcelona").read(
        path, path.name, {"data_dictionary": "SPINEMET_DataDictionary_*.csv"}, pick=pick
    )
    whole_records, whole_visits = read(path)
    assert "sexo" not in records.frame.columns
    assert "redcap_repeat_instrument" in records.frame.columns  # the split needs it
    assert column_names(records) == list(whole_records.frame.columns)
    for part, whole in ((records, whole_records), (visits, whole_visits)):
        pd.testing.assert_frame_equal(part.frame, whole.frame[part.frame.columns])
    assert visits.frame["estado"].tolist() == ["1", "2"]
    assert records.labels["comorb___1"] == {"1": "Checked", "0": "Unchecked"}
