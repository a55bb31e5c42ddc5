"""The one normalizer of source text that is compared: NFC, blanks collapsed, `1.0` as `1`."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

import numpy as np

_WHOLE_NUMBER_TEXT = re.compile(r"([+-]?[0-9]+)\.0+")
"""Text of a whole number written as a float (`1.0`, `-9.00`), as `pandas.to_csv` writes an
integer column that has a missing value."""


def clean_text(text: str) -> str:
    """Text in Unicode NFC, every run of whitespace (non-breaking spaces too) one space, stripped.

    Notes:
        macOS and some databases write decomposed (NFD) text: `ñ` as `n` + combining tilde.
        It looks the same and must compare the same, so every compared text is composed.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def source_text(value: Any) -> str:
    """A source value as comparable text: clean_text, whole numbers without `.0`, dates as ISO.

    Number text is not reinterpreted here (parsing numbers keeps its own rules of decimal
    marks and separators); see code_text for codes.
    """
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return clean_text(str(value))


def code_text(value: Any) -> str:
    """A code as text: source_text, with float-looking whole number text as the whole number.

    `1.0` and `-9.00` are the codes `1` and `-9`, as the same values typed as numbers are:
    for missing codes, value labels, value maps, vocabularies and booleans alike.
    """
    text = source_text(value)
    whole = _WHOLE_NUMBER_TEXT.fullmatch(text)
    return text if whole is None else str(int(whole.group(1)))


def code_key(value: Any) -> str:
    """The key codes are matched by (missing codes, value maps, vocabularies): code_text,
    case-folded."""
    return code_text(value).casefold()
