"""The fast path of the CSV readers: pyarrow parses, blanks become None column by column."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from spinemet_etl.errors import Place, source_error
from spinemet_etl.readers.base import ColumnPick, RawTable
from spinemet_etl.readers.common import check_rows, header_names, is_blank
from spinemet_etl.readers.options import ReaderOptions

_NEWLINE = re.compile(rb"\r\n|\r|\n")
_LF, _CR = ord("\n"), ord("\r")
_LINE_ENDS = (_LF, _CR)
_SCAN_BYTES = 16 * 1024 * 1024
_PARSE = {"threads": True}
"""Whether pyarrow parses CSV text on its own threads (parse_on_calling_thread)."""
_UTF8_BOM = codecs.BOM_UTF8
_OTHER_BOMS = ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Layout:
    """How a delimited export is laid out: separator, quote, and where its header and data are."""

    delimiter: str = ","
    quotechar: str = '"'
    header_row: int = 1
    skip_rows: int = 0


def utf8_payload(data: bytes, encoding: str) -> tuple[bytes, int] | None:
    """The file as UTF-8 bytes and the offset of its text (past a UTF-8 BOM); None if not clean.

    UTF-8 files are used as they are (pyarrow checks them while parsing); other encodings are
    decoded and encoded again. None for a decoding error or NUL characters: the reference
    path then names the line.
    """
    for bom, bom_encoding in _OTHER_BOMS:
        if data.startswith(bom):
            encoding = bom_encoding
    if data.startswith(_UTF8_BOM) or codecs.lookup(encoding).name == "utf-8":
        start = 0
        while data.startswith(_UTF8_BOM, start):  # decode_text drops a second mark too
            start += len(_UTF8_BOM)
        return None if data.find(b"\x00") >= 0 or not _utf8_throughout(data) else (data, start)
    try:
        text = data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else (text.encode("utf-8"), 0)


def _utf8_throughout(data: bytes) -> bool:
    """Whether every byte of the file is valid UTF-8, checked by Arrow without decoding.

    Notes:
        pyarrow checks UTF-8 only in the columns it keeps (ColumnPick): a file with
        text in another encoding in an unmapped column must still go to the reference
        path, which refuses it and names the line (`encoding-error`).
    """
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    text = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data))
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def read_header(payload: bytes, start: int, layout: Layout) -> tuple[list[str], int] | None:
    """The header record (row `header_row`) and the offset of the line below it.

    None unless each of the first `header_row` records is one physical line, as the offset
    of the data is found by counting lines.
    """
    ends = [found.end() for found in islice(_NEWLINE.finditer(payload, start), layout.header_row)]
    if len(ends) == layout.header_row:
        end = ends[-1]
    elif len(ends) == layout.header_row - 1 and (ends or [start])[-1] < len(payload):
        end = len(payload)  # the header is the last line, without a line break
    else:
        return None
    try:
        top = io.StringIO(payload[start:end].decode("utf-8"), newline="")
        records = list(
            csv.reader(top, delimiter=layout.delimiter, quotechar=layout.quotechar, strict=True)
        )
    except (UnicodeDecodeError, csv.Error):
        return None
    if len(records) != layout.header_row or all(is_blank(cell) for cell in records[-1]):
        return None
    return records[-1], end


def quoted_line_breaks(payload: bytes, start: int, layout: Layout) -> bool | None:
    """Whether a quoted value holds a line break; None if pyarrow would not read the text as
    Python's strict csv module does.

    Notes:
        pyarrow is lenient where the csv module is strict (a character after a closing
        quote, a quote left open at the end of the file) and skips empty lines that the
        csv module counts as records. So the fast path takes only text whose quotes pair
        up plainly (each opening quote at the start of a field, each closing quote at its
        end, no doubled quotes) and that has no empty line before its trailing line breaks;
        anything else goes to the reference path, which is exact and names the line.
    """
    end = len(payload)
    while end > start and payload[end - 1] in _LINE_ENDS:
        end -= 1
    raw = np.frombuffer(payload, dtype=np.uint8, count=end - start, offset=start)
    breaks = _positions(raw, list(_LINE_ENDS))
    if _has_empty_line(raw, breaks):
        return None
    quotes = _positions(raw, [ord(layout.quotechar)])
    if quotes.size % 2:
        return None
    if not quotes.size:
        return False
    bounds = [ord(layout.delimiter), *_LINE_ENDS]
    opening, closing = quotes[0::2], quotes[1::2]
    after = np.minimum(closing + 1, raw.size - 1)
    plain = ((opening == 0) | np.isin(raw[opening - 1], bounds)).all() and (
        (closing == raw.size - 1) | np.isin(raw[after], bounds)
    ).all()
    if not plain:
        return None
    return bool((np.searchsorted(breaks, opening) != np.searchsorted(breaks, closing)).any())


def _has_empty_line(raw: np.ndarray, breaks: np.ndarray) -> bool:
    """A line break at the start, or two in a row that are not one CR LF."""
    if breaks.size and breaks[0] == 0:
        return True
    pairs = breaks[:-1][np.diff(breaks) == 1]
    return bool(((raw[pairs] != _CR) | (raw[pairs + 1] != _LF)).any())


def _positions(raw: np.ndarray, values: list[int]) -> np.ndarray:
    """Offsets of the bytes equal to any of `values`, found 16 MiB at a time."""
    parts = [np.empty(0, dtype=np.intp)]
    for offset in range(0, raw.size, _SCAN_BYTES):
        chunk = raw[offset : offset + _SCAN_BYTES]
        mask = chunk == values[0]
        for value in values[1:]:
            mask |= chunk == value
        parts.append(np.flatnonzero(mask) + offset)
    return np.concatenate(parts)


def parse_on_calling_thread() -> None:
    """From now on, have pyarrow parse CSV text on the calling thread (a worker process).

    Notes:
        A worker is one of as many processes as cores, so pyarrow's threads win it
        little; but what they allocate stays in their own allocator heaps once freed by
        the worker's thread. Three Barcelona clones at 5M in one process peaked at
        678-694, 731-770 and 744-765 MB with threads, 654-655, 684-732 and 726-739 MB
        without, at the same CPU.
    """
    _PARSE["threads"] = False


def parse_threads() -> bool:
    """Whether pyarrow parses CSV text on its own threads in this process."""
    return _PARSE["threads"]


def parse_strings(
    text: bytes | Path,
    start: int,
    width: int,
    layout: Layout,
    *,
    line_breaks: bool,
    include: list[int] | None = None,
) -> pa.Table | None:
    """Every data row as `width` string columns `f0`… (only those of `include` if given),
    from offset `start` of `text` (the UTF-8 text, or the file holding it); None if
    pyarrow refuses the text.

    `line_breaks` says whether quoted values hold line breaks (pyarrow is twice as fast
    when they do not).
    """
    names = [f"f{index}" for index in range(width)]
    kept = names if include is None else [names[index] for index in include]
    if _only_line_breaks(text, start):
        return pa.table({name: pa.array([], pa.string()) for name in kept})  # header only
    source: pa.NativeFile | pa.Buffer
    if isinstance(text, Path):
        source = pa.OSFile(str(text))
        source.seek(start)
    else:
        source = pa.py_buffer(memoryview(text)[start:])
    try:
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=names, use_threads=parse_threads()),
            parse_options=pacsv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char=layout.quotechar,
                double_quote=True,
                newlines_in_values=line_breaks,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(kept, pa.string()),
                strings_can_be_null=False,
                include_columns=None if include is None else kept,
            ),
        )
    except pa.ArrowInvalid:
        return None
    finally:
        if isinstance(source, pa.NativeFile):
            source.close()


def _only_line_breaks(text: bytes | Path, start: int) -> bool:
    """Whether at most two bytes, all line breaks, follow `start` (a header-only file)."""
    if isinstance(text, Path):
        with text.open("rb") as handle:
            handle.seek(start)
            tail = handle.read(3)
    else:
        tail = text[start : start + 3]
    return len(tail) <= 2 and not tail.strip(b"\r\n")


def blank_to_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column with every blank value (empty or whitespace only) as null."""
    return _blanked(column)[0]


