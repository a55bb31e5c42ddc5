"""Each center's statistics kept in the data root, so that a report re-reads only changed centers.

A center's entry is its center summary (`summary.split` of its partition's statistics:
`summary.json` and `risk_sets.parquet`, as `spinemet summarize` writes them, with
whatever sums and risk sets the engine counts), `pairs.parquet`, the columns from which
the plain pooled C-index counts pairs across centers, the report draws its Kaplan–Meier
curves and Table 1 its ages (patient values, as the partition beside it holds them: the
entry never leaves the data root), and `page.json`, the center's counts for the report
page (`report.counts`). It lives in `<data>/_cache/statistics/<center_id>/<key>/`,
`<key>` a digest of the partition file's SHA-256, the engine's code and the settings: a
republished partition, another engine or other settings look for another folder, so a
stale entry is never read. An entry is
built in `<data>/_staging/` and renamed into place whole; one whose checksums, key or
content do not verify is recomputed, never trusted.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import schemas
import spinemet_etl
from schemas.codes import SCHEMA_VERSION
from schemas.contract import PACKAGE_VERSION
from schemas.patients import PROCEDURES
from spinemet_etl.endpoints.io import (
    PARTITION_GLOB,
    REPORT_COLUMNS,
    read_data_cutoffs,
    read_patients,
)
from spinemet_etl.endpoints.statistics import Statistics, from_rows
from spinemet_etl.endpoints.sums import SCORES, plain_pooled_c
from spinemet_etl.federated.folder import (
    CHECKSUMS,
    RISK_SETS,
    SUMMARY_JSON,
    risk_sets_table,
    sha256_of,
    summary_document,
)
from spinemet_etl.federated.summary import CenterSummary, merge, split
from spinemet_etl.federated.verify import SummaryProblem, read_summary
from spinemet_etl.publish import fsync_dir, staging_root
from spinemet_etl.report.baseline import BASELINE_COLUMNS
from spinemet_etl.report.counts import CenterCounts, center_counts, counts_from_document

log = logging.getLogger(__name__)

CACHE_ROOT = Path("_cache") / "statistics"
CACHE_FORMAT = 2
KEY_JSON = "key.json"
PAIRS = "pairs.parquet"
PAGE_JSON = "page.json"
ENTRY_FILES = (KEY_JSON, SUMMARY_JSON, RISK_SETS, PAIRS, PAGE_JSON)
ENGINE_PACKAGES = ("endpoints", "stats", "federated", "report")
"""The subpackages whose code computes a center's statistics and page counts (with
`schemas` and `ENGINE_MODULES`)."""
ENGINE_MODULES = ("scores.py",)
AGE = "age_at_surgery_years"
PAIRS_SCHEMA = pa.schema(
    [
        pa.field("procedure", pa.int8(), nullable=False),
        pa.field("os_months", pa.float64(), nullable=False),
        pa.field("os_event", pa.bool_(), nullable=False),
        *(pa.field(column, pa.float64()) for _, column, _ in SCORES),
        pa.field(AGE, pa.float64()),
    ]
)
"""What the pooled parts read of each patient: procedure code, OS, the scores, the age
(null: NaN)."""


@dataclass
class CenterEntry:
    """One center's statistics: its summary, the rows of its pooled columns, its page counts."""

    summary: CenterSummary
    pairs: pa.Table
    counts: CenterCounts


@dataclass
class CacheUse:
    """Which centers' statistics came from the cache and which were computed from rows."""

    cached: list[str]
    computed: list[str]


