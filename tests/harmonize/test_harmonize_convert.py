"""Converting one source value: missing codes, labels, value maps, numbers, dates, booleans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from spinemet_etl.harmonize.convert import (
    Failure,
    ValueRule,
    compile_rule,
    convert_series,
    convert_value,
)
from spinemet_etl.mapping.model import ColumnMap
from spinemet_etl.mapping.targets import TARGETS
from spinemet_etl.text import source_text


def _rule(column: str, kind: str | None = None, **spec: Any) -> ValueRule:
    target = TARGETS[column]
    defaults: dict[str, Any] = {"source": "x"}
    return compile_rule(
        ColumnMap.model_validate({**defaults, **spec}), target, kind or target.kind,
        table_missing=["NA", "-9"], table_decimal=".", table_formats=None,
        table_excel_serial=False, labels={1.0: "A", 2.0: "B"}, user_missing=[99.0],
        vocabulary=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("column", "spec", "raw", "expected"),
    [
        ("vas_pain_preop", {}, "7.5", 7.5),
        ("vas_pain_preop", {"decimal": ","}, " 7,5 ", 7.5),
        ("vas_pain_preop", {}, 6, 6.0),
        ("kps_preop", {}, "70", 70),
        ("kps_preop", {}, 70.0, 70),
        ("surgery_date", {}, "2020-02-29", pd.Timestamp("2020-02-29")),
        ("surgery_date", {"date_format": ["%d.%m.%Y", "%d/%m/%Y"]}, "29/02/2020",
         pd.Timestamp("2020-02-29")),
        ("surgery_date", {"excel_serial": True}, 43890.0, pd.Timestamp("2020-02-29")),
        ("surgery_date", {}, datetime(2020, 2, 29, 13, 5), pd.Timestamp("2020-02-29")),
        ("sex", {}, " MALE ", "male"),
        ("sex", {"values": {"m": "male"}}, "M", "male"),
        ("frankel_preop", {"labels": True}, 2.0, "B"),
        ("intraop_death", {}, "yes", True),
        ("intraop_death", {}, 0.0, False),
        ("escc_grade", {}, 0.0, "0"),
    ],
    ids=[
        "float-text", "decimal-comma", "number-cell", "int-text", "int-float-cell", "iso-date",
        "second-format", "excel-serial", "datetime-cell", "category-any-case", "value-map",
        "spss-label", "boolean-word", "boolean-code", "category-from-number",
    ],
)  # fmt: skip
def test_values_convert(column: str, spec: dict[str, Any], raw: Any, expected: Any) -> None:
    assert convert_value(_rule(column, **spec), raw) == expected


@pytest.mark.parametrize(
    ("column", "spec", "raw", "code"),
    [
        ("vas_pain_preop", {}, "<1", "unparseable-number"),
        ("vas_pain_preop", {}, "approx 5", "unparseable-number"),
        ("vas_pain_preop", {}, "nan", "unparseable-number"),
        ("vas_pain_preop", {}, "7,5", "unparseable-number"),
        ("kps_preop", {}, "72.5", "wrong-type"),
        ("surgery_date", {}, "31/02/2020", "unparseable-date"),
        ("surgery_date", {"date_format": ["%d.%m.%Y"]}, "2020-02-29", "unparseable-date"),
        ("surgery_date", {}, 43890.0, "unparseable-date"),
        ("surgery_date", {}, "1500-01-01", "out-of-range"),
        ("surgery_date", {"excel_serial": True}, 1e12, "out-of-range"),
        ("sex", {}, "X", "not-in-categories"),
        ("sex", {"values": {"m": "male"}}, "male", "not-in-categories"),
        ("frankel_preop", {"labels": True}, 6.0, "not-in-categories"),
        ("intraop_death", {}, "perhaps", "not-in-categories"),
    ],
    ids=[
        "less-than", "approx", "nan-text", "comma-without-decimal-comma", "fraction-in-int",
        "impossible-date", "wrong-format", "serial-not-allowed", "before-pandas-range",
        "serial-beyond-pandas-range", "unknown-category",
        "not-in-value-map", "unlabelled-code", "unknown-boolean",
    ],
)  # fmt: skip
def test_values_that_fail_carry_their_code(
    column: str, spec: dict[str, Any], raw: Any, code: str
) -> None:
    with pytest.raises(Failure) as caught:
        convert_value(_rule(column, **spec), raw)
    assert caught.value.code == code


@pytest.mark.parametrize("raw", ["", "  ", "na", "-9", -9.0, 99.0], ids=repr)
def test_missing_codes_and_blanks_are_missing(raw: Any) -> None:
    values, codes = convert_series(_rule("kps_preop"), pd.Series([raw, "80"], dtype=object))
    assert values.isna().tolist() == [True, False] and codes.isna().all()


def test_a_series_converts_each_distinct_value_once_and_keeps_dtypes() -> None:
    raw = pd.Series(["2020-01-02", None, "bad", "2020-01-02"], index=[5, 6, 7, 8], dtype=object)
    values, codes = convert_series(_rule("surgery_date"), raw)
    assert values.dtype == np.dtype("datetime64[ns]")
    assert values.index.tolist() == [5, 6, 7, 8]
    assert values.tolist()[0] == pd.Timestamp("2020-01-02") and values.isna().tolist()[1:3] == [
        True, True
    ]  # fmt: skip
    assert codes.tolist() == [None, None, "unparseable-date", None]


@pytest.mark.parametrize(
    ("value", "key"),
    [(3.0, "3"), (2.5, "2.5"), (True, "true"), (datetime(2020, 1, 2, 3, 4), "2020-01-02"),
     ("  a   b ", "a b"), (np.int64(7), "7")],
    ids=["whole-float", "fraction", "bool", "datetime", "blanks", "numpy-int"],
)  # fmt: skip
def test_text_keys(value: Any, key: str) -> None:
    assert source_text(value) == key


def test_a_date_pandas_cannot_hold_fails_alone() -> None:
    raw = pd.Series(["2020-02-29", "1500-01-01"], dtype=object)
    values, codes = convert_series(_rule("surgery_date"), raw)
    assert values.tolist()[0] == pd.Timestamp("2020-02-29") and values.isna().tolist()[1]
    assert codes.tolist() == [None, "out-of-range"]