def _blanked(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray, int]:
    """blank_to_null's column, which of its values are not blank, and its longest value's
    length in bytes.

    Notes:
        `utf8_is_space` holds for exactly the characters `str.isspace` holds for (checked
        over every code point in the tests), so this is `is_blank` on each value. It is
        asked only of values that start with a byte of ASCII whitespace or control, or of
        a longer UTF-8 character: any other first character makes a value not blank. The
        values stay where they are, in pyarrow's 1 MiB blocks: only a validity bitmap is
        added. Making each column one array first, as the Arrow kernels needed to run once
        a column, cost a 1.5M-row export 0.35 s of CPU and 90 MB at its peak.
    """
    parts = [_blank_chunk(chunk) for chunk in column.chunks]
    filled = np.concatenate([np.zeros(0, dtype=bool), *(part[1] for part in parts)])
    longest = max((part[2] for part in parts), default=0)
    return pa.chunked_array([part[0] for part in parts], pa.string()), filled, longest


def _blank_chunk(values: pa.StringArray) -> tuple[pa.StringArray, np.ndarray, int]:
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + len(values) + 1
    ]
    lengths = np.diff(offsets)
    filled = lengths != 0
    if values.null_count:
        filled &= values.is_valid().to_numpy(zero_copy_only=False)
    data = values.buffers()[2]
    if data is not None and data.size:
        starts = np.flatnonzero(filled)
        first = np.frombuffer(data, dtype=np.uint8)[offsets[starts]]
        maybe = starts[(first <= 0x20) | (first >= 0x7F)]
        if maybe.size:
            spaces = pc.utf8_is_space(values.take(pa.array(maybe)))
            filled[maybe[spaces.to_numpy(zero_copy_only=False)]] = False
    longest = int(lengths.max()) if lengths.size else 0
    if values.offset or values.null_count:
        blanked = pc.if_else(pa.array(filled), values, pa.scalar(None, pa.string()))
    else:
        validity = pa.py_buffer(np.packbits(filled, bitorder="little"))
        blanked = pa.StringArray.from_buffers(len(values), values.buffers()[1], data, validity)
    return blanked, filled, longest


