"""sorted_inverse: numpy's unique with inverse, by hashing the values instead of sorting them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spinemet_etl.stats.grouping import sorted_inverse


@settings(max_examples=200, deadline=None, database=None)
@given(
    values=st.lists(
        st.one_of(
            st.sampled_from([0.0, -0.0, 1.5, float("nan"), float("inf"), -float("inf")]),
            st.integers(-5, 40).map(lambda day: day / 30.4375),
        ),
        max_size=60,
    )
)
def test_sorted_inverse_is_numpys_unique_with_inverse(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)
    distinct, inverse = sorted_inverse(array)
    expected, expected_inverse = np.unique(array, return_inverse=True)
    np.testing.assert_array_equal(distinct, expected)  # NaN once, last; -0.0 == 0.0
    np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))
    assert inverse.dtype == np.int64
