"""Row-level dirt: impossible values, a patient twice, unknown words, missing required values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DIRT_KINDS: tuple[str, ...] = (
    "impossible_age",
    "death_before_surgery",
    "vas_out_of_range",
    "frankel_invalid",
    "free_text_number",
    "duplicate_patient",
    "unknown_procedure",
    "missing_required",
)
AGE_DIRT_YEARS = 340.0
BIRTH_DIRT_YEARS = 150


@dataclass(frozen=True)
class DirtStyle:
    """How dirt looks at one center (docs/synthetic-consortium.md, per center).

    `age` is `age_340` (the center exports an age), `birth_150_years` or
    `birth_after_surgery` (it exports a date of birth; Excel cannot hold dates before
    1900). `free_text` is (canonical column, text) or None where the source column is
    numeric. Tokens are written as they are, outside the center's vocabulary.
    """

    age: str
    free_text: tuple[str, str] | None
    unknown_procedure: str | int
    frankel_invalid: str | int

    def kinds(self) -> tuple[str, ...]:
        """The dirt kinds this center can show."""
        if self.free_text is None:
            return tuple(k for k in DIRT_KINDS if k != "free_text_number")
        return DIRT_KINDS


def _set_impossible_age(frame: pd.DataFrame, row: int, style: DirtStyle) -> None:
    surgery = pd.Timestamp(frame["surgery_date"].iloc[row])
    if style.age == "age_340":
        frame.at[row, "age_at_surgery_years"] = AGE_DIRT_YEARS
        return
    days = round(BIRTH_DIRT_YEARS * 365.25) if style.age == "birth_150_years" else -400
    frame.at[row, "birth_date"] = surgery - pd.Timedelta(days=days)
    frame.at[row, "age_at_surgery_years"] = days / 365.25


def _set_death_before_surgery(frame: pd.DataFrame, row: int, rng: np.random.Generator) -> None:
    death = pd.Timestamp(frame["surgery_date"].iloc[row]) - pd.Timedelta(
        days=int(rng.integers(30, 401))
    )
    frame.at[row, "intraop_death"] = False
    frame.at[row, "vital_status"] = "dead"
    frame.at[row, "death_date"] = death
    frame.at[row, "last_contact_date"] = death
    frame.at[row, "local_recurrence"] = False
    frame.at[row, "local_recurrence_date"] = pd.NaT


def _dirty_one(
    frame: pd.DataFrame, row: int, kind: str, style: DirtStyle, rng: np.random.Generator
) -> None:
    if kind == "impossible_age":
        _set_impossible_age(frame, row, style)
    elif kind == "death_before_surgery":
        _set_death_before_surgery(frame, row, rng)
    elif kind == "vas_out_of_range":
        frame.at[row, "vas_pain_preop"] = 11.0
    elif kind == "frankel_invalid":
        frame.at[row, "frankel_preop"] = style.frankel_invalid
    elif kind == "free_text_number" and style.free_text is not None:
        column, text = style.free_text
        frame.at[row, column] = text
    elif kind == "unknown_procedure":
        frame.at[row, "procedure"] = style.unknown_procedure
    elif kind == "missing_required":
        frame.at[row, "sex"] = None
    frame.at[row, "dirt"] = kind


def apply_dirt(
    frame: pd.DataFrame, style: DirtStyle, rate: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Give round(rate × rows) patients one problem each; mark them in column `dirt`.

    Kinds are dealt in turn from the center's list, shuffled by `rng`. A
    `duplicate_patient` row is followed by its copy (column `is_copy` true), so the
    same source id appears twice. Columns that receive text or out-of-vocabulary
    values become `object`; rendering maps them through unchanged.
    """
    out = frame.reset_index(drop=True)
    out["dirt"] = ""
    out["is_copy"] = False
    count = min(round(rate * len(out)), len(out))
    if count == 0:
        return out
    for column in ("sex", "frankel_preop", "procedure", "vital_status"):
        out[column] = out[column].astype(object)
    if style.free_text is not None:
        out[style.free_text[0]] = out[style.free_text[0]].astype(object)
    kinds = list(style.kinds())
    rng.shuffle(kinds)
    rows = np.sort(rng.choice(len(out), size=count, replace=False))
    for position, row in enumerate(rows):
        _dirty_one(out, int(row), kinds[position % len(kinds)], style, rng)
    return _with_copies(out)


def _with_copies(frame: pd.DataFrame) -> pd.DataFrame:
    doubled = frame["dirt"].eq("duplicate_patient").to_numpy()
    order = np.repeat(np.arange(len(frame)), np.where(doubled, 2, 1))
    out = frame.iloc[order].reset_index(drop=True)
    out["is_copy"] = pd.Series(order).duplicated().to_numpy()
    return out
