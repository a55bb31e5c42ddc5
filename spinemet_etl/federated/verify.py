"""Read and verify one center summary folder; every problem is one sentence naming the file."""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.patients import CENTER_ID_PATTERN, PROCEDURES
from spinemet_etl.endpoints.sums import OUTCOMES, RISK_COLUMNS, SUM_COLUMNS, UNIT_DAYS
from spinemet_etl.endpoints.table import STRATA
from spinemet_etl.federated.folder import (
    CHECKSUMS,
    RISK_SETS,
    RISK_SETS_SCHEMA,
    SUMMARY_FILES,
    SUMMARY_JSON,
    sha256_of,
)
from spinemet_etl.federated.summary import (
    FLOAT_SUMS,
    FORMAT,
    VERSION,
    CenterSummary,
    shareable_cutoff,
)

MAX_JSON_BYTES = 4 << 20
MAX_INTEGER_DIGITS = 16
MAX_COUNT = 2**53
MAX_TIME = 200 * 366
"""No follow-up time beyond 200 years of days (a unit count is at most this)."""


class SummaryProblem(Exception):
    """A summary that cannot be used; the message is one sentence naming the file."""


def is_slug(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(CENTER_ID_PATTERN, value) is not None


def check_checksums(folder: Path, files: tuple[str, ...] = SUMMARY_FILES) -> None:
    """SHA256SUMS lists exactly `files` (a summary's three), each with its current SHA-256."""
    path = folder / CHECKSUMS
    if not path.is_file():
        raise SummaryProblem(f"{path}: missing; the folder must be sent whole")
    listed: dict[str, str] = {}
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    if sorted(listed) != sorted(files):
        raise SummaryProblem(f"{path}: lists {sorted(listed)}, not {sorted(files)}")
    for name in files:
        if not (folder / name).is_file():
            raise SummaryProblem(f"{folder / name}: missing; the folder must be sent whole")
        if sha256_of(folder / name) != listed[name]:
            raise SummaryProblem(
                f"{folder / name}: its SHA-256 differs from SHA256SUMS (changed after it was "
                "written); ask the center to send the folder again"
            )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"integer of {len(text)} digits is out of range")
    return int(text)


