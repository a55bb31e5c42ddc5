"""Session-wide test setup: Prefect in a temporary home, quiet; its harness only on request.

In CI (`CI=true`) every test must run: a skip, say for a missing program, is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="spinemet-test-prefect-")


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module imports Prefect: a throwaway home, no telemetry, little logging."""
    os.environ["PREFECT_HOME"] = _PREFECT_HOME
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.pop("PREFECT_PROFILE", None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    os.environ["PREFECT_SERVER_LOGGING_LEVEL"] = "WARNING"
    os.environ["PREFECT_LOGGING_TO_API_BATCH_INTERVAL"] = "0.3"
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _skip_fails_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """A skip becomes a failure under CI=true, with the skip's own reason (expected xfails stay)."""
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI=true runs every test: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    _skip_fails_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report: pytest.CollectReport = yield
    _skip_fails_in_ci(report)
    return report


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server and database for the whole session (about 10 s, once).

    Only flow tests request it; nothing else pays for it.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.testing.utilities import prefect_test_harness

    from spinemet_etl.lifeline import guard
    from spinemet_etl.localserver import stop

    with prefect_test_harness(server_startup_timeout=90):
        servers = SubprocessASGIServer._instances.values()  # private: Prefect starts it
        tie = guard(sorted({s.server_process.pid for s in servers if s.server_process}))
        yield
    stop(tie)  # the server ends with pytest, even killed (SIGKILL)
