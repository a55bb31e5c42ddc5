"""The data-root lock: one holder at a time, a clear message for the second."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spinemet_etl.errors import LockedError
from spinemet_etl.lock import data_root_lock

HOLD_LOCK = """
import sys
from pathlib import Path
from spinemet_etl.lock import data_root_lock

with data_root_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_lock_is_released_after_the_block(tmp_path: Path) -> None:
    with data_root_lock(tmp_path):
        pass
    with data_root_lock(tmp_path):
        assert (tmp_path / ".lock").is_file()


def test_lock_creates_the_data_root(tmp_path: Path) -> None:
    with data_root_lock(tmp_path / "new" / "data"):
        assert (tmp_path / "new" / "data").is_dir()


def test_second_holder_gets_a_clear_error(tmp_path: Path) -> None:
    with data_root_lock(tmp_path), pytest.raises(LockedError) as caught, data_root_lock(tmp_path):
        pass
    message = caught.value.message
    assert f"pid {os.getpid()}" in message
    assert str(tmp_path) in message
    assert "wait for that run to finish" in message
    assert caught.value.code == "data-root-locked"


def test_waiting_holder_gives_up_after_its_timeout(tmp_path: Path) -> None:
    waited = pytest.raises(LockedError, match=r"after waiting 0\.1 s")
    with data_root_lock(tmp_path), waited, data_root_lock(tmp_path, wait_seconds=0.1):
        pass


def test_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), data_root_lock(tmp_path):
        raise RuntimeError("boom")
    with data_root_lock(tmp_path):
        pass


def test_lock_held_by_another_process_names_it(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "locked\n"
        named = pytest.raises(LockedError, match=f"pid {child.pid} on host")
        with named, data_root_lock(tmp_path):
            pass
    finally:
        child.kill()
        child.wait()
    with data_root_lock(tmp_path):
        pass


def test_a_full_disk_at_the_lock_is_one_sentence_and_leaves_the_root_unlocked(
    tmp_path: Path,
) -> None:
    from spinemet_etl.errors import DiskFullError
    from tests.reliability.diskfull import FillingDisk, filling_disk

    disk = FillingDisk(lambda path: path == str(tmp_path / ".lock"))
    with (
        filling_disk(pytest.MonkeyPatch(), disk),
        pytest.raises(DiskFullError) as raised,
        data_root_lock(tmp_path),
    ):
        pytest.fail("the block ran without its lock")
    assert raised.value.code == "disk-full"
    assert raised.value.message.startswith(
        f"no space left on the device to write `{tmp_path}/.lock`"
    )
    assert "the run did not start" in raised.value.message
    with data_root_lock(tmp_path):
        pass
