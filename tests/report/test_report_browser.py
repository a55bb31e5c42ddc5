"""The page in headless Chromium, offline: it renders, is not blank, shows tables and plots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spinemet_etl.report import render_report
from tests.browser import chromium_offline, remote_loads

WIDTH, HEIGHT = 1280, 7000
KM_BLUE, KM_RED = (0x1F, 0x77, 0xB4), (0xD6, 0x27, 0x28)


def _has_color(pixels: np.ndarray, color: tuple[int, int, int], tolerance: int = 40) -> bool:
    distance = np.abs(pixels[..., :3].astype(int) - np.array(color)).sum(axis=-1)
    return bool((distance <= tolerance).sum() >= 20)


@pytest.fixture(scope="module")
def page_file(
    tmp_path_factory: pytest.TempPathFactory,
    v2_endpoints: pd.DataFrame,
    patients: pd.DataFrame,
    held_manifest: dict[str, Any],
) -> Path:
    path = tmp_path_factory.mktemp("page") / "report.html"
    html = render_report(patients, v2_endpoints, manifest=held_manifest)
    path.write_text(html, encoding="utf-8")
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
    assert 'class="endpoints"' in dom and dom.count("<table") == 10  # 3 Frankel, 1 en bloc
    sections = ("flow", "baseline", "endpoints", "procedures", "pooled", "survival", "forest")
    for section in (*sections, "tomita", "quality"):
        assert f'<section id="{section}">' in dom
    assert 'class="flow"' in dom and 'class="baseline"' in dom and "not collected" in dom
    assert 'id="procedure-en_bloc"' in dom and 'id="frankel-palliative"' in dom
    assert "14.2 ‡" in dom and 'id="not-randomized"' in dom
    assert "20.9 ± 2.7 (95 % CI 17.1–25.0)" in dom


def _text_x(dom: str, group_id: str) -> float:
    """The x position of the text inside the SVG group `group_id` of the rendered page."""
    found = re.search(rf'<g id="{re.escape(group_id)}">\s*<text[^>]*\bx="([\d.]+)"', dom)
    assert found is not None, f"{group_id} is not in the rendered page"
    return float(found.group(1))


@pytest.mark.integration
@pytest.mark.parametrize("figure", ["km-centers", "km-procedure"])
def test_numbers_at_risk_reach_the_last_axis_tick(
    page_file: Path, tmp_path: Path, figure: str
) -> None:
    dom = chromium_offline(page_file, tmp_path / "profile", "--dump-dom").stdout
    ticks = sorted(int(m) for m in re.findall(rf'id="{figure}-tick-(\d+)"', dom))
    assert ticks[-1] == 60  # the fixture's follow-up reaches 40 months: the axis runs to 60
    rows = {int(r) for r in re.findall(rf'id="{figure}-at-risk-(\d+)-0"', dom)}
    assert rows
    for row in rows:
        for month in ticks:
            x_risk = _text_x(dom, f"{figure}-at-risk-{row}-{month}")
            assert x_risk == pytest.approx(_text_x(dom, f"{figure}-tick-{month}"), abs=0.5)


@pytest.mark.integration
def test_forest_plot_shows_tau2_i2_and_the_prediction_interval(
    page_file: Path, tmp_path: Path
) -> None:
    dom = chromium_offline(page_file, tmp_path / "profile", "--dump-dom").stdout
    forest = dom[dom.index('id="forest"') :]
    svg = forest[forest.index("<svg") : forest.index("</svg>")]
    assert "τ² = 0.123, I² = 37.5 %" in svg  # the REML pain-relief panel
    assert "95 % prediction interval" in svg and "axis cut to" in svg
