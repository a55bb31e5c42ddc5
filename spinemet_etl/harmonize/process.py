"""Harmonize one center: select, read, map, assemble, derive, validate, account for every row."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from schemas.patients import PatientsModel
from schemas.quarantine import QuarantineModel
from spinemet_etl.derive import add_derived_columns
from spinemet_etl.errors import Place, source_error
from spinemet_etl.harmonize.assemble import assemble_records
from spinemet_etl.harmonize.files import ExportFile, select_files
from spinemet_etl.harmonize.finish import (
    apply_durations,
    canonical_dtypes,
    death_without_date,
    derivation_echoes,
    derive_inputs,
    required_flags,
    too_large,
)
from spinemet_etl.harmonize.read import (
    ReadCache,
    SourceTable,
    file_picks,
    file_sheets,
    needed_columns,
    read_table,
)
from spinemet_etl.harmonize.tables import type_table
from spinemet_etl.harmonize.validate import combine_reasons, schema_reasons
from spinemet_etl.mapping.loader import load_mapping
from spinemet_etl.mapping.model import CenterMapping
from spinemet_etl.mapping.rules import death_at_last_contact
from spinemet_etl.pseudonym import pseudonymize
from spinemet_etl.readers.options import ReadLimits
from spinemet_etl.results import CenterResult, FileStats

log = logging.getLogger(__name__)
PATIENT_COLUMNS = list(PatientsModel.to_schema().columns)
QUARANTINE_COLUMNS = list(QuarantineModel.to_schema().columns)


def center_folder(landing_dir: Path, center_id: str) -> Path:
    """The center's landing folder: `landing_dir/<center_id>`, or `landing_dir` if it is that.

    Notes:
        A center whose folder is missing reads nothing (`no-export-file`): falling back to
        the landing root would read every other center's exports as its own.
    """
    nested = landing_dir / center_id
    if nested.is_dir():
        return nested
    if landing_dir.name == center_id and landing_dir.is_dir():
        return landing_dir
    raise source_error(
        Place(center_id, f"{center_id}/"),
        f"the center has no landing folder `{nested}`",
        f"deliver the center's exports into `{center_id}/` under the landing folder",
        code="no-export-file",
    )


def _select(
    mapping: CenterMapping, folder: Path, settle: float, only_file: str | None, now: datetime
) -> list[list[ExportFile]]:
    selected = [
        select_files(
            mapping.center_id, table, folder, settle_seconds=settle, only_file=only_file, now=now
        )
        for table in mapping.tables
    ]
    names = {export.name for exports in selected for export in exports}
    if only_file is not None and only_file not in names:
        raise source_error(
            Place(mapping.center_id, only_file),
            "the file is not in the landing folder or matches no table of the mapping",
            "check the file name (relative to the center's landing folder) and `files`",
            code="no-export-file",
        )
    return selected


def _log_unused(center_id: str, sources: list[SourceTable]) -> None:
    """Name the columns no table maps (a new column is ignored, never an error)."""
    used: dict[str, set[str]] = {}
    present: dict[str, set[str]] = {}
    for source in sources:
        spec_columns = set(needed_columns(source.table)) | set(source.table.identifiers)
        spec_columns |= {c for c in source.columns() if "___" in c}
        for name, columns in source.present.items():
            used.setdefault(name, set()).update(spec_columns)
            present.setdefault(name, set()).update(columns)
    for name in sorted(present):
        unused = sorted(present[name] - used[name])
        if unused:
            log.info("center %s, file %s: columns not in the mapping, ignored: %s",
                     center_id, name, ", ".join(unused))  # fmt: skip
        for column in sorted(used[name] & present[name]):
            if f"{column}.1" in present[name]:
                log.warning(
                    "center %s, file %s: the header repeats column `%s`; the mapping's `%s` "
                    "reads the first from the left, `%s.1` the next: check which one is meant",
                    center_id, name, column, column, column,
                )  # fmt: skip


def _records(
    mapping: CenterMapping,
    selected: list[list[ExportFile]],
    mapping_dir: Path,
    limits: ReadLimits | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The assembled records, their parse failures, and the cells that only echo a failure."""
    cache = ReadCache(Counter(export.name for exports in selected for export in exports))
    picks = file_picks(mapping.tables, selected)
    sheets = file_sheets(mapping.tables, selected)
    sources = [
        read_table(mapping.center_id, table, exports, cache, limits, picks, sheets)
        for table, exports in zip(mapping.tables, selected, strict=True)
    ]
    _log_unused(mapping.center_id, sources)
    vocabularies: dict[str, Any] = {}
    typed = []
    while sources:  # each table's source frame is released once typed
        typed.append(type_table(sources.pop(0), mapping_dir, vocabularies, mapping.center_id))
    records, reasons, durations = assemble_records(typed)
    del typed  # the tables' values, copied into the records: released before the derivations
    records = records.reset_index(drop=True)
    echoes = derivation_echoes(records, durations)
    records = derive_inputs(
        apply_durations(records, durations),
        death_at_last_contact=death_at_last_contact(mapping),
    )
    return records, reasons, echoes


