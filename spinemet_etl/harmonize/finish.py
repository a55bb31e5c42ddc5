"""From assembled records to canonical columns: durations, age, vital status, dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.codes import CHECK_CODES
from spinemet_etl.derive import age_from_birth_date, as_dates, date_from_duration
from spinemet_etl.mapping.targets import BIRTH_DATE, TARGETS

INT16_MAX = np.iinfo(np.int16).max


def _reasons(records: pd.Series, column: str, code: str, message: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_rec": records.to_numpy(dtype="int64"),
            "column": column,
            "check_code": code,
            "message": message,
            "failure_value": None,
        }
    )


def apply_durations(records: pd.DataFrame, durations: dict[str, str]) -> pd.DataFrame:
    """Columns holding a duration since surgery become dates: surgery + round(x × d) days."""
    out = records.copy(deep=False)
    for column, unit in durations.items():
        out[column] = date_from_duration(out["surgery_date"], out[column], unit)
    return out


def derive_inputs(records: pd.DataFrame, *, death_at_last_contact: bool = False) -> pd.DataFrame:
    """Age from the birth date (then the birth date is dropped) and vital status from death date.

    With `death_at_last_contact` (the mapping's `follow_up_ends_at_death`), the dead's
    death date is their last-contact date.

    Notes:
        Age at surgery is (surgery − birth) in days / 365.25 (canonical-schema.md). When a
        center exports no vital status, a known death date means dead and its absence
        alive: the date alone is the center's record of death. A death date is taken from
        the last contact only on the center's own statement that its follow-up ends at
        death (canonical-schema.md, derivations); without it a death flag without a date
        stays missing-required.
    """
    out = records.copy(deep=False)
    if death_at_last_contact:
        dead = (out["vital_status"].astype(object) == "dead").to_numpy()
        out["death_date"] = as_dates(out["last_contact_date"]).where(dead)
    if BIRTH_DATE in out:
        out["age_at_surgery_years"] = age_from_birth_date(out["surgery_date"], out[BIRTH_DATE])
        out = out.drop(columns=[BIRTH_DATE])
    if "vital_status" not in out and "death_date" in out:
        out["vital_status"] = np.where(out["death_date"].notna(), "dead", "alive")
    return out


def death_without_date(records: pd.DataFrame) -> pd.DataFrame:
    """missing-required on death_date where a death is recorded without its date.

    A center that maps a death flag and no death date at all has no date for any death.
    """
    if "vital_status" not in records:
        return _reasons(pd.Series([], dtype="int64"), "death_date", "missing-required", "")
    dead = records["vital_status"].astype(object) == "dead"
    flagged = dead & records["death_date"].isna() if "death_date" in records else dead
    return _reasons(
        pd.Series(records.index[flagged.to_numpy()]),
        "death_date",
        "missing-required",
        "a death is recorded without its date; survival needs the date",
    )


def too_large(records: pd.DataFrame) -> pd.DataFrame:
    """out-of-range for whole numbers beyond what an int16 column holds (they are emptied)."""
    found = []
    for name, target in TARGETS.items():
        if target.kind == "int" and name in records:
            values = records[name]
            big = values.notna() & (values.abs() > INT16_MAX)
            if big.any():
                found.append(
                    _reasons(
                        pd.Series(records.index[big.to_numpy()]), name, "out-of-range", ""
                    ).assign(
                        message=f"`{name}`: the number is far outside the allowed range",
                        failure_value=values[big].astype(str).to_numpy(dtype=object),
                    )
                )
                records.loc[big, name] = pd.NA
    return pd.concat(found, ignore_index=True) if found else too_large_empty()


def too_large_empty() -> pd.DataFrame:
    return _reasons(pd.Series([], dtype="int64"), "", "out-of-range", "")


def canonical_dtypes(records: pd.DataFrame) -> pd.DataFrame:
    """Every mapped-or-not canonical input column, in its pandas dtype (missing ones empty)."""
    out = records.copy(deep=False)
    for name, target in TARGETS.items():
        if name == BIRTH_DATE:
            continue
        values = out[name] if name in out else pd.Series(None, index=out.index, dtype=object)
        if target.kind == "category":
            dtype = pd.CategoricalDtype(list(target.categories), ordered=target.ordered)
            out[name] = values.astype(object).astype(dtype)
        elif target.kind == "date":
            out[name] = as_dates(values).astype("datetime64[ns]").dt.normalize()
        elif target.kind == "int":
            out[name] = values.astype("Int64").astype("Int16")
        elif target.kind == "float":
            out[name] = values.astype("float64")
        else:
            out[name] = values.astype("boolean")
    return out


def required_flags(records: pd.DataFrame) -> pd.DataFrame:
    """missing-required where a non-nullable boolean is empty; emptied flags become False.

    Notes:
        The canonical type of such a flag (e.g. intraop_death) cannot hold a null, so the
        row is quarantined first and only then given False, never published with it.
    """
    found = []
    for name, target in TARGETS.items():
        if target.kind == "boolean" and not target.nullable:
            empty = records[name].isna()
            found.append(
                _reasons(
                    pd.Series(records.index[empty.to_numpy()]),
                    name,
                    "missing-required",
                    f"`{name}`: {CHECK_CODES['missing-required']}",
                )
            )
            records[name] = records[name].fillna(False).astype(bool)
    return pd.concat(found, ignore_index=True)


def derivation_echoes(records: pd.DataFrame, durations: dict[str, str]) -> pd.DataFrame:
    """The (record, column) cells a missing surgery date alone will leave empty.

    Age derived from a birth date and dates derived from a duration since surgery are empty
    when the surgery date is, though their own source value is there; the surgery date's
    own reason (missing or unparseable) says it, so their emptiness is no second reason.
    Call before apply_durations and derive_inputs. Columns `_rec` and `column`.
    """
    present = {column: records[column].notna() for column in durations}
    if BIRTH_DATE in records:
        present["age_at_surgery_years"] = records[BIRTH_DATE].notna()
    no_surgery = records["surgery_date"].isna() if "surgery_date" in records else None
    cells = [
        pd.DataFrame({"_rec": records.index[(no_surgery & given).to_numpy()], "column": column})
        for column, given in present.items()
        if no_surgery is not None
    ]
    empty = pd.DataFrame({"_rec": pd.Series(dtype="int64"), "column": pd.Series(dtype=object)})
    return pd.concat([empty, *cells], ignore_index=True).astype({"_rec": "int64"})
