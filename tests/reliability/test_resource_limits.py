"""Per-file size, row and decompression-ratio limits: configurable, with defaults no export hits."""

from __future__ import annotations

from pathlib import Path

import pytest

from spinemet_etl.errors import SourceError
from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.readers.options import CsvOptions, XlsxOptions, with_limits
from spinemet_etl.readers.registry import reader_for
from spinemet_etl.settings import Settings, load_settings
from spinemet_etl.synth import write_consortium
from tests.hostile import make_corpus as corpus
from tests.reliability.helpers import copy_centers

LIMITS = {"max_bytes": 1000, "max_rows": 10, "max_decompression_ratio": 5.0}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (CsvOptions(), {"max_bytes": 1000, "max_rows": 10}),
        (CsvOptions(max_rows=3), {"max_bytes": 1000, "max_rows": 3}),
        (XlsxOptions(), {"max_bytes": 1000, "max_rows": 10, "max_decompression_ratio": 5.0}),
        (XlsxOptions(max_decompression_ratio=50), {"max_decompression_ratio": 50.0}),
    ],
    ids=["settings-fill-csv", "mapping-wins", "settings-fill-xlsx", "mapping-ratio-wins"],
)
def test_run_limits_fill_what_the_mapping_left_unset(
    options: CsvOptions | XlsxOptions, expected: dict[str, float]
) -> None:
    limited = with_limits(options, **LIMITS)  # type: ignore[arg-type]
    assert {name: getattr(limited, name) for name in expected} == expected


def test_defaults_are_far_above_a_hospital_export() -> None:
    settings = Settings()
    assert settings.max_file_mb >= 256 and settings.max_rows >= 1_000_000
    assert XlsxOptions().max_decompression_ratio >= 100  # real workbooks deflate 5-20 times


@pytest.mark.parametrize(
    ("ratio", "outcome"), [(200.0, "decompression-bomb"), (5000.0, "ok")], ids=["200", "5000"]
)
def test_decompression_ratio_limit_is_configurable(
    tmp_path: Path, ratio: float, outcome: str
) -> None:
    path = corpus.zip_bomb_xlsx(tmp_path / "blank.xlsx", inflated_mib=4)
    reader = reader_for("xlsx", "c")
    try:
        reader.read(path, path.name, XlsxOptions(max_decompression_ratio=ratio))
        got = "ok"
    except SourceError as error:
        got = error.code
    assert got == outcome


@pytest.mark.parametrize(
    ("flags", "code"),
    [({"max_file_mb": 0.001}, "file-too-large"), ({"max_rows": 2}, "too-many-rows")],
    ids=["max-file-mb", "max-rows"],
)
def test_run_settings_limit_every_center(
    tmp_path: Path, flags: dict[str, float], code: str
) -> None:
    """SPINEMET_MAX_FILE_MB / SPINEMET_MAX_ROWS reach the readers (via `with_limits`)."""
    write_consortium(tmp_path / "landing", n_patients=30, seed=4)
    centers = copy_centers(tmp_path / "centers", ["boston"])
    settings = load_settings(
        {"landing": tmp_path / "landing", "centers_dir": centers, "data": str(tmp_path / "d"),
         **flags},
        {},
    )  # fmt: skip
    entry = run_pipeline(settings)["centers"]["boston"]
    assert entry["status"] == "failed"
    assert entry["error"]["code"] == code
