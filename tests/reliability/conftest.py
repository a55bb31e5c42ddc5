"""Fixtures of the reliability tests: one fork-server driver for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.helpers import Driver


@pytest.fixture(scope="session")
def driver() -> Iterator[Driver]:
    """One fork server for the session (it imports the pipeline once, a few seconds)."""
    server = Driver()
    yield server
    server.close()
