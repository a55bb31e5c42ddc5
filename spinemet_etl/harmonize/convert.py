"""Parse one source column into canonical values, recording every value that cannot be parsed.

Each distinct source value is converted once (pandas.factorize, or Arrow's dictionary
encoding for a column still in Arrow), so a million rows of a few thousand distinct values
cost a few thousand conversions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from spinemet_etl.harmonize.dates import digit_format, parse_digit_dates
from spinemet_etl.mapping.model import ColumnMap
from spinemet_etl.mapping.targets import Target
from spinemet_etl.text import code_key, code_text, source_text

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
FIRST_DAY = pd.Timestamp.min.ceil("D").to_pydatetime()
LAST_DAY = pd.Timestamp.max.floor("D").to_pydatetime()
_GROUPED = {
    separator: re.compile(rf"[+-]?[0-9]{{1,3}}(?:{re.escape(separator)}[0-9]{{3}})+")
    for separator in ".,'"
}
"""A whole part written in groups of three digits, per thousands separator."""
_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})
MESSAGES = {
    "unparseable-date": "the value is not a date in the mapping's date formats",
    "ambiguous-date": "the value is a different date in two of the date formats it may be in",
    "unparseable-number": "the value is not a number",
    "not-in-categories": "the value is not an allowed category nor in the column's value map",
    "wrong-type": "the value is not a whole number",
    "out-of-range": "the date lies outside the range pandas can hold",
}


class Failure(Exception):
    """A value that cannot be converted; `code` is the quarantine check code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ValueRule:
    """Everything needed to convert one column's values, compiled from its ColumnMap."""

    target: Target
    kind: str
    missing: frozenset[str]
    labels: dict[str, Any] | None
    mapping: dict[str, Any] | None
    decimal: str
    date_formats: tuple[str, ...]
    excel_serial: bool
    thousands: str | None = None
    century_pivot: int | None = None


def _number(rule: ValueRule, value: Any) -> float:
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        number = float(value)
    else:
        text = _number_text(source_text(value).replace(" ", ""), rule.decimal, rule.thousands)
        try:
            number = float(text)
        except ValueError:
            raise Failure("unparseable-number") from None
    if not math.isfinite(number):
        raise Failure("unparseable-number")
    return number


def _number_text(text: str, decimal: str, thousands: str | None) -> str:
    """Number text with `.` as its decimal point and no grouping; raises Failure when ambiguous.

    Notes:
        In a decimal-comma column `1.096` is a thousand and ninety-six days in one country
        and one day in another: a mark that is neither the decimal mark nor the declared
        thousands separator (in groups of three) makes the value unparseable, never a guess.
    """
    whole, mark, fraction = text.partition(decimal)
    if thousands is not None and thousands in whole:
        if _GROUPED[thousands].fullmatch(whole) is None:
            raise Failure("unparseable-number")
        whole = whole.replace(thousands, "")
    if any(sign in whole + fraction for sign in ".,'"):
        raise Failure("unparseable-number")
    return whole + ("." if mark else "") + fraction


def _date(rule: ValueRule, value: Any) -> datetime:
    """A day as a naive datetime at midnight; out-of-range outside what pandas can hold.

    Notes:
        datetime64[ns] holds 1677-09-22 to 2262-04-11 only: a day outside it (a typo such
        as 1020 for 2020) is quarantined as out-of-range, not left to crash the center.
    """
    try:
        if isinstance(value, datetime | date):
            day = pd.Timestamp(value).normalize().to_pydatetime()
        elif isinstance(value, int | float | np.integer | np.floating):
            if not rule.excel_serial or not math.isfinite(float(value)):
                raise Failure("unparseable-date")
            day = (EXCEL_EPOCH + pd.Timedelta(days=math.floor(float(value)))).to_pydatetime()
        else:
            parsed = _parse_date_text(rule, source_text(value))
            day = datetime(parsed.year, parsed.month, parsed.day)
    except (pd.errors.OutOfBoundsDatetime, pd.errors.OutOfBoundsTimedelta, OverflowError):
        raise Failure("out-of-range") from None
    if not FIRST_DAY <= day.replace(tzinfo=None) <= LAST_DAY:
        raise Failure("out-of-range")
    return day


