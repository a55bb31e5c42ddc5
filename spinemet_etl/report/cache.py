"""The page's patient-drawn parts, kept so that a re-render of the same data reads no patients."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from schemas.contract import PACKAGE_VERSION
from spinemet_etl.report.baseline import BaselineRow, BaselineTable
from spinemet_etl.report.flow import CenterFlow
from spinemet_etl.report.render import PageParts
from spinemet_etl.report.tables import Row

CACHE_FILE = Path("reports") / ".report-cache.json"
"""Internal file of `reports/` (like `.report-inputs.json`): figures and crosstab of the page."""
CACHE_FORMAT = 4
PATIENT_PARTITIONS = "harmonized/patients/center_id=*/part-0.parquet"


def partition_stamp(data_root: Path) -> list[list[Any]]:
    """Every patient partition as [folder name, size, mtime in ns], in name order.

    A partition is replaced by a rename, so a new publish changes its size or mtime.
    """
    return [
        [path.parent.name, stat.st_size, stat.st_mtime_ns]
        for path in sorted(Path(data_root).glob(PATIENT_PARTITIONS))
        for stat in [path.stat()]
    ]


def cache_key(stamp: list[list[Any]], endpoints_path: Path, suppress_below: int) -> dict[str, Any]:
    """What the parts were drawn from: the partitions (`partition_stamp`), the endpoint
    file's bytes, K, and the code's version."""
    digest = hashlib.sha256(Path(endpoints_path).read_bytes()).hexdigest()
    return {
        "format": CACHE_FORMAT,
        "package_version": PACKAGE_VERSION,
        "suppress_below": suppress_below,
        "partitions": stamp,
        "endpoints_sha256": digest,
    }


def cache_bytes(key: dict[str, Any], parts: PageParts) -> bytes:
    """The cache file's content: the key, then the parts."""
    crosstab = None if parts.crosstab is None else [asdict(row) for row in parts.crosstab]
    document = {
        "key": key,
        "km_centers": parts.km_centers,
        "km_procedure": parts.km_procedure,
        "forest": parts.forest,
        "crosstab": crosstab,
        "os_events": parts.os_events,
        "baseline": None if parts.baseline is None else asdict(parts.baseline),
        "flows": None if parts.flows is None else [asdict(flow) for flow in parts.flows],
        "frankel": None
        if parts.frankel is None
        else {name: [asdict(row) for row in rows] for name, rows in parts.frankel.items()},
    }
    return json.dumps(document).encode("utf-8")


def _baseline(document: dict[str, Any] | None) -> BaselineTable | None:
    if document is None:
        return None
    rows = [BaselineRow(**row) for row in document["rows"]]
    return BaselineTable(scopes=[str(s) for s in document["scopes"]], rows=rows)


def _rows(document: list[dict[str, Any]] | None) -> list[Row] | None:
    if document is None:
        return None
    return [Row(str(r["label"]), [str(c) for c in r["cells"]], str(r["method"])) for r in document]


def _frankel(document: dict[str, Any] | None) -> dict[str, list[Row]] | None:
    if document is None:
        return None
    return {str(name): _rows(rows) or [] for name, rows in document.items()}


def read_cached_parts(data_root: Path, key: dict[str, Any]) -> PageParts | None:
    """The cached parts when the cache file exists, parses, and was written for `key`."""
    try:
        document = json.loads((Path(data_root) / CACHE_FILE).read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("key") != key:
            return None
        return PageParts(
            km_centers=str(document["km_centers"]),
            km_procedure=str(document["km_procedure"]),
            forest=str(document["forest"]),
            crosstab=_rows(document["crosstab"]),
            os_events={
                str(stratum): {str(scope): int(deaths) for scope, deaths in scopes.items()}
                for stratum, scopes in document["os_events"].items()
            },
            baseline=_baseline(document["baseline"]),
            flows=None
            if document["flows"] is None
            else [CenterFlow(**f) for f in document["flows"]],
            frankel=_frankel(document["frankel"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
