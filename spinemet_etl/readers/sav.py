"""Reader for SPSS .sav files with pyreadstat: numeric codes, value labels, user-missing values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from spinemet_etl.errors import Place, SourceError, source_error
from spinemet_etl.readers.base import RawTable
from spinemet_etl.readers.common import check_file, check_rows, coerce_options, with_provenance
from spinemet_etl.readers.options import SavOptions


def user_missing_codes(column: pd.Series, ranges: list[dict[str, Any]]) -> list[Any]:
    """The codes a variable declares missing: its discrete values, plus data values inside ranges.

    Notes:
        SPSS declares up to three discrete codes or a range (`990 thru 999`); a range is
        reported as the values of the column that fall inside it, so the list is finite
        and exact for this file.
    """
    codes: set[Any] = set()
    for declared in ranges:
        low, high = declared["lo"], declared["hi"]
        if low == high:
            codes.add(low)
        else:
            present = column.dropna()
            codes.update(present[(present >= low) & (present <= high)].tolist())
    return sorted(codes, key=lambda code: (str(type(code)), code))


_ZSAV_MAGIC = b"$FL3"
_DEFLATE_MAX_RATIO = 1032
"""The most that zlib's deflate can compress: 1032 bytes out per byte in."""


def _not_spss(place: Place) -> SourceError:
    return source_error(
        place,
        "the file is not a readable SPSS .sav file",
        "check that the file is complete and that `kind` in the mapping file matches it",
        code="not-an-spss-file",
    )


def declared_case_limit(path: Path, variables: int) -> int:
    """The most cases a .sav of this size and width can hold.

    Notes:
        pyreadstat allocates every column for the number of cases the header declares
        before it reads a row, so a header that lies (100 million cases in 500 bytes)
        costs gigabytes. In a bytecode-compressed .sav a value takes at least one byte
        (a compression code); a zlib-compressed .zsav adds deflate's ratio on top.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        magic = handle.read(4)
    ratio = _DEFLATE_MAX_RATIO if magic == _ZSAV_MAGIC else 1
    return size * ratio // max(variables, 1)


def check_declared_cases(path: Path, options: SavOptions, place: Place) -> int | None:
    """The number of cases the header declares (None when unknown), once it is plausible."""
    import pyreadstat

    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True, encoding=options.encoding)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError):
        raise _not_spss(place) from None
    declared = meta.number_rows
    if declared is None:
        return None
    limit = declared_case_limit(path, meta.number_columns or 1)
    if declared > limit:
        raise source_error(
            place,
            f"the header declares {declared} cases but a file of this size holds at most {limit}",
            "the file is damaged or cut off; ask the center to export it again",
            code="file-truncated",
        )
    check_rows(declared, place, options)
    return int(declared)


def read_spss(path: Path, options: SavOptions, place: Place) -> tuple[pd.DataFrame, Any]:
    """The data (user-missing codes kept, dates as datetime64) and pyreadstat's metadata."""
    import pyreadstat

    check_declared_cases(path, options, place)
    try:
        return pyreadstat.read_sav(  # type: ignore[no-any-return]
            str(path),
            user_missing=True,
            apply_value_formats=False,
            dates_as_pandas_datetime=True,
            encoding=options.encoding,
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError):
        raise _not_spss(place) from None


@dataclass(frozen=True)
class SavReader:
    """Reads an SPSS .sav file into one RawTable named after the file's stem."""

    center_id: str = "unknown"

    def read(self, path: Path, relative_name: str, options: Any) -> list[RawTable]:
        opts = coerce_options(options, SavOptions)
        place = Place(self.center_id, relative_name)
        check_file(path, place, opts)
        frame, meta = read_spss(path, opts, place)
        check_rows(len(frame), place, opts)
        for name in frame.columns:
            if frame[name].dtype == object:
                text = frame[name]
                frame[name] = text.where(~text.map(_is_empty_text), None)
        user_missing = {
            name: codes
            for name, ranges in meta.missing_ranges.items()
            if name in frame.columns and (codes := user_missing_codes(frame[name], ranges))
        }
        labels = {name: dict(mapping) for name, mapping in meta.variable_value_labels.items()}
        return [
            RawTable(
                name=Path(relative_name).stem,
                frame=with_provenance(frame, relative_name, None),
                labels=labels,
                user_missing=user_missing,
            )
        ]


def _is_empty_text(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")
