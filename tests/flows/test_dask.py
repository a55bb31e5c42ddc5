"""The nightly flow on a Dask cluster publishes the same tables as on threads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from prefect.task_runners import TaskRunner

from flows.nightly import nightly
from spinemet_etl.dataset import read_partition
from tests.flows.flow_standins import StandInProcess, write_consortium

pytestmark = pytest.mark.usefixtures("prefect_harness")
COUNTS = {"alpha": "30", "beta": "25"}


def run(root: Path, task_runner: TaskRunner[Any] | None) -> dict[str, str]:
    landing, centers, data = write_consortium(root, COUNTS)
    flow = nightly if task_runner is None else nightly.with_options(task_runner=task_runner)
    manifest = flow(
        landing=str(landing), centers_dir=str(centers), data=str(data), process=StandInProcess()
    )
    return {center: entry["status"] for center, entry in manifest["centers"].items()}


def published(root: Path, center_id: str) -> pd.DataFrame:
    frame = read_partition(root / "data", "patients", center_id)
    assert frame is not None
    return frame.drop(columns="run_id")


def test_dask_runner_publishes_the_same_tables_as_threads(tmp_path: Path) -> None:
    from prefect_dask import DaskTaskRunner

    dask_runner = DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": None},
    )
    assert run(tmp_path / "threads", None) == {"alpha": "published", "beta": "published"}
    assert run(tmp_path / "dask", dask_runner) == {"alpha": "published", "beta": "published"}

    for center_id in COUNTS:
        pd.testing.assert_frame_equal(
            published(tmp_path / "dask", center_id), published(tmp_path / "threads", center_id)
        )
    endpoints = [
        pd.read_parquet(root / "data" / "reports" / "endpoints.parquet")
        for root in (tmp_path / "threads", tmp_path / "dask")
    ]
    pd.testing.assert_frame_equal(endpoints[1], endpoints[0])
