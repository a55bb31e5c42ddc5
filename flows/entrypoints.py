"""What the `spinemet` command line calls: run a flow, quietly, and return the run status."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spinemet_etl.settings import Settings, load_settings

QUIET_LOGGERS = ("prefect", "distributed")
"""Prefect and Dask internals log at WARNING; our per-center lines are INFO on the run loggers."""


def flow_parameters(settings: Settings) -> dict[str, Any]:
    """The settings as the flows' JSON-able parameters; the key never is one."""
    return {
        "landing": str(settings.landing),
        "centers_dir": str(settings.centers_dir),
        "data": settings.data,
        "centers": list(settings.centers) if settings.centers is not None else None,
        "full_refresh": settings.full_refresh,
        "quality_config": str(settings.quality_config) if settings.quality_config else None,
        "pain_mcid": settings.pain_mcid,
        "suppress_below": settings.suppress_below,
        "timeout_seconds": settings.timeout_seconds,
    }


SERVER_STARTUP_SECONDS = 120
"""How long to wait for Prefect's temporary server; a busy laptop needs more than 20 s."""


def quiet_prefect_logging(*, show_center_lines: bool) -> None:
    """Prefect internals at WARNING; our per-center INFO lines on the console when asked.

    Left in place for the rest of the process, so that the temporary server's shutdown
    at exit is quiet too. The run loggers stay at INFO: the flow run's logs in Prefect
    and the terminal's progress display read our per-center lines from them.
    """
    from flows.runtime import RUN_LOGGERS, quiet_console

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in RUN_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    internal = logging.getLogger("prefect._internal")  # its own console handler
    for handler in [*logging.getLogger().handlers, *internal.handlers]:
        quiet_console(handler, show_center_lines=show_center_lines)
    logging.raiseExceptions = False  # Prefect's log worker prints "Error logging to API" else


