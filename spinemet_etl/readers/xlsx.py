"""Reader for Office Open XML workbooks (.xlsx): typed cell values, one RawTable per sheet.

The zip is checked before any parser sees it: declared sizes and ratios (bombs), and the
prolog of every XML part (a DTD or entity declaration is refused, never expanded).
calamine then reads the cells (readers/calamine.py). calamine reads an error cell
(#N/A, #DIV/0!) as blank, so a workbook with one is read by openpyxl, which keeps the
error's text (as it reads every workbook with the openpyxl engine); openpyxl parses every
part with defusedxml, which refuses the same declarations.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException

from spinemet_etl.errors import Place, SourceError, source_error
from spinemet_etl.readers.base import RawTable
from spinemet_etl.readers.calamine import (
    calamine_errors,
    excel_engine,
    open_workbook,
    part_not_unpacked,
    unsafe_workbook,
    worksheet_names,
    xlsx_grid,
)
from spinemet_etl.readers.common import check_file, coerce_options, wrap_unexpected
from spinemet_etl.readers.options import XlsxOptions
from spinemet_etl.readers.workbook import SheetGrid, fill_merged, select_sheets, table_from_grid

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SMALL_PART = 1024 * 1024
"""Parts that unpack to less than this are too small to be a bomb, whatever their ratio."""
_ERROR_CELL = (b't="e"', b"t='e'")
"""An error cell's type attribute in a worksheet part (or bytes that look like one: such a
workbook is read by openpyxl, slower but never wrong)."""
_CHUNK = 1024 * 1024
_PROLOG_BYTES = 64 * 1024
"""How much of each XML part is searched for a DTD (it can only stand before the root)."""


def check_archive(path: Path, place: Place, options: XlsxOptions) -> None:
    """Refuse a file that is not a zip workbook, is cut off, or unpacks to too much.

    Notes:
        The limits use the sizes the zip's central directory declares; Python's zipfile
        never inflates a part beyond its declared size, so a lying directory cannot get
        past them.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_OLE2_MAGIC):
        raise source_error(
            place,
            "the file is a legacy .xls or a password-protected workbook, not an .xlsx",
            "set `kind: xls` in the mapping file, or ask the center for an unprotected export",
            code="not-a-workbook",
        )
    if not head.startswith(b"PK"):
        raise _not_a_workbook(place)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, OSError):
        raise source_error(
            place,
            "the workbook's zip structure is incomplete",
            "the file looks cut off (still uploading?); wait for the complete export",
            code="file-truncated",
        ) from None
    if not any(info.filename == "xl/workbook.xml" for info in infos):
        raise _not_a_workbook(place)
    _check_sizes(infos, place, options)
    _check_prologs(path, infos, place)


def _check_prologs(path: Path, infos: list[zipfile.ZipInfo], place: Place) -> None:
    """Refuse a workbook any of whose XML parts declares a DTD (entities live in one)."""
    with zipfile.ZipFile(path) as archive, _library_errors_as_source_errors(place):
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                with archive.open(info) as part:
                    head = part.read(_PROLOG_BYTES)
                if b"<!DOCTYPE" in _as_utf8(head).upper():
                    raise unsafe_workbook(place)


def _as_utf8(head: bytes) -> bytes:
    """The start of a part as UTF-8 bytes (Excel writes UTF-8; a BOM may say UTF-16)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore").encode()
    return head


def _check_sizes(infos: list[zipfile.ZipInfo], place: Place, options: XlsxOptions) -> None:
    total = sum(info.file_size for info in infos)
    if total > options.max_uncompressed_bytes:
        raise source_error(
            place,
            f"the workbook unpacks to {total} bytes, more than the limit of "
            f"{options.max_uncompressed_bytes}",
            "check the file (a zip bomb?), or raise `max_uncompressed_bytes` in the options",
            code="decompression-bomb",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _SMALL_PART and ratio > options.max_decompression_ratio:
            raise source_error(
                place,
                f"the workbook part `{info.filename}` unpacks to {ratio:.0f} times its size, "
                f"more than the limit of {options.max_decompression_ratio:g}",
                "check the file (a zip bomb?), or raise `max_decompression_ratio` in the options",
                code="decompression-bomb",
            )


def _not_a_workbook(place: Place) -> SourceError:
    return source_error(
        place,
        "the file is not an .xlsx workbook",
        "check that the center sent the right file and that `kind` in the mapping file matches it",
        code="not-a-workbook",
    )


@contextmanager
def _library_errors_as_source_errors(place: Place) -> Iterator[None]:
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise part_not_unpacked(place) from None
    except SourceError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on malformed parts
        if _refused_xml(exc):
            raise unsafe_workbook(place) from None
        raise wrap_unexpected(place, exc, "an .xlsx workbook", code="not-a-workbook") from None


def _refused_xml(exc: BaseException | None) -> bool:
    """True when defusedxml refused a part, also when openpyxl re-raised it as another error."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, DefusedXmlException):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def merged_ranges(archive: zipfile.ZipFile, part: str) -> list[tuple[int, int, int, int]]:
    """Merged cell ranges of one worksheet part, as (min_col, min_row, max_col, max_row)."""
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.xml.functions import iterparse

    ranges: list[tuple[int, int, int, int]] = []
    with archive.open(part) as source:
        for _event, element in iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell":
                bounds = range_boundaries(element.get("ref"))
                ranges.append(tuple(int(b) for b in bounds))  # type: ignore[arg-type]
            elif tag == "row":
                element.clear()
    return ranges


