"""The supported source kinds and the reader of each."""

from __future__ import annotations

from spinemet_etl.readers.base import Reader
from spinemet_etl.readers.csv import CsvReader
from spinemet_etl.readers.options import OPTIONS_FOR_KIND, TsvOptions
from spinemet_etl.readers.redcap import RedcapReader
from spinemet_etl.readers.sav import SavReader
from spinemet_etl.readers.xls import XlsReader
from spinemet_etl.readers.xlsx import XlsxReader

SUPPORTED_KINDS: tuple[str, ...] = tuple(OPTIONS_FOR_KIND)
"""`csv`, `tsv`, `xlsx`, `xls`, `sav`, `redcap`: the values a mapping file's `source.kind` takes."""


def reader_for(kind: str, center_id: str = "unknown") -> Reader:
    """The reader of a source kind; `center_id` is named in every error the reader raises.

    Raises KeyError for a kind not in SUPPORTED_KINDS (the mapping model rejects those first).
    """
    readers: dict[str, Reader] = {
        "csv": CsvReader(center_id),
        "tsv": CsvReader(center_id, options_model=TsvOptions),
        "xlsx": XlsxReader(center_id),
        "xls": XlsReader(center_id),
        "sav": SavReader(center_id),
        "redcap": RedcapReader(center_id),
    }
    if kind not in readers:
        raise KeyError(f"unknown source kind {kind!r}; supported: {', '.join(SUPPORTED_KINDS)}")
    return readers[kind]
