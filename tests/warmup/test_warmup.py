"""The warm-up's hint: will this run harmonize a center? Read from state files and stats only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from spinemet_etl import warmup
from spinemet_etl.pipeline import run_pipeline
from spinemet_etl.results import CenterResult
from spinemet_etl.settings import Settings
from spinemet_etl.warmup import harmonizing_likely, release_report_imports, warm_up
from tests.dataset.samples import sample_result, stub_consortium

CENTERS = ("boston", "lyon")


def fake_process(mapping_path: Path, landing_dir: Path, **options: Any) -> CenterResult:
    return sample_result(mapping_path.stem, n=2, run_id=options["run_id"])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return stub_consortium(tmp_path, CENTERS)


def test_a_never_published_center_will_be_harmonized(settings: Settings) -> None:
    assert harmonizing_likely(settings)


def test_after_a_publish_nothing_changed_means_no_harmonizing(settings: Settings) -> None:
    run_pipeline(settings, process=fake_process)
    assert not harmonizing_likely(settings)
    assert harmonizing_likely(replace(settings, full_refresh=True))


@pytest.mark.parametrize(
    "change",
    ["landing-file", "new-file", "mapping", "key"],
    ids=["landing-file", "new-file", "mapping", "key"],
)
def test_any_change_since_the_publish_means_harmonizing(settings: Settings, change: str) -> None:
    run_pipeline(settings, process=fake_process)
    if change == "landing-file":
        (settings.landing / "lyon" / "export.csv").write_bytes(b"id,sex\n1,M\n2,F\n3,F\n")
    elif change == "new-file":
        (settings.landing / "boston" / "late.csv").write_bytes(b"id\n")
    elif change == "mapping":
        (settings.centers_dir / "lyon.yaml").write_text("center_id: lyon\nsheet: 2\n", "utf-8")
    else:
        settings = replace(settings, pseudonym_key="another-key-for-this-test")
    assert harmonizing_likely(settings)


def test_a_broken_centers_folder_is_left_to_the_run(tmp_path: Path) -> None:
    assert not harmonizing_likely(Settings(centers_dir=tmp_path / "missing"))


def _deferred_imports() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "spinemet-report-imports"]


@pytest.fixture
def imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What warm_up imports or starts, recorded instead of done (deferred imports too)."""
    asked: list[str] = []
    monkeypatch.setattr(warmup.importlib, "import_module", asked.append)
    monkeypatch.setattr(warmup, "start_workers", lambda n: asked.append(f"{n} workers"))
    yield asked
    release_report_imports()
    for thread in _deferred_imports():
        thread.join(timeout=10)


def test_a_no_op_night_imports_nothing(settings: Settings, imports: list[str]) -> None:
    run_pipeline(settings, process=fake_process)
    warm_up(settings, workers=2)
    assert imports == []


@pytest.mark.parametrize("workers", [0, 2], ids=["here", "in-workers"])
def test_a_changed_night_prepares_the_harmonizer(
    settings: Settings, imports: list[str], workers: int
) -> None:
    warm_up(settings, workers=workers)
    harmonizer = {"spinemet_etl.harmonize", "great_expectations"}
    if workers:
        assert imports[0] == "2 workers" and not harmonizer & set(imports)
    else:
        assert harmonizer <= set(imports)
    assert ("spinemet_etl.report" in imports) is not bool(workers)


def test_with_workers_the_report_modules_wait_for_the_largest_centers(
    settings: Settings, imports: list[str]
) -> None:
    warm_up(settings, workers=2)
    (waiting,) = _deferred_imports()
    waiting.join(timeout=0.2)
    assert waiting.is_alive() and "spinemet_etl.report" not in imports
    release_report_imports()
    waiting.join(timeout=10)
    assert not waiting.is_alive() and set(warmup.REPORT_MODULES) <= set(imports)
