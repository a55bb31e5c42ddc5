"""Derived columns of the canonical table, and the schema's derivations from other source shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.patients import DAYS_PER_MONTH, FRANKEL_GRADES, VITAL_STATUSES
from spinemet_etl.scores import tokuhashi_revised, tomita

DAYS_PER_YEAR = 365.25
DAYS_PER_UNIT: dict[str, float] = {
    "days": 1.0,
    "weeks": 7.0,
    "months": DAYS_PER_MONTH,
    "years": DAYS_PER_YEAR,
}
"""Days per unit of a duration since surgery (canonical-schema.md, source-shape derivations)."""

DERIVED_COLUMNS = ("os_months", "os_event", "lc_months", "lc_event", "tokuhashi_revised", "tomita")


def as_dates(values: pd.Series) -> pd.Series:
    """Values as datetime64, parsed only when they are not dates already.

    pandas.to_datetime on a datetime64 column still walks it to decide on a cache.
    """
    if pd.api.types.is_datetime64_dtype(values):
        return values
    return pd.to_datetime(values)


def _days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Whole days from start to end as float64 (NaN where either date is missing)."""
    elapsed = as_dates(end) - as_dates(start)
    days = elapsed.to_numpy(dtype="timedelta64[ns]") / np.timedelta64(1, "D")
    return pd.Series(days, index=elapsed.index, name=elapsed.name, dtype="float64")


def add_derived_columns(df: pd.DataFrame) -> pd.DataFrame:
    """The canonical frame with os/lc times and events and both scores added (a new frame).

    Notes:
        Per canonical-schema.md: times are days since surgery / 30.4375. Local control
        ends at the local recurrence date when one is known, else at last contact; a
        recurrence flagged without a date is therefore censored at last contact
        (`lc_event` false), because its time is unknown.
    """
    out = df.copy(deep=False)
    surgery = out["surgery_date"]
    recurrence_date = as_dates(out["local_recurrence_date"])
    recurred = out["local_recurrence"].astype("boolean").fillna(False).astype(bool)
    lc_end = recurrence_date.where(recurrence_date.notna(), as_dates(out["last_contact_date"]))
    out["os_months"] = _days_between(surgery, out["last_contact_date"]) / DAYS_PER_MONTH
    out["os_event"] = (out["vital_status"] == "dead").to_numpy(dtype=bool)
    out["lc_months"] = _days_between(surgery, lc_end) / DAYS_PER_MONTH
    out["lc_event"] = (recurred & recurrence_date.notna()).to_numpy(dtype=bool)
    out["tokuhashi_revised"] = tokuhashi_revised(out)
    out["tomita"] = tomita(out)
    return out


def age_from_birth_date(surgery: pd.Series, birth: pd.Series) -> pd.Series:
    """Age at surgery in years: (surgery − birth date) in days / 365.25; NaN if one is missing."""
    return _days_between(birth, surgery) / DAYS_PER_YEAR


def date_from_duration(surgery: pd.Series, amount: pd.Series, unit: str) -> pd.Series:
    """A date `amount` units after surgery: surgery + floor(amount × d + 0.5) days.

    d is 1, 7, 30.4375 or 365.25 for `days`, `weeks`, `months`, `years`; NaT where the
    surgery date or the amount is missing. `amount` holds numbers already parsed.

    Notes:
        Rounding half up to whole days (canonical-schema.md) makes 1 month 30 days and
        2 months 61 days, the same for every center.
    """
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unknown duration unit {unit!r}; use one of {', '.join(DAYS_PER_UNIT)}")
    number = pd.to_numeric(amount).astype("float64")
    days = np.floor(number * DAYS_PER_UNIT[unit] + 0.5)
    return as_dates(surgery) + pd.to_timedelta(days, unit="D")


def vas_from_0_100(values: pd.Series) -> pd.Series:
    """Pain on a 0–100 visual analogue scale as the canonical 0–10 scale (divided by 10).

    Takes numbers already parsed (text raises ValueError: parse and quarantine first).
    """
    return pd.to_numeric(values).astype("float64") / 10.0


