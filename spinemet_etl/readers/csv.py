"""Reader for delimited text exports (CSV, TSV): every value as text, blanks as None."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spinemet_etl.errors import Place, source_error
from spinemet_etl.readers.arrow_csv import ArrowRawTable, Layout, arrow_file_rows
from spinemet_etl.readers.base import ColumnPick, RawTable
from spinemet_etl.readers.common import (
    build_table,
    check_file,
    check_rows,
    coerce_options,
    drop_trailing_blank,
)
from spinemet_etl.readers.options import CsvOptions

MAX_LINE_BYTES = 8 * 1024 * 1024
"""Refuse a physical line longer than this: no export has one, and parsing it costs memory."""
_CHUNK_BYTES = 1024 * 1024
_SCAN_BYTES = 16 * _CHUNK_BYTES
_LF, _CR = ord("\n"), ord("\r")
_SINGLE_BYTE_ENCODINGS = frozenset(
    {"cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1257", "mac_roman"}
    | {f"iso8859_{n}" for n in range(1, 17)}
)
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xc5][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
"""UTF-8 sequences that are evidence of UTF-8 text in a single-byte file: the two-byte
ones of U+0080-U+017F (Western European letters and signs: `ü` is `Ã¼` in cp1252), and
every longer one. Other two-byte sequences are ordinary cp1252 pairs (`ß“` is DF 93)."""

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


def check_final_line_break(data: bytes, place: Place) -> None:
    """Refuse a file whose last line lacks the line break that ends every other line.

    Notes:
        A file cut off while being written or copied ends mid-record: `…;30` cut to `…;3`
        reads as a shorter follow-up with nothing wrong to see. A one-line file (a header
        alone) is not judged. The settle time (or a marker file the center writes last) is
        the guard against files still being uploaded; this catches what gets past it.
    """
    ended = data.rstrip(b"\x00").endswith((b"\n", b"\r"))  # UTF-16-LE ends in `\n\x00`
    if ended or not data or (b"\n" not in data and b"\r" not in data):
        return
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    raise source_error(
        Place(place.center_id, place.file, line=lines),
        "the last line has no line break though every other line has one",
        "the file looks cut off (still uploading?); wait for the complete export, "
        "or ask the center to export it again",
        code="file-truncated",
    )


def check_line_lengths(path: Path, place: Place, limit: int = MAX_LINE_BYTES) -> None:
    """Refuse a file with a physical line longer than `limit` bytes, reading 16 MiB at a time.

    Runs before the file is read whole, so a single huge line (a binary file, a missing
    line break, an attack) costs a bounded amount of memory. Line breaks are found with
    numpy; the line is counted only for the error.
    """
    longest = current = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_SCAN_BYTES), b""):
            raw = np.frombuffer(chunk, dtype=np.uint8)
            breaks = np.flatnonzero((raw == _LF) | (raw == _CR))
            if breaks.size:
                inner = int((np.diff(breaks) - 1).max(initial=0))
                longest = max(longest, current + int(breaks[0]), inner)
                current = len(chunk) - int(breaks[-1]) - 1
            else:
                current += len(chunk)
            if max(longest, current) > limit:
                _name_long_line(path, place, limit)


def _name_long_line(path: Path, place: Place, limit: int) -> None:
    current, line = 0, 1
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            parts = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            for index, part in enumerate(parts):
                current = current + len(part) if index == 0 else len(part)
                if current > limit:
                    raise source_error(
                        Place(place.center_id, place.file, line=line),
                        f"the line is longer than {limit} bytes",
                        "check that the file is a CSV export with line breaks, not a binary "
                        "or damaged file",
                        code="line-too-long",
                    )
                line += index < len(parts) - 1


def check_raw_text(data: bytes, encoding: str, place: Place) -> None:
    """The checks on a delimited export's bytes before it is parsed: complete, one encoding."""
    check_final_line_break(data, place)
    check_single_encoding(data, encoding, place)


