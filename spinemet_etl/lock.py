"""The data-root lock: one run at a time writes a data root."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from spinemet_etl.errors import LockedError, disk_full_as_error

LOCK_NAME = ".lock"
POLL_SECONDS = 0.05
NOT_STARTED = "the run did not start and wrote nothing"


def lock_path(data_root: Path) -> Path:
    return data_root / LOCK_NAME


def _try_lock(handle: IO[bytes]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _describe_holder(path: Path) -> str:
    try:
        holder = path.read_text(encoding="utf-8").strip()
    except OSError:
        holder = ""
    return holder or "another process"


def _locked_error(data_root: Path, wait_seconds: float) -> LockedError:
    waited = f" after waiting {wait_seconds:g} s" if wait_seconds > 0 else ""
    return LockedError(
        f"data root `{data_root}` is locked by {_describe_holder(lock_path(data_root))}"
        f"{waited}: another spinemet run is writing it; wait for that run to finish (the lock "
        "is released when its process ends, even if it crashed) and start this one again."
    )


def _acquire(handle: IO[bytes], wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    while not _try_lock(handle):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def _write_holder(handle: IO[bytes], path: Path) -> None:
    """Name this process in the lock file, unbuffered (nothing is left to flush on close)."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    holder = f"pid {os.getpid()} on host {socket.gethostname()} since {since}\n"
    with disk_full_as_error(path, consequence=NOT_STARTED):
        os.ftruncate(handle.fileno(), 0)
        os.write(handle.fileno(), holder.encode("utf-8"))


@contextmanager
def data_root_lock(data_root: Path, *, wait_seconds: float = 0) -> Iterator[None]:
    """Hold an exclusive `flock` on `<data>/.lock` for the block, or raise LockedError.

    Non-blocking by default; with `wait_seconds` it retries until then. The lock file
    names the holder (pid, host, since when) for the error message of a second run. The
    file is never deleted: the kernel releases the lock when the holder's process ends.
    `flock` is advisory and local: the data root must not be shared over NFS between
    machines running the pipeline. A full disk raises `DiskFullError` before the block.
    """
    path = lock_path(data_root)
    with disk_full_as_error(path, consequence=NOT_STARTED):
        data_root.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b", buffering=0)  # noqa: SIM115 (closed by the `with` below)
    with handle:
        if not _acquire(handle, wait_seconds):
            raise _locked_error(data_root, wait_seconds)
        try:
            _write_holder(handle, path)
            yield
        finally:
            os.ftruncate(handle.fileno(), 0)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
