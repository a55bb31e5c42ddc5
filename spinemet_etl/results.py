"""What one center's processing hands to publishing and to the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class FileStats:
    """One export file's accounting: rows_read = rows_harmonized + rows_quarantined."""

    name: str
    size: int
    sha256: str
    rows_read: int
    rows_harmonized: int
    rows_quarantined: int

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CenterResult:
    """A center's harmonized rows (PatientsModel), its quarantine (QuarantineModel), its files.

    Rows are in a deterministic order (by source_file, source_row) so that the same inputs
    give the same tables.
    """

    center_id: str
    patients: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[FileStats] = field(default_factory=list)
    center_thresholds: dict[str, Any] | None = None
    """The mapping file's own gate thresholds: {"reason": ..., "settings": {...}}, or None."""
