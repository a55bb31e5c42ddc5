"""Reader for delimited text exports (CSV, TSV): every value as text, blanks as None."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spinemet_etl.errors import Place, source_error
from spinemet_etl.readers.base import RawTable
from spinemet_etl.readers.common import (
    build_table,
    check_file,
    check_rows,
    coerce_options,
    drop_trailing_blank,
)
from spinemet_etl.readers.options import CsvOptions

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, encoding: str, place: Place) -> str:
    """The file's text, decoded with its byte-order mark's encoding if it has one, else `encoding`.

    Notes:
        A byte-order mark is authoritative (as in Excel): a UTF-8 BOM means UTF-8 even if
        the mapping file says cp1252, and the mark itself never reaches a column name.
        Text holding NUL characters is refused: it is a binary file, or UTF-16 read as
        something else.
    """
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            encoding = bom_encoding
            break
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise source_error(
            Place(place.center_id, place.file, place.sheet, line=line),
            f"the bytes at offset {exc.start} are not valid {encoding}",
            "set `encoding` in the mapping file's source options to the file's real encoding "
            "(European exports are often `cp1252` or `latin-1`)",
            code="encoding-error",
        ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        offset = text.index("\x00")
        raise source_error(
            Place(place.center_id, place.file, place.sheet, line=text.count("\n", 0, offset) + 1),
            f"the file holds NUL characters (first at character {offset}), so it is not text",
            "check that the center sent the CSV, not a binary file, and that `encoding` is right",
            code="binary-content",
        )
    return text


def parse_rows(text: str, options: CsvOptions, place: Place) -> tuple[list[list[str]], list[int]]:
    """All records of the text as lists of field strings, and the line each record ends on.

    Quoting and line breaks inside quoted fields are honored.
    """
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=options.delimiter,
        quotechar=options.quotechar,
        strict=True,
    )
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error:
        raise source_error(
            Place(place.center_id, place.file, line=reader.line_num),
            "the line is not valid delimited text (an unclosed or stray quote)",
            "check the file's quoting, and `delimiter`/`quotechar` in the mapping file",
            code="malformed-csv",
        ) from None
    return rows, lines


def split_header(
    rows: list[list[str]], options: CsvOptions, place: Place
) -> tuple[list[str], list[list[str]]]:
    """The header record and the data records below it (after `skip_rows`), title rows dropped."""
    if not any(any(field.strip() for field in row) for row in rows):
        raise source_error(
            place, "the file holds no text", "ask the center to export it again", code="file-empty"
        )
    if len(rows) < options.header_row:
        raise source_error(
            place,
            f"the file has {len(rows)} rows, so there is no header at row {options.header_row}",
            "check `header_row` in the mapping file's source options",
            code="header-not-found",
        )
    header = rows[options.header_row - 1]
    return header, rows[options.header_row + options.skip_rows :]


def check_widths(header: list[str], rows: list[list[str]], lines: list[int], place: Place) -> None:
    """Refuse a record with more non-blank fields than the header: its values would shift."""
    for row, line in zip(rows, lines, strict=True):
        if len(row) > len(header) and any(field.strip() for field in row[len(header) :]):
            raise source_error(
                Place(place.center_id, place.file, line=line),
                f"the record has {len(row)} fields but the header has {len(header)}",
                "check `delimiter` in the mapping file (a decimal comma in a comma-separated "
                "file?) and that fields holding the delimiter are quoted",
                code="ragged-row",
            )


def check_complete(text: str, header: list[str], data: list[list[str]], place: Place) -> None:
    """Refuse a file cut off mid-record: no final line break and a short last record."""
    if data and not text.endswith(("\n", "\r")) and 0 < len(data[-1]) < len(header):
        raise source_error(
            Place(place.center_id, place.file, line=text.count("\n") + 1),
            f"the last record has {len(data[-1])} of {len(header)} fields and no line break",
            "the file looks cut off (still uploading?); wait for the complete export",
            code="file-truncated",
        )


@dataclass(frozen=True)
class CsvReader:
    """Reads a CSV or TSV export into one RawTable named after the file's stem."""

    center_id: str = "unknown"
    options_model: type[CsvOptions] = CsvOptions

    def read(self, path: Path, relative_name: str, options: Any) -> list[RawTable]:
        opts = coerce_options(options, self.options_model)
        place = Place(self.center_id, relative_name)
        check_file(path, place, opts)
        text = decode_text(path.read_bytes(), opts.encoding, place)
        rows, lines = parse_rows(text, opts, place)
        header, data = split_header(rows, opts, place)
        check_widths(header, data, lines[len(rows) - len(data) :], place)
        check_complete(text, header, data, place)
        data = drop_trailing_blank(data)
        check_rows(len(data), place, opts)
        table = build_table(
            Path(relative_name).stem,
            header,
            data,
            relative_name=relative_name,
            sheet=None,
            first_row_number=1 + opts.skip_rows,
        )
        return [table]