def check_single_encoding(data: bytes, encoding: str, place: Place) -> None:
    """Refuse UTF-8 text in a file declared in a single-byte encoding such as cp1252.

    Notes:
        Decoding UTF-8 bytes as cp1252 never fails, it silently turns `Müller` into
        `MÃ¼ller`. A UTF-8 sequence of a Western European letter or sign, or of three or
        four bytes, is almost never meaningful cp1252 text, so its presence means the file
        (or part of it, when an export was pasted together from two systems) is UTF-8; the
        line of the first one is named. Other valid two-byte sequences (`ß“`, `Ñ”`) are
        common cp1252 text and do not count: such a file decodes as declared.
    """
    if data.startswith(tuple(bom for bom, _ in _BOMS)):
        return  # a byte-order mark names the encoding (decode_text)
    if codecs.lookup(encoding).name.replace("-", "_") not in _SINGLE_BYTE_ENCODINGS:
        return
    found = _first_utf8_sequence(data)
    if found is None:
        return
    try:
        data.decode("utf-8")
        problem = f"the file is UTF-8 text, not {encoding}"
        todo = "set `encoding: utf-8` in the mapping file's source options"
    except UnicodeDecodeError:
        problem = f"the file mixes UTF-8 and {encoding} text"
        todo = "ask the center to export the whole file in one encoding"
    raise source_error(
        Place(place.center_id, place.file, line=data.count(b"\n", 0, found) + 1),
        problem,
        todo,
        code="encoding-error",
    )


def _first_utf8_sequence(data: bytes) -> int | None:
    """The offset of the first UTF-8 sequence that is evidence of UTF-8 text, if any.

    Only a lead byte followed by a continuation byte can start one; numpy finds those
    16 MiB at a time and the pattern is tried there alone (ASCII text has none).
    """
    if data.isascii():
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    for offset in range(0, raw.size, _SCAN_BYTES):
        chunk = raw[offset : offset + _SCAN_BYTES + 1]
        lead = (chunk[:-1] >= 0xC2) & (chunk[:-1] <= 0xF4) & ((chunk[1:] & 0xC0) == 0x80)
        for start in np.flatnonzero(lead) + offset:
            if _UTF8_MULTIBYTE.match(data, int(start)):
                return int(start)
    return None


@dataclass(frozen=True)
class CsvReader:
    """Reads a CSV or TSV export into one RawTable named after the file's stem."""

    center_id: str = "unknown"
    options_model: type[CsvOptions] = CsvOptions

    def read(
        self, path: Path, relative_name: str, options: Any, pick: ColumnPick | None = None
    ) -> list[RawTable]:
        """The export as one table; only the columns of `pick` on the fast path, if given."""
        opts = coerce_options(options, self.options_model)
        place = Place(self.center_id, relative_name)
        check_file(path, place, opts)
        check_line_lengths(path, place)
        layout = Layout(opts.delimiter, opts.quotechar, opts.header_row, opts.skip_rows)
        name = Path(relative_name).stem
        found = arrow_file_rows(
            path, opts.encoding, layout, opts, place=place, pick=pick,
            check=lambda raw: check_raw_text(raw, opts.encoding, place),
        )  # fmt: skip
        if isinstance(found, bytes):
            return [read_reference(found, opts, name, place)]
        return [ArrowRawTable(name, found[0], header=found[1])]


def read_reference(raw: bytes, opts: CsvOptions, name: str, place: Place) -> RawTable:
    """The table as Python's csv module reads it: exact, slow, and the one that names errors.

    Notes:
        arrow_file_rows handles every ordinary export; this path runs only for text it cannot
        vouch for (odd quoting, empty lines, ragged or short records, a decoding error), so
        every error keeps its line number.
    """
    text = decode_text(raw, opts.encoding, place)
    rows, lines = parse_rows(text, opts, place)
    header, data = split_header(rows, opts, place)
    check_widths(header, data, lines[len(rows) - len(data) :], place)
    data = drop_trailing_blank(data)
    check_rows(len(data), place, opts)
    return build_table(
        name,
        header,
        data,
        relative_name=place.file,
        sheet=None,
        first_row_number=1 + opts.skip_rows,
    )
