"""The Kaplan–Meier drawing: lines to the last follow-up, numbers at risk under every tick."""

from __future__ import annotations

import re

import numpy as np
import pytest

from spinemet_etl.report.plots import Curve, _line_points, axis_months, km_svg, numbers_at_risk
from spinemet_etl.stats.km import km_curve


def test_line_runs_to_the_last_censored_patient_not_the_last_death() -> None:
    # deaths at 2 and 5 months, censored at 10 and 40: S = 3/4 · 2/3 = 0.5 after 5 months
    table = km_curve(np.array([2.0, 5.0, 10.0, 40.0]), np.array([True, True, False, False]))
    times, surv = _line_points(table, 60)
    assert times[-1] == pytest.approx(40.0) and surv[-1] == pytest.approx(50.0)
    assert list(times[:3]) == [0.0, 2.0, 5.0] and surv[1] == pytest.approx(75.0)


def test_line_stops_at_the_axis_end_when_follow_up_is_longer() -> None:
    table = km_curve(np.array([3.0, 90.0]), np.array([True, False]))
    times, surv = _line_points(table, 60)
    assert times[-1] == 60 and surv[-1] == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("x_max", "months"),
    [(60, [0, 6, 12, 24, 36, 48, 60]), (36, [0, 6, 12, 24, 36])],
    ids=["60-months", "36-months"],
)
def test_axis_months_are_the_ticks(x_max: int, months: list[int]) -> None:
    assert axis_months(x_max) == months


def test_numbers_at_risk_count_follow_up_of_at_least_t() -> None:
    times = np.array([0.0, 6.0, 7.0, 48.0, 61.0])
    assert numbers_at_risk(times, [0, 6, 12, 48, 60]) == [5, 4, 2, 2, 1]


def test_every_tick_of_the_axis_has_its_numbers_at_risk() -> None:
    curves = [
        Curve("a", np.array([1.0, 50.0]), np.array([True, False]), color="#1f77b4", muted=True),
        Curve("b", np.array([2.0, 30.0]), np.array([True, True])),
    ]
    svg = km_svg(curves, title="t", salt="s")
    for row in range(2):
        for month in (0, 6, 12, 24, 36, 48, 60):
            assert f'id="s-at-risk-{row}-{month}"' in svg
    assert 'id="s-tick-60"' in svg
    at_60 = re.search(r'id="s-at-risk-1-60".*?<text[^>]*>(.*?)</text>', svg, flags=re.S)
    assert at_60 is not None and at_60.group(1) == "0"
