"""SAV reader on files written by pyreadstat with value labels, user-missing codes and dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from spinemet_etl.errors import SourceError
from spinemet_etl.readers.base import PROVENANCE_COLUMNS
from spinemet_etl.readers.registry import reader_for


def read(path: Path, **options: object) -> list:
    return reader_for("sav", "rotterdam").read(path, path.name, options)


def spss_file(path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "pid": ["R1", "R2", ""],
            "geslacht": [1.0, 2.0, 9.0],
            "ecog": [1.0, 99.0, None],
            "fu_mnd": [12.5, 995.0, 991.0],
            "ok_datum": [dt.date(2010, 1, 2), dt.date(2011, 5, 6), None],
        }
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={"geslacht": {1: "man", 2: "vrouw", 9: "onbekend"}},
        missing_ranges={"ecog": [99], "geslacht": [9], "fu_mnd": [{"lo": 990, "hi": 999}]},
    )
    return path


def test_numbers_dates_labels_and_user_missing(tmp_path: Path) -> None:
    [table] = read(spss_file(tmp_path / "cohort.sav"))
    frame = table.frame
    assert table.name == "cohort"
    assert list(frame.columns) == ["pid", "geslacht", "ecog", "fu_mnd", "ok_datum",
                                   *PROVENANCE_COLUMNS]  # fmt: skip
    assert frame["pid"].tolist() == ["R1", "R2", None]
    assert frame["geslacht"].tolist() == [1.0, 2.0, 9.0]  # user-missing codes kept as values
    assert frame["ecog"].tolist()[:2] == [1.0, 99.0]
    assert frame["ok_datum"].tolist()[:2] == [
        pd.Timestamp("2010-01-02"),
        pd.Timestamp("2011-05-06"),
    ]
    assert pd.isna(frame["ok_datum"].iloc[2])
    assert table.labels == {"geslacht": {1.0: "man", 2.0: "vrouw", 9.0: "onbekend"}}
    # a range (990 thru 999) is reported as the values inside it that occur in the data
    assert table.user_missing == {"geslacht": [9.0], "ecog": [99.0], "fu_mnd": [991.0, 995.0]}
    assert frame["_source_row"].tolist() == [1, 2, 3]
    assert frame["_sheet"].isna().all()


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "file-empty"), (b"$FL2 not really spss", "not-an-spss-file")],
    ids=["empty", "garbage"],
)
def test_unreadable_files(tmp_path: Path, data: bytes, code: str) -> None:
    path = tmp_path / "bad.sav"
    path.write_bytes(data)
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.code == code
    assert "center `rotterdam`, file `bad.sav`" in caught.value.message


def test_truncated_sav(tmp_path: Path) -> None:
    whole = spss_file(tmp_path / "w.sav").read_bytes()
    path = tmp_path / "cut.sav"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceError) as caught:
        read(path)
    assert caught.value.code == "not-an-spss-file"
