"""The per-center unit of a run, with failure isolation, and a plain sequential run."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from schemas.patients import CENTER_ID_PATTERN
from spinemet_etl.dataset import partition_file, read_partition
from spinemet_etl.diskspace import check_free_space
from spinemet_etl.errors import ConfigError, DiskFullError, SpinemetError, disk_full_error
from spinemet_etl.lock import data_root_lock
from spinemet_etl.manifest import (
    build_manifest,
    new_run_id,
    write_held_quarantine,
    write_manifest,
)
from spinemet_etl.publish import cleanup_staging, commit_center, publish_center, stage_center
from spinemet_etl.results import CenterResult
from spinemet_etl.settings import Settings
from spinemet_etl.state import center_fingerprint, published_state, record_published
from spinemet_etl.stop import graceful, interrupted_error, interruption, stop_reason, time_limit

logger = logging.getLogger(__name__)

MAPPING_SUFFIX = ".yaml"
TOP_REASONS = 5


class GateVerdict(Protocol):
    """What the pipeline needs of the quality gate's result (`quality.gate.GateResult`)."""

    @property
    def passed(self) -> bool: ...

    @property
    def checks(self) -> list[dict[str, Any]]: ...


Gate = Callable[[CenterResult, pd.DataFrame | None], GateVerdict]
Process = Callable[..., CenterResult]


@dataclass
class CenterOutcome:
    """What happened to one center in a run; one entry of the manifest's `centers`."""

    center_id: str
    status: str
    error: dict[str, Any] | None = None
    quality_gate: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    data_run_id: str | None = None
    rows_harmonized: int = 0
    rows_quarantined: int = 0
    top_quarantine_reasons: list[dict[str, Any]] = field(default_factory=list)
    held_quarantine: str | None = None
    data_cutoff: dict[str, str | None] | None = None

    def as_manifest_entry(self) -> dict[str, Any]:
        entry = {
            "status": self.status,
            "error": self.error,
            "quality_gate": self.quality_gate,
            "files": self.files,
            "data_run_id": self.data_run_id,
            "rows_harmonized": self.rows_harmonized,
            "rows_quarantined": self.rows_quarantined,
            "top_quarantine_reasons": self.top_quarantine_reasons,
        }
        if self.held_quarantine is not None:
            entry["held_quarantine"] = self.held_quarantine
        if self.data_cutoff is not None:
            entry["data_cutoff"] = self.data_cutoff
        return entry


@dataclass
class Prepared:
    """A center harmonized and gated, ready to publish.

    `stats` holds the manifest's figures, its `quality_gate` record among them. The
    tables are in `result` when harmonized in this process; a worker process instead
    writes them to the run's staging folder (`staged`, only when the gate passed) and
    sends back no table, or the record of why it could not (`publish_error`).
    """

    stats: dict[str, Any]
    result: CenterResult | None = None
    staged: dict[str, Path] | None = None
    publish_error: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return bool(self.stats["quality_gate"]["passed"])


Prepare = Callable[[Settings, str, str, "str | None"], Prepared]
"""Harmonize and gate a center elsewhere (a worker process): (settings, center, run, file)."""


def _default_process() -> Process:
    from spinemet_etl.harmonize import process_center

    return process_center


def mapping_path(settings: Settings, center_id: str) -> Path:
    return settings.centers_dir / f"{center_id}{MAPPING_SUFFIX}"


def top_quarantine_reasons(quarantine: pd.DataFrame) -> list[dict[str, Any]]:
    """The most frequent check codes, counting each source row once per code."""
    if quarantine.empty:
        return []
    rows = quarantine.drop_duplicates(["source_file", "source_row", "check_code"])
    counts = rows.groupby("check_code").size().reset_index(name="rows")
    counts = counts.sort_values(["rows", "check_code"], ascending=[False, True])
    return [
        {"check_code": str(code), "rows": int(n)}
        for code, n in counts.head(TOP_REASONS).itertuples(index=False)
    ]


def _result_stats(result: CenterResult, gate: dict[str, Any]) -> dict[str, Any]:
    return {
        "quality_gate": gate,
        "files": [stats.as_record() for stats in result.files],
        "rows_harmonized": len(result.patients),
        "rows_quarantined": sum(stats.rows_quarantined for stats in result.files),
        "top_quarantine_reasons": top_quarantine_reasons(result.quarantine),
        "data_cutoff": result.data_cutoff(),
    }


