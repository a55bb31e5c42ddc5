"""What one center's processing hands to publishing and to the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pandas as pd

CUTOFF_KEY = "spinemet.data_cutoff"
CUTOFF_SOURCE_KEY = "spinemet.data_cutoff_source"
LATEST_CONTACT = "latest_last_contact"
"""The cut-off's source when the mapping file states none."""


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
    stated_cutoff: date | None = None
    """The mapping file's `data_cutoff`, or None."""

    def data_cutoff(self) -> dict[str, str | None]:
        """The center's data cut-off: the stated one, else the latest last contact.

        {"date": "YYYY-MM-DD" or None (no patients), "source": "mapping" or
        "latest_last_contact"}, as the manifest records it.
        """
        if self.stated_cutoff is not None:
            return {"date": self.stated_cutoff.isoformat(), "source": "mapping"}
        latest = self.patients["last_contact_date"].max() if len(self.patients) else None
        stamp = None if latest is None or pd.isna(latest) else pd.Timestamp(latest).date()
        return {"date": stamp.isoformat() if stamp else None, "source": LATEST_CONTACT}

    def data_cutoff_metadata(self) -> dict[str, str]:
        """The partition's key-value metadata of the cut-off (none without a date)."""
        cutoff = self.data_cutoff()
        if cutoff["date"] is None:
            return {}
        return {CUTOFF_KEY: cutoff["date"], CUTOFF_SOURCE_KEY: str(cutoff["source"])}
