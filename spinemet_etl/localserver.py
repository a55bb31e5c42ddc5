"""A local HTTP service run as a child process: a free port, its health, its stop."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request

from spinemet_etl.lifeline import untie

POLL_SECONDS = 0.1
STOP_SECONDS = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def healthy(url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_healthy(process: subprocess.Popen[bytes], url: str, seconds: float) -> bool:
    """Poll `url` until it answers 200 (True), the process exits or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while not healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process, kill it if it does not end within STOP_SECONDS, and reap it.

    A process started by `lifeline.start_tied` is untied as well.
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    untie(process)