def blank_columns(
    header: list[str], columns: list[pa.ChunkedArray | None], include: list[int] | None = None
) -> pa.Table | None:
    """Named columns, blanks as null, unnamed empty columns and trailing blank rows dropped.

    `columns` are the parsed string columns, in header order (only those at the header
    positions `include`, if given); each is released from the list once converted, so the
    parsed text and its copy are not both held whole. None if a field is longer than the
    csv module's field limit (the reference path refuses it), or a row before the last
    filled one is blank in these columns (the reference path judges it on every column).
    """
    kept: dict[str, pa.ChunkedArray] = {}
    rows = len(columns[0]) if columns and columns[0] is not None else 0
    filled = np.zeros(rows, dtype=bool)
    limit = csv.field_size_limit()
    names = header_names(header, len(header))
    for slot, index in enumerate(range(len(header)) if include is None else include):
        raw, columns[slot] = columns[slot], None
        assert raw is not None
        column, column_filled, longest = _blanked(raw)
        del raw
        if longest > limit:
            return None
        if is_blank(header[index]) and not column_filled.any():
            continue
        kept[names[index]] = column
        filled |= column_filled
    last = np.flatnonzero(filled)
    end = int(last[-1]) + 1 if last.size else 0
    if not filled[:end].all():
        return None  # a blank row between records: the reference path drops and numbers them
    return pa.table(kept).slice(0, end)


@dataclass(frozen=True)
class TextPlan:
    """What the scans of a delimited export found, for pyarrow to parse it.

    `text` is the UTF-8 text when it is not the file's own bytes (another encoding,
    decoded and encoded again), else None: pyarrow then parses the file itself.
    """

    text: bytes | None
    start: int
    header: list[str]
    line_breaks: bool


