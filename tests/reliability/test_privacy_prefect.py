"""The nightly flow under Prefect's harness: its API logs and artifacts, the report and the
Data Docs hold no direct identifier, and the key only as its fingerprint."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.runtime import RUN_LOGGERS
from spinemet_etl.settings import load_settings
from tests.reliability.helpers import CENTERS
from tests.reliability.privacy_scan import file_texts, leaks, write_marked_consortium

MARKER = "Pfxmark"
KEY = "prefect-privacy-KEY-77aa01"


def _api_texts(flow_run_id: UUID) -> dict[str, str]:
    """Every log line and artifact of the flow run, as stored by the Prefect API."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    texts = {"prefect logs": "\n".join(log.message for log in logs)}
    for artifact in artifacts:
        texts[f"artifact {artifact.key}"] = f"{artifact.description}\n{artifact.data}"
    return texts


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.usefixtures("prefect_harness")
def test_flow_run_leaves_no_identifier_in_prefect_report_or_data_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.nightly import nightly

    needles = write_marked_consortium(
        tmp_path / "landing", MARKER, {KEY}, n_patients=48, seed=13, dirt_rate=0.2
    )
    monkeypatch.setenv("SPINEMET_PSEUDONYM_KEY", KEY)
    for name in RUN_LOGGERS:  # the session keeps Prefect at WARNING; scan the INFO lines too
        monkeypatch.setattr(logging.getLogger(name), "level", logging.INFO)
    data = tmp_path / "data"
    state: Any = nightly(
        landing=str(tmp_path / "landing"), centers_dir=str(CENTERS), data=str(data),
        return_state=True,
    )  # fmt: skip
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    api = _api_texts(flow_run_id)
    fingerprint = load_settings({}, {"SPINEMET_PSEUDONYM_KEY": KEY}).key_fingerprint
    assert f"key fingerprint {fingerprint[:16]}" in api["prefect logs"]
    assert any(key.startswith("artifact ") for key in api)
    files = file_texts(data)
    assert (data / "reports" / "report.html").is_file()
    assert any("data_docs" in path for path in files)
    assert leaks({**files, **api}, needles) == []
    assert fingerprint in "\n".join(files.values())
