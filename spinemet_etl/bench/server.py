"""One Prefect server for all the steps of a quick bench run, started and stopped by the bench."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spinemet_etl.errors import SpinemetError
from spinemet_etl.lifeline import start_tied
from spinemet_etl.localserver import free_port, stop, wait_until_healthy

__all__ = ["free_port", "prefect_server"]

STARTUP_SECONDS = 120.0


def _wait_until_healthy(server: subprocess.Popen[bytes], api_url: str, log: Path) -> None:
    if not wait_until_healthy(server, f"{api_url}/health", STARTUP_SECONDS):
        raise SpinemetError(
            f"the bench's Prefect server did not start at {api_url}; read `{log}`, "
            "free the port or the machine, and run the bench again.",
            code="bench-step-failed",
        )


@contextmanager
def prefect_server(log: Path, env: dict[str, str]) -> Iterator[str]:
    """Run `prefect server start` on a free local port while the block runs; its API URL.

    The server uses `env` (the bench's Prefect home); its output goes to `log`.
    """
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        server = start_tied(
            [*command, "--port", str(port)], stdout=output, stderr=subprocess.STDOUT, env=env
        )
        try:
            _wait_until_healthy(server, api_url, log)
            yield api_url
        finally:
            stop(server)
