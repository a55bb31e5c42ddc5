"""One Prefect server for all the steps of a quick bench run, started and stopped by the bench."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spinemet_etl.errors import SpinemetError

STARTUP_SECONDS = 120.0
POLL_SECONDS = 0.25


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_healthy(server: subprocess.Popen[bytes], api_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _healthy(api_url):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SpinemetError(
                f"the bench's Prefect server did not start at {api_url}; read `{log}`, "
                "free the port or the machine, and run the bench again.",
                code="bench-step-failed",
            )
        time.sleep(POLL_SECONDS)


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
        server = subprocess.Popen(
            [*command, "--port", str(port)], stdout=output, stderr=subprocess.STDOUT, env=env
        )
        try:
            _wait_until_healthy(server, api_url, log)
            yield api_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
