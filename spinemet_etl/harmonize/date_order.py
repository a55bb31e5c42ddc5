"""Day-first or month-first: what a column's date text says of the order its mapping states.

A column read with `%d/%m/%Y` from an export that writes `%m/%d/%Y` fails only on the
dates whose day is above 12; the others (`04/05/2020`) read, exchanged, without a trace.
The column's text tells the orders apart where one of its two numbers is above 12: such a
date reads in one order only. How many of those contradict the stated order decides
whether the column's dates that read both ways can be trusted (DateOrder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spinemet_etl.harmonize.convert import Factorized, ValueRule

MIXED_SHARE = 0.05
"""Dates read only exchanged, as a share of the column's dates that read one way only, from
which its dates that read both ways are refused (`ambiguous-date`) instead of read as stated;
below it, the exchanged ones are taken for slips of data entry. Above a half the stated order
is wrong, and the center is refused."""
_FIELDS = {"d": "(?P<d>[0-9]{1,2})", "m": "(?P<m>[0-9]{1,2})", "Y": "[0-9]{4}", "y": "[0-9]{2}"}


@lru_cache(maxsize=64)
def exchanged(date_format: str) -> str | None:
    """`%d/%m/%Y` -> `%m/%d/%Y`: the format with its day and month exchanged.

    None unless the format is day and month, in either order, then the year (`%Y` or
    `%y`), each once, with any separators: the orders in which countries differ.
    """
    directives = re.findall(r"%.", date_format)
    if len(directives) != 3 or set(directives[:2]) != {"%d", "%m"}:
        return None
    if directives[2] not in ("%Y", "%y"):
        return None
    swap = {"%d": "%m", "%m": "%d"}
    return re.sub(r"%[dm]", lambda found: swap[found.group(0)], date_format)


@lru_cache(maxsize=64)
def _numbers(date_format: str) -> str:
    """A whole-text pattern (RE2's and Python's) reading the day (`d`) and month (`m`) of
    text in the format, one or two digits each as strptime reads them."""
    parts = re.findall(r"%.|[^%]", date_format)
    fields = (_FIELDS[p[1]] if p.startswith("%") else re.escape(p) for p in parts)
    return "^" + "".join(fields) + "$"


@dataclass(frozen=True)
class DateOrder:
    """The evidence of one column: rows whose date text reads in one order only.

    `stated` is the mapping's (first checked) format, `other` its exchanged twin; `agree`
    and `against` count the rows read only in a stated order and only exchanged; per
    distinct value of the column, `reads_other` marks the text that failed and reads
    exchanged, `both` the text read as stated that reads as another day exchanged, and
    `formats` holds the stated format its text is in ('' for other values).
    """

    stated: str
    other: str
    agree: int
    against: int
    reads_other: np.ndarray
    both: np.ndarray
    formats: np.ndarray

    @property
    def contradicted(self) -> bool:
        """Most of the dates that read one way only read the other way, and some would be
        misread: the stated order is wrong."""
        return self.against > self.agree and bool(self.both.any())

    @property
    def mixed(self) -> bool:
        """Too many read only the other way for them all to be slips, and some would be
        misread: both orders are in the column."""
        return self.against > MIXED_SHARE * (self.agree + self.against) and bool(self.both.any())


def date_order(
    rule: ValueRule, column: Factorized, days: pd.Series, failed: pd.Series
) -> DateOrder | None:
    """The column's order evidence, or None when its formats leave no order to check.

    `days` and `failed` are each row's day and failure code (or None), as
    convert_factorized gives them. Only text counts (a workbook's date cells carry their
    day), and a value without a day (blank, a missing code) never does. Every format of
    the rule whose exchanged twin is not also one of them is checked (a rule with both
    reads no text as either: ambiguous-date); the first names the orders.
    """
    if rule.kind != "date" or rule.labels is not None or rule.mapping is not None:
        return None
    checked = [
        (_numbers(f), f)
        for f in rule.date_formats
        if (other := exchanged(f)) is not None and other not in rule.date_formats
    ]
    if not checked:
        return None
    uniques, codes = column.uniques, column.codes
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(uniques))
    outcome = np.full(len(uniques), None, dtype=object)
    outcome[codes[present]] = failed.to_numpy(dtype=object)[present]
    has_day = np.zeros(len(uniques), dtype=bool)
    has_day[codes[present]] = days.notna().to_numpy()[present]
    read = has_day & (outcome == None)  # noqa: E711 (elementwise)
    unread = outcome == "unparseable-date"
    texts = pc.utf8_trim_whitespace(
        pa.array([v if isinstance(v, str) else None for v in uniques], pa.string())
    )
    day, month = np.zeros(len(uniques), dtype=np.int64), np.zeros(len(uniques), dtype=np.int64)
    matched = np.zeros(len(uniques), dtype=bool)
    formats = np.full(len(uniques), "", dtype=object)
    for pattern, stated in checked:
        found = pc.extract_regex(texts, pattern)
        new = ~matched & ~pc.is_null(found).to_numpy(zero_copy_only=False)
        for name, numbers in (("d", day), ("m", month)):
            field = pc.cast(pc.struct_field(found, name).fill_null("0"), pa.int64())
            numbers[new] = field.to_numpy(zero_copy_only=False)[new]
        formats[new] = stated
        matched |= new
    agree = matched & read & (day > 12)
    both = matched & read & (day <= 12) & (day != month)
    reads_other = matched & unread & (month > 12)
    for position in np.flatnonzero(reads_other).tolist():
        text = texts[position].as_py()
        reads_other[position] = _reads(text, exchanged(formats[position]) or "")
    stated = checked[0][1]
    return DateOrder(
        stated,
        exchanged(stated) or "",
        int(counts[agree].sum()),
        int(counts[reads_other].sum()),
        reads_other,
        both,
        formats,
    )


def _reads(text: str, date_format: str) -> bool:
    try:
        datetime.strptime(text, date_format)
    except ValueError:
        return False
    return True
