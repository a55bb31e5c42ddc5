"""The imports a run will need, done while Prefect's temporary server starts."""

from __future__ import annotations

import contextlib
import importlib
import threading

from spinemet_etl.errors import SpinemetError
from spinemet_etl.pipeline import discover_centers, landing_sizes, mapping_path
from spinemet_etl.settings import Settings
from spinemet_etl.state import cached_fingerprint, published_state
from spinemet_etl.workers import plan_worker_memory, start_workers

HARMONIZING_MODULES = (
    "spinemet_etl.harmonize",
    "spinemet_etl.quality.gate",
    "great_expectations",
    "great_expectations.expectations",
)
"""What harmonizing and gating a center import (Great Expectations alone takes ~6 s)."""
REPORT_MODULES = (
    "spinemet_etl.endpoints",
    "spinemet_etl.report",
    "scipy.special",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
)
"""What computing the endpoints and drawing the page of a changed dataset imports."""
_REPORT_IMPORTS = threading.Event()
"""Set once the run's largest centers are done (release_report_imports)."""


def harmonizing_likely(settings: Settings) -> bool:
    """Whether this run will probably harmonize some center.

    True for a full refresh, or when a center was never published, or its landing files
    (by size and times), mapping file, vocabularies or key differ from its last publish.
    A hint only: it reads state files and stats files, never hashes exports; the run
    decides for itself.
    """
    if settings.full_refresh:
        return True
    data_root = settings.data_path
    try:
        centers = discover_centers(settings)
    except SpinemetError:
        return False  # the run reports it
    for center_id in centers:
        previous = published_state(data_root, center_id)
        fingerprint = cached_fingerprint(
            mapping_path(settings, center_id), settings.landing, center_id,
            key_fingerprint=settings.key_fingerprint, data_root=data_root,
        )  # fmt: skip
        if previous is None or fingerprint is None or previous["fingerprint"] != fingerprint:
            return True
    return False


def warm_up(settings: Settings, *, harmonize_all: bool = False, workers: int = 0) -> None:
    """Prepare what harmonizing needs when the run will probably harmonize a center.

    With `workers`, start that many worker processes (spinemet_etl.workers: they import
    the harmonizer and Great Expectations once, in their fork server), and import what
    the report of a changed dataset needs once the run releases it
    (release_report_imports); else import both here.

    Notes:
        Run while Prefect's server starts in another process (flows.server), this moves
        about 8 s of imports off the first center's path. A no-op night does none of it.
        The report's modules (scipy, matplotlib: about 40 MB) are not held while the
        workers harmonize the largest centers, when a run's memory peaks.
    """
    if not (harmonize_all or harmonizing_likely(settings)):
        return
    if workers:
        with contextlib.suppress(SpinemetError):  # the run reports it
            centers = discover_centers(settings)
            plan_worker_memory(landing_sizes(settings, centers).values())
        start_workers(workers)
        _REPORT_IMPORTS.clear()
        threading.Thread(target=_import_when_released, name="spinemet-report-imports",
                         daemon=True).start()  # fmt: skip
        return
    for module in HARMONIZING_MODULES:
        importlib.import_module(module)
    import_report_modules()


def release_report_imports() -> None:
    """Let a warm-up's deferred imports of the report's modules start (warm_up)."""
    _REPORT_IMPORTS.set()


def _import_when_released() -> None:
    _REPORT_IMPORTS.wait()
    import_report_modules()


def import_report_modules() -> None:
    """Import what computing the endpoints and the page imports (`spinemet report`)."""
    for module in REPORT_MODULES:
        importlib.import_module(module)
