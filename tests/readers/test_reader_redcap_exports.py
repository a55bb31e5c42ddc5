"""The REDCap reader on exports of REDCapR's test projects, against Python's csv module.

tests/harmonize/redcapr/README.md says where they come from: a classic project with comma-
and dot-decimal fields, and two with repeating instruments. Each table the reader gives
must hold exactly the rows the csv module finds for it (the records: rows of no repeating
instrument; each instrument: its rows), every cell as text (blank as None), numbered by
its data row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from spinemet_etl.readers.base import PROVENANCE_COLUMNS
from spinemet_etl.readers.registry import reader_for

EXPORTS = Path(__file__).resolve().parents[1] / "harmonize" / "redcapr"
PROJECTS = ["decimal-comma-and-dot", "repeating-instruments", "vignette-repeating"]


def _expected(path: Path) -> dict[str, list[dict[str, str | int | None]]]:
    """Per table, its rows as the csv module reads them, with their data row number."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    tables: dict[str, list[dict[str, str | int | None]]] = {}
    for number, row in enumerate(rows, start=1):
        name = row.get("redcap_repeat_instrument") or "records"
        cells: dict[str, str | int | None] = {k: (v if v.strip() else None) for k, v in row.items()}
        tables.setdefault(name, []).append({**cells, "_source_row": number})
    return tables


@pytest.mark.parametrize("project", PROJECTS)
def test_each_table_holds_the_rows_the_csv_module_finds(project: str) -> None:
    path = EXPORTS / project / "data.csv"
    tables = reader_for("redcap", "valencia").read(
        path, path.name, {"data_dictionary": "dictionary.csv"}
    )
    expected = _expected(path)
    assert sorted(table.name for table in tables) == sorted(expected)
    for table in tables:
        frame = table.frame
        source = [c for c in frame.columns if c not in PROVENANCE_COLUMNS]
        got = [
            {**{c: row[c] for c in source}, "_source_row": int(row["_source_row"])}
            for row in frame.to_dict("records")
        ]
        assert got == expected[table.name], table.name
        assert set(frame["_source_file"]) == {"data.csv"}
