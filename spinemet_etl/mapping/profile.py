"""Profile a source column: inferred type, fill rate, low-cardinality values, date formats."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from spinemet_etl.text import source_text

LOW_CARDINALITY = 30
"""Columns with at most this many distinct values list them with counts (never identifiers)."""
SAMPLE_VALUES = 20_000
"""Values inspected per column to infer its type (the first ones); counts use every row."""
DATE_FORMATS = (
    "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%Y/%m/%d", "%d/%m/%y",
    "%d.%m.%y",
)  # fmt: skip
"""Text date formats tried, European day-first before the US month-first."""
_INTEGER = re.compile(r"^[+-]?\d+$")
_POINT = re.compile(r"^[+-]?\d*\.\d+$")
_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}$")
EXCEL_SERIAL_RANGE = (3_000.0, 75_000.0)
"""Whole numbers in a date column within these bounds read as Excel serial dates (1908-2105)."""


@dataclass
class ColumnProfile:
    """What one source column holds. `values` is empty for identifier-like columns.

    `decimal_stated`: the decimal mark is the one the source states for the column (a
    REDCap field's validation), which harmonizing uses unless the mapping states one.
    `date_reads`: for date text that no one format reads whole, how many of its
    `date_texts` distinct sampled dates each format reads.
    """

    name: str
    kind: str
    rows: int
    filled: int
    distinct: int
    identifier: bool = False
    label: str | None = None
    values: list[tuple[str, int]] = field(default_factory=list)
    date_formats: list[str] = field(default_factory=list)
    date_reads: list[tuple[str, int]] = field(default_factory=list)
    date_texts: int = 0
    decimal: str | None = None
    decimal_stated: bool = False
    numeric_max: float | None = None
    numeric_p90: float | None = None
    excel_serial: bool = False
    value_labels: dict[str, str] = field(default_factory=dict)
    user_missing: list[str] = field(default_factory=list)
    missing_codes: list[str] = field(default_factory=list)

    @property
    def fill_rate(self) -> float:
        return self.filled / self.rows if self.rows else 0.0

    def distinct_keys(self) -> list[str]:
        """The distinct values as text keys, missing codes left out (only when listed)."""
        skip = set(self.missing_codes) | set(self.user_missing)
        return [value for value, _ in self.values if value not in skip]


def _cell_kind(value: Any) -> str:
    """The kind of one non-blank cell: date, boolean, integer, number, comma, datelike, text."""
    if isinstance(value, datetime | date | pd.Timestamp):
        return "date"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "integer" if float(value).is_integer() else "number"
    text = str(value).strip()
    if _INTEGER.match(text):
        return "integer"
    if _POINT.match(text):
        return "number"
    if _COMMA.match(text):
        return "comma"
    return "datelike" if _DATE_LIKE.match(text) else "text"


def date_formats(texts: list[str]) -> list[str]:
    """The formats of DATE_FORMATS that parse every text (several: the column is ambiguous)."""
    found = []
    for form in DATE_FORMATS:
        try:
            for text in texts:
                datetime.strptime(text, form)
        except ValueError:
            continue
        found.append(form)
    return found


def date_reads(texts: list[str]) -> list[tuple[str, int]]:
    """When no one format of DATE_FORMATS reads every text that some format reads (day-first
    and month-first dates, or ISO and day-first, in one column): each format that reads
    some, with how many, most first. Empty otherwise (a date no format reads, such as 31
    February, is a bad value, not another format)."""
    read: dict[str, set[str]] = {}
    for form in DATE_FORMATS:
        for text in texts:
            try:
                datetime.strptime(text, form)
            except ValueError:
                continue
            read.setdefault(form, set()).add(text)
    readable = set().union(*read.values()) if read else set()
    if any(texts_read == readable for texts_read in read.values()):
        return []
    return sorted(((form, len(found)) for form, found in read.items()), key=lambda r: -r[1])


def _kind(kinds: Counter[str], texts: list[str]) -> tuple[str, list[str], str | None]:
    """The column's kind from its cells' kinds (the majority), its date formats, decimal mark."""
    if not kinds:
        return "empty", [], None
    top, _ = kinds.most_common(1)[0]
    numeric = kinds["integer"] + kinds["number"] + kinds["comma"]
    if top in ("integer", "number", "comma") or numeric >= 0.9 * sum(kinds.values()):
        if kinds["comma"] and not kinds["number"]:
            return "number", [], ","
        return ("number" if kinds["number"] else "integer"), [], "." if kinds["number"] else None
    if top == "datelike":
        return "date", date_formats(texts), None
    return top, [], None


def _max_and_p90(counts: pd.Series) -> tuple[float | None, float | None]:
    """The largest number and the 90th percentile (the lowest value reaching 90 % of the rows)."""
    numbers = pd.to_numeric(counts.index.to_series().str.replace(",", "."), errors="coerce")
    found = numbers.notna().to_numpy()
    if not found.any():
        return None, None
    order = np.argsort(numbers.to_numpy()[found], kind="stable")
    sorted_numbers = numbers.to_numpy()[found][order]
    cumulative = np.cumsum(counts.to_numpy()[found][order])
    p90 = sorted_numbers[np.searchsorted(cumulative, 0.9 * cumulative[-1])]
    return float(sorted_numbers[-1]), float(p90)


def profile_column(
    name: str,
    values: pd.Series,
    *,
    identifier: bool,
    missing_codes: frozenset[str] = frozenset(),
) -> ColumnProfile:
    """The profile of one column; an identifier-like column's values are never kept.

    Values become text keys once per distinct value, so a large export costs its
    distinct values, not its rows.
    """
    present = values.dropna()
    positions, uniques = pd.factorize(present)
    distinct_keys = np.array([source_text(value) for value in uniques], dtype=object)
    filled = (distinct_keys != "")[positions]
    present = present[filled]
    keys = pd.Series(distinct_keys[positions[filled]], index=present.index, dtype=object)
    counts = keys.value_counts(sort=True)
    codes = sorted(key for key in counts.index if key in missing_codes)
    coded = keys.isin(codes)
    sample = present[~coded.to_numpy()].head(SAMPLE_VALUES)
    kinds = Counter(_cell_kind(v) for v in sample)
    texts = sorted({str(v).strip() for v in sample if _cell_kind(v) == "datelike"})
    kind, formats, decimal = _kind(kinds, texts)
    profile = ColumnProfile(
        name, kind, len(values), int(len(keys) - coded.sum()), len(counts), identifier
    )
    profile.date_formats, profile.decimal, profile.missing_codes = formats, decimal, codes
    if kind == "date" and not formats and (reads := date_reads(texts)):
        profile.date_reads, profile.date_texts = reads, len(texts)
    if kind in ("integer", "number"):
        profile.numeric_max, profile.numeric_p90 = _max_and_p90(counts.drop(codes))
    if kind == "date" and kinds["integer"]:
        numbers = pd.to_numeric(pd.Series([v for v in sample if _cell_kind(v) == "integer"]))
        low, high = EXCEL_SERIAL_RANGE
        profile.excel_serial = bool(numbers.between(low, high).all())
    if not identifier and kind != "date" and len(counts) <= LOW_CARDINALITY:
        profile.values = [(str(k), int(n)) for k, n in counts.items()]
    return profile
