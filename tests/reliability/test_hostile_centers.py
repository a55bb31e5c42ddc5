"""Hostile exports and mapping files in a whole run: each fails only its own center, exactly."""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from spinemet_etl.dataset import partition_dir, partition_file
from spinemet_etl.errors import ConfigError, SourceError
from spinemet_etl.harmonize import process_center
from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.settings import load_settings
from spinemet_etl.synth import write_consortium
from tests.hostile import make_corpus as corpus
from tests.reliability.helpers import CENTERS, copy_centers

BOSTON_FILE = "spine_mets_registry.csv"
MARKER_OUTSIDE = "OUTSIDE-THE-LANDING"


def _mapping(center_id: str, *, files: str, kind: str = "csv", read: str = "") -> str:
    """Boston's mapping under another id, reading other files (the columns stay Boston's)."""
    text = (CENTERS / "boston.yaml").read_text(encoding="utf-8")
    text = text.replace("center_id: boston", f"center_id: {center_id}")
    text = text.replace('files: "spine_mets_registry*.csv"', f'files: "{files}"')
    text = text.replace("kind: csv", f"kind: {kind}" + (f"\n    read: {read}" if read else ""))
    return text


def _boston_rows(landing: Path) -> list[list[object]]:
    text = (landing / "boston" / BOSTON_FILE).read_text(encoding="utf-8")
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _xlsx_with_formulas(path: Path, rows: list[list[object]]) -> Path:
    age = rows[0].index("age_at_surgery")
    return corpus.external_links_xlsx(path, rows, column=age)


