"""A run that loses its Prefect API ends within a bound, saying so, instead of hanging.

Prefect's client keeps retrying an API that is gone (its event and log workers, at exit
too): a run whose server died never exited. While a flow runs, a thread asks the API's
health every POLL_SECONDS; after LOST_AFTER_SECONDS without an answer the API is lost.
The data work goes on (it needs no API) and ends as it would; then the command prints
what was published and that the run's Prefect records are incomplete, and exits with
EXIT_API_LOST within EXIT_SECONDS, skipping Prefect's exit handlers.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spinemet_etl.localserver import healthy

POLL_SECONDS = 2.0
LOST_AFTER_SECONDS = 10.0
"""Without an answer for this long (a busy server answers within 2 s), the API is lost."""
EXIT_SECONDS = 30.0
"""A run that lost its API exits at most this long after its data work ended: detection
(LOST_AFTER_SECONDS + POLL_SECONDS), GIVE_UP_SECONDS, then stopping the workers."""
GIVE_UP_SECONDS = 12.0
"""After the data work and the loss, how long Prefect's engine may take to end by itself."""
EXIT_API_LOST = 1
"""Needs attention, as a failed center: the data are fine, the Prefect records are not."""
CODE = "prefect-api-lost"

_DATA_DONE = threading.Event()


def data_work_done() -> None:
    """Called by a flow when its data work is over (lock released): the exit clock starts."""
    _DATA_DONE.set()


class ApiWatch:
    """Polls `api_url`'s health in a thread; `lost` once it stopped answering."""

    def __init__(self, api_url: str, on_lost: Callable[[str], None]) -> None:
        self.api_url, self.on_lost = api_url, on_lost
        self.lost_at: float | None = None
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="spinemet-api-watch", daemon=True)

    @property
    def lost(self) -> bool:
        return self.lost_at is not None

    def _poll(self) -> None:
        answered = time.monotonic()
        while not self._ended.wait(POLL_SECONDS):
            if healthy(f"{self.api_url}/health"):
                answered = time.monotonic()
            elif time.monotonic() - answered > LOST_AFTER_SECONDS:
                self.lost_at = time.monotonic()
                self._deadline()
                return

    def _deadline(self) -> None:
        """Once the data work is over, give the command GIVE_UP_SECONDS to end by itself."""
        _DATA_DONE.wait()
        if not self._ended.wait(GIVE_UP_SECONDS):
            self.on_lost(self.api_url)


@contextmanager
def watching(api_url: str, on_lost: Callable[[str], None]) -> Iterator[ApiWatch]:
    """Watch the API while the block runs; `on_lost` ends the command if the block hangs."""
    _DATA_DONE.clear()
    watch = ApiWatch(api_url, on_lost)
    watch._thread.start()
    try:
        yield watch
    finally:
        watch._ended.set()


def lost_line(api_url: str, manifest: dict[str, Any] | None, manifest_file: Path | None) -> str:
    """The one line of a run that lost its API: what was published, and that records lack."""
    if manifest is None:
        done = "no run manifest was written (the data work had not begun, or nothing changed)"
    else:
        published = [c for c, e in manifest["centers"].items() if e["status"] == "published"]
        done = (
            f"run {manifest['run_id']} ({manifest['status']}) published "
            f"{', '.join(published) or 'no center'}; manifest `{manifest_file}`"
        )
    return (
        f"error [{CODE}]: the Prefect API at {api_url} stopped answering during the run; "
        f"{done}; the run's Prefect records (flow and task runs, logs, artifacts) are "
        "incomplete; the next run works as usual."
    )


def exit_now(line: str, cleanup: Callable[[], None]) -> None:
    """Print `line`, run `cleanup`, and end the process without Prefect's exit handlers."""
    sys.stdout.flush()
    print(line, file=sys.stderr, flush=True)
    cleanup()
    os._exit(EXIT_API_LOST)
