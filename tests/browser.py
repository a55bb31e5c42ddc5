"""Headless Chromium with the network cut off, and what a page would fetch from the network.

Skips, naming the program to install, where `chromium` is not on PATH (CI, which
installs it, turns the skip into a failure: tests/conftest.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

OFFLINE = [
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]  # fmt: skip
"""Every request goes to a proxy on the discard port (closed) and no host name resolves."""
_LOADING_TAG = re.compile(r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*>", re.I)
_REMOTE = re.compile(
    r"""\b(?:src|href|data)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""", re.I
)


def chromium_offline(page: Path, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Chromium headless on `page`, network disabled, with a fresh profile folder."""
    program = shutil.which("chromium")
    if program is None:
        pytest.skip("chromium not found: install it (Debian: apt-get install chromium; "
                    "`make test` does so when run as root)")  # fmt: skip
    command = [
        program, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", f"--user-data-dir={profile}", *OFFLINE, *flags, page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def remote_loads(html: str) -> list[str]:
    """The tags and CSS `url()`s with which a page would load something from the network."""
    tags = [tag for tag in _LOADING_TAG.findall(html) if _REMOTE.search(tag)]
    return tags + re.findall(r"""url\(\s*["']?(?:https?:)?//[^)]*\)""", html, re.I)
