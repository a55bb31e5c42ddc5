"""Builds canonical patients frames (PatientsModel-valid) from a few columns per patient."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from schemas.patients import (
    ANESTHETIC_RISKS,
    DAYS_PER_MONTH,
    ESCC_GRADES,
    FRANKEL_GRADES,
    PRIMARY_TUMORS,
    PROCEDURES,
    SEXES,
    VISCERAL_METS,
    VITAL_STATUSES,
    PatientsModel,
)

SURGERY = pd.Timestamp("2010-01-01")
DEFAULTS: dict[str, object] = {
    "sex": "male",
    "age": 60.0,
    "intraop_death": False,
    "vas_pre": np.nan,
    "vas_post": np.nan,
    "frankel_pre": None,
    "frankel_post": None,
    "local_recurrence": None,
    "lr_days": np.nan,
    "tokuhashi": pd.NA,
    "tomita": pd.NA,
    "anesthetic_risk": None,
}


def _dates(days: pd.Series) -> pd.Series:
    """SURGERY + days, NaT where days is missing (pandas' float path may warn on NaN)."""
    known = days.notna()
    offsets = pd.to_timedelta(days.where(known, 0).astype(float), unit="D")
    return (SURGERY + offsets).astype("datetime64[ns]").where(known)


def build_patients(short: pd.DataFrame) -> pd.DataFrame:
    """A canonical frame from columns center_id, procedure, days, dead (+ optional DEFAULTS).

    `days` is days from surgery to last contact (or death); `lr_days` the days to a
    local recurrence when `local_recurrence` is true.
    """
    f = short.copy()
    for name, value in DEFAULTS.items():
        if name not in f:
            f[name] = pd.Series([value] * len(f), index=f.index, dtype=object)
        elif name in ("sex", "age", "intraop_death"):
            f[name] = f[name].astype(object).where(f[name].notna(), value)
    n = len(f)
    ids = [hashlib.sha256(f"{c}-{i}".encode()).hexdigest() for i, c in enumerate(f["center_id"])]
    dead = f["dead"].astype(bool).to_numpy()
    last_contact = _dates(f["days"])
    recurrence = f["local_recurrence"].astype("boolean").array
    recurrence_date = _dates(f["lr_days"]).where(recurrence.fillna(False).to_numpy(dtype=bool))
    lc_end = recurrence_date.fillna(last_contact)
    lc_event = recurrence.fillna(False).to_numpy(dtype=bool) & recurrence_date.notna().to_numpy()
    grades = pd.CategoricalDtype(FRANKEL_GRADES, ordered=True)
    frame = pd.DataFrame({
        "center_id": f["center_id"].astype(str).to_numpy(),
        "patient_id": [i[:32] for i in ids],
        "source_file": "export.csv",
        "source_sha256": "0" * 64,
        "source_row": pd.array(np.arange(1, n + 1), dtype="Int64"),
        "run_id": "test-run",
        "sex": pd.Categorical(f["sex"], categories=SEXES),
        "age_at_surgery_years": f["age"].astype(float).to_numpy(),
        "primary_tumor": pd.Categorical(["breast"] * n, categories=PRIMARY_TUMORS),
        "kps_preop": pd.array([pd.NA] * n, dtype="Int16"),
        "ecog_preop": pd.array([pd.NA] * n, dtype="Int16"),
        "asa_class": pd.array([pd.NA] * n, dtype="Int16"),
        "anesthetic_risk": pd.Categorical(f["anesthetic_risk"], categories=ANESTHETIC_RISKS),
        "vertebral_mets_n": pd.array([pd.NA] * n, dtype="Int16"),
        "extraspinal_bone_mets_n": pd.array([pd.NA] * n, dtype="Int16"),
        "visceral_mets": pd.Categorical([None] * n, categories=VISCERAL_METS),
        "frankel_preop": f["frankel_pre"].astype(grades).array,
        "vas_pain_preop": f["vas_pre"].astype(float).to_numpy(),
        "pathological_fracture": pd.array([pd.NA] * n, dtype="boolean"),
        "sins_total": pd.array([pd.NA] * n, dtype="Int16"),
        "escc_grade": pd.Categorical([None] * n, categories=ESCC_GRADES),
        "surgery_date": pd.Series([SURGERY] * n, dtype="datetime64[ns]").to_numpy(),
        "procedure": pd.Categorical(f["procedure"], categories=PROCEDURES),
        "intraop_death": f["intraop_death"].astype(bool).to_numpy(),
        "frankel_postop": f["frankel_post"].astype(grades).array,
        "vas_pain_postop": f["vas_post"].astype(float).to_numpy(),
        "local_recurrence": recurrence,
        "local_recurrence_date": recurrence_date.to_numpy(),
        "vital_status": pd.Categorical(np.where(dead, "dead", "alive"), categories=VITAL_STATUSES),
        "death_date": last_contact.where(dead).to_numpy(),
        "last_contact_date": last_contact.to_numpy(),
        "os_months": f["days"].astype(float).to_numpy() / DAYS_PER_MONTH,
        "os_event": dead,
        "lc_months": ((lc_end - SURGERY) / pd.Timedelta(days=1)).to_numpy() / DAYS_PER_MONTH,
        "lc_event": lc_event,
        "tokuhashi_revised": f["tokuhashi"].astype("Int16").array,
        "tomita": f["tomita"].astype("Int16").array,
    })  # fmt: skip
    return PatientsModel.validate(frame)


@pytest.fixture(scope="session")
def make_patients() -> Callable[[pd.DataFrame], pd.DataFrame]:
    return build_patients