def _parse_date_text(rule: ValueRule, text: str) -> datetime:
    """The day the text is in the rule's formats; `ambiguous-date` when two read different days.

    Notes:
        `["%d/%m/%Y", "%m/%d/%Y"]` reads `04/25/2020` and `25/04/2020` alike, but which day
        `04/05/2020` is cannot be told from the text: taking the first format that parses
        would guess it, so it is refused instead (a text both read as one day is that day).
    """
    read = [
        day for pattern in rule.date_formats if (day := _strptime(rule, text, pattern)) is not None
    ]
    if len({day.date() for day in read}) > 1:
        raise Failure("ambiguous-date")
    if read:
        return read[0]
    if not rule.date_formats:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise Failure("unparseable-date")


def _strptime(rule: ValueRule, text: str, pattern: str) -> datetime | None:
    """The text in one format (its two-digit year placed by the century pivot), or None."""
    try:
        parsed = datetime.strptime(text, pattern)
    except ValueError:
        return None
    if "%y" in pattern and rule.century_pivot is not None:
        two_digits = parsed.year % 100
        century = 2000 if two_digits < rule.century_pivot else 1900
        parsed = parsed.replace(year=century + two_digits)
    return parsed


def two_digit_years(rule: ValueRule, column: Factorized) -> np.ndarray:
    """Which values are date text read with a two-digit year (`%y`) and no `century_pivot`."""
    if rule.kind != "date" or rule.century_pivot is not None:
        return np.zeros(len(column.codes), dtype=bool)
    if not any("%y" in pattern for pattern in rule.date_formats):
        return np.zeros(len(column.codes), dtype=bool)

    def first_pattern(value: Any) -> bool:
        text = source_text(value)
        for pattern in rule.date_formats:
            try:
                datetime.strptime(text, pattern)
            except ValueError:
                continue
            return "%y" in pattern
        return False

    flags = [isinstance(value, str) and first_pattern(value) for value in column.uniques]
    return column.spread(np.asarray(flags, dtype=bool), False)


def _category(rule: ValueRule, value: Any) -> str:
    wanted = code_key(value)
    for category in rule.target.categories:
        if category.casefold() == wanted:
            return category
    raise Failure("not-in-categories")


def _boolean(value: Any) -> bool:
    key = code_key(value)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise Failure("not-in-categories")


def _typed(rule: ValueRule, value: Any) -> Any:
    if rule.kind == "text":
        return code_text(value)
    if rule.kind == "category":
        return _category(rule, value)
    if rule.kind == "boolean":
        return _boolean(value)
    if rule.kind == "date":
        return _date(rule, value)
    number = _number(rule, value)
    if rule.kind == "int":
        if not number.is_integer():
            raise Failure("wrong-type")
        return int(number)
    return number


_MISSING = object()


def convert_value(rule: ValueRule, value: Any) -> Any:
    """One source value as its canonical value; _MISSING when unknown; raises Failure."""
    key = code_key(value)
    if key in rule.missing or key == "":
        return _MISSING
    if rule.labels is not None:
        value = rule.labels.get(code_text(value), value)
    if rule.mapping is not None:
        mapped_key = code_key(value)
        if mapped_key not in rule.mapping:
            raise Failure("not-in-categories")
        value = rule.mapping[mapped_key]
        if value is None:
            return _MISSING
    return _typed(rule, value)


@dataclass(frozen=True)
class Factorized:
    """A source column as pandas.factorize gives it: each row's code into `uniques` (-1
    where the value is missing) and the distinct values (pandas' own array of them); `raw`,
    the Series factorized, if it was one."""

    codes: np.ndarray
    uniques: Any
    raw: pd.Series | None = None

    def at(self, rows: np.ndarray) -> pd.Series:
        """The values of the rows of a boolean mask, as the source holds them.

        Notes:
            From `raw` when there is one: pandas gives equal values one code (1, 1.0 and
            True in a workbook's column), and each row's own value is the one to show.
        """
        if self.raw is not None:
            return self.raw[rows].reset_index(drop=True)
        return pd.Series(np.asarray([*self.uniques, None], dtype=object)[self.codes[rows]])

    def spread(self, per_value: np.ndarray, missing: Any) -> np.ndarray:
        """One entry per distinct value as one per row, `missing` on the rows without one."""
        return np.append(per_value, np.asarray([missing], dtype=per_value.dtype))[self.codes]


