"""Timing a child process (wall clock and peak memory) and the facts of the machine."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from spinemet_etl.errors import SpinemetError


@dataclass(frozen=True)
class Timing:
    """One timed child process."""

    seconds: float
    peak_rss_mb: float
    returncode: int


def run_timed(command: list[str], log: Path, env: dict[str, str] | None = None) -> Timing:
    """Run `command` with output to `log`; wall seconds and the child's peak RSS.

    Notes:
        The peak comes from `os.wait4` on the child (`ru_maxrss`, KiB on Linux): the
        largest resident set of the child or of a descendant it waited for (a
        maximum, never a sum).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return Timing(seconds, usage.ru_maxrss / 1024, child.returncode)


def require_success(timing: Timing, what: str, log: Path, allowed: tuple[int, ...] = (0,)) -> None:
    """Raise an actionable error when a timed step did not exit as expected."""
    if timing.returncode not in allowed:
        raise SpinemetError(
            f"bench step `{what}` exited with status {timing.returncode}; "
            f"read its output in `{log}` and fix the cause before benchmarking.",
            code="bench-step-failed",
        )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0.0
    return round(pages * page_size / 2**30, 1)


def machine_facts() -> dict[str, object]:
    """Cores, memory, CPU model, Python and OS of this machine."""
    return {
        "cores": os.cpu_count() or 0,
        "memory_gib": _memory_gib(),
        "cpu_model": _cpu_model(),
        "python": sys.version.split()[0],
        "os": platform.platform(),
    }
