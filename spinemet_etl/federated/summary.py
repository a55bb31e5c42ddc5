"""A center summary (docs/contract/federated.md): split from a consortium's statistics, merged back.

A `CenterSummary` holds exactly what `summary.json` and `risk_sets.parquet` hold: sums
per stratum, the risk-set table, the quality record and the run's identification. The
endpoint engine reads `Statistics`; `split` and `merge` convert between the two without
changing a number, so the central and federated modes share every estimator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from schemas.endpoints import POOLED_SCOPE
from schemas.patients import PROCEDURES
from spinemet_etl.endpoints.statistics import Statistics, pool_scopes
from spinemet_etl.endpoints.sums import (
    INFLUENCE_SUMS,
    OUTCOMES,
    RISK_COLUMNS,
    SCORES,
    SUM_COLUMNS,
)
from spinemet_etl.endpoints.table import STRATA
from spinemet_etl.results import LATEST_CONTACT

FORMAT = "spinemet-summary"
VERSION = 1
FLOAT_SUMS = frozenset(
    {"age_sum", "age_squares_sum", "age_centered_squares_sum", "followed_up_os_months_sum"}
    | {f"{score}_{part}" for score, _, _ in SCORES for part in INFLUENCE_SUMS}
)
"""The sums that are not counts (every other SUM_COLUMNS value is a whole number)."""
RISK_SET_COLUMNS = ("procedure", "outcome", "time", *RISK_COLUMNS)
QUALITY_KEYS = ("status", "rows_read", "rows_harmonized", "rows_quarantined")
CUTOFF_STATED = "mapping"


@dataclass
class CenterSummary:
    """One center's summary: its sums per stratum, risk sets and identification."""

    center_id: str
    run_id: str
    sums: dict[str, dict[str, float]]
    risk_sets: pd.DataFrame
    time_unit: str = "day"
    pain_mcid: float = 2.0
    quality: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    data_cutoff: dict[str, str | None] = field(default_factory=lambda: shareable_cutoff(None))


def shareable_cutoff(record: dict[str, Any] | None) -> dict[str, str | None]:
    """The data cut-off a summary may carry: a date only when the mapping file stated it.

    Notes:
        A cut-off that falls back to the latest `last_contact_date` is one patient's
        date, which a summary never holds: only its source is sent. The endpoints need
        no date anyway: the follow-up sums are counted at the hospital, in days.
    """
    if record and record.get("source") == CUTOFF_STATED and record.get("date"):
        return {"date": str(record["date"]), "source": CUTOFF_STATED}
    return {"date": None, "source": LATEST_CONTACT}


def quality_record(entry: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest entry's counts only: status, rows read / harmonized / quarantined, reasons.

    File names, hashes and error texts (which may quote a value) stay at the hospital.
    """
    entry = entry or {}
    record: dict[str, Any] = {key: entry.get(key) for key in QUALITY_KEYS}
    for key in QUALITY_KEYS[1:]:
        if record[key] is None:
            values = [f.get(key) for f in entry.get("files") or [] if f.get(key) is not None]
            record[key] = int(sum(values)) if values else None
    record["quarantined_by_check"] = {
        str(reason["check_code"]): int(reason["rows"])
        for reason in entry.get("top_quarantine_reasons") or []
    }
    return record


def _risk_frame(risk: pd.DataFrame) -> pd.DataFrame:
    """Engine risk sets (integer codes) as the summary's table (procedure and outcome named)."""
    return pd.DataFrame(
        {
            "procedure": np.array(PROCEDURES, dtype=object)[risk["procedure"].to_numpy()],
            "outcome": np.array(OUTCOMES, dtype=object)[risk["outcome"].to_numpy()],
            **{name: risk[name].to_numpy(dtype=np.int64) for name in ("time", *RISK_COLUMNS)},
        }
    )


def _number(name: str, value: float) -> float:
    return float(value) if name in FLOAT_SUMS else round(float(value))


def split(
    stats: Statistics, quality: dict[str, dict[str, Any]] | None = None
) -> list[CenterSummary]:
    """Each center's summary of `stats` (the pooled scope is left out: it is recomputed)."""
    quality = quality or {}
    summaries = []
    width = len(STRATA)
    for index, center_id in enumerate(stats.scopes[:-1]):
        sums = {
            stratum: {
                name: _number(name, stats.sums[name][index * width + s]) for name in SUM_COLUMNS
            }
            for s, stratum in enumerate(STRATA)
        }
        risk = stats.risk[stats.risk["center"] == index]
        summaries.append(
            CenterSummary(
                center_id=center_id,
                run_id=str(quality.get(center_id, {}).get("run_id", "")),
                sums=sums,
                risk_sets=_risk_frame(risk).reset_index(drop=True),
                time_unit=stats.time_unit,
                pain_mcid=stats.pain_mcid,
                quality=quality_record(quality.get(center_id)),
                data_cutoff=shareable_cutoff(quality.get(center_id, {}).get("data_cutoff")),
            )
        )
    return summaries


def merge(summaries: list[CenterSummary]) -> Statistics:
    """The statistics of several centers' summaries (one per center, one time unit)."""
    ordered = sorted(summaries, key=lambda summary: summary.center_id)
    scopes = [summary.center_id for summary in ordered] + [POOLED_SCOPE]
    width = len(STRATA)
    sums = {name: np.zeros(len(scopes) * width) for name in SUM_COLUMNS}
    frames = []
    for index, summary in enumerate(ordered):
        for s, stratum in enumerate(STRATA):
            for name in SUM_COLUMNS:
                sums[name][index * width + s] = summary.sums[stratum][name]
        risk = summary.risk_sets
        frames.append(
            pd.DataFrame(
                {
                    "center": np.full(len(risk), index, dtype=np.int64),
                    "procedure": pd.Categorical(risk["procedure"], PROCEDURES).codes.astype(
                        np.int64
                    ),
                    "outcome": pd.Categorical(risk["outcome"], OUTCOMES).codes.astype(np.int64),
                    **{n: risk[n].to_numpy(dtype=np.int64) for n in ("time", *RISK_COLUMNS)},
                }
            )
        )
    columns = ["center", "procedure", "outcome", "time", *RISK_COLUMNS]
    risk_all = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    risk_all = risk_all.astype(dict.fromkeys(columns, np.int64))
    risk_all = risk_all.sort_values(columns[:4], kind="stable").reset_index(drop=True)
    return Statistics(
        scopes=scopes,
        sums=pool_scopes(scopes, sums),
        risk=risk_all,
        time_unit=ordered[0].time_unit if ordered else "day",
        pain_mcid=ordered[0].pain_mcid if ordered else 2.0,
    )
