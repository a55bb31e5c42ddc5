"""Pseudonyms: the contract's HMAC, id normalization, nulls, speed."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spinemet_etl.pseudonym import normalize_source_id, normalize_source_ids, pseudonymize

KEY = "test-key"


def test_matches_hand_computed_hmac() -> None:
    # hmac.new(b"test-key", "bologna\x1f123".encode(), sha256).hexdigest()[:32]
    result = pseudonymize("bologna", pd.Series(["123", "P-0042"]), KEY)
    assert result.tolist() == [
        "22685eb30c3a111904d1e9f31995724d",
        "9ef10528d9da0225b2deca50dbec3ee6",
    ]


def test_matches_python_hmac_on_unicode_id() -> None:
    expected = hmac.new(b"k", "muenchen\x1fMüller-7".encode(), hashlib.sha256).hexdigest()[:32]
    assert pseudonymize("muenchen", pd.Series(["Müller-7"]), "k").iloc[0] == expected


def test_center_is_part_of_the_hash() -> None:
    bologna = pseudonymize("bologna", pd.Series(["123"]), KEY).iloc[0]
    lyon = pseudonymize("lyon", pd.Series(["123"]), KEY).iloc[0]
    assert lyon == "ee36fb13f07d7f62e9a5c71277ff74fd"
    assert bologna != lyon


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("123", "123"),
        ("  123 ", "123"),
        (123, "123"),
        (123.0, "123"),
        (np.float64(123.0), "123"),
        (np.int64(123), "123"),
        (12.5, "12.5"),
        ("00123", "00123"),
        ("123.0", "123.0"),
        ("", None),
        ("   ", None),
        (None, None),
        (float("nan"), None),
        (pd.NA, None),
    ],
    ids=[
        "text", "padded-text", "int", "excel-float", "numpy-float", "numpy-int",
        "fractional", "leading-zeros-kept", "text-float-kept", "empty", "blank",
        "none", "nan", "pd-na",
    ],
)  # fmt: skip
def test_normalize_source_id(raw: object, normalized: str | None) -> None:
    assert normalize_source_id(raw) == normalized


def test_excel_float_and_text_id_give_the_same_pseudonym() -> None:
    result = pseudonymize("bologna", pd.Series([123.0, " 123", np.nan], dtype=object), KEY)
    assert result.iloc[0] == result.iloc[1] == "22685eb30c3a111904d1e9f31995724d"
    assert result.iloc[2] is None


def test_keeps_index_and_name() -> None:
    ids = pd.Series(["a", "b"], index=[10, 20], name="pid")
    result = pseudonymize("boston", ids, KEY)
    assert result.index.tolist() == [10, 20]
    assert result.name == "pid"
    assert result.str.fullmatch(r"[0-9a-f]{32}").all()


def test_key_changes_every_pseudonym() -> None:
    ids = pd.Series(["1", "2"])
    assert not (pseudonymize("boston", ids, "a") == pseudonymize("boston", ids, "b")).any()


@pytest.mark.parametrize(
    "key",
    ["", "short", "x" * 64, "a-key-longer-than-one-sha256-block-" * 3, "schlüssel-ü"],
    ids=["empty", "short", "one-block", "longer-than-block", "non-ascii"],
)
def test_agrees_with_hmac_module_for_any_key_length(key: str) -> None:
    ids = pd.Series(["7", "A-12", "x y"])
    expected = [
        hmac.new(key.encode(), f"rotterdam\x1f{i}".encode(), hashlib.sha256).hexdigest()[:32]
        for i in ids
    ]
    assert pseudonymize("rotterdam", ids, key).tolist() == expected


def test_all_missing_ids() -> None:
    result = pseudonymize("boston", pd.Series([None, "", np.nan], dtype=object), KEY)
    assert result.tolist() == [None, None, None]


def test_text_ids_are_normalized_like_one_by_one() -> None:
    ids = pd.Series([" a", "a", "", "  ", None, "b\t", np.nan, "a "], index=range(5, 13), name="x")
    result = normalize_source_ids(ids)
    assert result.tolist() == ["a", "a", None, None, None, "b", None, "a"]
    assert result.index.tolist() == list(range(5, 13))
    assert result.name == "x"
    assert result.dtype == object


def test_decomposed_and_non_breaking_ids_hash_like_their_plain_text() -> None:
    import unicodedata

    plain = pseudonymize("lyon", pd.Series(["Ré 12"], dtype=object), KEY).iloc[0]
    odd = pd.Series([unicodedata.normalize("NFD", " Ré\u00a012 "), "Ré  12"], dtype=object)
    assert pseudonymize("lyon", odd, KEY).tolist() == [plain, plain]
    assert normalize_source_id("00123.0") == "00123.0"


@given(
    ids=st.lists(
        st.one_of(st.none(), st.text(max_size=6), st.sampled_from([" a\u00a0b ", "n\u0303", "12"]))
    )
)
def test_normalizing_is_idempotent_so_normalized_ids_may_skip_it(ids: list[str | None]) -> None:
    """The harmonizer's `_pid` is normalized once, then pseudonymized with normalized=True."""
    once = normalize_source_ids(pd.Series(ids, dtype=object))
    assert normalize_source_ids(once).tolist() == once.tolist()
    skipped = pseudonymize("lyon", once, KEY, normalized=True)
    assert skipped.tolist() == pseudonymize("lyon", pd.Series(ids, dtype=object), KEY).tolist()
