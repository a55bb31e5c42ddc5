"""Preview one center: harmonize it in memory and describe the result (nothing is written)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spinemet_etl.harmonize.process import process_center
from spinemet_etl.readers.options import ReadLimits
from spinemet_etl.results import CenterResult

PREVIEW_RUN_ID = "preview"
FIRST_ROWS = 5
EXAMPLES_PER_REASON = 3
HIDDEN_COLUMNS = ("center_id", "source_sha256", "run_id")
"""Lineage that is the same on every row (or a long hash): left out of the first rows."""


def preview_center(
    mapping_path: Path, landing_dir: Path, *, key: str, limits: ReadLimits | None = None
) -> CenterResult:
    """The center harmonized exactly as a run does, with no gate, server or publishing.

    Raises MappingError for a broken mapping file and SourceError for a center-level
    problem (the run would fail the center), as process_center does.
    """
    return process_center(mapping_path, landing_dir, run_id=PREVIEW_RUN_ID, key=key, limits=limits)


def accounting_lines(result: CenterResult) -> list[str]:
    """Rows read, harmonized and quarantined: in all, then per export file."""
    read = sum(stats.rows_read for stats in result.files)
    bad = sum(stats.rows_quarantined for stats in result.files)
    lines = [f"rows read {read}, harmonized {read - bad}, quarantined {bad}"]
    for stats in result.files:
        lines.append(
            f"  {stats.name}: read {stats.rows_read}, harmonized {stats.rows_harmonized}, "
            f"quarantined {stats.rows_quarantined}"
        )
    return lines


def reason_table(quarantine: pd.DataFrame) -> pd.DataFrame:
    """One line per (check code, column): rows failing it and a few example values.

    The values are the quarantine's `failure_value`, masked (`***`) for identifying
    columns as in the published quarantine; a source row counts once per reason.
    """
    columns = ["check_code", "column", "rows", "examples"]
    if quarantine.empty:
        return pd.DataFrame(columns=columns)
    keys = ["check_code", "column"]
    frame = quarantine.assign(column=quarantine["column"].fillna("(row)"))
    rows = frame.drop_duplicates(["source_file", "source_row", *keys]).groupby(keys).size()
    examples = frame.dropna(subset=["failure_value"]).groupby(keys)["failure_value"].agg(_examples)
    table = rows.rename("rows").to_frame().join(examples.rename("examples")).reset_index()
    table["examples"] = table["examples"].fillna("")
    return table.sort_values(["rows", *keys], ascending=[False, True, True])[columns]


def _examples(values: pd.Series) -> str:
    distinct = list(dict.fromkeys(values))
    shown = ", ".join(repr(value) for value in distinct[:EXAMPLES_PER_REASON])
    return shown + (", ..." if len(distinct) > EXAMPLES_PER_REASON else "")


def first_rows(patients: pd.DataFrame, n: int = FIRST_ROWS) -> str:
    """The first `n` canonical rows, one column per row (the canonical table is wide)."""
    shown = patients.head(n).drop(columns=list(HIDDEN_COLUMNS))
    shown.index = [f"row {i + 1}" for i in range(len(shown))]
    return shown.T.to_string(na_rep="-") if len(shown) else "(no harmonized row)"


def preview_text(result: CenterResult, n_rows: int = FIRST_ROWS) -> str:
    """The preview as printed: accounting, quarantine reasons, first canonical rows."""
    reasons = reason_table(result.quarantine)
    parts = [f"center {result.center_id} (preview: nothing published)", *accounting_lines(result)]
    parts.append("")
    if reasons.empty:
        parts.append("quarantine reasons: none")
    else:
        parts.append("quarantine reasons (rows; example values, identifying ones masked):")
        parts.append(reasons.to_string(index=False))
    parts += ["", f"first {min(n_rows, len(result.patients))} canonical rows:"]
    parts.append(first_rows(result.patients, n_rows))
    return "\n".join(parts)
