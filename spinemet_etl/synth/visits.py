"""Follow-up visit records (one row per visit) expanded from a latent cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_PERIODIC_VISITS = 40


def _days_since_surgery(frame: pd.DataFrame, column: str) -> np.ndarray:
    days = (frame[column] - frame["surgery_date"]).dt.days
    return days.fillna(-(10**9)).to_numpy(dtype=np.int64)


def _visit_days(last: np.ndarray, recurrence: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """(row, day since surgery) of every visit, sorted, without repeats."""
    n = len(last)
    discharge = rng.integers(5, 21, n)
    gaps = rng.integers(61, 183, (n, MAX_PERIODIC_VISITS))
    periodic = discharge[:, None] + np.cumsum(gaps, axis=1)
    before_last = periodic < last[:, None]
    rows = np.arange(n)
    early = discharge < last
    long = pd.DataFrame(
        {
            "row": np.concatenate(
                [
                    rows,
                    rows[early],
                    np.broadcast_to(rows[:, None], periodic.shape)[before_last],
                    rows,
                ]
            ),
            "day": np.concatenate([last, discharge[early], periodic[before_last], recurrence]),
        }
    )
    return long.drop_duplicates().sort_values(["row", "day"], kind="stable")


def visit_rows(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per visit: `row` (position in `frame`), `visit_date`, `dead`, `recurrence`.

    Notes:
        The first visit is at discharge, 5-20 days after surgery, unless the last
        contact comes earlier; then one every 2-6 months (at most 40); the last visit
        is the last contact, and it records the death for the dead. A recurrence gets
        its own visit on its date, and `recurrence` stays true on every later visit
        (so the earliest such visit dates it). `found` marks the visit that finds it.
        Rows with `is_copy` (a duplicated patient) get no visits of their own.
    """
    last = _days_since_surgery(frame, "last_contact_date")
    recurrence = _days_since_surgery(frame, "local_recurrence_date")
    has_recurrence = frame["local_recurrence_date"].notna().to_numpy()
    long = _visit_days(last, np.where(has_recurrence, recurrence, last), rng)
    long = long[~frame["is_copy"].to_numpy(dtype=bool)[long["row"].to_numpy()]]
    row = long["row"].to_numpy()
    day = long["day"].to_numpy()
    dead = (frame["vital_status"].astype(object) == "dead").to_numpy()
    surgery = frame["surgery_date"].to_numpy()[row]
    return pd.DataFrame(
        {
            "row": row,
            "visit_date": pd.to_datetime(surgery) + pd.to_timedelta(day, unit="D"),
            "dead": dead[row] & (day == last[row]),
            "recurrence": has_recurrence[row] & (day >= recurrence[row]),
            "found": has_recurrence[row] & (day == recurrence[row]),
        }
    )
