"""Pseudonymous patient ids: a keyed hash of the center and the source's own patient id."""

from __future__ import annotations

import hashlib
import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from spinemet_etl.text import clean_text, clean_texts

SEPARATOR = "\x1f"
"""U+001F (unit separator) between center id and source id: neither can contain it."""

PSEUDONYM_LENGTH = 32
"""Hex characters kept of the HMAC-SHA256 digest (128 bits)."""


def normalize_source_id(value: Any) -> str | None:
    """A source patient id as the text that is hashed, or None when it is missing.

    Notes:
        Text is clean_text'ed: NFC, whitespace around the id stripped and inside it
        collapsed (ids that were already so hash as before). A number is written without
        a fractional part when it has none, so an id Excel typed as the float 123.0 hashes
        like the text "123" another export carries; text is never reinterpreted ("00123"
        and "123.0" as text stay as they are), since leading zeros can be significant.
        Empty text, None, NaN and NA are missing.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        number = float(value)
        if math.isnan(number):
            return None
        return str(int(number)) if number.is_integer() else repr(number)
    text = clean_text(str(value))
    return text or None


def normalize_source_ids(source_ids: pd.Series) -> pd.Series:
    """normalize_source_id over a Series; when every value is text, once per distinct value."""
    if pd.api.types.infer_dtype(source_ids, skipna=True) in ("string", "empty"):
        codes, distinct = pd.factorize(source_ids, use_na_sentinel=True)
        normalized = normalize_text_ids(codes, distinct)
        return pd.Series(normalized, index=source_ids.index, name=source_ids.name, dtype=object)
    return source_ids.map(normalize_source_id).astype(object)


def normalize_text_ids(codes: np.ndarray, distinct: Any) -> np.ndarray:
    """normalize_source_id of factorized text ids (`codes` into the distinct str values,
    -1 where missing), each distinct value once, as an object array."""
    stripped = clean_texts(list(distinct))
    lookup = np.array([*(text or None for text in stripped), None], dtype=object)
    return lookup[codes]


def _keyed_sha256(key: bytes, prefix: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner state (key ^ ipad, then `prefix`) and outer state (key ^ opad).

    RFC 2104, as Python's hmac module computes it; keeping both states lets each id cost
    two hash copies instead of a full HMAC set-up.
    """
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    inner.update(prefix)
    return inner, hashlib.sha256(bytes(byte ^ 0x5C for byte in key))


def pseudonymize(
    center_id: str, source_ids: pd.Series, key: str, *, normalized: bool = False
) -> pd.Series:
    """Lowercase hex of HMAC-SHA256(key, center_id + U+001F + source id), first 32 characters.

    Returns an object Series aligned with `source_ids` (same index and name), None where
    the source id is missing. Ids are normalized first (normalize_source_id), unless
    `normalized` says they are that already (str or None, as normalize_source_ids gives
    them: normalizing is idempotent, so it would change nothing); each distinct id is
    hashed once.
    """
    inner, outer = _keyed_sha256(key.encode("utf-8"), (center_id + SEPARATOR).encode("utf-8"))
    ids = source_ids if normalized else normalize_source_ids(source_ids)
    codes, distinct = pd.factorize(ids, use_na_sentinel=True)
    hashed = []
    for text in distinct:
        inner_state, outer_state = inner.copy(), outer.copy()
        inner_state.update(text.encode("utf-8"))
        outer_state.update(inner_state.digest())
        hashed.append(outer_state.hexdigest()[:PSEUDONYM_LENGTH])
    lookup = np.array([*hashed, None], dtype=object)
    pseudonyms = pd.Series(lookup[codes], index=source_ids.index, dtype=object)
    pseudonyms.name = source_ids.name
    return pseudonyms