def read_document(path: Path) -> dict[str, Any]:
    """summary.json parsed defensively: size, depth, NaN and huge numbers refused."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise SummaryProblem(f"{path}: larger than {MAX_JSON_BYTES} bytes, not a summary")
    try:
        document = json.loads(
            path.read_bytes().decode("utf-8"),
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise SummaryProblem(f"{path}: nested too deeply to be a summary") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise SummaryProblem(f"{path}: not a valid summary JSON ({error})") from None
    if not isinstance(document, dict):
        raise SummaryProblem(f"{path}: not a JSON object")
    return document


def _check_header(path: Path, document: dict[str, Any], folder_center: str) -> None:
    if document.get("format") != FORMAT:
        raise SummaryProblem(f"{path}: format {document.get('format')!r} is not {FORMAT!r}")
    if document.get("version") != VERSION:
        raise SummaryProblem(
            f"{path}: version {document.get('version')!r} is not {VERSION}; "
            "this spinemet pools version 1 summaries"
        )
    center_id = document.get("center_id")
    if not is_slug(center_id):
        raise SummaryProblem(f"{path}: center_id {str(center_id)[:40]!r} is not a center slug")
    if center_id != folder_center:
        raise SummaryProblem(
            f"{path}: center_id {center_id!r} disagrees with its folder {folder_center!r}"
        )
    if document.get("time_unit") not in UNIT_DAYS:
        raise SummaryProblem(f"{path}: time_unit {document.get('time_unit')!r} is unknown")
    if not isinstance(document.get("pain_mcid"), int | float):
        raise SummaryProblem(f"{path}: pain_mcid is not a number")
    _check_cutoff(path, document.get("data_cutoff"))


def _check_cutoff(path: Path, cutoff: object) -> None:
    """A cut-off is sent only when the mapping file stated it (never a patient's date)."""
    if not isinstance(cutoff, dict) or cutoff != shareable_cutoff(cutoff):
        raise SummaryProblem(
            f"{path}: data_cutoff {str(cutoff)[:80]!r} is not a stated date "
            '({"date": "YYYY-MM-DD", "source": "mapping"}) or '
            '{"date": null, "source": "latest_last_contact"}'
        )
    if cutoff["date"] is not None:
        try:
            date.fromisoformat(cutoff["date"])
        except ValueError:
            raise SummaryProblem(f"{path}: data_cutoff {cutoff['date']!r} is not a date") from None


def _check_sums(path: Path, strata: object) -> dict[str, dict[str, float]]:
    if not isinstance(strata, dict) or sorted(strata) != sorted(STRATA):
        raise SummaryProblem(f"{path}: strata must be exactly {', '.join(STRATA)}")
    for stratum, sums in strata.items():
        if not isinstance(sums, dict) or sorted(sums) != sorted(SUM_COLUMNS):
            raise SummaryProblem(f"{path}: stratum {stratum} does not hold the version 1 sums")
        for name, value in sums.items():
            whole = name not in FLOAT_SUMS
            if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
                raise SummaryProblem(
                    f"{path}: {stratum} {name} is not a {'count' if whole else 'number'}"
                )
            if whole and not 0 <= value <= MAX_COUNT:
                raise SummaryProblem(f"{path}: {stratum} {name} = {value} is out of range")
    procedures = sum(strata[f"procedure={p}"]["n"] for p in PROCEDURES)
    if procedures != strata["all"]["n"]:
        raise SummaryProblem(
            f"{path}: the procedures' n add to {procedures}, not n = {strata['all']['n']}"
        )
    return strata


def read_risk_sets(path: Path, sums: dict[str, dict[str, float]]) -> pd.DataFrame:
    """risk_sets.parquet with the contract's schema and counts that add up to each n."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise SummaryProblem(f"{path}: not a readable Parquet file ({error})") from None
    if not table.schema.remove_metadata().equals(RISK_SETS_SCHEMA):
        raise SummaryProblem(f"{path}: columns or types are not those of the contract")
    frame = table.to_pandas()
    counts = frame[list(RISK_COLUMNS)].to_numpy()
    if not frame["procedure"].isin(PROCEDURES).all() or not frame["outcome"].isin(OUTCOMES).all():
        raise SummaryProblem(f"{path}: a procedure or outcome is not one of the contract's")
    if (counts < 0).any() or (counts.sum(axis=1) == 0).any() or (counts > MAX_COUNT).any():
        raise SummaryProblem(f"{path}: a row has a negative, huge or no count")
    if not frame["time"].between(0, MAX_TIME).all():
        raise SummaryProblem(f"{path}: a time is negative or beyond {MAX_TIME}")
    if frame.duplicated(["procedure", "outcome", "time"]).any():
        raise SummaryProblem(f"{path}: a (procedure, outcome, time) appears twice")
    totals = frame.assign(total=counts.sum(axis=1)).groupby(["outcome", "procedure"])["total"].sum()
    for outcome in OUTCOMES:
        for procedure in PROCEDURES:
            expected = sums[f"procedure={procedure}"]["n"]
            if int(totals.get((outcome, procedure), 0)) != expected:
                raise SummaryProblem(
                    f"{path}: the {outcome} risk sets of {procedure} count "
                    f"{int(totals.get((outcome, procedure), 0))} patients, not n = {expected}"
                )
    return frame.astype(dict.fromkeys(["time", *RISK_COLUMNS], np.int64))


def read_summary(
    folder: Path, folder_center: str, files: tuple[str, ...] = SUMMARY_FILES
) -> tuple[CenterSummary, datetime]:
    """The verified summary in `folder` and its creation time; SummaryProblem otherwise.

    `files` are those SHA256SUMS must list (a summary's three; a statistics cache entry's
    own, `federated.cache`).
    """
    check_checksums(folder, files)
    path = folder / SUMMARY_JSON
    document = read_document(path)
    _check_header(path, document, folder_center)
    sums = _check_sums(path, document.get("strata"))
    try:
        created = datetime.fromisoformat(str(document.get("created")))
    except ValueError:
        raise SummaryProblem(f"{path}: created is not an ISO date-time") from None
    if created.tzinfo is None:
        raise SummaryProblem(f"{path}: created has no time zone (UTC expected)")
    quality = document.get("quality")
    summary = CenterSummary(
        center_id=folder_center,
        run_id=str(document.get("run_id", ""))[:64],
        sums=sums,
        risk_sets=read_risk_sets(folder / RISK_SETS, sums),
        time_unit=str(document["time_unit"]),
        pain_mcid=float(document["pain_mcid"]),
        quality=quality if isinstance(quality, dict) else {},
        header={"created": created.isoformat(timespec="seconds")},
        data_cutoff=shareable_cutoff(document["data_cutoff"]),
    )
    return summary, created
