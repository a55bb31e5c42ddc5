"""The forest plot of per-center proportions: Wilson CIs, pooled diamond, prediction interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spinemet_etl.report.plots import PALETTE, POOLED_COLOR, figure_svg, svg_style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FULL_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class ForestRow:
    """One center's proportion with its Wilson CI; `note` replaces the point when set."""

    label: str
    estimate: float | None
    lower: float | None
    upper: float | None
    note: str = ""


@dataclass(frozen=True)
class ForestPanel:
    """One endpoint's column: per-center rows, the pooled estimate, its prediction interval.

    `heterogeneity` is the text under the title (τ², I² of the pooled model);
    `prediction` holds the 95 % prediction interval in `lower`–`upper`, None when the
    endpoint table has no such row.
    """

    title: str
    rows: list[ForestRow]
    pooled: ForestRow
    heterogeneity: str = ""
    prediction: ForestRow | None = None


def _note(axes: Axes, y: float, text: str) -> None:
    """A grey note in the middle of a forest panel's row, whatever the panel's x range."""
    transform = axes.get_yaxis_transform()  # x in axes fraction, y in data
    axes.text(0.5, y, text or "–", transform=transform, ha="center", va="center", fontsize=7,
              color="#777777")  # fmt: skip


def _draw_pooled_diamond(axes: Axes, row: ForestRow, y: float) -> None:
    if row.estimate is None or row.lower is None or row.upper is None:
        _note(axes, y, row.note)
        return
    xs = [row.lower, row.estimate, row.upper, row.estimate]
    axes.fill(xs, [y, y - 0.35, y, y + 0.35], color=POOLED_COLOR)
    axes.axvline(row.estimate, color=POOLED_COLOR, lw=0.6, ls=":")


def _draw_prediction(axes: Axes, row: ForestRow | None, y: float) -> None:
    """The 95 % prediction interval as a bar with end caps, on its own row."""
    if row is None or row.lower is None or row.upper is None:
        _note(axes, y, "not computed")
        return
    axes.errorbar(
        [(row.lower + row.upper) / 2], [y], xerr=[[(row.upper - row.lower) / 2]], fmt="none",
        ecolor=POOLED_COLOR, elinewidth=1.0, capsize=3,
    )  # fmt: skip


def forest_limits(rows: list[ForestRow]) -> tuple[float, float]:
    """The panel's x range: the intervals' span widened to tens, at least 20 points wide.

    Notes:
        Each endpoint gets its own scale: a 3 % mortality on a 0–100 axis would sit on
        the left edge with its interval invisible. A range other than 0–100 is marked
        as cut on the axis label.
    """
    values = [v for r in rows for v in (r.lower, r.estimate, r.upper) if v is not None]
    if not values:
        return FULL_RANGE
    low = max(0.0, np.floor(min(values) / 10) * 10)
    high = min(100.0, np.ceil(max(values) / 10) * 10)
    if high - low < 20:
        low, high = (low, low + 20) if low + 20 <= 100 else (high - 20, high)
    return float(low), float(high)


def axis_label(low: float, high: float) -> str:
    """`%` for the full 0–100 axis, else a label that says the axis is cut and where."""
    if (low, high) == FULL_RANGE:
        return "% (axis 0–100)"
    return f"% (axis cut to {low:.0f}–{high:.0f})"


def _draw_forest_panel(axes: Axes, panel: ForestPanel, n_labels: int, pi_row: bool) -> None:
    """One endpoint's column: all intervals in one call and all squares in another (small SVG)."""
    points = [(y, r.estimate) for y, r in enumerate(panel.rows) if r.estimate is not None]
    intervals = [
        (y, r.lower, r.upper)
        for y, r in enumerate(panel.rows)
        if r.estimate is not None and r.lower is not None and r.upper is not None
    ]
    axes.hlines(
        [y for y, _, _ in intervals], [low for _, low, _ in intervals],
        [high for _, _, high in intervals], color=PALETTE[0], lw=1.2,
    )  # fmt: skip
    axes.plot(
        [x for _, x in points], [y for y, _ in points], ls="", marker="s", ms=4, color=PALETTE[0]
    )
    for y, row in enumerate(panel.rows):
        if row.estimate is None:
            _note(axes, y, row.note)
    pooled_y = n_labels - (2 if pi_row else 1)
    _draw_pooled_diamond(axes, panel.pooled, pooled_y)
    shown = [*panel.rows, panel.pooled]
    if pi_row:
        _draw_prediction(axes, panel.prediction, n_labels - 1)
        shown += [panel.prediction] if panel.prediction else []
    low, high = forest_limits(shown)
    axes.set_xlim(low, high)
    axes.set_ylim(n_labels - 0.3, -0.8)
    axes.set_xlabel(axis_label(low, high), fontsize=8)
    title = f"{panel.title}\n{panel.heterogeneity}" if panel.heterogeneity else panel.title
    axes.set_title(title, fontsize=9)
    axes.grid(axis="x", alpha=0.25)


def forest_svg(panels: list[ForestPanel], *, pooled_label: str, salt: str) -> str:
    """Per-center proportions with Wilson 95 % CIs, one panel per endpoint, pooled diamond,
    and the 95 % prediction interval's row when any panel has one."""
    from matplotlib.figure import Figure

    with svg_style(salt):
        pi_row = any(panel.prediction is not None for panel in panels)
        labels = [row.label for row in panels[0].rows] + ["", pooled_label]
        labels += ["95 % prediction interval"] if pi_row else []
        figure = Figure(figsize=(10, 1.6 + 0.24 * len(labels)))
        axes_row = np.atleast_1d(figure.subplots(1, len(panels)))
        for axes, panel in zip(axes_row, panels, strict=True):
            _draw_forest_panel(axes, panel, len(labels), pi_row)
            axes.set_yticks([])
        axes_row[0].set_yticks(range(len(labels)), labels, fontsize=8)
        axes_row[0].tick_params(axis="y", left=False)
        return figure_svg(figure)