_STAT_FIELDS = (
    "quality_gate",
    "files",
    "rows_harmonized",
    "rows_quarantined",
    "top_quarantine_reasons",
    "data_cutoff",
)


def _kept_outcome(
    center_id: str, status: str, previous: dict[str, Any] | None, error: dict[str, Any] | None
) -> CenterOutcome:
    """A center whose published data stay those of its last publish (if any).

    An `unchanged` center reports the files and counts of that publish; a `failed` one
    reports none, since nothing was read.
    """
    outcome = CenterOutcome(center_id, status, error=error)
    if previous is not None:
        outcome.data_run_id = previous["run_id"]
        if status == "unchanged":
            stats = previous.get("stats", {})
            for name in _STAT_FIELDS:
                if name in stats:
                    setattr(outcome, name, stats[name])
    return outcome


def _internal_error(center_id: str, run_id: str, exc: BaseException) -> dict[str, Any]:
    """The error record of an unexpected exception: its type, never its message (data)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("center %s: unexpected %s\n%s", center_id, type(exc).__name__, frames)
    return {
        "type": type(exc).__name__,
        "code": "internal-error",
        "message": (
            f"center `{center_id}`: the pipeline failed unexpectedly ({type(exc).__name__}); "
            f"its last published data stay; report this with run id {run_id} and the log."
        ),
    }


def _publish_error(center_id: str, exc: OSError | DiskFullError) -> dict[str, Any]:
    if isinstance(exc, DiskFullError):
        return exc.as_record()
    return {
        "type": type(exc).__name__,
        "code": "publish-failed",
        "message": (
            f"center `{center_id}`: its new partition could not be written "
            f"({exc.strerror or type(exc).__name__}); its last published data stay; "
            "free space or fix permissions on the data root and run again."
        ),
    }


def _interrupted_outcome(center_id: str, previous: dict[str, Any] | None) -> CenterOutcome:
    """A center the run was stopped before publishing (`stop.request_stop`)."""
    return _kept_outcome(center_id, "failed", previous, interrupted_error(center_id))


def _recorded_fingerprint(fingerprint: str, only_file: str | None) -> str:
    """A one-file backfill publishes less than the folder: record it so the next run redoes it."""
    if only_file is None:
        return fingerprint
    return hashlib.sha256(f"{fingerprint}\x1fonly:{only_file}".encode()).hexdigest()


def _is_unchanged(
    settings: Settings, center_id: str, fingerprint: str, previous: dict[str, Any] | None
) -> bool:
    if previous is None or previous.get("fingerprint") != fingerprint:
        return False
    data_root = settings.data_path
    return all(
        partition_file(data_root, t, center_id).is_file() for t in ("patients", "quarantine")
    )


def _gate_record(result: CenterResult, settings: Settings, gate: Gate | None) -> dict[str, Any]:
    if gate is None:
        return {"passed": True, "checks": []}
    previous_frame = read_partition(settings.data_path, "patients", result.center_id)
    verdict = gate(result, previous_frame)
    record = {"passed": bool(verdict.passed), "checks": list(verdict.checks)}
    if result.center_thresholds is not None:
        record["center_thresholds"] = result.center_thresholds
    return record


def harmonize_and_gate(
    settings: Settings,
    center_id: str,
    run_id: str,
    only_file: str | None,
    gate: Gate | None,
    process: Process | None = None,
    *,
    stage: bool = False,
) -> Prepared:
    """Harmonize one center and run the gate against its last partition.

    With `stage` (a worker process), a center that passed is written to the run's
    staging folder, and no table is kept in the answer; otherwise nothing is written.
    Raises SpinemetError when the center cannot be read or harmonized.
    """
    result = (process or _default_process())(
        mapping_path(settings, center_id),
        settings.landing,
        run_id=run_id,
        key=settings.pseudonym_key,
        settle_seconds=settings.settle_seconds,
        only_file=only_file,
        limits=settings.read_limits,
    )
    prepared = Prepared(_result_stats(result, _gate_record(result, settings, gate)), result)
    if not prepared.passed:
        prepared.stats.update(write_held_quarantine(result, settings.data_path, run_id))
    if stage:
        if prepared.passed:
            try:
                prepared.staged = stage_center(result, settings.data_path, run_id)
            except (OSError, DiskFullError) as exc:
                prepared.publish_error = _publish_error(center_id, exc)
        prepared.result = None
    return prepared


def _publish(prepared: Prepared, data_root: Path, run_id: str, center_id: str) -> None:
    if prepared.staged is not None:
        commit_center(prepared.staged, data_root, run_id, center_id)
    else:
        assert prepared.result is not None
        publish_center(prepared.result, data_root, run_id)


def _harmonize_and_publish(
    settings: Settings,
    center_id: str,
    run_id: str,
    fingerprint: str,
    previous: dict[str, Any] | None,
    only_file: str | None,
    prepare: Prepare,
) -> CenterOutcome:
    try:
        prepared = prepare(settings, center_id, run_id, only_file)
    except SpinemetError as error:
        return _kept_outcome(center_id, "failed", previous, error.as_record())
    stats = prepared.stats
    if stop_reason() is not None:
        return _interrupted_outcome(center_id, previous)
    if not prepared.passed:
        return CenterOutcome(
            center_id, "held", data_run_id=previous["run_id"] if previous else None, **stats
        )
    if prepared.publish_error is not None:
        return _kept_outcome(center_id, "failed", previous, prepared.publish_error)
    try:
        _publish(prepared, settings.data_path, run_id, center_id)
    except (OSError, DiskFullError) as exc:
        return _kept_outcome(center_id, "failed", previous, _publish_error(center_id, exc))
    try:
        record_published(settings.data_path, center_id, fingerprint, run_id, stats)
    except DiskFullError as error:
        then = "its new data are published and the next run processes it again"
        record = disk_full_error(error.path, center=center_id, consequence=then).as_record()
        return CenterOutcome(center_id, "failed", error=record, data_run_id=run_id, **stats)
    return CenterOutcome(center_id, "published", data_run_id=run_id, **stats)


def _prepare_here(
    settings: Settings,
    center_id: str,
    run_id: str,
    only_file: str | None,
    *,
    gate: Gate | None,
    process: Process | None,
) -> Prepared:
    return harmonize_and_gate(settings, center_id, run_id, only_file, gate, process)


def process_center_safely(
    settings: Settings,
    center_id: str,
    run_id: str,
    *,
    force: bool = False,
    only_file: str | None = None,
    gate: Gate | None = None,
    process: Process | None = None,
    prepare: Prepare | None = None,
) -> CenterOutcome:
    """Process one center end to end; never raises for a problem of that center.

    `prepare` harmonizes and gates elsewhere (a worker process) instead of `process`
    and `gate` here; publishing always happens in this process.

    `unchanged` when its fingerprint matches its last publish (unless `force` or
    `settings.full_refresh`); `failed` when it cannot be read, harmonized or written;
    `held` when the quality gate (compared with the last published partition) fails;
    else `published`. When failed or held, its last published partition is untouched.
    """
    data_root = settings.data_path
    previous: dict[str, Any] | None = None
    try:
        previous = published_state(data_root, center_id)
        if stop_reason() is not None:
            return _interrupted_outcome(center_id, previous)
        fingerprint = center_fingerprint(
            mapping_path(settings, center_id),
            settings.landing,
            center_id,
            key_fingerprint=settings.key_fingerprint,
            data_root=data_root,
        )
        fingerprint = _recorded_fingerprint(fingerprint, only_file)
        if not (force or settings.full_refresh) and _is_unchanged(
            settings, center_id, fingerprint, previous
        ):
            return _kept_outcome(center_id, "unchanged", previous, None)
        if prepare is None:
            prepare = functools.partial(_prepare_here, gate=gate, process=process)
        return _harmonize_and_publish(
            settings, center_id, run_id, fingerprint, previous, only_file, prepare
        )
    except DiskFullError as full:
        then = "its last published data stay"
        record = disk_full_error(full.path, center=center_id, consequence=then).as_record()
        return _kept_outcome(center_id, "failed", previous, record)
    except Exception as exc:
        if stop_reason() is not None:  # its worker was ended by the stop
            return _interrupted_outcome(center_id, previous)
        error = _internal_error(center_id, run_id, exc)
        return _kept_outcome(center_id, "failed", previous, error)


def landing_sizes(settings: Settings, centers: list[str]) -> dict[str, int]:
    """Each center's landing folder size in bytes (0 for a missing folder); stats only."""

    def size(center_id: str) -> int:
        folder = settings.landing / center_id
        files = folder.rglob("*") if folder.is_dir() else iter(())
        return sum(path.stat().st_size for path in files if path.is_file())

    return {center_id: size(center_id) for center_id in centers}


