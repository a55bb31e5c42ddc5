"""Making written files depend only on their content: fixed timestamps in zips and SPSS headers."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

FIXED_TIMESTAMP = datetime(2026, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
# SAV header: "$FL2" (4) + product (60) + layout (4) + case size (4) + compression (4)
# + weight index (4) + cases (4) + bias (8) = 92; then creation date (9), time (8).
_SAV_DATE_OFFSET = 92
_SAV_FIXED_STAMP = b"01 Jan 2600:00:00"


def normalize_zip(path: Path) -> None:
    """Rewrite an OOXML zip with fixed entry times and fixed document-property times."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                data = _CORE_TIMES.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


def normalize_sav_header(path: Path) -> None:
    """Overwrite the creation date and time in an SPSS .sav header with fixed values."""
    with path.open("r+b") as handle:
        magic = handle.read(4)
        if magic != b"$FL2":
            raise ValueError(f"{path.name} is not an SPSS .sav file")
        handle.seek(_SAV_DATE_OFFSET)
        handle.write(_SAV_FIXED_STAMP)
