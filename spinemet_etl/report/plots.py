"""The report's figures as inline SVG: Kaplan–Meier curves with numbers at risk, forest plots."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from spinemet_etl.report.format import count_text
from spinemet_etl.stats.km import KMTable, km_curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MONTH_TICKS = (0, 6, 12, 24, 36, 48, 60)
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
)  # fmt: skip
POOLED_COLOR = "#000000"


@dataclass(frozen=True)
class Curve:
    """One Kaplan–Meier curve to draw: its label, the data, and whether its counts are hidden.

    `suppress_below` > 0 shows numbers at risk 1..K−1 as `<K`. A `muted` curve is drawn
    thin and pale, behind the others (the centers behind the pooled curve). `count`,
    when given, is the number of patients each (time, event) row stands for.
    """

    label: str
    time_months: np.ndarray
    event: np.ndarray
    suppress_below: int = 0
    color: str = POOLED_COLOR
    muted: bool = False
    count: np.ndarray | None = None

    @property
    def patients(self) -> int:
        return self.time_months.size if self.count is None else int(self.count.sum())


def axis_months(x_max: float) -> list[int]:
    """The ticks of the time axis, which are also where the numbers at risk are given."""
    return [month for month in MONTH_TICKS if month <= x_max]


def numbers_at_risk(
    time_months: np.ndarray, months: list[int], count: np.ndarray | None = None
) -> list[int]:
    """Patients still under observation at each time: follow-up time ≥ t (R's `n.risk`);
    `count` the patients of each time when not one each."""
    times = np.asarray(time_months, dtype=np.float64)
    weight = np.ones(times.size, dtype=np.int64) if count is None else np.asarray(count)
    return [int(weight[times >= month].sum()) for month in months]


@contextmanager
def svg_style(salt: str) -> Iterator[None]:
    """Small, deterministic SVG: text as text, ids salted per figure so figures never clash."""
    import matplotlib

    style: Any = {
        "svg.fonttype": "none",
        "svg.hashsalt": salt,
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial"],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(style):
        yield


_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_ATTRIBUTE = re.compile(r'="([^"]*)"')
_LONG_DECIMAL = re.compile(r"(\d\.\d)\d+")


def _short_numbers(attribute: re.Match[str]) -> str:
    return '="' + _LONG_DECIMAL.sub(r"\1", attribute.group(1)) + '"'


def figure_svg(figure: Figure) -> str:
    """The figure as an `<svg>` element to inline in HTML.

    No XML prologue, no metadata block (it names web addresses), and coordinates cut to
    0.1 pt, which is far below what a screen shows and halves the page.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    svg = _METADATA.sub("", text[text.index("<svg") :], count=1)
    return _ATTRIBUTE.sub(_short_numbers, svg)


def _last_per_bin(times: np.ndarray, width: float) -> np.ndarray:
    """Mask of the last of sorted `times` in each bin of `width`: one mark per screen spot."""
    bins = np.floor(times / width)
    return np.append(np.diff(bins) != 0, True) if times.size else np.zeros(0, dtype=bool)


def _line_points(table: KMTable, x_max: float) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the step function, from time 0 to the last follow-up (or `x_max`).

    Notes:
        The line runs to the curve's last observed time, death or censoring, so that
        the censoring ticks after the last death sit on it. Steps closer than 1/500 of
        the axis fall on the same screen pixels; each such group is drawn once (the
        last step of a group carries the survival after all its deaths), which keeps
        plots of thousands of patients small without changing what the eye sees.
    """
    steps = np.flatnonzero((table.time <= x_max) & (table.n_event > 0))
    steps = steps[_last_per_bin(table.time[steps], x_max / 500)]
    end = min(float(table.time[-1]), x_max) if table.time.size else 0.0
    at_end = int(np.searchsorted(table.time, end, side="right")) - 1
    end_surv = float(table.surv[at_end]) if at_end >= 0 else 1.0
    times = np.concatenate([[0.0], table.time[steps], [end]])
    surv = np.concatenate([[1.0], table.surv[steps], [end_surv]]) * 100
    return times, surv


def _draw_curve(axes: Axes, curve: Curve, x_max: float) -> None:
    """The step function to the last follow-up, and the censoring ticks, up to `x_max`."""
    table = km_curve(curve.time_months, curve.event, curve.count)
    times, surv = _line_points(table, x_max)
    n_text = count_text(curve.patients, curve.suppress_below)
    width = 2.2 if curve.color == POOLED_COLOR else (1.0 if curve.muted else 1.4)
    alpha = 0.55 if curve.muted else 1.0
    layer = 1 if curve.muted else 2
    axes.step(times, surv, where="post", color=curve.color, lw=width, alpha=alpha, zorder=layer)
    label = f"{curve.label} (n = {n_text})"
    axes.plot([], [], color=curve.color, lw=width, alpha=alpha, label=label)
    ticks = np.flatnonzero((table.n_censor > 0) & (table.time <= x_max))
    ticks = ticks[_last_per_bin(table.time[ticks], x_max / 150)]
    axes.plot(
        table.time[ticks], table.surv[ticks] * 100,
        ls="", marker="|", ms=6, mew=1.0, color=curve.color, alpha=alpha, zorder=layer,
    )  # fmt: skip


def _draw_at_risk(axes: Axes, curves: list[Curve], months: list[int], salt: str) -> None:
    """The numbers at risk under every tick of the time axis, one row per curve.

    Each number is an SVG group `<salt>-at-risk-<row>-<month>` (the report's browser
    test finds them there).
    """
    axes.set_ylim(len(curves) - 0.5, -0.5)
    axes.set_yticks(range(len(curves)), [c.label for c in curves], fontsize=8)
    for tick, curve in zip(axes.get_yticklabels(), curves, strict=True):
        tick.set_color(curve.color)
    for row, curve in enumerate(curves):
        counts = numbers_at_risk(curve.time_months, months, curve.count)
        for month, count in zip(months, counts, strict=True):
            text = count_text(count, curve.suppress_below)
            axes.text(
                month, row, text, ha="center", va="center", fontsize=8, color=curve.color,
                gid=f"{salt}-at-risk-{row}-{month}",
            )  # fmt: skip
    axes.set_title("Number at risk", loc="left", fontsize=8)
    axes.tick_params(axis="x", bottom=False, labelbottom=False)
    axes.tick_params(axis="y", left=False, pad=14)
    for spine in axes.spines.values():
        spine.set_visible(False)


def km_svg(curves: list[Curve], *, title: str, salt: str) -> str:
    """Kaplan–Meier curves of overall survival, censoring ticks, numbers at risk below.

    Notes:
        The x axis ends at 60 months (36 when no one is followed longer): beyond that
        few patients with spinal metastases remain at risk and the curve is noise.
    """
    from matplotlib.figure import Figure

    with svg_style(salt):
        longest = max((float(np.max(c.time_months, initial=0.0)) for c in curves), default=0.0)
        x_max = 60 if longest > 36 else 36
        figure = Figure(figsize=(8.5, 4.2 + 0.2 * len(curves)))
        grid = figure.add_gridspec(2, 1, height_ratios=[4.2, 0.25 + 0.2 * len(curves)], hspace=0.3)
        axes = figure.add_subplot(grid[0])
        for curve in curves:
            _draw_curve(axes, curve, x_max)
        axes.set_xlim(0, x_max)
        axes.set_ylim(0, 102)
        months = axis_months(x_max)
        for tick, month in zip(axes.set_xticks(months), months, strict=True):
            tick.label1.set_gid(f"{salt}-tick-{month}")
        axes.set_xlabel("Months since surgery")
        axes.set_ylabel("Overall survival (%)")
        axes.set_title(title, loc="left")
        axes.grid(alpha=0.25)
        axes.legend(loc="upper right", fontsize=8, frameon=False, ncols=2 if len(curves) > 6 else 1)
        _draw_at_risk(figure.add_subplot(grid[1], sharex=axes), curves, months, salt)
        return figure_svg(figure)
