"""The page in headless Chromium, offline: it renders, is not blank, shows tables and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spinemet_etl.report import render_report
from tests.browser import chromium_offline, remote_loads

WIDTH, HEIGHT = 1280, 4000
KM_BLUE, KM_RED = (0x1F, 0x77, 0xB4), (0xD6, 0x27, 0x28)


def _has_color(pixels: np.ndarray, color: tuple[int, int, int], tolerance: int = 40) -> bool:
    distance = np.abs(pixels[..., :3].astype(int) - np.array(color)).sum(axis=-1)
    return bool((distance <= tolerance).sum() >= 20)


@pytest.fixture(scope="module")
def page_file(
    tmp_path_factory: pytest.TempPathFactory,
    two_centers: pd.DataFrame,
    patients: pd.DataFrame,
    held_manifest: dict[str, Any],
) -> Path:
    path = tmp_path_factory.mktemp("page") / "report.html"
    path.write_text(render_report(patients, two_centers, manifest=held_manifest), encoding="utf-8")
    return path


def test_the_page_loads_nothing_from_the_network(page_file: Path) -> None:
    assert remote_loads(page_file.read_text(encoding="utf-8")) == []


@pytest.mark.integration
def test_screenshot_is_the_requested_size_and_not_blank(page_file: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    chromium_offline(
        page_file, tmp_path / "profile", f"--screenshot={screenshot}",
        f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars",
    )  # fmt: skip
    with Image.open(screenshot) as image:
        assert image.size == (WIDTH, HEIGHT)
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    assert _has_color(pixels, KM_BLUE) and _has_color(pixels, KM_RED)  # curves were drawn


@pytest.mark.integration
def test_rendered_dom_holds_tables_and_plots(page_file: Path, tmp_path: Path) -> None:
    dom = chromium_offline(page_file, tmp_path / "profile", "--dump-dom").stdout
    assert dom.count("<svg") == 3
    assert 'class="endpoints"' in dom and dom.count("<table") == 4
    assert "20.9 ± 2.7 (95 % CI 17.1–25.0)" in dom
