"""Helpers of the reliability tests: the fork-server client and mapping folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CENTERS = REPO / "centers"


class Driver:
    """The client side of `tests.reliability.forkserver` (one request, one answer)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.forkserver"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self._line()) == {"ready": True}

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the fork server ended"
        return line

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._line())
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def group_members(group: int) -> list[int]:
    """Processes of the process group `group` that run on (zombies excluded)."""
    living = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z" and int(stat.parent.name) != os.getpid():
            living.append(int(stat.parent.name))
    return living


def copy_centers(target: Path, ids: list[str]) -> Path:
    """The demo mapping files of `ids` and the shared vocabularies, copied into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CENTERS / "vocabularies", target / "vocabularies", dirs_exist_ok=True)
    for center_id in ids:
        shutil.copy(CENTERS / f"{center_id}.yaml", target / f"{center_id}.yaml")
    return target
