"""Rendering canonical values in a center's words, codes, number and date styles."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schemas.patients import ESCC_GRADES, FRANKEL_GRADES, PRIMARY_TUMORS

CODES_1_22 = {tumor: i + 1 for i, tumor in enumerate(PRIMARY_TUMORS)}
FRANKEL_CODES = {grade: i + 1 for i, grade in enumerate(FRANKEL_GRADES)}
ESCC_CODES = {grade: i + 1 for i, grade in enumerate(ESCC_GRADES)}
VISCERAL_CODES = {"none": 0, "removable": 1, "unremovable": 2}


def words(values: Sequence[str]) -> dict[str, str]:
    """A vocabulary in the canonical categories' order: canonical → local word."""
    return dict(zip(PRIMARY_TUMORS, values, strict=True))


def local(
    series: pd.Series,
    mapping: Mapping[Any, Any],
    missing: Sequence[Any],
    rng: np.random.Generator,
) -> list[Any]:
    """Map canonical values to local ones; missing → one of `missing` at random.

    Values outside `mapping` (dirt tokens) pass through unchanged.
    """
    choices = rng.integers(0, max(len(missing), 1), len(series))
    values = pd.Series(series.to_numpy(dtype=object), dtype=object)
    unknown = values.isna().to_numpy()
    known = values.isin(list(mapping)).to_numpy() & ~unknown
    out = values.to_numpy(dtype=object).copy()
    if known.any():
        out[known] = [mapping[v] for v in out[known]]
    codes = np.array(list(missing) or [None], dtype=object)
    out[unknown] = codes[choices[unknown]]
    return list(out)


def local_words(
    series: pd.Series, options: Mapping[str, Sequence[str]], rng: np.random.Generator
) -> list[Any]:
    """Map each canonical value to one of several local synonyms, chosen at random."""
    picks = rng.random(len(series))
    out: list[Any] = []
    for value, pick in zip(series.astype(object), picks, strict=True):
        synonyms = options.get(value) if isinstance(value, str) else None
        out.append(synonyms[int(pick * len(synonyms))] if synonyms else value)
    return out


def as_number(value: Any) -> Any:
    """Whole floats as int (7.0 → 7), numpy scalars as Python numbers, others unchanged."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def numbers(
    series: pd.Series,
    missing: Sequence[Any],
    rng: np.random.Generator,
    *,
    decimals: int | None = None,
    comma: bool = False,
) -> list[Any]:
    """Numbers as numbers (or text, with `decimals` and `comma`); missing → a missing code.

    Text already in the column (dirt) passes through unchanged.
    """
    out = local(series, {}, missing, rng)
    present = series.notna().to_numpy()
    rendered: list[Any] = []
    for value, is_value in zip(out, present, strict=True):
        if not is_value or isinstance(value, str):
            rendered.append(value)
        elif decimals is None:
            rendered.append(as_number(value))
        else:
            text = f"{float(value):.{decimals}f}"
            rendered.append(text.replace(".", ",") if comma else text)
    return rendered


_TEXT_DATE_LAYOUTS = {
    "%Y-%m-%d": lambda iso: iso,
    "%d.%m.%Y": lambda iso: f"{iso[8:10]}.{iso[5:7]}.{iso[:4]}",
    "%d/%m/%Y": lambda iso: f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}",
}


def dates(series: pd.Series, fmt: str | None, missing: str = "") -> list[Any]:
    """Dates as text in `fmt` (`%Y-%m-%d`, `%d.%m.%Y`, `%d/%m/%Y`), or `datetime.date` if None."""
    days = pd.to_datetime(series).to_numpy(dtype="datetime64[D]")
    present = ~np.isnat(days)
    if fmt is None:
        return [d.item() if ok else None for d, ok in zip(days, present, strict=True)]
    layout = _TEXT_DATE_LAYOUTS[fmt]
    iso = np.datetime_as_string(days, unit="D")
    return [layout(text) if ok else missing for text, ok in zip(iso, present, strict=True)]


def flags(
    series: pd.Series, yes: Any, no: Any, missing: Sequence[Any], rng: np.random.Generator
) -> list[Any]:
    """Booleans as the center's yes/no words or codes."""
    return local(series, {True: yes, False: no}, missing, rng)


Chunks = Iterable[tuple[pd.DataFrame, np.random.Generator]]
ColumnsOf = Callable[[pd.DataFrame, np.random.Generator], dict[str, list[Any]]]


def write_csv_chunks(
    path: Path,
    chunks: Chunks,
    columns_of: ColumnsOf,
    *,
    encoding: str,
    lineterminator: str,
    delimiter: str = ",",
) -> list[Path]:
    """Write a CSV one chunk of patients at a time: the header once, then every chunk's rows."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=lineterminator)
        for index, (frame, rng) in enumerate(chunks):
            columns = columns_of(frame, rng)
            if index == 0:
                writer.writerow(columns)
            writer.writerows(zip(*columns.values(), strict=True))
    return [path]
