"""deployments/prefect.yaml names real flows, JSON parameters, the schedule and the pool."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PREFECT_YAML = REPO / "deployments" / "prefect.yaml"


def deployments() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    return {deployment["name"]: deployment for deployment in config["deployments"]}


def test_nightly_runs_at_two_in_rome_on_the_process_pool() -> None:
    nightly = deployments()["nightly"]
    assert nightly["schedules"] == [
        {"cron": "0 2 * * *", "timezone": "Europe/Rome", "active": True}
    ]
    assert {d["work_pool"]["name"] for d in deployments().values()} == {"spinemet-process"}


@pytest.mark.parametrize("name", ["nightly", "backfill", "report", "center", "pool"])
def test_entrypoint_is_a_flow_taking_the_parameters(name: str) -> None:
    deployment = deployments()[name]
    path, attribute = deployment["entrypoint"].split(":")
    assert (REPO / path).is_file()
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, attribute)
    accepted = inspect.signature(flow.fn).parameters
    assert set(deployment["parameters"]) <= set(accepted)
    assert json.loads(json.dumps(deployment["parameters"])) == deployment["parameters"]