def frankel_from_asia(grades: pd.Series) -> pd.Series:
    """ASIA impairment grade A–E as the Frankel grade of the same letter.

    Notes:
        Letters are matched after stripping and upper-casing (`asia c`, ` C` and `C` are
        all C; an `ASIA ` prefix is dropped). A value that is not a grade is passed on
        unchanged, so validation reports it (`not-in-categories`) with the source value.
    """
    text = grades.astype(object).where(grades.notna(), None)
    letters = text.map(
        lambda value: value if value is None else str(value).strip().upper().removeprefix("ASIA ")
    )
    return letters.where(letters.isin(FRANKEL_GRADES), text).astype(object)


def summarize_visits(
    visits: pd.DataFrame,
    *,
    id_col: str,
    date_col: str,
    dead_col: str,
    recurrence_col: str | None,
) -> pd.DataFrame:
    """One row per patient of visit records: last contact, vital status, first local recurrence.

    `dead_col` and `recurrence_col` hold booleans (or 0/1) per visit; `recurrence_col` is
    None when the center records no recurrence at all. Returns columns `id_col`,
    `last_contact_date`, `vital_status`, `death_date`, `local_recurrence`,
    `local_recurrence_date`, sorted by id.

    Notes:
        Per canonical-schema.md: last contact is the latest visit date; a patient is dead
        if any visit records death, with that visit's date as death date (the earliest
        such visit if several do; a death visit without a date leaves the death date
        empty, and validation quarantines the row as `missing-required`); local
        recurrence is true if any visit records one, dated by the earliest such visit,
        false if the patient has visits and none records one, null when the center has
        no recurrence column. A visit with a missing flag records nothing. Visits
        without a patient id cannot be attributed and are not summarized. Each patient's
        figures are reduced from one numbering of the ids (pandas.factorize, in groupby's
        sorted order), without a frame of the visits: at 1.2M visits a groupby held about
        50 MB more at its peak (docs/performance.md).
    """
    codes, ids = pd.factorize(visits[id_col], sort=True)
    attributed = codes >= 0
    codes = codes[attributed]
    dates = as_dates(visits[date_col]).to_numpy(dtype="datetime64[ns]")[attributed]
    dead = _flags(visits[dead_col]).to_numpy()[attributed]
    died = _any(codes, dead, len(ids))
    summary = pd.DataFrame(
        {"last_contact_date": _latest(codes, dates, len(ids))}, index=pd.Index(ids, name=id_col)
    )
    summary["vital_status"] = pd.Categorical(
        np.where(died, "dead", "alive"), categories=VITAL_STATUSES
    )
    summary["death_date"] = _earliest(codes, dates, dead, len(ids))
    if recurrence_col is None:
        summary["local_recurrence"] = pd.array([pd.NA] * len(summary), dtype="boolean")
        summary["local_recurrence_date"] = pd.Series(pd.NaT, index=summary.index, dtype="M8[ns]")
    else:
        recurred = _flags(visits[recurrence_col]).to_numpy()[attributed]
        summary["local_recurrence"] = pd.array(_any(codes, recurred, len(ids)), dtype="boolean")
        summary["local_recurrence_date"] = _earliest(codes, dates, recurred, len(ids))
    return summary.reset_index()


def _any(codes: np.ndarray, flags: np.ndarray, groups: int) -> np.ndarray:
    """Per group (numbered by `codes`): whether any of its flags is set."""
    found = np.zeros(groups, dtype=bool)
    found[codes[flags]] = True
    return found


def _latest(codes: np.ndarray, dates: np.ndarray, groups: int) -> np.ndarray:
    """Per group: its latest date, NaT if it has none (NaT is datetime64's least value)."""
    latest = np.full(groups, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, codes, dates.view(np.int64))
    return latest.view(dates.dtype)


def _earliest(codes: np.ndarray, dates: np.ndarray, where: np.ndarray, groups: int) -> np.ndarray:
    """Per group: its earliest date among the rows `where` holds, NaT if it has none."""
    never = np.iinfo(np.int64).max
    days = np.where(where & ~np.isnat(dates), dates.view(np.int64), never)
    earliest = np.full(groups, never, dtype=np.int64)
    np.minimum.at(earliest, codes, days)
    earliest[earliest == never] = np.iinfo(np.int64).min
    return earliest.view(dates.dtype)


def _flags(values: pd.Series) -> pd.Series:
    """Per-visit yes/no as plain bool, a missing flag counting as no."""
    return values.astype("boolean").fillna(False).astype(bool)