def factorized(raw: pd.Series) -> Factorized:
    """The Series' values factorized (missing values: NaN, None, NaT...)."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    return Factorized(np.asarray(codes, dtype=np.intp), uniques, raw)


def arrow_factorized(column: pa.ChunkedArray) -> Factorized:
    """A string column's values factorized by Arrow (nulls missing): each distinct value
    becomes one Python str, no row does.

    Notes:
        What pandas.factorize of the column made a frame gives, but for the order in which
        the distinct values are numbered, which nothing here depends on: a table read
        from a delimited export is then typed without a Python object per cell (Boston at
        5M, 197 752 rows: its frame made and factorized 0.28 s of CPU, this 0.08 s).
    """
    encoded = column.dictionary_encode().combine_chunks()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    uniques = np.empty(len(encoded.dictionary), dtype=object)
    uniques[:] = encoded.dictionary.to_pylist()
    return Factorized(codes.astype(np.intp), uniques)


def convert_series(rule: ValueRule, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column's canonical values and, aligned, the failure code of each row (or None)."""
    return convert_factorized(rule, factorized(raw), raw.index)


def convert_factorized(
    rule: ValueRule, column: Factorized, index: pd.Index
) -> tuple[pd.Series, pd.Series]:
    """convert_series on a factorized column, its rows labelled by `index`."""
    codes, uniques = column.codes, column.uniques
    positions, days = _whole_dates(rule, uniques)
    done = set(positions.tolist())
    values: list[Any] = []
    failures: list[str | None] = []
    for position, unique in enumerate(uniques):
        if position in done:
            values.append(None)
            failures.append(None)
            continue
        try:
            converted = convert_value(rule, unique)
            values.append(None if converted is _MISSING else converted)
            failures.append(None)
        except Failure as failure:
            values.append(None)
            failures.append(failure.code)
    typed = as_dtype(pd.Series([*values, None], dtype=object), rule.kind)
    if len(positions):
        typed.iloc[positions] = days
    failed = np.asarray([*failures, None], dtype=object)[codes]
    taken = typed.take(codes).set_axis(index)
    return taken, pd.Series(failed, index=index, dtype=object)


def _whole_dates(rule: ValueRule, uniques: Any) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the distinct values converted whole-column, and their days.

    Notes:
        Only a date column without labels or a value map: its plain date text
        (_plain_dates), its typed date cells (_cell_dates) and, with `excel_serial`, its
        numbers (_serial_dates). convert_value would return the same day for each
        (tested against it); every other value takes the per-value path, which decides
        and names any failure.
    """
    none = (np.empty(0, dtype=np.intp), np.empty(0, dtype="datetime64[ns]"))
    if rule.kind != "date" or rule.labels is not None or rule.mapping is not None:
        return none
    if uniques.dtype != object:
        return none
    values = uniques.tolist()
    parts = [_plain_dates(rule, values), _cell_dates(rule, values), _serial_dates(rule, values)]
    return np.concatenate([p for p, _ in parts]), np.concatenate([d for _, d in parts])


def _plain_dates(rule: ValueRule, values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The values that are date text fully matching the rule's one format, parsed whole.

    Notes:
        Fixed-width digits only (or `%Y-%m-%d` when the rule has no format:
        fromisoformat), no missing code, a real day that datetime64[ns] holds. A rule of
        several formats takes the per-value path, which asks each of them (ambiguous-date).
    """
    if len(rule.date_formats) > 1:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype="datetime64[ns]")
    form = digit_format(rule.date_formats[0] if rule.date_formats else "%Y-%m-%d")
    if form is None:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype="datetime64[ns]")
    match = form.pattern.fullmatch
    found = [
        position
        for position, value in enumerate(values)
        if isinstance(value, str) and match(value) is not None and value not in rule.missing
    ]
    days = parse_digit_dates([values[position] for position in found], form)
    parsed = ~np.isnat(days)
    return np.asarray(found, dtype=np.intp)[parsed], days[parsed]


