"""Typed reader options, one model per source kind, as a mapping file's source options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MIB = 1024 * 1024


class ReaderOptions(BaseModel):
    """Options every reader understands: the size limits that protect a run from a bad file.

    The pipeline fills the limits from its settings (`max_file_mb`, `max_rows`,
    `max_decompression_ratio`) unless the mapping file sets them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(
        default=512 * MIB,
        gt=0,
        description="Refuse an export file larger than this many bytes (code `file-too-large`).",
    )
    max_rows: int = Field(
        default=20_000_000,
        gt=0,
        description="Refuse a table with more data rows than this (code `too-many-rows`).",
    )


class HeaderOptions(ReaderOptions):
    """Where the header is, for the tabular kinds (CSV, TSV, Excel)."""

    header_row: int = Field(
        default=1,
        ge=1,
        description=(
            "1-based row number of the header row; rows above it (title rows, export "
            "banners) are skipped. `_source_row` 1 is the row right below the header."
        ),
    )
    skip_rows: int = Field(
        default=0,
        ge=0,
        description=(
            "Rows right below the header that hold no data (a units row, a second header "
            "line); they are skipped but still counted in `_source_row`."
        ),
    )


class CsvOptions(HeaderOptions):
    """A delimited text export. Every value is read as text; an empty field becomes None.

    The decimal mark is not applied here: numbers stay text until the mapping parses them.
    """

    encoding: str = Field(
        default="utf-8",
        description=(
            "Text encoding of the file, e.g. `utf-8`, `cp1252`, `latin-1`. A byte-order "
            "mark at the start of the file wins over this setting and is removed."
        ),
    )
    delimiter: str = Field(
        default=",",
        min_length=1,
        max_length=1,
        description="Field separator, one character: `,`, `;`, `\\t` or `|`.",
    )
    quotechar: str = Field(
        default='"',
        min_length=1,
        max_length=1,
        description="Character that quotes fields holding the delimiter or line breaks.",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(
                f"unknown encoding {value!r}; use e.g. utf-8, cp1252, latin-1"
            ) from exc
        return value


class TsvOptions(CsvOptions):
    """A tab-separated export: CSV options with a tab as the default delimiter."""

    delimiter: str = Field(
        default="\t",
        min_length=1,
        max_length=1,
        description="Field separator, one character; a tab unless set.",
    )


class WorkbookOptions(HeaderOptions):
    """Sheet selection, shared by .xlsx and .xls workbooks."""

    sheets: list[str] | None = Field(
        default=None,
        description=(
            "Names of the sheets to read, each one required (code `sheet-not-found` when "
            "absent); all sheets when omitted. One RawTable per sheet, named after it."
        ),
    )
    header_row_by_sheet: dict[str, int] = Field(
        default_factory=dict,
        description="Per-sheet override of `header_row`, by sheet name.",
    )

    def header_row_for(self, sheet: str) -> int:
        """The header row of one sheet: its override, else `header_row`."""
        return self.header_row_by_sheet.get(sheet, self.header_row)


class XlsxOptions(WorkbookOptions):
    """An Office Open XML workbook (.xlsx), read without evaluating formulas or links."""

    max_uncompressed_bytes: int = Field(
        default=2048 * MIB,
        gt=0,
        description="Refuse a workbook whose parts unpack to more bytes than this.",
    )
    max_decompression_ratio: float = Field(
        default=200.0,
        gt=1,
        description=(
            "Refuse a workbook part that unpacks to more than this many times its "
            "compressed size (code `decompression-bomb`)."
        ),
    )


class XlsOptions(WorkbookOptions):
    """A legacy BIFF8 workbook (.xls)."""


class SavOptions(ReaderOptions):
    """An SPSS .sav file: numeric codes, value labels, user-missing values, SPSS dates."""

    encoding: str | None = Field(
        default=None,
        description="Encoding of text values when the file does not declare one; usually omitted.",
    )


class RedcapOptions(ReaderOptions):
    """A REDCap "raw" CSV export (coded values) with its data dictionary CSV."""

    data_dictionary: str = Field(
        description=(
            "File name or glob pattern of the data dictionary CSV, relative to the export's "
            "folder; when a pattern matches several files the last in name order is used."
        ),
    )
    encoding: str = Field(
        default="utf-8",
        description="Text encoding of both CSV files; REDCap writes UTF-8.",
    )


OPTIONS_FOR_KIND: dict[str, type[ReaderOptions]] = {
    "csv": CsvOptions,
    "tsv": TsvOptions,
    "xlsx": XlsxOptions,
    "xls": XlsOptions,
    "sav": SavOptions,
    "redcap": RedcapOptions,
}
"""The options model of each supported source kind."""


def parse_options(kind: str, raw: dict[str, Any] | None) -> ReaderOptions:
    """Validate a mapping file's options for a kind (raises KeyError for an unknown kind)."""
    return OPTIONS_FOR_KIND[kind].model_validate(raw or {})


@dataclass(frozen=True)
class ReadLimits:
    """The run's size limits (from settings) that every reader applies to every file."""

    max_bytes: int
    max_rows: int
    max_decompression_ratio: float


def with_limits(
    options: ReaderOptions, *, max_bytes: int, max_rows: int, max_decompression_ratio: float
) -> ReaderOptions:
    """The options with the run's size limits (settings), except those the mapping file set.

    A limit written in a center's mapping file wins: it is a decision about that center.
    """
    limits: dict[str, Any] = {
        "max_bytes": max_bytes,
        "max_rows": max_rows,
        "max_decompression_ratio": max_decompression_ratio,
    }
    update = {
        name: value
        for name, value in limits.items()
        if name in type(options).model_fields and name not in options.model_fields_set
    }
    return options.model_copy(update=update)
