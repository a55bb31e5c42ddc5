"""Error classes with stable codes: a code a program can count, a sentence a person can act on."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
"""No space left on the device, or the user's quota is used up: the same remedy."""


class SpinemetError(Exception):
    """Base of every error the pipeline raises on purpose.

    `code` is stable (programs count it, the manifest records it); `message` is one
    sentence that names the center, the file, the place and what to do.
    """

    code: str = "spinemet-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_record(self) -> dict[str, Any]:
        """The manifest's `error` object."""
        return {"type": type(self).__name__, "code": self.code, "message": self.message}


class ConfigError(SpinemetError):
    """A usage or configuration problem: the command exits 2."""

    code = "config-error"


class MappingError(SpinemetError):
    """A center's mapping file is wrong; nothing was read."""

    code = "mapping-invalid"


class SourceError(SpinemetError):
    """A center's export cannot be read or harmonized; the center fails, the others go on."""

    code = "source-unreadable"


class QualityGateError(SpinemetError):
    """A center's new data failed the data-quality gate; its last partition stays."""

    code = "quality-gate-failed"


class LockedError(SpinemetError):
    """Another run holds the data root's lock."""

    code = "data-root-locked"


class DiskFullError(SpinemetError):
    """A write found no space (ENOSPC) or no quota (EDQUOT) left; `path` is what it wrote."""

    code = "disk-full"
    path = ""


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` is an OSError of a full filesystem or a used-up quota."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def disk_full_error(
    path: Path | str, *, center: str | None = None, consequence: str | None = None
) -> DiskFullError:
    """The one sentence of a full disk: what could not be written, what stays, what to do."""
    where = f"center `{center}`: " if center else ""
    then = f"; {consequence}" if consequence else ""
    error = DiskFullError(
        f"{where}no space left on the device to write `{path}`{then}; free space on that "
        "filesystem (or raise the quota) and run again."
    )
    error.path = str(path)
    return error


@contextmanager
def disk_full_as_error(
    path: Path | str, *, center: str | None = None, consequence: str | None = None
) -> Iterator[None]:
    """Turn a full disk met in the block into `disk_full_error(path, ...)`; other errors pass."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(path, center=center, consequence=consequence) from exc
        raise


@dataclass(frozen=True)
class Place:
    """Where in a source a problem is: center, file, and optionally sheet, line, column."""

    center_id: str
    file: str
    sheet: str | None = None
    line: int | None = None
    column: str | None = None

    def describe(self) -> str:
        parts = [f"center `{self.center_id}`", f"file `{self.file}`"]
        if self.sheet is not None:
            parts.append(f"sheet `{self.sheet}`")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column `{self.column}`")
        return ", ".join(parts)


def source_error(place: Place, problem: str, todo: str, *, code: str) -> SourceError:
    """A SourceError whose message reads: '<place>: <problem>; <what to do>.'"""
    return SourceError(f"{place.describe()}: {problem}; {todo}.", code=code)
