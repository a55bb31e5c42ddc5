"""Per-center progress on a terminal, fed by the flows' per-center log lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

from flows.runtime import CENTER_STEP, RUN_LOGGERS

STEPS = {"read": 1, "gate": 2, "retry": 1, "publish": 3}


class _CenterProgressHandler(logging.Handler):
    """Moves one progress bar per center as its read, gate and publish lines arrive."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress
        self.bars: dict[str, TaskID] = {}

    def emit(self, record: logging.LogRecord) -> None:
        center_id, step = (
            getattr(record, "spinemet_center", None),
            getattr(record, CENTER_STEP, None),
        )
        if center_id is None or step not in STEPS:
            return
        if center_id not in self.bars:
            self.bars[center_id] = self.progress.add_task(center_id, total=len(STEPS) - 1)
        text = record.getMessage().split(": ", 1)[-1]
        self.progress.update(
            self.bars[center_id], completed=STEPS[step], description=f"{center_id}: {text}"
        )


@contextmanager
def center_progress() -> Iterator[None]:
    """Show a bar per center on stderr while the block runs."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        handler = _CenterProgressHandler(progress)
        loggers = [logging.getLogger(name) for name in RUN_LOGGERS]
        for logger in loggers:
            logger.addHandler(handler)
        try:
            yield
        finally:
            for logger in loggers:
                logger.removeHandler(handler)
