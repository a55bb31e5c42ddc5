"""Imported first by the workers' fork server: it ends when the run's process ends.

The fork server spends seconds importing the rest of its preload (Great Expectations);
during that it does not watch the pipe by which multiprocessing tells it that the run
is gone, so a run killed then would leave it importing on. A thread waits for the run's
process (RUN_PID_ENV, set by `workers.worker_pool`) to end, then ends the fork server.
"""

from __future__ import annotations

import os
import select
import threading

RUN_PID_ENV = "SPINEMET_RUN_PID"
"""Set by `workers.worker_pool` (its RUN_PID_ENV); this module is imported nowhere else."""


def _watch(run_pid: int) -> None:
    try:
        handle = os.pidfd_open(run_pid)
    except ProcessLookupError:
        os._exit(0)  # the run ended before the fork server got here
    except (AttributeError, OSError):
        return  # no pidfd: the fork server ends at its next look at its pipe
    select.select([handle], [], [])
    os._exit(0)


if os.environ.get(RUN_PID_ENV, "").isdigit():
    run_pid = int(os.environ[RUN_PID_ENV])
    threading.Thread(target=_watch, args=(run_pid,), name="watch-run", daemon=True).start()