def _cell_dates(rule: ValueRule, values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The values that are naive datetimes (a workbook's date cells), as their days.

    Notes:
        A day is the datetime's date at midnight, as _date gives it; a day outside what
        datetime64[ns] holds, or whose ISO text is a missing code, is left to _date.
    """
    found = [
        position
        for position, value in enumerate(values)
        if type(value) is datetime and value.tzinfo is None
    ]
    cells = [values[position] for position in found]
    ordinals = np.fromiter(map(datetime.toordinal, cells), dtype=np.int64, count=len(cells))
    days = (ordinals - _UNIX_ORDINAL).astype("datetime64[D]")
    usable = (days >= np.datetime64(FIRST_DAY.date())) & (days <= np.datetime64(LAST_DAY.date()))
    if rule.missing:
        usable &= ~np.isin(np.datetime_as_string(days, unit="D"), list(rule.missing))
    return np.asarray(found, dtype=np.intp)[usable], days[usable].astype("datetime64[ns]")


def _serial_dates(rule: ValueRule, values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """With `excel_serial`, the values that are plain numbers, as the days they count.

    Notes:
        The day is EXCEL_EPOCH plus the number's whole days (rounded down), as _date
        gives it. A number equal to a missing code, not finite, beyond what a pandas
        Timedelta holds (_date's out-of-range), or whose day datetime64[ns] cannot hold is
        left to _date.
    """
    if not rule.excel_serial:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype="datetime64[ns]")
    found = [
        position
        for position, value in enumerate(values)
        if type(value) in (int, float) and abs(value) < _SERIAL_DAYS
    ]
    numbers = np.array([values[position] for position in found], dtype=np.float64)
    usable = ~np.isin(numbers, _missing_numbers(rule.missing))
    offsets = np.floor(np.where(usable, numbers, 0)).astype(np.int64)
    days = np.datetime64(EXCEL_EPOCH.date(), "D") + offsets
    usable &= (days >= np.datetime64(FIRST_DAY.date())) & (days <= np.datetime64(LAST_DAY.date()))
    return np.asarray(found, dtype=np.intp)[usable], days[usable].astype("datetime64[ns]")


_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
"""datetime64's day 0 as a date's ordinal: a datetime's day is its ordinal less this."""
_SERIAL_DAYS = pd.Timedelta.max.days
"""_date adds a serial's days as a pandas Timedelta, which holds fewer days than this."""


def _missing_numbers(missing: frozenset[str]) -> list[float]:
    """The missing codes that read as numbers: a number whose code key is one equals it."""
    numbers = []
    for key in missing:
        try:
            numbers.append(float(key))
        except ValueError:
            continue
    return numbers


def as_dtype(values: pd.Series, kind: str) -> pd.Series:
    """Converted values as the column kind's pandas dtype (categories stay text for now)."""
    if kind == "date":
        return pd.to_datetime(values, errors="raise").astype("datetime64[ns]")
    if kind == "boolean":
        return values.astype("boolean")
    if kind == "int":
        return values.astype("Int64")
    if kind == "float":
        return values.astype("float64")
    return values.astype(object)


def compile_rule(
    spec: ColumnMap,
    target: Target,
    kind: str,
    *,
    table_missing: list[str],
    table_decimal: str | None,
    table_formats: list[str] | None,
    table_excel_serial: bool,
    table_thousands: str | None = None,
    table_century_pivot: int | None = None,
    labels: dict[Any, str] | None,
    user_missing: list[Any],
    vocabulary: dict[str, Any] | None,
    source_decimal: str | None = None,
) -> ValueRule:
    """The rule of one column: its missing codes, labels, value map, decimal mark and formats.

    The decimal mark is the column's, else the table's if the mapping states one, else,
    where no thousands separator is stated either (beside one, the default `.` is stated
    too), the one the source states for its column (`source_decimal`: a REDCap field's
    validation), else `.` (docs/mapping.md).
    """
    missing = {code_key(code) for code in [*table_missing, *spec.missing, *user_missing]}
    mapping = vocabulary
    if spec.values is not None:  # a center's own values over the shared vocabulary's
        own = {code_key(key): value for key, value in spec.values.items()}
        mapping = {**(vocabulary or {}), **own}
    use_labels = {code_text(code): label for code, label in labels.items()} if labels else {}
    thousands = spec.thousands or table_thousands
    return ValueRule(
        target=target,
        kind=kind,
        missing=frozenset(missing),
        labels=use_labels if spec.labels else None,
        mapping=mapping,
        decimal=spec.decimal or table_decimal or (None if thousands else source_decimal) or ".",
        date_formats=tuple(spec.date_format or table_formats or ()),
        excel_serial=spec.excel_serial if spec.excel_serial is not None else table_excel_serial,
        thousands=thousands,
        century_pivot=spec.century_pivot if spec.century_pivot is not None else table_century_pivot,
    )
