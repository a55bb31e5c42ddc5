"""Stopping a run early and gracefully: on SIGTERM, SIGINT or its time limit (`--timeout`).

A stop is requested once per process (a signal reaches the whole process), and holds
for the rest of it (a command runs one flow). From then on
no center starts, the centers in flight are abandoned before they publish (their worker
processes are ended, `on_stop`), and the run writes its manifest with an `interrupted`
record, removes its staging folder and releases its lock. Before a run holds its lock,
and after it released it (`graceful`), there is nothing to finish: a signal then ends the
command at once, with one line on stderr and exit status EXIT_STOPPED. A second signal
ends it at once too.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
TIMEOUT_REASON = "timeout"
INTERRUPTED_CODE = "run-interrupted"
"""The error code of a center a stopped run did not publish, and of the stop's line."""
EXIT_STOPPED = 1
"""The exit status of a stopped run: needs attention, as a run with a failed center."""

_STOP = threading.Event()
_STATE: dict[str, Any] = {}
_ON_STOP: list[Callable[[], None]] = []


def request_stop(reason: str) -> None:
    """Ask the run to stop (`SIGTERM`, `SIGINT` or `timeout`); the first reason is kept."""
    if _STOP.is_set():
        return
    _STATE["reason"] = reason
    _STOP.set()
    for callback in list(_ON_STOP):
        threading.Thread(target=callback, name="spinemet-stop", daemon=True).start()


def stop_reason() -> str | None:
    """Why the run was asked to stop, or None."""
    return str(_STATE["reason"]) if _STOP.is_set() else None


def on_stop(callback: Callable[[], None]) -> None:
    """Call `callback` (in a thread of its own) when a stop is requested."""
    if callback not in _ON_STOP:
        _ON_STOP.append(callback)


@contextmanager
def graceful() -> Iterator[None]:
    """While the block runs (the run holds its lock), a signal stops it gracefully.

    Notes:
        Prefect's flow engine installs a SIGTERM handler of its own while a flow runs
        (it marks the run crashed and re-raises the signal); within the block ours
        takes its place again, when the command asked for ours (`stopping_on_signals`).
    """
    _STATE["phase"] = "graceful"
    saved: dict[int, Any] = _take_signals() if _STATE.get("signals") else {}
    try:
        yield
    finally:
        _STATE["phase"] = "done"
        _give_back(saved)


_EXIT_LINES = {
    None: "before the run took its data root's lock; nothing was written; run again",
    "done": "after the run's data work; its manifest is written; Prefect's records of "
    "the run may be incomplete",
    "graceful": "a second time; the centers in flight were abandoned as by a kill (their "
    "last published data stay); the next run cleans up and does them",
}


def _exit_now(name: str) -> None:
    """End the command at once: workers first (on_stop), one line, EXIT_STOPPED."""
    for callback in list(_ON_STOP):
        callback()
    line = f"stopped [{INTERRUPTED_CODE}]: {name} {_EXIT_LINES[_STATE.get('phase')]}.\n"
    os.write(2, line.encode())
    os._exit(EXIT_STOPPED)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _STOP.is_set() and _STATE.get("reason") != TIMEOUT_REASON:
        _exit_now(name)
    request_stop(name)
    if _STATE.get("phase") != "graceful":
        _exit_now(name)


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT request a stop (main thread only)."""
    saved = _take_signals()
    _STATE["signals"] = bool(saved)
    try:
        yield
    finally:
        _STATE["signals"] = False
        _give_back(saved)


def _take_signals() -> dict[int, Any]:
    """Install our handler for STOP_SIGNALS; the handlers it replaced (none off the main
    thread, where signals cannot be handled)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    saved: dict[int, Any] = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, _on_signal)
    return saved


def _give_back(saved: dict[int, Any]) -> None:
    for number, handler in saved.items():
        signal.signal(number, handler)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Request a stop (`timeout`) when the block runs longer than `seconds` (None: never)."""
    if seconds is None:
        yield
        return
    timer = threading.Timer(seconds, request_stop, args=(TIMEOUT_REASON,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def interrupted_error(center_id: str) -> dict[str, Any]:
    """The manifest's error record of a center the run was stopped before publishing."""
    return {
        "type": "RunStopped",
        "code": INTERRUPTED_CODE,
        "message": (
            f"center `{center_id}`: not published, the run was stopped ({stop_reason()}) "
            "before this center was done; its last published data stay; the next run "
            "processes it."
        ),
    }


def interruption(
    centers: dict[str, dict[str, Any]], timeout_seconds: float | None
) -> dict[str, Any] | None:
    """The manifest's `interrupted` record of a run asked to stop, else None.

    `centers` is the manifest's `centers`: `published` lists those this run published,
    `not_done` those it abandoned (their last published data stay).
    """
    reason = stop_reason()
    if reason is None:
        return None

    def having(test: Callable[[dict[str, Any]], bool]) -> list[str]:
        return sorted(center_id for center_id, entry in centers.items() if test(entry))

    return {
        "reason": reason,
        "timeout_seconds": timeout_seconds if reason == TIMEOUT_REASON else None,
        "published": having(lambda entry: entry["status"] == "published"),
        "not_done": having(lambda entry: (entry["error"] or {}).get("code") == INTERRUPTED_CODE),
    }


def stop_line(manifest: dict[str, Any]) -> str:
    """The one line a stopped run prints: why, what it published, what it did not."""
    record = manifest["interrupted"]
    if record["reason"] == TIMEOUT_REASON:
        why = f"the run exceeded its time limit of {record['timeout_seconds']:g} s"
    else:
        why = f"{record['reason']} received"
    published = ", ".join(record["published"]) or "no center"
    not_done = ", ".join(record["not_done"]) or "none"
    return (
        f"stopped [{INTERRUPTED_CODE}]: {why}; run {manifest['run_id']} published {published}; "
        f"not done: {not_done} (their last published data stay; the next run does them); "
        "Data Docs and report not rebuilt."
    )
