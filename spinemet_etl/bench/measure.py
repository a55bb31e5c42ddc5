"""Timing a child process (wall clock and peak memory) and the facts of the machine."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from spinemet_etl.errors import SpinemetError
from spinemet_etl.lifeline import die_with_parent

SAMPLE_SECONDS = 0.2


@dataclass(frozen=True)
class Timing:
    """One timed child process."""

    seconds: float
    peak_rss_mb: float
    returncode: int


class _TreeMemory:
    """Samples the summed memory of a process and all its descendants, keeping the peak.

    Notes:
        A run is several processes (the command, its worker processes and their fork
        server, the temporary Prefect server), so its memory is their sum at one moment.
        Each process counts its proportional set size (PSS: pages shared after a fork
        are split among the processes sharing them), or its RSS where the kernel gives
        no PSS. Sampled every SAMPLE_SECONDS: a spike shorter than that can be missed.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """Stop sampling; the peak in MiB."""
        self._done.set()
        self._thread.join()
        return self.peak_kib / 1024

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            total = sum(_memory_kib(pid) for pid in _tree(self.pid))
            self.peak_kib = max(self.peak_kib, total)


def _tree(root: int) -> list[int]:
    """`root` and its living descendants, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _memory_kib(pid: int) -> int:
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            lines = Path(f"/proc/{pid}/{name}").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def run_timed(command: list[str], log: Path, env: dict[str, str] | None = None) -> Timing:
    """Run `command` with output to `log`; wall seconds and the peak memory of its processes.

    Notes:
        The peak is the larger of the sampled peak of the process tree's summed memory
        (`_TreeMemory`) and `ru_maxrss` from `os.wait4` (KiB on Linux: the largest
        resident set of the child or of a descendant it waited for).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        started = time.perf_counter()
        child = subprocess.Popen(  # ends with the bench's main thread, killed or not
            command, stdout=output, stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent
        )
        tree = _TreeMemory(child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        sampled_mib = tree.stop()
    child.returncode = os.waitstatus_to_exitcode(status)
    return Timing(seconds, max(usage.ru_maxrss / 1024, sampled_mib), child.returncode)


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