def discover_centers(settings: Settings) -> list[str]:
    """Center ids with a mapping file `<centers_dir>/<id>.yaml`, limited to `settings.centers`.

    Files whose name starts with `_` or `.` are not mappings. A requested center without a
    mapping file, or a mapping file not named after a valid center id, is a ConfigError.
    """
    folder = settings.centers_dir
    if not folder.is_dir():
        raise ConfigError(f"centers folder `{folder}` does not exist; pass --centers DIR.")
    stems = [p.stem for p in folder.glob(f"*{MAPPING_SUFFIX}") if p.name[0] not in "_."]
    bad = sorted(s for s in stems if not re.fullmatch(CENTER_ID_PATTERN, s))
    if bad:
        raise ConfigError(
            f"mapping file(s) {', '.join(f'`{b}{MAPPING_SUFFIX}`' for b in bad)} in `{folder}` "
            "are not named after a center id (lowercase letters, digits, `_`); rename them."
        )
    known = sorted(stems)
    if settings.centers is None:
        return known
    unknown = [c for c in settings.centers if c not in known]
    if unknown:
        raise ConfigError(
            f"unknown center(s) {', '.join(f'`{c}`' for c in unknown)}: no mapping file in "
            f"`{folder}`; known centers: {', '.join(known) or 'none'}."
        )
    return [c for c in known if c in settings.centers]


