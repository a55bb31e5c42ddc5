"""The canonical model's own checks as whole-column masks: where lazy validation must look."""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
from pandera.api.checks import Check
from pandera.engines.pandas_engine import Engine

from schemas.patients import PatientsModel


def failing_rows(output: Any, index: pd.Index) -> np.ndarray:
    """Rows a check's output does not pass; every row when the output is not one per row.

    A check that ignores missing values returns outputs for the other rows only: the
    rows it left out pass.
    """
    if not isinstance(output, pd.Series):
        return np.full(len(index), not bool(output))
    passed = output.fillna(False).astype(bool)
    failed = ~passed.to_numpy()
    if passed.index.equals(index):
        return failed
    return index.isin(passed.index[failed])


def _dtype_failing(column: Any, values: pd.Series) -> np.ndarray:
    """Rows whose value the column's dtype check rejects (all of them for a wrong dtype)."""
    dtype = Engine.dtype(values.dtype)
    text = values.dtype == object and column.dtype.check(dtype)
    if text and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return np.zeros(len(values), dtype=bool)
    return failing_rows(column.dtype.check(dtype, values), values.index)


ELEMENT_WISE_CHECKS = frozenset(
    {
        "str_matches", "str_contains", "str_startswith", "str_endswith", "str_length",
        "isin", "notin", "equal_to", "not_equal_to", "greater_than", "less_than",
        "greater_than_or_equal_to", "less_than_or_equal_to", "in_range",
    }
)  # fmt: skip
"""Built-in checks that judge each value alone, so judging each distinct value once suffices."""


SAFE_PATTERN = re.compile(r"[\^$\[\]{}(),|+*?A-Za-z0-9_-]*")
"""The `str_matches` patterns that Arrow's RE2 may judge: anchors, ASCII letters and digits,
bracket classes, groups, alternatives and repeats; no escape, dot or flag."""


def _text_matches_failing(check: Check, values: pd.Series) -> np.ndarray | None:
    """Rows of a text column that RE2 finds not matching a SAFE_PATTERN `str_matches`
    (None when the pattern or a value is not for it): a superset of pandera's failures.

    Notes:
        pandera's `str_matches` is Python's `re.match`, one value at a time (0.09 s for
        Boston's 197 752 patient ids at 5M). Over such a pattern, anchored at the start
        like `re.match`, both engines accept the same language, except that Python's `$`
        also accepts a final line break: every value RE2 accepts, Python accepts, so the
        rows left out pass pandera's check too, and pandera judges those kept.
    """
    pattern = (check.statistics or {}).get("pattern")
    if not isinstance(pattern, str) or not SAFE_PATTERN.fullmatch(pattern) or "(?" in pattern:
        return None
    try:
        text = pa_arrow.array(values.to_numpy(dtype=object), pa_arrow.string(), from_pandas=True)
        accepted = pc.match_substring_regex(text, f"^(?:{pattern})").fill_null(True)
    except (pa_arrow.ArrowException, UnicodeError):
        return None
    return np.asarray(~accepted.to_numpy(zero_copy_only=False))


def _column_check_failing(check: Check, values: pd.Series) -> np.ndarray:
    """Rows a column check fails; text columns judged once per distinct value when allowed,
    or, mostly distinct, by Arrow for `str_matches` (a superset, _text_matches_failing)."""
    if values.dtype != object or check.name not in ELEMENT_WISE_CHECKS or not check.ignore_na:
        return failing_rows(check(values).check_output, values.index)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) * 2 > len(values):
        failing = _text_matches_failing(check, values) if check.name == "str_matches" else None
        return (
            failing_rows(check(values).check_output, values.index) if failing is None else failing
        )
    distinct = pd.Series(uniques, dtype=object)
    failed = np.append(failing_rows(check(distinct).check_output, distinct.index), False)
    return failed[codes]


def suspect_columns(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> dict[str, np.ndarray]:
    """Each column's rows failing its dtype, nullability or checks: a superset of pandera's.

    Every check runs once over the whole column. A column the frame lacks is returned
    with every row marked (lazy validation then names it).
    """
    masks: dict[str, np.ndarray] = {}
    for name, column in schema.columns.items():
        if name not in frame.columns:
            masks[name] = np.ones(len(frame), dtype=bool)
            continue
        values = frame[name]
        suspect = _dtype_failing(column, values)
        if not column.nullable:
            suspect |= values.isna().to_numpy()
        for check in column.checks:
            suspect |= _column_check_failing(check, values)
        masks[name] = suspect
    return masks


def suspect_rows(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> np.ndarray:
    """Rows failing a column's dtype, nullability or checks: a superset of what pandera reports."""
    return np.logical_or.reduce(
        [np.zeros(len(frame), dtype=bool), *suspect_columns(frame, schema).values()]
    )


def check_identifier(check: Check) -> str:
    """The name pandera gives a failed check in its failure cases: error, else name."""
    if check.error is not None:
        return str(check.error)
    return str(check.name) if check.name is not None else str(check)


def _frame_check_failing(check: Check, frame: pd.DataFrame) -> np.ndarray:
    """Positions of the rows a dataframe-level check fails, as pandera's backend decides.

    The check runs through pandera's own backend; only its failure-case bookkeeping over
    the whole frame is skipped: a row the check fails still passes when every one of its
    values is missing and the check ignores missing values, as pandera rules.
    """
    backend = check.get_backend(frame)(check)
    output = backend.apply(backend.preprocess(frame, None))
    positions = np.flatnonzero(failing_rows(output, frame.index))
    if check.ignore_na and len(positions):
        empty = frame.iloc[positions].isna().all(axis="columns").to_numpy()
        positions = positions[~empty]
    return positions


def frame_check_failures(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """Each dataframe-level check of PatientsModel with the positions of the rows it fails."""
    checks = PatientsModel.to_schema().checks
    return [(check_identifier(check), _frame_check_failing(check, frame)) for check in checks]


@lru_cache(maxsize=1)
def column_schema() -> pa.DataFrameSchema:
    """PatientsModel's schema without its dataframe-level checks (columns, order, strictness)."""
    schema = copy.copy(PatientsModel.to_schema())
    schema.checks = []
    return schema


@lru_cache(maxsize=64)
def narrowed_schema(columns: tuple[str, ...]) -> pa.DataFrameSchema:
    """column_schema() of only these columns (in its order): what a frame of them must fit."""
    return column_schema().select_columns(list(columns))
