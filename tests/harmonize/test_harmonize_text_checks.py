"""`str_matches` judged by Arrow's RE2: never fewer failing rows than pandera's own check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinemet_etl.harmonize.checks import (
    _column_check_failing,
    _text_matches_failing,
    column_schema,
)

SCHEMA_PATTERNS = sorted(
    {
        str(check.statistics["pattern"])
        for column in column_schema().columns.values()
        for check in column.checks
        if check.name == "str_matches"
    }
)
OTHER_SAFE = ["[A-Z]{2}-[0-9]+", "(ab|a)c?$", "[^a-f]*$", "x{2,3}|y+"]
TEXT = st.text(
    alphabet=st.sampled_from([*"0123456789abcdefxyzA_-", "\n", " ", "é", "٣"]), max_size=70
)


def _pandera_failing(pattern: str, values: pd.Series) -> np.ndarray:
    output = pa.Check.str_matches(pattern)(values).check_output
    return ~output.reindex(values.index, fill_value=True).fillna(True).to_numpy(dtype=bool)


@settings(max_examples=150, deadline=None, database=None)
@given(
    pattern=st.sampled_from([*SCHEMA_PATTERNS, *OTHER_SAFE]),
    texts=st.lists(st.one_of(st.none(), TEXT, st.just("0" * 32), st.just("a" * 64)), max_size=40),
)
def test_arrow_failing_rows_hold_every_pandera_failure(pattern: str, texts: list) -> None:  # type: ignore[type-arg]
    values = pd.Series(texts, dtype=object)
    check = pa.Check.str_matches(pattern)
    arrow = _text_matches_failing(check, values)
    assert arrow is not None
    python = _pandera_failing(pattern, values)
    assert not (python & ~arrow).any()  # a superset: pandera judges the rows kept
    final_break = values.map(lambda v: isinstance(v, str) and v.endswith("\n")).to_numpy()
    assert ((arrow != python) <= final_break).all()  # and equal but for Python's `$` before \n


def test_the_schema_patterns_are_judged_by_arrow() -> None:
    assert SCHEMA_PATTERNS  # patient_id, center_id, source_sha256
    values = pd.Series(["0" * 32, "0" * 31, None, "Z" * 32], dtype=object)
    for pattern in SCHEMA_PATTERNS:
        assert _text_matches_failing(pa.Check.str_matches(pattern), values) is not None


@pytest.mark.parametrize("pattern", [r"^\d+$", "^a.c$", "(?i)^abc$", r"^\w+\b"])
def test_other_patterns_are_left_to_pandera(pattern: str) -> None:
    values = pd.Series(["٣", "abc", "ABC", None], dtype=object)
    check = pa.Check.str_matches(pattern)
    assert _text_matches_failing(check, values) is None
    np.testing.assert_array_equal(
        _column_check_failing(check, values), _pandera_failing(pattern, values)
    )


def test_a_column_of_other_objects_is_left_to_pandera() -> None:
    assert (
        _text_matches_failing(pa.Check.str_matches("^[0-9]+$"), pd.Series([1, "2"], dtype=object))
        is None
    )