def disable_telemetry() -> None:
    """Prefect's client reads only the DO_NOT_TRACK convention; set it unless the user did.

    Call it before Prefect is first imported: Prefect checks it on import.

    Notes:
        Patient-data pipelines make no calls home. The server side is switched off with
        PREFECT_SERVER_ANALYTICS_ENABLED in `prefect_settings`.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")


@contextmanager
def prefect_settings() -> Iterator[None]:
    """No telemetry, a quiet temporary server, and time for it to start."""
    from prefect.settings import (
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        PREFECT_SERVER_LOGGING_LEVEL,
        temporary_settings,
    )

    updates = {PREFECT_SERVER_ANALYTICS_ENABLED: False, PREFECT_SERVER_LOGGING_LEVEL: "WARNING"}
    defaults = {PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: SERVER_STARTUP_SECONDS}
    with temporary_settings(updates=updates, set_defaults=defaults):
        yield


def run_flow(
    flow: Any, settings: Settings, *, warm: Callable[[], None] | None = None, **parameters: Any
) -> Any:
    """Run a flow in this process with the settings' task runner, quietly; its return value.

    What every `spinemet` command does to run a flow (the bench times it on an empty flow).
    `warm` (imports the run will need) runs while Prefect's temporary server starts.
    """
    from prefect.settings import PREFECT_API_URL

    from flows.apiwatch import watching
    from flows.progress import center_progress
    from flows.runtime import make_task_runner
    from flows.server import temporary_server
    from spinemet_etl.stop import stopping_on_signals

    on_terminal = sys.stderr.isatty()
    quiet_prefect_logging(show_center_lines=not on_terminal)
    progress = center_progress() if on_terminal else nullcontext()
    server = temporary_server(SERVER_STARTUP_SECONDS, warm)
    lost = _on_lost_api(settings, datetime.now(UTC))
    with stopping_on_signals(), prefect_settings(), server, progress:
        with watching(str(PREFECT_API_URL.value()), lost) as watch:
            try:
                result = flow.with_options(task_runner=make_task_runner(settings))(**parameters)
            except Exception:
                if watch.lost:
                    lost(watch.api_url)
                raise
        if watch.lost:
            lost(watch.api_url)
        return result


def _on_lost_api(settings: Settings, since: datetime) -> Callable[[str], None]:
    """What a command does once its Prefect API is lost: one line, then exit (apiwatch)."""

    def lost(api_url: str) -> None:
        from flows.apiwatch import exit_now, lost_line
        from flows.server import stop_temporary_server
        from spinemet_etl.manifest import latest_manifest, manifest_path
        from spinemet_etl.workers import shutdown_workers

        manifest = latest_manifest(settings.data_path)
        if manifest is not None and manifest["started_at"] < since.isoformat(timespec="seconds"):
            manifest = None  # an earlier run's
        where = manifest_path(settings.data_path, manifest["run_id"]) if manifest else None

        def cleanup() -> None:
            shutdown_workers()
            stop_temporary_server()

        exit_now(lost_line(api_url, manifest, where), cleanup)

    return lost


def _print_hold(center_id: str, entry: dict[str, Any]) -> None:
    from spinemet_etl.quality.checks import how_to_accept

    checks = (entry.get("quality_gate") or {}).get("checks", [])
    for check in checks:
        if not check["passed"]:
            print(f"    {check['message']}")
    print(f"    {how_to_accept(center_id, checks)}")
    if entry.get("held_quarantine"):
        print(f"    its quarantined rows: {entry['held_quarantine']}")


def _print_run(manifest: dict[str, Any], settings: Settings) -> None:
    reports = settings.data_path / "reports"
    print(f"run {manifest['run_id']}: {manifest['status']}")
    for center_id, entry in manifest["centers"].items():
        print(f"  {center_id}: {entry['status']}")
        if entry["status"] == "held":
            _print_hold(center_id, entry)
        if entry.get("error"):
            print(f"    error [{entry['error']['code']}]: {entry['error']['message']}")
    print(f"manifest:  {settings.data_path / '_runs' / (manifest['run_id'] + '.json')}")
    if "interrupted" in manifest:
        return  # neither was rebuilt
    print(f"report:    {reports / 'report.html'}")
    print(f"data docs: {reports / 'data_docs' / 'index.html'}")


def _run_centers(
    flow_factory: Callable[[], Any], settings: Settings, *, every_center: bool, **parameters: Any
) -> str:
    """Run the flow; `every_center` when each center is processed whatever changed."""
    from flows.runtime import worker_processes
    from spinemet_etl.warmup import warm_up

    def warm() -> None:
        warm_up(settings, harmonize_all=every_center, workers=worker_processes(settings))

    from spinemet_etl.stop import stop_line

    manifest = run_flow(flow_factory(), settings, warm=warm, **parameters)
    _print_run(manifest, settings)
    if "interrupted" in manifest:
        print(stop_line(manifest), file=sys.stderr)
        return "interrupted"
    return str(manifest["status"])


def run_nightly(settings: Settings) -> str:
    """One run of the nightly flow now; `ok` or `needs_attention`."""
    disable_telemetry()
    from flows.nightly import nightly

    return _run_centers(lambda: nightly, settings, every_center=False, **flow_parameters(settings))


def run_backfill(settings: Settings, *, export_file: str | None) -> str:
    """Re-process `settings.centers` regardless of change detection; the run status."""
    disable_telemetry()
    from flows.backfill import backfill

    parameters = flow_parameters(settings)
    parameters["centers"] = parameters["centers"] or []
    for unused in ("full_refresh", "pain_mcid", "suppress_below"):
        parameters.pop(unused)
    return _run_centers(
        lambda: backfill, settings, every_center=True, export_file=export_file, **parameters
    )


def run_report(settings: Settings) -> str:
    """Recompute endpoints.parquet and report.html; `ok` when they were written."""
    disable_telemetry()
    from flows.report import report
    from spinemet_etl.warmup import import_report_modules

    html = run_flow(
        report, settings, warm=import_report_modules, data=settings.data,
        pain_mcid=settings.pain_mcid, suppress_below=settings.suppress_below,
    )  # fmt: skip
    print(f"report: {html}")
    return "ok"


def demo_centers_dir() -> Path:
    """The repository's `centers/` folder, with the demo consortium's mapping files."""
    import spinemet_etl

    return Path(spinemet_etl.__file__).resolve().parents[1] / "centers"


def run_demo(out: Path, *, seed: int) -> str:
    """Write a synthetic consortium into `out/landing`, run the nightly flow into `out/data`."""
    from spinemet_etl.synth import write_consortium

    landing = out / "landing"
    written = write_consortium(landing, seed=seed)
    print(f"wrote {len(written)} synthetic export files under {landing}")
    flags = {"landing": landing, "centers_dir": demo_centers_dir(), "data": str(out / "data")}
    return run_nightly(load_settings(flags))
