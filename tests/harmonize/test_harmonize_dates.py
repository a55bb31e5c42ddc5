"""Plain date text and date cells converted whole-array give what the per-value path gives."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
import pytest

from spinemet_etl.harmonize.convert import Failure, compile_rule, convert_series, convert_value
from spinemet_etl.harmonize.dates import digit_format
from spinemet_etl.mapping.model import ColumnMap
from spinemet_etl.mapping.targets import TARGETS


def _rule(formats: list[str] | None, missing: list[str] | None = None, serial: bool = False) -> Any:
    return compile_rule(
        ColumnMap.model_validate({"source": "x", "missing": missing or []}),
        TARGETS["surgery_date"], "date",
        table_missing=["NA"], table_decimal=".", table_formats=formats,
        table_excel_serial=serial, labels=None, user_missing=[], vocabulary=None,
    )  # fmt: skip


def _one_by_one(rule: Any, texts: list[str]) -> tuple[list[Any], list[Any]]:
    values, codes = [], []
    for text in texts:
        try:
            value = convert_value(rule, text)
            values.append(pd.Timestamp(value) if isinstance(value, date) else pd.NaT)
            codes.append(None)
        except Failure as failure:
            values.append(pd.NaT)
            codes.append(failure.code)
    return values, codes


def _texts(pattern: str) -> list[str]:
    """Every day of edge years, impossible days and months, and near-misses of the pattern."""
    days = [
        date(year, 1, 1) + timedelta(days=offset)
        for year in (1677, 1678, 1900, 2000, 2023, 2024, 2261, 2262)
        for offset in range(366)
    ]
    texts = [day.strftime(pattern) for day in days]
    for year in (1600, 1677, 1900, 2000, 2023, 2024, 2262, 2263, 9999, 0):
        for month in range(14):
            for day_number in (0, 1, 28, 29, 30, 31, 32, 99):
                texts.append(
                    pattern.replace("%Y", f"{year:04d}")
                    .replace("%m", f"{month:02d}")
                    .replace("%d", f"{day_number:02d}")
                )
    return [*texts, "2020-1-5", "5.1.2020", " 2020-01-05", "2020-01-05 ", "", "NA"]


@pytest.mark.parametrize(
    ("formats", "pattern"),
    [
        (None, "%Y-%m-%d"),
        (["%Y-%m-%d"], "%Y-%m-%d"),
        (["%d.%m.%Y"], "%d.%m.%Y"),
        (["%m/%d/%Y", "%d/%m/%Y"], "%m/%d/%Y"),
        (["%d/%m/%Y", "%Y-%m-%d"], "%Y-%m-%d"),
    ],
    ids=["iso-default", "iso", "german", "us-then-european", "second-format"],
)
def test_whole_array_dates_equal_strptime_per_value(
    formats: list[str] | None, pattern: str
) -> None:
    rule = _rule(formats, missing=["1900-01-01", "01.01.1900"])
    texts = _texts(pattern)
    values, codes = convert_series(rule, pd.Series(texts, dtype=object))
    expected_values, expected_codes = _one_by_one(rule, texts)
    assert values.dtype == "datetime64[ns]"
    pd.testing.assert_series_equal(
        values, pd.Series(expected_values, dtype="datetime64[ns]"), check_names=False
    )
    assert codes.tolist() == expected_codes
    assert values.notna().sum() > 1700  # some parsed (whole-array for a rule of one format)


def _cells() -> list[Any]:
    """Date cells as a workbook reader gives them: edge days, times of day, odd types, text."""
    days = [
        date(year, 1, 1) + timedelta(days=offset)
        for year in (1, 1677, 1678, 1900, 1969, 1970, 2024, 2261, 2262, 9999)
        for offset in range(0, 366, 3)
        if year < 9999 or offset < 365
    ]
    cells: list[Any] = [datetime.combine(day, time()) for day in days]
    cells += [datetime.combine(day, time(23, 59, 59, 999999)) for day in days[::7]]
    cells += [datetime(1969, 12, 31, 12), date(2020, 5, 2)]
    return [*cells, pd.Timestamp("2020-05-03 10:00"), "2020-05-04", 45000, "NA"]


def _serials() -> list[Any]:
    """Serial day numbers as workbook cells: whole, fractional, negative, huge, odd types."""
    numbers: list[Any] = [float(n) for n in range(-700_000, 200_000, 997)]
    numbers += [n + 0.75 for n in range(-800, 800, 7)] + [-0.25, -1, 0, 1, 60, 61, 45000]
    numbers += [
        106_750.5,
        106_751,
        106_751.5,
        -106_751,
        135_000,
        2_958_465,
        1e7,
        -1e7,
        1e300,
        float("inf"),
        True,
        False,
    ]
    return [*numbers, -9, -9.0, 99.5, "-9", "45000", "NA"]


@pytest.mark.parametrize("serial", [True, False], ids=["serial", "not-serial"])
def test_whole_column_serial_numbers_equal_the_per_value_path(serial: bool) -> None:
    rule = _rule(["%Y-%m-%d"], missing=["-9", "99.5", "1e300"], serial=serial)
    cells = _serials()
    values, codes = convert_series(rule, pd.Series(cells, dtype=object))
    expected_values, expected_codes = _one_by_one(rule, cells)
    pd.testing.assert_series_equal(
        values, pd.Series(expected_values, dtype="datetime64[ns]"), check_names=False
    )
    assert codes.tolist() == expected_codes
    assert ("out-of-range" in codes.tolist()) is serial


def test_whole_column_date_cells_equal_the_per_value_path() -> None:
    rule = _rule(["%Y-%m-%d"], missing=["1900-01-01"])
    cells = _cells()
    values, codes = convert_series(rule, pd.Series(cells, dtype=object))
    expected_values, expected_codes = _one_by_one(rule, cells)
    pd.testing.assert_series_equal(
        values, pd.Series(expected_values, dtype="datetime64[ns]"), check_names=False
    )
    assert codes.tolist() == expected_codes
    assert "out-of-range" in codes.tolist() and values.notna().sum() > 800


@pytest.mark.parametrize(
    ("date_format", "plain"),
    [
        ("%Y-%m-%d", True),
        ("%d.%m.%Y", True),
        ("%Y%m%d", False),
        ("%d/%m/%y", False),
        ("%d %m %Y", False),
        ("%Y-%m-%dT%H", False),
        ("%Y-%m", False),
    ],
    ids=["iso", "german", "no-separator", "two-digit-year", "space", "hour", "no-day"],
)
def test_only_fixed_width_digit_formats_are_parsed_whole(date_format: str, plain: bool) -> None:
    assert (digit_format(date_format) is not None) is plain
