"""The bench's consortium: generated once per (seed, centers, patients), and its mapping sets."""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from spinemet_etl.synth.consortium import WRITERS, CenterPlan, center_chunks, plan_consortium

DIRT_RATE = 0.03
KIND_SETS: dict[str, tuple[str, ...]] = {
    "csv": ("barcelona", "muenchen", "boston"),
    "excel": ("bologna", "lyon"),
    "spss": ("rotterdam",),
}
"""The mapping sets timed separately: CSV centers (compared with the floor), Excel, SPSS."""
COMPLETE_MARKER = ".complete"


def _write_plans(out: Path, plans: list[CenterPlan], seed: int) -> int:
    for plan in plans:
        center_dir = out / plan.center_id
        center_dir.mkdir(parents=True, exist_ok=True)
        writer, _ = WRITERS[plan.kind]
        writer(center_dir, center_chunks(plan, seed, DIRT_RATE))
    return len(plans)


def _split_by_size(plans: list[CenterPlan], parts: int) -> list[list[CenterPlan]]:
    """Plans dealt to `parts` workers, largest first to the least loaded (balanced patients)."""
    groups: list[list[CenterPlan]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for plan in sorted(plans, key=lambda p: -p.patients):
        lightest = loads.index(min(loads))
        groups[lightest].append(plan)
        loads[lightest] += plan.patients
    return [group for group in groups if group]


def generate_consortium(out: Path, *, centers: int, patients: int, seed: int, workers: int) -> None:
    """Write the files `spinemet synth` writes, the centers spread over `workers` processes."""
    groups = _split_by_size(plan_consortium(centers, patients), max(1, workers))
    with ProcessPoolExecutor(max_workers=len(groups)) as pool:
        list(pool.map(_write_plans, [out] * len(groups), groups, [seed] * len(groups)))


def cached_consortium(
    work: Path, *, centers: int, patients: int, seed: int, workers: int
) -> tuple[Path, bool]:
    """The landing folder for these arguments under `work`, generated unless already complete.

    Returns the folder and whether it was generated now. A folder without its completion
    marker (an interrupted generation) is removed and written again.
    """
    landing = work / f"consortium-s{seed}-c{centers}-p{patients}"
    if (landing / COMPLETE_MARKER).is_file():
        return landing, False
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir(parents=True)
    generate_consortium(landing, centers=centers, patients=patients, seed=seed, workers=workers)
    (landing / COMPLETE_MARKER).touch()
    return landing, True


def workbook_rows(path: Path) -> int:
    """Every non-blank row of every sheet but its header.

    Title rows above a header count as data rows (two a sheet at most in the synthetic
    exports, against thousands of records).
    """
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    rows = 0
    for name in workbook.sheet_names:
        grid = workbook.get_sheet_by_name(name).to_python()
        rows += max(0, sum(1 for row in grid if any(cell != "" for cell in row)) - 1)
    workbook.close()
    return rows


def template_of(center_id: str) -> str:
    """`boston_11` -> `boston`: the demo center a clone was copied from."""
    return re.sub(r"_\d+$", "", center_id)


def write_mapping_sets(landing: Path, templates: Path, out: Path) -> dict[str, Path]:
    """One folder of mapping files per kind set, plus `all`; each with the shared vocabularies.

    A clone's mapping is its template's file with the center id replaced.
    """
    sets = {name: out / name for name in (*KIND_SETS, "all")}
    for folder in sets.values():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(templates / "vocabularies", folder / "vocabularies")
    for center_dir in sorted(p for p in landing.iterdir() if p.is_dir()):
        center_id, template = center_dir.name, template_of(center_dir.name)
        text = (templates / f"{template}.yaml").read_text(encoding="utf-8")
        text = re.sub(rf"(?m)^center_id: {template}$", f"center_id: {center_id}", text)
        kind = next(name for name, members in KIND_SETS.items() if template in members)
        for name in (kind, "all"):
            (sets[name] / f"{center_id}.yaml").write_text(text, encoding="utf-8")
    return sets
