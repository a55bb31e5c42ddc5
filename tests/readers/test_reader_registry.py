"""The registry of source kinds and the options model of each."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from spinemet_etl.readers.options import (
    OPTIONS_FOR_KIND,
    CsvOptions,
    RedcapOptions,
    TsvOptions,
    XlsxOptions,
    parse_options,
)
from spinemet_etl.readers.registry import SUPPORTED_KINDS, reader_for


def test_supported_kinds() -> None:
    assert set(SUPPORTED_KINDS) == {"csv", "tsv", "xlsx", "xls", "sav", "redcap"}


@pytest.mark.parametrize("kind", SUPPORTED_KINDS, ids=SUPPORTED_KINDS)
def test_every_kind_has_a_reader(kind: str) -> None:
    assert callable(reader_for(kind, "boston").read)


def test_unknown_kind() -> None:
    with pytest.raises(KeyError, match="supported: csv, tsv"):
        reader_for("parquet")


def test_parse_options_per_kind() -> None:
    assert parse_options("tsv", None) == TsvOptions()
    assert TsvOptions().delimiter == "\t"
    assert parse_options("csv", {"delimiter": ";", "encoding": "cp1252"}) == CsvOptions(
        delimiter=";", encoding="cp1252"
    )
    xlsx = parse_options("xlsx", {"sheets": ["Pazienti"], "header_row_by_sheet": {"Pazienti": 3}})
    assert isinstance(xlsx, XlsxOptions)
    assert (xlsx.header_row_for("Pazienti"), xlsx.header_row_for("Visite")) == (3, 1)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("csv", {"delimiter": ";;"}),
        ("csv", {"header_row": 0}),
        ("xlsx", {"max_decompression_ratio": 0.5}),
        ("redcap", {}),
        ("sav", {"sheets": ["x"]}),
    ],
    ids=["two-char-delimiter", "header-row-0", "ratio-below-1", "no-dictionary", "extra-key"],
)
def test_invalid_options(kind: str, raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_options(kind, raw)


def test_every_field_is_documented() -> None:
    for model in OPTIONS_FOR_KIND.values():
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"


def test_options_are_frozen() -> None:
    options = XlsxOptions()
    with pytest.raises(ValidationError):
        options.header_row = 3  # type: ignore[misc]
    assert RedcapOptions(data_dictionary="d.csv").encoding == "utf-8"


def test_options_of_another_kind_are_revalidated(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(b"id\tsex\n1\tmale\n")
    [table] = reader_for("tsv").read(path, "t.tsv", CsvOptions(encoding="utf-8"))
    assert table.frame["sex"].tolist() == ["male"]  # tab kept: only set fields carry over
