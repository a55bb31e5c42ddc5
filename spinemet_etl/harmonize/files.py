"""Which export files a table reads: glob patterns, settle time, `pick`, one-file backfills."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from spinemet_etl.errors import Place, source_error
from spinemet_etl.harmonize.dates import digit_format
from spinemet_etl.mapping.model import DateInName, TableBase


@dataclass(frozen=True)
class ExportFile:
    """One export file: its path, its name relative to the landing folder, size and SHA-256."""

    path: Path
    name: str
    size: int
    sha256: str


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (once per file version)."""
    stat = path.stat()
    return _sha256(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _sha256(path: Path, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _matches(landing: Path, patterns: list[str]) -> list[Path]:
    found = {path for pattern in patterns for path in landing.glob(pattern) if path.is_file()}
    return sorted(found, key=lambda path: path.relative_to(landing).as_posix())


def _refuse_links(center_id: str, landing: Path, paths: list[Path]) -> None:
    """Raise before a file is opened when it, or a folder on its way, is a symbolic link.

    Notes:
        A link in a landing folder can point anywhere on the machine (another center's
        exports, system files); the pipeline reads only what was delivered into the folder.
    """
    for path in paths:
        name = path.relative_to(landing)
        steps = [landing / Path(*name.parts[: i + 1]) for i in range(len(name.parts))]
        if any(step.is_symlink() for step in steps):
            raise source_error(
                Place(center_id, name.as_posix()),
                "the file is a symbolic link (or lies in a linked folder), which is never read",
                "copy the export itself into the center's landing folder",
                code="unsafe-path",
            )


_DAY_FIRST = re.compile(r"(?<![0-9])([0-9]{2})[._-]([0-9]{2})[._-]([0-9]{4})(?![0-9])")
"""A day-first date in a file name (`30.09.2026`, `26-11-2026`)."""


def latest_file(center_id: str, table: TableBase, landing: Path, ready: list[Path]) -> Path:
    """The latest of the ready files by the table's `latest_by`; refuses an ambiguous pick.

    Notes:
        By name, `export_30.09.2026.csv` sorts after `export_26.11.2026.csv`: when the names
        carry day-first dates and their order differs from the dates' order, the pick is
        refused (set `latest_by`), never made on the wrong file.
    """
    if table.latest_by == "modified":
        return max(ready, key=lambda path: (path.stat().st_mtime_ns, path.name))
    if isinstance(table.latest_by, DateInName):
        fmt = table.latest_by.date_in_name
        return max(ready, key=lambda path: (_name_date(center_id, landing, path, fmt), path.name))
    days = [_DAY_FIRST.search(path.name) for path in ready]
    dated = [(m.group(3), m.group(2), m.group(1)) for m in days if m is not None]
    if len(dated) == len(ready) > 1 and dated != sorted(dated):
        raise source_error(
            Place(center_id, ready[-1].relative_to(landing).as_posix()),
            "`pick: latest` takes the last name, but the names carry day-first dates "
            "whose order differs from the names' order",
            f'set `latest_by: {{date_in_name: "%d.%m.%Y"}}` (table `{table.name}`) with '
            "the names' date format, or `latest_by: modified`",
            code="no-export-file",
        )
    return ready[-1]


def _name_date(center_id: str, landing: Path, path: Path, fmt: str) -> datetime:
    form = digit_format(fmt)
    found = None if form is None else form.pattern.search(path.name)
    if found is not None:
        try:
            return datetime.strptime(found.group(0), fmt)
        except ValueError:
            pass
    raise source_error(
        Place(center_id, path.relative_to(landing).as_posix()),
        f"the file name holds no date in the format `{fmt}` of `latest_by`",
        "rename the file, or fix `latest_by` in the mapping file",
        code="no-export-file",
    )


def select_files(
    center_id: str,
    table: TableBase,
    landing: Path,
    *,
    settle_seconds: float,
    only_file: str | None,
    now: datetime,
) -> list[ExportFile]:
    """The files `table` reads, in name order; raises SourceError when none is ready.

    Notes:
        A file modified less than `settle_seconds` before `now` may still be uploading
        and is left for the next run. With `only_file` (a backfill of one export), a
        table whose patterns match that file reads only it; the other tables read as usual.
    """
    matched = _matches(landing, table.files)
    _refuse_links(center_id, landing, matched)
    ready = [path for path in matched if now.timestamp() - path.stat().st_mtime >= settle_seconds]
    names = [path.relative_to(landing).as_posix() for path in ready]
    if only_file is not None and only_file in names:
        ready = [ready[names.index(only_file)]]
    elif table.pick == "latest" and ready:
        ready = [latest_file(center_id, table, landing, ready)]
    if not ready:
        waiting = len(matched) - len(ready)
        problem = f"no export file matches {', '.join(table.files)} (table `{table.name}`)"
        if waiting:
            problem += f"; {waiting} file(s) are newer than the settle time of {settle_seconds} s"
        raise source_error(
            Place(center_id, landing.name or str(landing)),
            problem,
            "check that the center's export arrived and the mapping file's `files` patterns",
            code="no-export-file",
        )
    return [
        ExportFile(path, path.relative_to(landing).as_posix(), path.stat().st_size, sha256_of(path))
        for path in ready
    ]