def plan_text(data: bytes, encoding: str, layout: Layout) -> TextPlan | None:
    """The checks of the fast path on the file's bytes; None when the reference path must
    decide (see quoted_line_breaks)."""
    if not (_single_byte(layout.delimiter) and _single_byte(layout.quotechar)):
        return None
    found = utf8_payload(data, encoding)
    top = None if found is None else read_header(*found, layout)
    if found is None or top is None or layout.delimiter == layout.quotechar:
        return None
    payload, header, data_start = found[0], *top
    line_breaks = quoted_line_breaks(payload, data_start, layout)
    if line_breaks is None:
        return None
    return TextPlan(None if payload is data else payload, data_start, header, line_breaks)


def planned_rows(
    plan: TextPlan,
    source: bytes | Path,
    layout: Layout,
    options: ReaderOptions,
    *,
    place: Place,
    pick: ColumnPick | None = None,
) -> tuple[pa.Table, list[str] | None] | None:
    """The rows of a planned text (`source`: the file's bytes or the file), as Arrow
    strings with the provenance columns; with `pick`, only the picked columns, and every
    source column's name second (else None). None if pyarrow refuses the text.

    Raises `too-many-rows` (check_rows) before the values become Python objects.
    """
    text = source if plan.text is None else plan.text
    picked = picked_rows(text, plan.start, plan.header, layout, plan.line_breaks, pick)
    if picked is None:
        return None
    table, names = picked
    check_rows(table.num_rows, place, options)
    rows = with_arrow_provenance(table, place.file, 1 + layout.skip_rows)
    return rows, None if names is None else [*names, *rows.column_names[-3:]]


def arrow_rows(
    data: bytes,
    encoding: str,
    layout: Layout,
    options: ReaderOptions,
    *,
    place: Place,
    pick: ColumnPick | None = None,
) -> tuple[pa.Table, list[str] | None] | None:
    """plan_text and planned_rows on bytes in memory; None when the reference path must
    decide."""
    plan = plan_text(data, encoding, layout)
    if plan is None:
        return None
    return planned_rows(plan, data, layout, options, place=place, pick=pick)


def arrow_file_rows(
    path: Path,
    encoding: str,
    layout: Layout,
    options: ReaderOptions,
    *,
    place: Place,
    pick: ColumnPick | None = None,
    check: Callable[[bytes], None] | None = None,
) -> tuple[pa.Table, list[str] | None] | bytes:
    """The file's rows as arrow_rows gives them, or the file's bytes when the reference
    path must decide. `check` runs first on the bytes (it raises to refuse the file).

    Notes:
        The bytes are read whole for the checks, then let go: pyarrow parses the file
        itself, so that a 100 MB export and its parsed columns are not both held (about
        0.1 GB less at the peak of a large center). The file must not change meanwhile:
        its size, times and inode are compared before and after (`file-changed`).
    """
    before = _identity(path)
    data = path.read_bytes()
    if check is not None:
        check(data)
    plan = plan_text(data, encoding, layout)
    if plan is None:
        return data
    del data
    found = planned_rows(plan, path, layout, options, place=place, pick=pick)
    if _identity(path) != before:
        raise source_error(
            place,
            "the file changed while it was being read",
            "run again once the center has finished writing its export "
            "(`settle_seconds` makes a run wait for files to settle)",
            code="file-changed",
        )
    return path.read_bytes() if found is None else found


