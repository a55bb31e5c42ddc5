"""The one text normalizer: what compares equal and what never does."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from spinemet_etl.text import clean_text, clean_texts, code_key, code_text, source_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (unicodedata.normalize("NFD", "riñón"), "riñón"),
        ("  a \u00a0\t b\u202f", "a b"),
        (3.0, "3"),
        (np.float64(2.5), "2.5"),
        (True, "true"),
        (datetime(2020, 1, 2, 3, 4), "2020-01-02"),
        ("1.0", "1.0"),
        ("1.096", "1.096"),
    ],
    ids=["nfd", "blanks-and-nbsp", "whole-float", "fraction", "bool", "datetime",
         "float-text-kept", "number-text-kept"],
)  # fmt: skip
def test_source_text(value: Any, text: str) -> None:
    assert source_text(value) == text
    assert unicodedata.is_normalized("NFC", source_text(value))


@pytest.mark.parametrize(
    ("value", "code"),
    [("1.0", "1"), ("-9.00", "-9"), (" 0.0 ", "0"), ("1.5", "1.5"), ("1.096", "1.096"),
     ("01.0", "1"), ("A.0", "A.0"), (1.0, "1")],
    ids=["one", "negative", "padded", "fraction", "not-zeros", "leading-zero", "text", "float"],
)  # fmt: skip
def test_code_text(value: Any, code: str) -> None:
    assert code_text(value) == code


def test_code_key_folds_case_after_composing() -> None:
    assert code_key(unicodedata.normalize("NFD", "PRÓSTATA")) == "próstata"
    assert clean_text("") == ""


_ALPHABET = [chr(code) for code in range(128)] + ["\u00a0", "\u2003", "n\u0303", "ñ", "\u3000"]


def test_clean_texts_is_clean_text_on_each() -> None:
    """Every ASCII character (whitespace and controls included) and a few non-ASCII ones,
    alone, paired and in short words with spaces around and between them."""
    words = [*_ALPHABET, *(a + b for a in _ALPHABET for b in _ALPHABET)]
    leads, gaps, trails = ("", " ", "  ", "\t"), ("", " ", "  ", "\u00a0", "\n"), ("", " ", "\r\n")
    spaced = [f"{lead}x{gap}y{trail}" for lead in leads for gap in gaps for trail in trails]
    texts = [*words, *spaced, "", "BCN-0001", "a b c", "a  b"]
    assert clean_texts(texts) == [clean_text(text) for text in texts]


def test_clean_texts_changes_only_what_is_not_clean() -> None:
    texts = ["ok id", " lead", "trail ", "two  spaces", "tab\there", "n\u0303", "fine"]
    assert clean_texts(texts) == ["ok id", "lead", "trail", "two spaces", "tab here", "ñ", "fine"]
    assert clean_texts([]) == []