def _canonical(
    records: pd.DataFrame, center_id: str, files: dict[str, ExportFile], run_id: str, key: str
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    extra = [death_without_date(records), too_large(records)]
    frame = canonical_dtypes(records)
    extra.append(required_flags(frame))
    frame["center_id"] = center_id
    frame["patient_id"] = pseudonymize(center_id, frame["_pid"], key, normalized=True)
    frame["source_file"] = frame["_file"].astype(object)
    frame["source_sha256"] = frame["_file"].map({n: f.sha256 for n, f in files.items()})
    frame["source_row"] = frame["_row"].astype("Int64")
    frame["run_id"] = run_id
    return add_derived_columns(frame)[PATIENT_COLUMNS], extra


def _quarantine(frame: pd.DataFrame, reasons: pd.DataFrame) -> pd.DataFrame:
    lineage = ["center_id", "source_file", "source_sha256", "source_row", "patient_id", "run_id"]
    rows = frame.loc[reasons["_rec"].to_numpy(), lineage]
    out = reasons.drop(columns=["_rec"]).assign(**{c: rows[c].to_numpy() for c in rows.columns})
    out["source_row"] = out["source_row"].astype("Int64")
    for column in ("patient_id", "column", "failure_value"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    ordered = out.sort_values(
        ["source_file", "source_row", "check_code", "column"], kind="mergesort"
    )
    return ordered[QUARANTINE_COLUMNS].reset_index(drop=True)


def _stats(files: dict[str, ExportFile], frame: pd.DataFrame, failed: pd.Index) -> list[FileStats]:
    read = frame["source_file"].value_counts()
    bad = frame.loc[failed, "source_file"].value_counts()
    stats = []
    for name, export in sorted(files.items()):
        rows, quarantined = int(read.get(name, 0)), int(bad.get(name, 0))
        stats.append(
            FileStats(name, export.size, export.sha256, rows, rows - quarantined, quarantined)
        )
    return stats


def process_center(
    mapping_path: Path,
    landing_dir: Path,
    *,
    run_id: str,
    key: str,
    settle_seconds: float = 0.0,
    only_file: str | None = None,
    now: datetime | None = None,
    limits: ReadLimits | None = None,
) -> CenterResult:
    """Harmonize one center's exports into canonical patients and quarantined rows.

    `landing_dir` is the landing root holding `<center_id>/` (or that folder itself).
    Raises MappingError for a broken mapping file and SourceError for a center-level
    problem; a bad row never raises, it is quarantined with its reasons. `limits` (the
    run's size limits) apply to every file unless the mapping file sets its own.
    """
    mapping = load_mapping(mapping_path)
    folder = center_folder(landing_dir, mapping.center_id)
    selected = _select(mapping, folder, settle_seconds, only_file, now or datetime.now(UTC))
    files = {export.name: export for exports in selected for export in exports}
    records, parsed, echoes = _records(mapping, selected, mapping_path.parent, limits)
    frame, extra = _canonical(records, mapping.center_id, files, run_id, key)
    del records  # converted into `frame`: released before the checks and the split
    reasons = combine_reasons(
        pd.concat([parsed, *extra], ignore_index=True), schema_reasons(frame), frame, echoes
    )
    failed = pd.Index(reasons["_rec"].unique())
    order = frame.sort_values(["source_file", "source_row"], kind="mergesort").index
    patients = frame.loc[order[~order.isin(failed)]].reset_index(drop=True)
    result = CenterResult(
        mapping.center_id, patients, _quarantine(frame, reasons), _stats(files, frame, failed)
    )
    result.stated_cutoff = mapping.data_cutoff
    if mapping.quality is not None:
        result.center_thresholds = {
            "reason": mapping.quality.reason,
            "settings": mapping.quality.thresholds(),
        }
    return result