@functools.cache
def engine_version() -> str:
    """SHA-256 of the package and schema versions and of the engine's source files.

    Any change of the code that counts a center's statistics (or of the schemas) gives
    another version, so entries written by other code are not found.
    """
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{PACKAGE_VERSION}\0{SCHEMA_VERSION}".encode())
    package = Path(spinemet_etl.__file__).parent
    folders = [package / name for name in ENGINE_PACKAGES] + [Path(schemas.__file__).parent]
    modules = [package / name for name in ENGINE_MODULES]
    for path in sorted([*(p for folder in folders for p in folder.rglob("*.py")), *modules]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def partition_file(data_root: Path, center_id: str) -> Path:
    return Path(data_root) / "harmonized" / "patients" / f"center_id={center_id}" / "part-0.parquet"


def entry_key(partition: Path, *, pain_mcid: float, time_unit: str) -> dict[str, Any]:
    """What an entry was computed from: the partition's bytes, the engine, the settings."""
    return {
        "format": CACHE_FORMAT,
        "engine": engine_version(),
        "partition_sha256": sha256_of(partition),
        "pain_mcid": pain_mcid,
        "time_unit": time_unit,
    }


def entry_folder(data_root: Path, center_id: str, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    return Path(data_root) / CACHE_ROOT / center_id / digest


def compute_entry(
    data_root: Path,
    center_id: str,
    *,
    pain_mcid: float,
    time_unit: str,
    partition: Path | None = None,
) -> CenterEntry:
    """A center's entry from its partition's rows (validated as the report reads them);
    `partition`: that file instead of the published one (a staged partition)."""
    files = None if partition is None else [partition]
    columns = [*REPORT_COLUMNS, *(c for c in BASELINE_COLUMNS if c not in REPORT_COLUMNS)]
    patients = read_patients(data_root, columns=columns, centers=[center_id], partitions=files)
    cutoffs = read_data_cutoffs(data_root, [center_id], partitions=files)
    stats = from_rows(
        patients, pain_mcid=pain_mcid, time_unit=time_unit, plain_c=False, data_cutoffs=cutoffs
    )
    (summary,) = split(stats)
    codes = pd.Categorical(patients["procedure"], categories=PROCEDURES).codes
    arrays = [
        pa.array(codes.astype(np.int8)),
        pa.array(patients["os_months"].to_numpy(dtype=np.float64)),
        pa.array(patients["os_event"].to_numpy(dtype=bool)),
        *(
            pa.array(patients[column].to_numpy(dtype=np.float64, na_value=np.nan))
            for _, column, _ in SCORES
        ),
        pa.array(patients[AGE].to_numpy(dtype=np.float64, na_value=np.nan)),
    ]
    pairs = pa.Table.from_arrays(arrays, schema=PAIRS_SCHEMA)
    return CenterEntry(summary, pairs, center_counts(center_id, patients))


def write_entry(entry: CenterEntry, folder: Path, key: dict[str, Any], data_root: Path) -> None:
    """Write the entry whole under `folder` (built in staging, then one rename), and remove
    the center's other entries. A failure leaves no entry; the report goes on without."""
    staging = staging_root(data_root) / f"cache-{uuid.uuid4().hex}"
    try:
        staging.mkdir(parents=True)
        document = summary_document(entry.summary, datetime.now(UTC))
        (staging / KEY_JSON).write_text(json.dumps(key, sort_keys=True), encoding="utf-8")
        (staging / SUMMARY_JSON).write_text(json.dumps(document, allow_nan=False), "utf-8")
        pq.write_table(risk_sets_table(entry.summary), staging / RISK_SETS, compression="zstd")
        pq.write_table(entry.pairs, staging / PAIRS, compression="zstd")
        page = json.dumps(entry.counts.to_document(), allow_nan=False)
        (staging / PAGE_JSON).write_text(page, encoding="utf-8")
        sums = [f"{sha256_of(staging / name)}  {name}\n" for name in sorted(ENTRY_FILES)]
        (staging / CHECKSUMS).write_text("".join(sums), encoding="ascii")
        fsync_dir(staging)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        fsync_dir(folder.parent)
    except OSError as error:
        log.warning("statistics cache of %s not written (%s)", folder.parent.name, error)
        return
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for other in folder.parent.iterdir():
        if other != folder:
            shutil.rmtree(other, ignore_errors=True)


def read_entry(folder: Path, center_id: str, key: dict[str, Any]) -> CenterEntry | None:
    """The entry in `folder` when it verifies (checksums, key, summary, pairs, page
    counts), else None."""
    if not folder.is_dir():
        return None
    try:
        summary, _ = read_summary(folder, center_id, ENTRY_FILES)
        if json.loads((folder / KEY_JSON).read_text(encoding="utf-8")) != key:
            raise SummaryProblem(f"{folder / KEY_JSON}: written for other inputs")
        pairs = pq.read_table(folder / PAIRS)
        if not pairs.schema.remove_metadata().equals(PAIRS_SCHEMA):
            raise SummaryProblem(f"{folder / PAIRS}: columns or types are not the cache's")
        if pairs.num_rows != summary.sums["all"]["n"]:
            raise SummaryProblem(f"{folder / PAIRS}: {pairs.num_rows} rows, not n patients")
        counts = _read_counts(folder, center_id, pairs)
    except (SummaryProblem, OSError, ValueError, KeyError, TypeError, pa.ArrowException) as problem:
        log.warning("statistics cache of %s not used, recomputed: %s", center_id, problem)
        return None
    return CenterEntry(summary, pairs.replace_schema_metadata(None), counts)


def _read_counts(folder: Path, center_id: str, pairs: pa.Table) -> CenterCounts:
    """The entry's page counts, with the known ages from its pairs; SummaryProblem when
    they are not this center's."""
    ages = pairs.column(AGE).to_numpy()
    document = json.loads((folder / PAGE_JSON).read_text(encoding="utf-8"))
    counts = counts_from_document(document, ages[~np.isnan(ages)])
    if counts.center_id != center_id or counts.patients != pairs.num_rows:
        raise SummaryProblem(f"{folder / PAGE_JSON}: counts of another center or size")
    return counts


def center_entry(
    data_root: Path, center_id: str, *, pain_mcid: float, time_unit: str
) -> tuple[CenterEntry, bool]:
    """A center's entry, and whether it came from the cache (else computed and cached)."""
    key = entry_key(partition_file(data_root, center_id), pain_mcid=pain_mcid, time_unit=time_unit)
    folder = entry_folder(data_root, center_id, key)
    entry = read_entry(folder, center_id, key)
    if entry is not None:
        return entry, True
    entry = compute_entry(data_root, center_id, pain_mcid=pain_mcid, time_unit=time_unit)
    write_entry(entry, folder, key, data_root)
    return entry, False


def cache_staged_partition(
    data_root: Path, center_id: str, partition: Path, *, pain_mcid: float, time_unit: str = "day"
) -> bool:
    """Count and keep a center's entry from its staged partition file, before it is published.

    A worker calls it once the center is staged: publishing renames that very file into
    place, so its bytes, hence the entry's key, are the published partition's, and the
    report finds the entry instead of reading the center's rows. The centers' statistics
    are so counted by the workers, side by side, while other centers are harmonized,
    not one after another in the report. An entry that is already there and verifies is
    kept. Returns whether an entry was written.
    """
    key = entry_key(partition, pain_mcid=pain_mcid, time_unit=time_unit)
    folder = entry_folder(data_root, center_id, key)
    if read_entry(folder, center_id, key) is not None:
        return False
    entry = compute_entry(
        data_root, center_id, pain_mcid=pain_mcid, time_unit=time_unit, partition=partition
    )
    write_entry(entry, folder, key, data_root)
    return True


def return_freed_memory() -> None:
    """Hand the pages freed by the last step back to the system (glibc's heap, pyarrow's
    pool), so that the next step's peak does not sit on top of them; a no-op elsewhere.

    Notes:
        glibc raises its mmap threshold as large arrays are freed, so later arrays come
        from the heap and stay resident after they are freed: at 4.2M patients the page
        was drawn on top of 190 MB no longer in use.
    """
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return


def _pair_columns(entries: list[CenterEntry]) -> dict[str, np.ndarray]:
    """The entries' pair tables as one array per column; each table is let go once copied,
    so the rows are held once, not twice."""
    total = sum(entry.pairs.num_rows for entry in entries)
    columns = {f.name: np.empty(total, dtype=f.type.to_pandas_dtype()) for f in PAIRS_SCHEMA}
    start = 0
    for entry in entries:
        stop = start + entry.pairs.num_rows
        for name, values in columns.items():
            values[start:stop] = entry.pairs.column(name).to_numpy()
        entry.pairs = PAIRS_SCHEMA.empty_table()
        start = stop
    return columns


def pooled_rows(entries: list[CenterEntry]) -> pd.DataFrame:
    """Every patient of `entries` (centers sorted): `center_id` and `procedure` as
    categories, OS, the scores and the age, centers one after the other (the order of all
    rows read at once). Consumes the entries' pair tables."""
    sizes = [entry.pairs.num_rows for entry in entries]
    centers = pd.Index([entry.summary.center_id for entry in entries])
    columns = _pair_columns(entries)
    codes = np.repeat(np.arange(len(centers), dtype=np.int32), sizes)
    procedure = columns.pop("procedure")
    return pd.DataFrame(
        {
            "center_id": pd.Categorical.from_codes(codes, categories=centers),
            "procedure": pd.Categorical.from_codes(procedure, categories=pd.Index(PROCEDURES)),
            **columns,
        },
        copy=False,
    )


def consortium_entries(
    data_root: Path, *, pain_mcid: float = 2.0, time_unit: str = "day"
) -> tuple[list[CenterEntry], CacheUse]:
    """Every published center's entry (sorted), from the cache when it has a valid one,
    else from its rows (one center at a time), then cached."""
    partitions = sorted((Path(data_root) / "harmonized" / "patients").glob(PARTITION_GLOB))
    entries, use = [], CacheUse(cached=[], computed=[])
    for path in partitions:
        center_id = path.parent.name.split("=", 1)[1]
        entry, cached = center_entry(data_root, center_id, pain_mcid=pain_mcid, time_unit=time_unit)
        entries.append(entry)
        (use.cached if cached else use.computed).append(center_id)
    log.info(
        "endpoint statistics: %d centers from the cache, %d read from their partitions%s",
        len(use.cached),
        len(use.computed),
        f" ({', '.join(use.computed)})" if use.computed else "",
    )
    return entries, use


def merged_statistics(
    entries: list[CenterEntry], *, pain_mcid: float, time_unit: str
) -> Statistics:
    """The entries' summaries merged, without the plain pooled C (`plain_pooled_c`)."""
    stats = merge([entry.summary for entry in entries])
    stats.pain_mcid, stats.time_unit = pain_mcid, time_unit
    return stats


def consortium_statistics(
    data_root: Path, *, pain_mcid: float = 2.0, time_unit: str = "day", plain_c: bool = True
) -> tuple[Statistics, CacheUse]:
    """The statistics of every published center, each from its cache entry when it has a
    valid one, else from its rows (one center at a time), then cached.

    Equal, value for value, to `from_rows` of all the centers' rows read at once.
    """
    entries, use = consortium_entries(data_root, pain_mcid=pain_mcid, time_unit=time_unit)
    stats = merged_statistics(entries, pain_mcid=pain_mcid, time_unit=time_unit)
    if plain_c:
        return_freed_memory()
        stats.plain_c = plain_pooled_c(pooled_rows(entries), stats.layout.n_groups)
    return stats, use
