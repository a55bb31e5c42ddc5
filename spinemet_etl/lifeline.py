"""Child processes tied to this one: they end when it ends, however it ends (SIGKILL too).

`start_tied(command)` runs `command` under a small supervisor, `python -m
spinemet_etl.lifeline FD command...`. The supervisor holds the read end of a pipe whose
only write end stays in this process: when this process ends, killed or not, the kernel
closes that end, the supervisor reads end-of-file, terminates the command (SIGTERM, then
SIGKILL after GRACE_SECONDS) and exits with it. The command gets PR_SET_PDEATHSIG
(SIGTERM) from the supervisor, so that it ends too if the supervisor itself is killed.

Notes:
    PR_SET_PDEATHSIG alone would not do: it fires when the *thread* that forked the child
    ends, and a run may start its server from a thread that ends long before the run.
    A pipe's write end closes only when the whole process ends. The write end is not
    inheritable (os.pipe), so no other child keeps the supervisor alive.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

GRACE_SECONDS = 3.0
"""How long the command has to end on SIGTERM before it is killed."""
PR_SET_PDEATHSIG = 1
_TIES: dict[int, int] = {}
"""Write ends of the pipes, by the supervisor's process id."""


def start_tied(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """Start `command` so that it ends when this process ends; Popen `options` apply.

    The Popen returned is the supervisor's: its return code is the command's, and
    SIGTERM to it ends the command.
    """
    read_end, write_end = os.pipe()
    supervisor = [sys.executable, "-m", __name__, str(read_end), *command]
    try:
        process = subprocess.Popen(supervisor, pass_fds=(read_end,), **options)
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    _TIES[process.pid] = write_end
    return process


def guard(pids: list[int]) -> subprocess.Popen[bytes]:
    """Tie processes started by someone else (a library) to this process: a supervisor
    that terminates `pids` when this process ends. `untie` it once they have ended."""
    return start_tied(["--guard", *map(str, pids)])


def untie(process: subprocess.Popen[bytes]) -> None:
    """Close the pipe of a supervisor started by `start_tied`: its command is stopped."""
    write_end = _TIES.pop(process.pid, None)
    if write_end is not None:
        os.close(write_end)


def die_with_parent() -> None:
    """A Popen `preexec_fn`: the child gets SIGTERM when the thread that started it ends.

    Enough alone only when that thread lives as long as its process (a main thread
    that waits for the child, as the supervisor's and the bench's do).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _end(child: subprocess.Popen[bytes]) -> None:
    """Terminate the command, kill it after GRACE_SECONDS."""
    with contextlib.suppress(ProcessLookupError):
        child.terminate()
    try:
        child.wait(GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            child.kill()


def _watch(read_end: int, child: subprocess.Popen[bytes]) -> None:
    while os.read(read_end, 1):
        continue
    _end(child)


def _guard(read_end: int, pids: list[int]) -> int:
    """The supervisor of `guard`: when the pipe closes, terminate `pids`, then kill them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while os.read(read_end, 1):
        continue
    for number in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, number)
        if number == signal.SIGTERM:
            time.sleep(GRACE_SECONDS)
    return 0


def main(argv: list[str]) -> int:
    """The supervisor: run the command; end it when the pipe closes or on SIGTERM."""
    read_end, command = int(argv[0]), argv[1:]
    if command[0] == "--guard":
        return _guard(read_end, [int(pid) for pid in command[1:]])
    child = subprocess.Popen(command, preexec_fn=die_with_parent)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C reaches the command
    threading.Thread(target=_watch, args=(read_end, child), daemon=True).start()
    code = child.wait()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