def _place(
    landing: Path, centers: Path, center_id: str, mapping: str, **files: Callable[[Path], object]
) -> None:
    (centers / f"{center_id}.yaml").write_text(mapping, encoding="utf-8")
    folder = landing / center_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in files.items():
        build(folder / name.replace("__", "."))


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One run over Boston plus a center per hostile case; returns what the test inspects."""
    root = tmp_path_factory.mktemp("hostile")
    landing, centers, data = root / "landing", root / "centers", root / "data"
    write_consortium(landing, n_patients=30, seed=3)
    copy_centers(centers, ["boston"])
    rows = _boston_rows(landing)
    outside = root / "outside.csv"
    outside.write_text(
        (landing / "boston" / BOSTON_FILE).read_text().replace("Synth", MARKER_OUTSIDE)
    )
    boston_text = (landing / "boston" / BOSTON_FILE).read_text(encoding="utf-8")
    mixed_line = "Z9999999,Jürgen,Weiß-Synth" + ",x" * 27
    cases: dict[str, tuple[str, dict[str, Callable[[Path], object]]]] = {
        "bomb": (_mapping("bomb", files="*.xlsx", kind="xlsx"),
                 {"export__xlsx": lambda p: corpus.zip_bomb_xlsx(p)}),
        "laughs": (_mapping("laughs", files="*.xlsx", kind="xlsx"),
                   {"export__xlsx": lambda p: corpus.billion_laughs_xlsx(p, rows)}),
        "links": (_mapping("links", files="*.xlsx", kind="xlsx"),
                  {"export__xlsx": lambda p: _xlsx_with_formulas(p, rows)}),
        "lying_sav": (_mapping("lying_sav", files="*.sav", kind="sav"),
                      {"export__sav": corpus.lying_sav}),
        "long_line": (_mapping("long_line", files="*.csv"),
                      {"export__csv": lambda p: corpus.long_line_csv(p, "mrn,sex", 100)}),
        "nul": (_mapping("nul", files="*.csv"),
                {"export__csv": lambda p: corpus.nul_csv(p, boston_text)}),
        "mixed": (_mapping("mixed", files="*.csv"),
                  {"export__csv": lambda p: corpus.mixed_encoding_csv(p, boston_text, mixed_line)}),
        "symlink": (_mapping("symlink", files="*.csv"),
                    {"export__csv": lambda p: p.symlink_to(outside)}),
        "dots": (_mapping("dots", files="*.csv"),
                 {"..registry..2026__csv": lambda p: p.write_text(boston_text, encoding="utf-8")}),
        "traversal": (_mapping("traversal", files="../boston/*.csv"), {}),
        "not_a_slug": (_mapping("Not A Slug", files="*.csv"), {}),
    }  # fmt: skip
    for center_id, (mapping, files) in cases.items():
        _place(landing, centers, center_id, mapping, **files)
    tag_marker = root / "tag-ran"
    corpus.yaml_object_tag_mapping(centers / "yamltag.yaml", tag_marker)
    settings = load_settings({"landing": landing, "centers_dir": centers, "data": str(data)}, {})
    manifest = run_pipeline(settings)
    yield {
        "manifest": manifest,
        "data": data,
        "landing": landing,
        "tag_marker": tag_marker,
        "mixed_line": boston_text.count("\n") + 1,
    }


FAILURES = [
    ("bomb", "decompression-bomb", "file `export.xlsx`"),
    ("laughs", "unsafe-workbook", "file `export.xlsx`"),
    ("lying_sav", "file-truncated", "file `export.sav`"),
    ("long_line", "line-too-long", "file `export.csv`, line 2"),
    ("nul", "binary-content", "file `export.csv`"),
    ("mixed", "encoding-error", "file `export.csv`, line {mixed_line}"),
    ("symlink", "unsafe-path", "file `export.csv`"),
    ("yamltag", "mapping-invalid", "yamltag.yaml"),
    ("not_a_slug", "mapping-invalid", "not_a_slug.yaml"),
    ("traversal", "mapping-invalid", "traversal.yaml"),
]


@pytest.mark.parametrize(("center_id", "code", "names"), FAILURES, ids=[f[0] for f in FAILURES])
def test_hostile_center_fails_alone_with_one_sentence(
    hostile_run: dict[str, Any], center_id: str, code: str, names: str
) -> None:
    names = names.format(mixed_line=hostile_run["mixed_line"])
    entry = hostile_run["manifest"]["centers"][center_id]
    assert entry["status"] == "failed"
    assert entry["error"]["code"] == code
    message = entry["error"]["message"]
    assert names in message and message.endswith(".") and "\n" not in message
    assert MARKER_OUTSIDE not in message
    assert not partition_dir(hostile_run["data"], "patients", center_id).exists()


def test_the_other_centers_are_published_in_full(hostile_run: dict[str, Any]) -> None:
    centers = hostile_run["manifest"]["centers"]
    for center_id in ("boston", "links", "dots"):
        assert centers[center_id]["status"] == "published", centers[center_id]
    boston = centers["boston"]["rows_harmonized"]
    assert boston > 0
    assert centers["links"]["rows_harmonized"] == boston
    assert centers["dots"]["rows_harmonized"] == boston


def test_file_names_with_dots_stay_relative(hostile_run: dict[str, Any]) -> None:
    table = pq.read_table(partition_file(hostile_run["data"], "patients", "dots"))
    assert set(table.column("source_file").to_pylist()) == {"..registry..2026.csv"}


def test_formula_text_and_links_never_reach_the_data(hostile_run: dict[str, Any]) -> None:
    table = pq.read_table(partition_file(hostile_run["data"], "patients", "links"))
    boston = pq.read_table(partition_file(hostile_run["data"], "patients", "boston"))
    assert table.column("age_at_surgery_years") == boston.column("age_at_surgery_years")
    text = str(table.to_pylist())
    assert "WEBSERVICE" not in text and "passwd" not in text


def test_yaml_tags_construct_nothing(hostile_run: dict[str, Any]) -> None:
    assert not hostile_run["tag_marker"].exists()


def test_symlinked_file_is_never_opened(tmp_path: Path) -> None:
    """Not even to hash it: the link's target is outside what the center's folder vouches for."""
    outside = tmp_path / "secret-outside.csv"
    outside.write_text(f"mrn\n{MARKER_OUTSIDE}\n", encoding="utf-8")
    landing = tmp_path / "landing"
    (landing / "symlink").mkdir(parents=True)
    (landing / "symlink" / "export.csv").symlink_to(outside)
    centers = copy_centers(tmp_path / "centers", [])
    (centers / "symlink.yaml").write_text(_mapping("symlink", files="*.csv"), encoding="utf-8")
    opened: list[str] = []

    def audit(event: str, args: tuple[Any, ...]) -> None:
        is_path = event == "open" and isinstance(args[0], str | Path)
        if is_path and os.path.realpath(args[0]) == os.path.realpath(outside):
            opened.append(str(args[0]))

    _AUDIT.append(audit)
    try:
        with pytest.raises(SourceError) as caught:
            process_center(centers / "symlink.yaml", landing, run_id="r1", key="k")
    finally:
        _AUDIT.remove(audit)
    assert caught.value.code == "unsafe-path"
    assert opened == [], f"{outside} was opened through the link"


_AUDIT: list[Any] = []
sys.addaudithook(lambda event, args: [hook(event, args) for hook in list(_AUDIT)] and None)


def test_only_file_cannot_climb_out_of_the_center_folder(hostile_run: dict[str, Any]) -> None:
    landing = hostile_run["landing"]
    with pytest.raises(SourceError) as caught:
        process_center(
            CENTERS / "boston.yaml",
            landing / "dots",
            run_id="r1",
            key="k",
            only_file=f"../boston/{BOSTON_FILE}",
        )
    assert caught.value.code in ("no-export-file", "unsafe-path")


def test_a_mapping_file_not_named_as_a_slug_stops_the_run_before_any_write(
    tmp_path: Path,
) -> None:
    centers = copy_centers(tmp_path / "centers", ["boston"])
    (centers / "Bad Center.yaml").write_text(_mapping("bad", files="*.csv"), encoding="utf-8")
    data = tmp_path / "data"
    settings = load_settings(
        {"landing": tmp_path / "landing", "centers_dir": centers, "data": str(data)}, {}
    )
    with pytest.raises(ConfigError) as caught:
        run_pipeline(settings)
    assert "`Bad Center.yaml`" in caught.value.message
    assert not (data / "harmonized").exists()
