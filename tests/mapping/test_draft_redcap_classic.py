"""A classic REDCap project (no events, no repeating instruments) is drafted as REDCap.

Its export has neither `redcap_event_name` nor `redcap_repeat_instrument`; what marks it is
the data dictionary beside it, whose first field (the record id) heads the export.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from spinemet_etl.mapping.drafting import draft_center
from spinemet_etl.mapping.profile_read import find_sources

REPO = Path(__file__).resolve().parents[2]
REDCAPR = REPO / "tests" / "harmonize" / "redcapr"


def _folder(tmp_path: Path) -> Path:
    """The export and its dictionary, the comma field renamed `eva_pre` (a pain score's
    name the draft maps) and the dot field `eva_post`, in both."""
    folder = tmp_path / "valencia"
    folder.mkdir()
    for name in ("data.csv", "dictionary.csv"):
        text = (REDCAPR / "decimal-comma-and-dot" / name).read_text(encoding="utf-8")
        text = text.replace("height_comma", "eva_pre").replace("height_dot", "eva_post")
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_export_headed_by_the_dictionarys_record_id_is_a_redcap_export(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path)
    (folder / "other.csv").write_text("id,height\n1,1.54\n", encoding="utf-8")
    (folder / "semicolons.csv").write_text("record_id;height\n1;1,54\n", encoding="utf-8")
    kinds = {source.name: source.kind for source in find_sources(folder)[0]}
    assert kinds == {"data.csv": "redcap", "other.csv": "csv", "semicolons.csv": "csv"}


def test_the_draft_leaves_each_fields_decimal_mark_to_the_dictionary(tmp_path: Path) -> None:
    drafted = draft_center(_folder(tmp_path), REPO / "centers")
    [table] = yaml.safe_load(drafted.mapping_yaml)["tables"]
    assert table["kind"] == "redcap" and "where" not in table
    assert table["read"] == {"data_dictionary": "dictionary*.csv"}
    assert (table["patient_id"], table["identifiers"]) == ("record_id", ["name"])
    columns = table["columns"]
    assert (columns["vas_pain_preop"], columns["vas_pain_postop"]) == ("eva_pre", "eva_post")
    assert "decimal" not in table  # one table-wide mark would refuse the other field's values
    rows = {line.split(" ")[1]: line for line in drafted.profile_md.splitlines()
            if line.startswith("| eva_") or line.startswith("| weight_")}  # fmt: skip
    assert "decimal `,` (stated by the source)" in rows["eva_pre"]
    assert "decimal `.` (stated by the source)" in rows["weight_dot"]


def test_a_classic_project_with_a_repeating_instrument_is_drafted(tmp_path: Path) -> None:
    folder = tmp_path / "valencia"
    shutil.copytree(REDCAPR / "repeating-instruments", folder)
    drafted = draft_center(folder, REPO / "centers")
    tables = yaml.safe_load(drafted.mapping_yaml)["tables"]
    assert [(t["name"], t["kind"], t.get("instrument")) for t in tables] == [
        ("records", "redcap", None), ("bp", "redcap", "bp"),
    ]  # fmt: skip
    assert all("where" not in table for table in tables)
