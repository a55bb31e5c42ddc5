"""`spinemet pool`'s inbox: each center's newest summary, verified, or the reason it failed."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from spinemet_etl.federated.folder import SUMMARY_JSON
from spinemet_etl.federated.summary import CenterSummary
from spinemet_etl.federated.verify import SummaryProblem, is_slug, read_document, read_summary

SUMMARIES_JSON = Path("reports") / "summaries.json"


@dataclass
class Center:
    """What pooling did with one center: its summary used, marked stale, or failed (why)."""

    center_id: str
    status: str
    folder: str = ""
    problem: str = ""
    created: str = ""
    summary: CenterSummary | None = field(default=None, repr=False)

    def record(self) -> dict[str, Any]:
        return {
            "center_id": self.center_id, "status": self.status, "folder": self.folder,
            "run_id": self.summary.run_id if self.summary else None, "created": self.created,
            "problem": self.problem,
        }  # fmt: skip


def _latest(center_dir: Path) -> Path | None:
    """The newest run folder of a center (run ids sort by their UTC start time)."""
    runs = sorted(p for p in center_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    return runs[-1] if runs else None


def _load(center_dir: Path, now: datetime, max_age: timedelta) -> Center:
    name = center_dir.name
    if not is_slug(name):
        return Center(
            name, "failed", str(center_dir), f"{center_dir}: the folder name is not a center slug"
        )
    folder = _latest(center_dir)
    if folder is None:
        return Center(name, "failed", str(center_dir), f"{center_dir}: holds no summary folder")
    try:
        summary, created = read_summary(folder, name)
    except SummaryProblem as problem:
        return Center(name, "failed", str(folder), str(problem))
    stale = now - created > max_age
    status = "stale" if stale else "used"
    note = f"{folder}: created {created:%Y-%m-%d}, older than {max_age.days} days" if stale else ""
    return Center(name, status, str(folder), note, created.isoformat(timespec="seconds"), summary)


def _claimed_center(center_dir: Path) -> str | None:
    """The center id the newest summary.json of a folder claims, when it can be read."""
    folder = _latest(center_dir) if center_dir.is_dir() else None
    if folder is None or not (folder / SUMMARY_JSON).is_file():
        return None
    try:
        claimed = read_document(folder / SUMMARY_JSON).get("center_id")
    except SummaryProblem:
        return None
    return claimed if is_slug(claimed) else None


def _refuse_duplicates(centers: list[Center], root: Path) -> None:
    """Two folders whose summaries claim one center: neither is used (which is genuine?)."""
    claims: dict[str, list[str]] = {}
    for center in centers:
        claimed = _claimed_center(root / center.center_id)
        if claimed:
            claims.setdefault(claimed, []).append(center.center_id)
    for claimed, folders in claims.items():
        if len(folders) < 2:
            continue
        for center in centers:
            if center.center_id in folders:
                center.status, center.summary = "failed", None
                center.problem = (
                    f"{root / center.center_id}: {len(folders)} summaries claim center "
                    f"{claimed!r} (folders {', '.join(sorted(folders))}); keep only the genuine one"
                )


def _one_time_unit(centers: list[Center]) -> None:
    """Summaries in another time unit than most are not used (their times do not align)."""
    units = Counter(c.summary.time_unit for c in centers if c.summary)
    if len(units) < 2:
        return
    unit = min(units, key=lambda u: (-units[u], ["day", "week", "month"].index(u)))
    for center in centers:
        if center.summary and center.summary.time_unit != unit:
            center.problem = (
                f"{center.folder}/summary.json: time_unit {center.summary.time_unit!r} differs "
                f"from the other summaries' {unit!r}; summarize again with --time-unit {unit}"
            )
            center.status, center.summary = "failed", None


def load_centers(
    root: Path, *, max_age_days: int = 45, now: datetime | None = None
) -> list[Center]:
    """Every center folder under `root`, verified: used, stale or failed with the reason."""
    now = now or datetime.now(UTC)
    folders = sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))
    centers = [_load(folder, now, timedelta(days=max_age_days)) for folder in folders]
    _refuse_duplicates(centers, Path(root))
    _one_time_unit(centers)
    return centers


def write_summaries_json(centers: list[Center], data_root: Path) -> Path:
    path = Path(data_root) / SUMMARIES_JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"centers": [center.record() for center in centers]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
