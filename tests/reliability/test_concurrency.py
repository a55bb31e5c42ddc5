"""Two runs on one data root at once: the second exits with a clear message, the data stay whole."""

from __future__ import annotations

import json
import time
from pathlib import Path

from spinemet_etl.synth import write_consortium
from tests.reliability.helpers import Driver, copy_centers
from tests.reliability.partition_reader import COLUMNS, read_pyarrow


def test_second_run_exits_with_the_lock_message_while_the_first_holds_it(
    driver: Driver, tmp_path: Path
) -> None:
    centers = copy_centers(tmp_path / "centers", ["boston"])
    landing, data = tmp_path / "landing", tmp_path / "data"
    write_consortium(landing, n_patients=12, seed=9)
    flags = {
        "landing": str(landing),
        "centers_dir": str(centers),
        "data": str(data),
        "centers": ["boston"],
    }
    ready, resume = tmp_path / "ready", tmp_path / "resume"
    first = driver.ask(
        op="run",
        flags=flags,
        result=str(tmp_path / "first.json"),
        hook={"step": "publish", "nth": 1, "ready": str(ready), "resume": str(resume)},
    )["pid"]
    deadline = time.monotonic() + 60
    while not ready.exists():  # the first run is now mid-publish, holding the lock
        assert time.monotonic() < deadline
        time.sleep(0.01)
    second = driver.ask(op="run", flags=flags, result=str(tmp_path / "second.json"))["pid"]
    assert driver.ask(op="wait", pid=second, timeout=60) == {"exit": 0}
    refused = json.loads((tmp_path / "second.json").read_text())
    assert refused["error"] == "data-root-locked"
    assert refused["message"].startswith(f"data root `{data}` is locked by pid ")
    assert "another spinemet run is writing it" in refused["message"]
    resume.write_text("go")
    assert driver.ask(op="wait", pid=first, timeout=60) == {"exit": 0}
    finished = json.loads((tmp_path / "first.json").read_text())
    assert finished["centers"] == {"boston": "published"}
    for table in COLUMNS:
        assert list(read_pyarrow(data, table)) == ["boston"]
    runs = sorted((data / "_runs").glob("*.json"))
    assert [path.stem for path in runs] == [finished["run_id"]]