def finish_run(
    settings: Settings,
    run_id: str,
    started_at: datetime,
    parameters: dict[str, Any],
    outcomes: list[CenterOutcome],
) -> dict[str, Any]:
    """Build the run's manifest from the outcomes, write it, and return it.

    A run asked to stop (`stop.stop_reason`) gets an `interrupted` record, and its
    staging folder is removed (the centers it abandoned may have staged files).
    """
    manifest = build_manifest(
        settings,
        run_id=run_id,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        parameters=parameters,
        centers={outcome.center_id: outcome.as_manifest_entry() for outcome in outcomes},
    )
    record = interruption(manifest["centers"], settings.timeout_seconds)
    if record is not None:
        manifest["interrupted"] = record
    write_manifest(manifest, settings.data_path)
    if record is not None:
        cleanup_staging(settings.data_path)
    return manifest


def run_parameters(settings: Settings, *, force: bool, only_file: str | None) -> dict[str, Any]:
    """The manifest's `parameters`."""
    return {
        "full_refresh": settings.full_refresh,
        "centers": list(settings.centers) if settings.centers is not None else None,
        "force": force,
        "only_file": only_file,
    }


def run_pipeline(
    settings: Settings,
    *,
    force: bool = False,
    only_file: str | None = None,
    gate: Gate | None = None,
    now: datetime | None = None,
    process: Process | None = None,
) -> dict[str, Any]:
    """One plain sequential run: lock, clean staging, each center, manifest. Returns it."""
    started_at = now or datetime.now(UTC)
    run_id = new_run_id(started_at)
    with time_limit(settings.timeout_seconds), data_root_lock(settings.data_path), graceful():
        cleanup_staging(settings.data_path)
        centers = discover_centers(settings)
        landing = sum(landing_sizes(settings, centers).values())
        if (warning := check_free_space(settings.data_path, landing)) is not None:
            logger.warning(warning)
        outcomes = [
            process_center_safely(
                settings,
                center_id,
                run_id,
                force=force,
                only_file=only_file,
                gate=gate,
                process=process,
            )
            for center_id in centers
        ]
        parameters = run_parameters(settings, force=force, only_file=only_file)
        return finish_run(settings, run_id, started_at, parameters, outcomes)
