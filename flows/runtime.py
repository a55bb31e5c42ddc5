"""What the flows need of their surroundings: settings, the key, the task runner, logging."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import get_run_logger
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from spinemet_etl.errors import ConfigError, SpinemetError
from spinemet_etl.settings import Settings, load_settings

KEY_BLOCK = "spinemet-pseudonym-key"
"""The Prefect Secret block read when the environment gives no pseudonymization key."""
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
"""Where the flows' and tasks' run loggers write; our per-center lines are INFO there."""
CENTER_STEP = "spinemet_step"
"""Log record attribute set on the per-center lines (the CLI's progress display reads it)."""


def settings_from_parameters(**parameters: Any) -> Settings:
    """Settings from a flow's JSON-able parameters; None means environment, then default.

    Paths arrive as strings (deployments carry JSON), so they are converted here. The key
    is the environment's (or the development key): `with_key` resolves it for a run.
    """
    paths = {"landing", "centers_dir", "quality_config"}
    flags = {
        name: Path(value) if name in paths and value is not None else value
        for name, value in parameters.items()
    }
    return load_settings(flags)


def _secret_key() -> str | None:
    """The key held in the Prefect Secret block, or None when there is no such block."""
    from prefect.blocks.system import Secret

    try:
        secret: Any = Secret.load(KEY_BLOCK, _sync=True)  # type: ignore[call-arg]
    except ValueError:
        return None
    value = secret.get()
    return str(value) if value else None


def with_key(settings: Settings) -> Settings:
    """Settings whose key comes from the environment, else the Secret block, else development.

    The key is never logged; its fingerprint is.
    """
    logger = get_run_logger()
    if settings.uses_development_key:
        key = _secret_key()
        if key is not None:
            settings = replace(settings, pseudonym_key=key)
    if settings.uses_development_key:
        logger.warning(
            "NO PSEUDONYMIZATION KEY CONFIGURED: using the development key, fine for synthetic "
            "data only; set SPINEMET_PSEUDONYM_KEY or the Prefect Secret block `%s` before "
            "running on real exports.",
            KEY_BLOCK,
        )
    logger.info("pseudonymization key fingerprint %s", settings.key_fingerprint[:16])
    return settings


def max_workers(settings: Settings) -> int:
    """How many centers run at once: `settings.max_workers`, else the number of cores.

    Notes:
        Every running center holds its exports and frames in memory, so the bound is
        also the memory bound: about (workers x largest center) instead of the whole
        consortium.
    """
    configured = settings.max_workers
    if configured is not None and configured < 1:
        raise ConfigError(f"max_workers is {configured}; set it to 1 or more, or unset it.")
    return configured if configured is not None else (os.cpu_count() or 1)


def worker_processes(settings: Settings) -> int:
    """How many worker processes harmonize centers; 0 to harmonize in the task's thread.

    Notes:
        With the default task runner and more than one center at a time, centers are
        harmonized and gated in that many processes (`spinemet_etl.workers`): threads
        share one interpreter lock, and measured no faster than one thread. A Dask
        runner already runs tasks in its own workers; `task_runner = threads` keeps
        everything in this process's threads.
    """
    if settings.task_runner in ("dask", "threads"):
        return 0
    workers = max_workers(settings)
    return workers if workers > 1 else 0


def make_task_runner(settings: Settings) -> TaskRunner[Any]:
    """A bounded thread pool by default; `task_runner = dask` runs the tasks on a Dask cluster.

    Notes:
        Prefect's process pool was measured and not offered: slower than threads on the
        bench (docs/performance.md), and each worker process would start a temporary
        Prefect server of its own when PREFECT_API_URL is unset.
        Without `dask_address` a `distributed.LocalCluster` is started for the run. Its
        workers are processes only when a Prefect server is configured (PREFECT_API_URL):
        Prefect's temporary server lives in this process, and worker processes would each
        start their own and report the task runs there. A remote cluster's workers need
        PREFECT_API_URL of a server they can reach.
    """
    if settings.task_runner in ("default", "threads", ""):
        return ThreadPoolTaskRunner(max_workers=max_workers(settings))
    if settings.task_runner != "dask":
        raise ConfigError(
            f"task runner `{settings.task_runner}` is unknown; use `default` or `dask`."
        )
    from prefect.settings import PREFECT_API_URL
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    if PREFECT_API_URL.value():
        return DaskTaskRunner()
    return DaskTaskRunner(cluster_kwargs={"processes": False})


def log_center(center_id: str, step: str, message: str, *args: object) -> None:
    """One INFO line about one center and one step, tagged for the progress display."""
    get_run_logger().info(
        f"center %s %s: {message}",
        center_id,
        step,
        *args,
        extra={CENTER_STEP: step, "spinemet_center": center_id},
    )


def quiet_console(handler: logging.Handler, *, show_center_lines: bool = True) -> None:
    """Let through a console handler only warnings or worse, and our per-center lines if asked.

    Prefect's own services' messages (its clients, event and log workers: loggers
    `prefect.*` other than the run loggers) go to the temporary server's log file
    instead (`flows.server.server_log`): they do not say whether our run failed; our
    lines do (a lost API: `flows.apiwatch`).
    """
    for old in [f for f in handler.filters if isinstance(f, _QuietFilter)]:
        handler.removeFilter(old)
    handler.addFilter(_QuietFilter(show_center_lines))


_FILES: dict[str, logging.Handler] = {}


def _prefect_file() -> logging.Handler:
    """The handler that appends Prefect's own messages to the server's log file."""
    if "prefect" not in _FILES:
        from flows.server import server_log

        server_log().parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(server_log(), encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        _FILES["prefect"] = handler
    return _FILES["prefect"]


class _QuietFilter(logging.Filter):
    def __init__(self, show_center_lines: bool) -> None:
        super().__init__()
        self.show_center_lines = show_center_lines

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], SpinemetError):
            return False  # the command line prints its one-sentence message instead
        if record.name.startswith("prefect") and not record.name.startswith(RUN_LOGGERS):
            _prefect_file().handle(record)
            return False
        if record.levelno >= logging.WARNING:
            return True
        if hasattr(record, CENTER_STEP):
            return self.show_center_lines
        return not record.name.startswith("prefect")