def _sheet_grid(workbook: Any, archive: zipfile.ZipFile, name: str) -> SheetGrid:
    sheet = workbook[name]
    sheet.reset_dimensions()  # writers often record a wrong size; read every stored row
    rows = [list(row) for row in sheet.iter_rows(min_row=1, values_only=True)]
    # Read-only worksheets do not expose merged cells; the part path is openpyxl's own.
    return fill_merged(rows, merged_ranges(archive, sheet._worksheet_path))


def has_error_cells(path: Path) -> bool:
    """True when a worksheet part holds an error cell (`t="e"`), searched chunk by chunk."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as part:
                    tail = b""
                    while chunk := part.read(_CHUNK):
                        window = tail + chunk
                        if any(mark in window for mark in _ERROR_CELL):
                            return True
                        tail = chunk[-8:]
    return False


def uses_1904(path: Path) -> bool:
    """True when the workbook counts dates in Excel's 1904 system (`workbookPr date1904`)."""
    from defusedxml import ElementTree

    with zipfile.ZipFile(path) as archive, archive.open("xl/workbook.xml") as part:
        root = ElementTree.parse(part).getroot()
    for element in root:
        if element.tag.rsplit("}", 1)[-1] == "workbookPr":
            return element.get("date1904", "0").lower() in ("1", "true")
    return False


@dataclass(frozen=True)
class XlsxReader:
    """Reads the selected sheets of an .xlsx: values as cached by Excel, no formulas, no links."""

    center_id: str = "unknown"

    def read(self, path: Path, relative_name: str, options: Any) -> list[RawTable]:
        opts = coerce_options(options, XlsxOptions)
        place = Place(self.center_id, relative_name)
        check_file(path, place, opts)
        check_archive(path, place, opts)
        with _library_errors_as_source_errors(place):
            if excel_engine() == "openpyxl" or has_error_cells(path):
                return self._read_openpyxl(path, relative_name, opts)
            dates_1904 = uses_1904(path)
        with calamine_errors(place, "an .xlsx workbook"):
            workbook = open_workbook(path)
            try:
                names = worksheet_names(workbook)
                if not names:
                    raise _not_a_workbook(place)
                tables = [
                    table_from_grid(xlsx_grid(workbook, name), name, relative_name, opts,
                                    Place(self.center_id, relative_name, name),
                                    blanks_cleared=True)
                    for name in select_sheets(names, opts, place)
                ]  # fmt: skip
            finally:
                workbook.close()
        found = [table for table in tables if table is not None]
        for table in found:
            table.dates_1904 = dates_1904
        return found

    def _read_openpyxl(self, path: Path, relative_name: str, opts: XlsxOptions) -> list[RawTable]:
        from openpyxl import load_workbook
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        place = Place(self.center_id, relative_name)
        with _library_errors_as_source_errors(place):
            workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
            try:
                names = [ws.title for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
                with zipfile.ZipFile(path) as archive:
                    tables = [
                        table_from_grid(_sheet_grid(workbook, archive, name), name, relative_name,
                                        opts, Place(self.center_id, relative_name, name))
                        for name in select_sheets(names, opts, place)
                    ]  # fmt: skip
                found = [table for table in tables if table is not None]
                for table in found:
                    table.dates_1904 = workbook.epoch == CALENDAR_MAC_1904
                return found
            finally:
                workbook.close()
