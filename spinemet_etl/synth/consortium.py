"""The consortium: which centers, how many patients each, seeds, and writing every center."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from spinemet_etl.errors import ConfigError
from spinemet_etl.synth.centers import draw_center
from spinemet_etl.synth.cohort import simulate_cohort
from spinemet_etl.synth.csv_boston import DIRT as BOSTON_DIRT
from spinemet_etl.synth.csv_boston import write_boston
from spinemet_etl.synth.csv_muenchen import DIRT as MUENCHEN_DIRT
from spinemet_etl.synth.csv_muenchen import write_muenchen
from spinemet_etl.synth.dirt import DirtStyle, apply_dirt
from spinemet_etl.synth.identity import STYLES, add_identifiers
from spinemet_etl.synth.profiles import KINDS, PROFILES, CenterProfile
from spinemet_etl.synth.redcap_barcelona import DIRT as BARCELONA_DIRT
from spinemet_etl.synth.redcap_barcelona import write_barcelona
from spinemet_etl.synth.sav_rotterdam import DIRT as ROTTERDAM_DIRT
from spinemet_etl.synth.sav_rotterdam import write_rotterdam
from spinemet_etl.synth.xls_lyon import DIRT as LYON_DIRT
from spinemet_etl.synth.xls_lyon import write_lyon
from spinemet_etl.synth.xlsx_bologna import DIRT as BOLOGNA_DIRT
from spinemet_etl.synth.xlsx_bologna import write_bologna

Chunks = Iterable[tuple[pd.DataFrame, np.random.Generator]]
Writer = Callable[[Path, Chunks], list[Path]]

WRITERS: dict[str, tuple[Writer, DirtStyle]] = {
    "bologna": (write_bologna, BOLOGNA_DIRT),
    "barcelona": (write_barcelona, BARCELONA_DIRT),
    "rotterdam": (write_rotterdam, ROTTERDAM_DIRT),
    "muenchen": (write_muenchen, MUENCHEN_DIRT),
    "boston": (write_boston, BOSTON_DIRT),
    "lyon": (write_lyon, LYON_DIRT),
}
# Largest center each non-CSV kind is written at (workbooks and .sav are built in memory;
# .xls holds at most 65 536 rows per sheet). The rest goes to the CSV kinds.
PATIENT_CAPS: dict[str, int] = {"bologna": 2_000, "rotterdam": 100_000, "lyon": 10_000}
CHUNK_PATIENTS = 20_000


@dataclass(frozen=True)
class CenterPlan:
    """One center to write: its id, its template kind, its 1-based number, its size."""

    center_id: str
    kind: str
    number: int
    patients: int


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    exact = np.array(weights, dtype=float) * total / sum(weights)
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return [int(c) for c in counts]


def _allocate(total: int, kinds: list[str]) -> list[int]:
    """Split `total` patients over centers by default size, respecting the caps.

    Every center gets at least one patient; what a capped center cannot take goes
    to the CSV centers in proportion to their default sizes.
    """
    weights = [float(PROFILES[k].default_patients) for k in kinds]
    sizes = [1 + s for s in _largest_remainder(total - len(kinds), weights)]
    caps = [PATIENT_CAPS.get(k) for k in kinds]
    overflow = sum(max(0, s - c) for s, c in zip(sizes, caps, strict=True) if c is not None)
    sizes = [s if c is None else min(s, c) for s, c in zip(sizes, caps, strict=True)]
    uncapped = [i for i, c in enumerate(caps) if c is None]
    extra = _largest_remainder(overflow, [weights[i] for i in uncapped])
    for i, more in zip(uncapped, extra, strict=True):
        sizes[i] += more
    return sizes


def plan_consortium(n_centers: int, n_patients: int | None) -> list[CenterPlan]:
    """The centers to write: the six kinds, then clones `<kind>_<NN>` cycling through them."""
    if n_centers < len(KINDS):
        raise ConfigError(
            f"--centers {n_centers} is too few: the synthetic consortium has at least "
            f"{len(KINDS)} centers, one per source kind; pass 6 or more."
        )
    if n_patients is not None and n_patients < n_centers:
        raise ConfigError(
            f"--patients {n_patients} is fewer than the {n_centers} centers; pass at least "
            "one patient per center."
        )
    kinds = [KINDS[i % len(KINDS)] for i in range(n_centers)]
    ids = [k if i < len(KINDS) else f"{k}_{i + 1:02d}" for i, k in enumerate(kinds)]
    if n_patients is None:
        sizes = [PROFILES[k].default_patients for k in kinds]
    else:
        sizes = _allocate(n_patients, kinds)
    return [
        CenterPlan(center_id, kind, i + 1, size)
        for i, (center_id, kind, size) in enumerate(zip(ids, kinds, sizes, strict=True))
    ]


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def center_profile(plan: CenterPlan, seed: int) -> CenterProfile:
    """The center's own parameters: its template's, drawn with between-center variation.

    A calibrated template (a published series) keeps its values at its own center; its
    clones are other hospitals exporting the same files, so they are drawn like any
    other center. The draw has its own random stream, from (seed, center number), so
    every chunk of the center shares it.
    """
    template = PROFILES[plan.kind]
    if plan.number > len(KINDS):
        template = replace(template, calibrated=False)
    return draw_center(template, _rng(seed, plan.number))


def center_chunks(
    plan: CenterPlan, seed: int, dirt_rate: float, chunk_patients: int = CHUNK_PATIENTS
) -> Iterator[tuple[pd.DataFrame, np.random.Generator]]:
    """The center's patients in chunks: (latent cohort with identifiers and dirt, render rng).

    Each chunk has its own random streams, derived from (seed, center number, chunk
    number), so chunks can be produced one at a time and the result depends only on
    the arguments.
    """
    profile = center_profile(plan, seed)
    _, dirt_style = WRITERS[plan.kind]
    for chunk, start in enumerate(range(0, plan.patients, chunk_patients)):
        n = min(chunk_patients, plan.patients - start)
        rng = _rng(seed, plan.number, chunk, 0)
        cohort = simulate_cohort(profile, n, rng)
        cohort = add_identifiers(cohort, STYLES[plan.kind], start, rng)
        yield apply_dirt(cohort, dirt_style, dirt_rate, rng), _rng(seed, plan.number, chunk, 1)


def write_consortium(
    out: Path,
    *,
    n_centers: int = 6,
    n_patients: int | None = None,
    seed: int = 20100,
    dirt_rate: float = 0.03,
) -> list[Path]:
    """Write a synthetic consortium's exports into `out/<center_id>/`; return the files.

    See docs/synthetic-consortium.md for every center's files, columns and codes.
    Same arguments, same bytes.
    """
    if not 0.0 <= dirt_rate <= 1.0:
        raise ConfigError(f"--dirt {dirt_rate} is outside 0 to 1; pass a share such as 0.03.")
    written: list[Path] = []
    for plan in plan_consortium(n_centers, n_patients):
        center_dir = out / plan.center_id
        center_dir.mkdir(parents=True, exist_ok=True)
        writer, _ = WRITERS[plan.kind]
        written.extend(writer(center_dir, center_chunks(plan, seed, dirt_rate)))
    return written


def latent_cohort(
    center_id: str,
    *,
    n_centers: int = 6,
    n_patients: int | None = None,
    seed: int = 20100,
    dirt_rate: float = 0.03,
) -> pd.DataFrame:
    """The truth behind one center's files for these `write_consortium` arguments.

    One row per source record in canonical values, with the identifiers
    (`record_number`, names, `birth_date`, `address`, `phone`) and the columns `dirt`
    (the dirt kind given to the row, "" if none) and `is_copy` (the second record of
    a duplicated patient). Useful to check a harmonized center against what was
    written.
    """
    plans = {plan.center_id: plan for plan in plan_consortium(n_centers, n_patients)}
    if center_id not in plans:
        raise ConfigError(
            f"center `{center_id}` is not in a synthetic consortium of {n_centers} centers; "
            f"pick one of {', '.join(plans)}."
        )
    chunks = [frame for frame, _ in center_chunks(plans[center_id], seed, dirt_rate)]
    return pd.concat(chunks, ignore_index=True)
