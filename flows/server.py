"""Prefect's temporary server, started by us before the imports so that they overlap its start."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import prefect
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

from spinemet_etl.errors import SpinemetError
from spinemet_etl.lifeline import start_tied
from spinemet_etl.localserver import free_port, stop, wait_until_healthy

LOG_NAME = "spinemet-server.log"
"""The temporary server's own output, in Prefect's home folder (not the terminal)."""
PORT_IN_USE = 3
"""uvicorn's exit status when its port was taken between our probe and its bind."""
START_ATTEMPTS = 3


def server_command(port: int) -> list[str]:
    """The command Prefect 3.9's own temporary server runs (`SubprocessASGIServer`)."""
    return [
        sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent),
        "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def _server_env() -> dict[str, str]:
    """This process's environment and Prefect settings, with the UI off, as Prefect does."""
    settings = get_current_settings().to_environment_variables(exclude_unset=True)
    server = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}
    return {**os.environ, **server, "PREFECT__SERVER_FINAL": "1", **settings}


def server_log() -> Path:
    """Where the temporary server writes its output (appended, run after run)."""
    return Path(get_current_settings().home) / LOG_NAME


def _not_started(seconds: float) -> SpinemetError:
    return SpinemetError(
        f"Prefect's temporary local server did not start within {seconds:.0f} s (its output: "
        f"`{server_log()}`); run again, or start `prefect server start` and set "
        "PREFECT_API_URL (docs/operations.md).",
        code="orchestrator-unavailable",
    )


def launch(port: int) -> subprocess.Popen[bytes]:
    """Start the server on `port`, tied to this process (`lifeline`), its output to its log.

    Notes:
        Tied, it ends when this process ends, even killed with SIGKILL: a server left
        behind holds ~220 MB until the machine restarts.
    """
    server_log().parent.mkdir(parents=True, exist_ok=True)
    with server_log().open("ab") as log:
        return start_tied(server_command(port), env=_server_env(), stdout=log, stderr=log)


def _start(seconds: float, meanwhile: Callable[[], None]) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server, run `meanwhile` while it starts, and wait until it answers."""
    for _attempt in range(START_ATTEMPTS):
        port = free_port()
        process = launch(port)
        meanwhile()
        meanwhile = _nothing
        api_url = f"http://127.0.0.1:{port}/api"
        if wait_until_healthy(process, f"{api_url}/health", seconds):
            return process, api_url
        stop(process)
        if process.returncode != PORT_IN_USE:
            break
    raise _not_started(seconds)


def _nothing() -> None:
    return None


_STARTED: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
"""The server this process started (its process and API URL), once started."""


def _api_url(seconds: float, meanwhile: Callable[[], None]) -> str:
    if "server" not in _STARTED:
        process, api_url = _start(seconds, meanwhile)
        _STARTED["server"] = process, api_url
        atexit.register(stop_temporary_server)
        os.environ["PREFECT_API_URL"] = api_url
    else:
        meanwhile()
    return _STARTED["server"][1]


def stop_temporary_server() -> None:
    """Stop the server this process started, if any, and forget its URL (at exit)."""
    started = _STARTED.pop("server", None)
    if started is not None:
        process, api_url = started
        if os.environ.get("PREFECT_API_URL") == api_url:
            del os.environ["PREFECT_API_URL"]
        stop(process)


@contextmanager
def temporary_server(seconds: float, meanwhile: Callable[[], None] | None = None) -> Iterator[None]:
    """Within the block, Prefect's API is a temporary local server unless one is configured.

    `meanwhile` runs while the server starts: Prefect's own temporary server would start
    only when the flow is called, after every import, and the imports can use the
    ~9 s of its start instead (2 cores).

    Notes:
        As Prefect's own, the server lives until this process exits (its log and event
        workers send their last batches at exit). PREFECT_API_URL is set in the settings
        context (this thread and the task runner's threads, which copy it) and in the
        environment (threads Prefect starts with a fresh context read settings there).
    """
    warm = meanwhile or _nothing
    if PREFECT_API_URL.value():
        warm()
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: _api_url(seconds, warm)}):
        yield
