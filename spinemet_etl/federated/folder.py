"""Write a center summary's folder: summary.json, risk_sets.parquet, summary.html, SHA256SUMS."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.codes import SCHEMA_VERSION
from schemas.contract import PACKAGE_VERSION
from spinemet_etl.federated.html import summary_html
from spinemet_etl.federated.summary import FORMAT, VERSION, CenterSummary

SUMMARY_JSON = "summary.json"
RISK_SETS = "risk_sets.parquet"
SUMMARY_HTML = "summary.html"
CHECKSUMS = "SHA256SUMS"
SUMMARY_FILES = (SUMMARY_JSON, RISK_SETS, SUMMARY_HTML)
RISK_SETS_SCHEMA = pa.schema(
    [
        pa.field("procedure", pa.string(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        *(
            pa.field(name, pa.int64(), nullable=False)
            for name in ("time", "events", "competing", "censored")
        ),
    ]
)


def summary_document(summary: CenterSummary, created: datetime) -> dict[str, Any]:
    """summary.json's content: identification, sums per stratum, quality record."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "center_id": summary.center_id,
        "run_id": summary.run_id,
        "package_version": PACKAGE_VERSION,
        "schema_version": SCHEMA_VERSION,
        "created": created.astimezone(UTC).isoformat(timespec="seconds"),
        "time_unit": summary.time_unit,
        "pain_mcid": summary.pain_mcid,
        "strata": summary.sums,
        "quality": summary.quality,
        "data_cutoff": summary.data_cutoff,
    }


def risk_sets_table(summary: CenterSummary) -> pa.Table:
    """The risk sets as Arrow, with the contract's columns only (no pandas metadata)."""
    frame = summary.risk_sets
    arrays = [pa.array(frame[field.name].to_numpy(), type=field.type) for field in RISK_SETS_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=RISK_SETS_SCHEMA)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_summary_folder(
    summary: CenterSummary, outbox: Path, *, created: datetime | None = None
) -> Path:
    """Write OUTBOX/<center_id>/<run_id>/ whole, or not at all (built aside, then renamed).

    An existing folder of the same run is replaced: summarizing one partition twice
    gives the same content (but for `created`).
    """
    created = created or datetime.now(UTC)
    target = Path(outbox) / summary.center_id / summary.run_id
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{summary.run_id}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        document = summary_document(summary, created)
        text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        (staging / SUMMARY_JSON).write_text(text, encoding="utf-8")
        pq.write_table(risk_sets_table(summary), staging / RISK_SETS, compression="zstd")
        html = summary_html(document, summary.risk_sets)
        (staging / SUMMARY_HTML).write_text(html, encoding="utf-8")
        lines = [f"{sha256_of(staging / name)}  {name}\n" for name in sorted(SUMMARY_FILES)]
        (staging / CHECKSUMS).write_text("".join(lines), encoding="ascii")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
