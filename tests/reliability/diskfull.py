"""A full disk on demand: fault injection at the write calls, and a really small filesystem."""

from __future__ import annotations

import builtins
import errno
import io
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

Match = Callable[[str], bool]


def _enospc(path: object) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


class FillingDisk:
    """Writes to matching paths fail with ENOSPC once `room` bytes were written to them.

    A write that does not fit writes what fits, then fails, as a real full disk does:
    the file is left cut short. Opening a matching path for writing fails once no room
    is left; a rename onto a matching path fails when `renames` is set (a directory
    that must grow on a full disk).
    """

    def __init__(self, match: Match, room: int = 0, *, renames: bool = False) -> None:
        self.match = match
        self.room = room
        self.renames = renames
        self.failures = 0

    def fail(self, path: object) -> OSError:
        self.failures += 1
        return _enospc(path)

    def consume(self, size: int) -> int:
        """How many of `size` bytes fit; the room left shrinks by that much."""
        fits = min(size, self.room)
        self.room -= fits
        return fits


class _FillingFile:
    """A file object whose writes draw from the disk's room."""

    def __init__(self, real: Any, disk: FillingDisk, path: str) -> None:
        self._real = real
        self._disk = disk
        self._path = path

    def write(self, data: Any) -> int:
        size = len(data)
        fits = self._disk.consume(size)
        if fits:
            self._real.write(data[:fits])
            self._real.flush()
        if fits < size:
            raise self._disk.fail(self._path)
        return size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()


def _writes(mode: str) -> bool:
    return any(flag in mode for flag in "wax+")


@contextmanager
def filling_disk(monkeypatch: pytest.MonkeyPatch, disk: FillingDisk) -> Iterator[FillingDisk]:
    """Route this process's `open`, `os.replace` and `os.rename` through `disk`."""
    real_open, real_replace, real_rename = builtins.open, os.replace, os.rename

    def opening(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else ""
        if not (name and _writes(mode) and disk.match(os.path.abspath(name))):
            return real_open(file, mode, *args, **kwargs)
        if disk.room <= 0:
            raise disk.fail(name)
        return _FillingFile(real_open(file, mode, *args, **kwargs), disk, name)

    def renaming(real: Callable[..., None]) -> Callable[..., None]:
        def rename(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
            if disk.renames and disk.match(os.path.abspath(os.fspath(target))):
                raise disk.fail(target)
            real(source, target, *args, **kwargs)

        return rename

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", opening)
        patch.setattr(io, "open", opening)
        patch.setattr(os, "replace", renaming(real_replace))
        patch.setattr(os, "rename", renaming(real_rename))
        yield disk


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


@contextmanager
def small_filesystem(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (root only); skipped where mounting is refused.

    Never skipped under CI=true: CI runs as root on the same kind of machine.
    """
    folder.mkdir(parents=True, exist_ok=True)
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs here: {mounted.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield folder
    finally:
        _run("umount", "--lazy", str(folder))


def resize(folder: Path, size: str) -> None:
    """Give the tmpfs on `folder` another size (free space without deleting anything)."""
    done = _run("mount", "-o", f"remount,size={size}", str(folder))
    assert done.returncode == 0, done.stderr