def _identity(path: Path) -> tuple[int, int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def picked_rows(
    text: bytes | Path,
    start: int,
    header: list[str],
    layout: Layout,
    line_breaks: bool,
    pick: ColumnPick | None,
) -> tuple[pa.Table, list[str] | None] | None:
    """The data rows as blank_columns makes them: only the picked columns if `pick`, then
    with the names of the source's named columns second (else None).

    Notes:
        Trailing blank rows are those blank in every column. When the last row is blank
        in the picked columns, the others decide, so the text is parsed again whole. The
        csv module's field limit is checked on the picked columns only: a column no table
        maps is never looked at (docs/decisions.md).
    """
    names = header_names(header, len(header))
    include = None if pick is None else [i for i, name in enumerate(names) if pick(name)]
    if include is not None and len(include) == len(names):
        include = None
    strings = parse_strings(
        text, start, len(header), layout, line_breaks=line_breaks, include=include
    )
    if strings is None:
        return None
    rows = strings.num_rows - min(layout.skip_rows, strings.num_rows)
    columns: list[pa.ChunkedArray | None] = list(strings.slice(layout.skip_rows).columns)
    del strings
    table = blank_columns(header, columns, include)
    if table is None or include is None:
        return None if table is None else (table, None)
    if table.num_rows < rows:
        return picked_rows(text, start, header, layout, line_breaks, None)
    named = [name for name, cell in zip(names, header, strict=True) if not is_blank(cell)]
    return table, named


def with_arrow_provenance(table: pa.Table, relative_name: str, first_row_number: int) -> pa.Table:
    """The table with `_source_file`, `_sheet` (None) and `_source_row` appended.

    Notes:
        `_source_file` is dictionary-encoded, the file's name held once: as text on every
        row it took 47 MB of a 1.5M-row REDCap export's 265 MB. to_frame makes it text.
    """
    count = table.num_rows
    rows = np.arange(first_row_number, first_row_number + count, dtype=np.int64)
    names = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(count, dtype=np.int8)), pa.array([relative_name], pa.string())
    )
    table = table.append_column("_source_file", names)
    table = table.append_column("_sheet", pa.nulls(count))
    return table.append_column("_source_row", pa.array(rows))


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Object columns of str and None (int64 `_source_row`), one pandas block per column;
    a dictionary-encoded column too (its values, not a Categorical).

    Notes:
        Separate blocks spare the copy that gathering 40 object columns into one 2-D block
        costs (a third of the conversion); pandas gathers them later only if it must.
    """
    frame = table.to_pandas(split_blocks=True)
    for position, kind in enumerate(table.schema.types):
        if pa.types.is_dictionary(kind):
            frame.isetitem(position, frame.iloc[:, position].astype(object))
    return frame


class ArrowRawTable(RawTable):
    """A RawTable kept as Arrow rows: its frame is made only when asked for.

    Harmonization converts just the columns and rows a mapping uses (`select`), so the
    columns nobody maps never become Python objects. `keep` (a boolean mask over `rows`)
    makes the table a subset of rows shared with other tables (a REDCap export's
    instruments) without copying them. `header` names every column of the source when
    only some were kept (ColumnPick).
    """

    def __init__(
        self,
        name: str,
        rows: pa.Table,
        labels: dict[str, dict[Any, str]] | None = None,
        user_missing: dict[str, list[Any]] | None = None,
        *,
        keep: pa.ChunkedArray | pa.BooleanArray | None = None,
        header: list[str] | None = None,
    ) -> None:
        self.rows = rows
        self.keep = keep
        self.header = header
        self._frame: pd.DataFrame | None = None
        super().__init__(name, None, labels or {}, user_missing or {})  # type: ignore[arg-type]

    def select(self, columns: list[str]) -> pa.Table:
        """The table's rows of these columns only (copied only if the table is a subset)."""
        chosen = self.rows.select(columns)
        return chosen if self.keep is None else chosen.filter(self.keep)

    @property  # type: ignore[override]
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = to_frame(self.select(self.rows.column_names))
        return self._frame

    @frame.setter
    def frame(self, value: pd.DataFrame | None) -> None:
        self._frame = value


def column_names(table: RawTable) -> list[str]:
    """The table's column names (also those a ColumnPick left out), without making an
    ArrowRawTable's frame."""
    if isinstance(table, ArrowRawTable):
        return list(table.rows.column_names if table.header is None else table.header)
    return list(table.frame.columns)


def arrow_table(
    data: bytes,
    encoding: str,
    layout: Layout,
    options: ReaderOptions,
    *,
    name: str,
    place: Place,
    pick: ColumnPick | None = None,
) -> RawTable | None:
    """The RawTable the reference path would build (only the columns of `pick`, if given),
    or None when that path must decide."""
    found = arrow_rows(data, encoding, layout, options, place=place, pick=pick)
    return None if found is None else ArrowRawTable(name, found[0], header=found[1])


def _single_byte(character: str) -> bool:
    return character.isascii() and character not in "\r\n"
