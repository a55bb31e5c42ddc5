"""Whole-array parsing of date text in one plain numeric format, exactly as strptime would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

_WIDTHS = {"Y": 4, "m": 2, "d": 2}
FIRST_YEAR, LAST_YEAR = 1678, 2261
"""Years whose every day datetime64[ns] holds; text of other years takes the per-value path."""


@dataclass(frozen=True)
class DigitFormat:
    """A format of fixed-width digits (%Y, %m, %d once each) and separators: where each part is."""

    pattern: re.Pattern[str]
    width: int
    starts: dict[str, int]


@lru_cache(maxsize=64)
def digit_format(date_format: str) -> DigitFormat | None:
    """The DigitFormat of e.g. `%d.%m.%Y`; None for any other kind of format.

    Only separators that are neither digits, letters, whitespace nor `%` are accepted, and
    one must stand between any two parts, so text matching the pattern is read by strptime
    as the same three numbers.
    """
    parts = re.findall(r"%.|[^%]", date_format)
    directives = [part.startswith("%") for part in parts]
    if sorted(part for part in parts if part.startswith("%")) != ["%Y", "%d", "%m"]:
        return None
    if any(first and second for first, second in pairwise(directives)):
        return None  # `%Y%m%d`: strptime may split the digits otherwise; keep it per value
    regex, starts, offset = "", {}, 0
    for part in parts:
        if part.startswith("%"):
            starts[part[1]] = offset
            regex += f"[0-9]{{{_WIDTHS[part[1]]}}}"
            offset += _WIDTHS[part[1]]
        elif part.isalnum() or part.isspace() or not part.isascii():
            return None
        else:
            regex += re.escape(part)
            offset += 1
    return DigitFormat(re.compile(regex), offset, starts)


def _number(digits: np.ndarray, start: int, width: int) -> np.ndarray:
    number = np.zeros(len(digits), dtype=np.int64)
    for column in range(start, start + width):
        number = number * 10 + digits[:, column]
    return number


def parse_digit_dates(texts: list[str], form: DigitFormat) -> np.ndarray:
    """Each text (all matching `form.pattern`) as datetime64[ns], NaT where not a day 1678–2261.

    Notes:
        A day is the text's year, month and day of month when they form a real date, which
        is what datetime.strptime (and datetime.fromisoformat for `%Y-%m-%d`) returns for
        such text; anything else (month 13, 30 February, another year) is NaT here and is
        left to the per-value path, which decides and names the failure.
    """
    if not texts:
        return np.empty(0, dtype="datetime64[ns]")
    codes = np.asarray(texts, dtype=f"U{form.width}").view(np.uint32)
    digits = codes.reshape(len(texts), form.width).astype(np.int64) - ord("0")
    year = _number(digits, form.starts["Y"], 4)
    month = _number(digits, form.starts["m"], 2)
    day = _number(digits, form.starts["d"], 2)
    usable = (year >= FIRST_YEAR) & (year <= LAST_YEAR) & (month >= 1) & (month <= 12)
    usable &= (day >= 1) & (day <= 31)
    months = np.where(usable, (year - 1970) * 12 + (month - 1), 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(usable, day - 1, 0)
    usable &= days.astype("datetime64[M]") == months
    return np.where(usable, days.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))
