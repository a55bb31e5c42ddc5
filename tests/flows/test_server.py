"""The temporary Prefect server started before the imports: its URL, its failure, its stop."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import server
from spinemet_etl.errors import SpinemetError
from spinemet_etl.localserver import healthy


@pytest.fixture
def no_configured_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No PREFECT_API_URL anywhere, and no server started by this process yet."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(server, "_STARTED", {})
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield


@pytest.mark.usefixtures("no_configured_server")
def test_a_server_that_cannot_start_is_an_orchestrator_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server, "server_command", lambda port: [sys.executable, "-c", "1/0"])
    warmed: list[str] = []
    with (
        pytest.raises(SpinemetError) as raised,
        server.temporary_server(30, lambda: warmed.append("x")),
    ):
        pass
    assert raised.value.code == "orchestrator-unavailable"
    assert "PREFECT_API_URL" in raised.value.message
    assert warmed == ["x"]
    assert "PREFECT_API_URL" not in os.environ


@pytest.mark.usefixtures("no_configured_server")
def test_a_configured_server_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "server_command", lambda port: pytest.fail("started a server"))
    warmed: list[str] = []
    configured = temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"})
    with configured, server.temporary_server(30, lambda: warmed.append("x")):
        assert PREFECT_API_URL.value() == "http://127.0.0.1:9/api"
    assert warmed == ["x"]


@pytest.mark.slow
@pytest.mark.usefixtures("no_configured_server")
def test_the_server_answers_inside_the_block_and_stops_when_asked() -> None:
    warmed: list[bool] = []
    with server.temporary_server(120, lambda: warmed.append(True)):
        url = PREFECT_API_URL.value()
        assert url.startswith("http://127.0.0.1:") and os.environ["PREFECT_API_URL"] == url
        assert healthy(f"{url}/health")
    process, _ = server._STARTED["server"]
    server.stop_temporary_server()
    assert process.poll() is not None
    assert "PREFECT_API_URL" not in os.environ and warmed == [True]
