"""GX Data Docs of the gate's validations, a static site under `<data>/reports/data_docs/`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from spinemet_etl.errors import DiskFullError, disk_full_as_error, disk_full_error, is_disk_full
from spinemet_etl.quality.gate import GateResult
from spinemet_etl.quality.offline import make_offline

logger = logging.getLogger(__name__)

SITE_NAME = "spinemet"
GX_FOLDER = "_gx"
"""GX's project folder (stores of validation results) under the data root, outside the dataset."""
SITE = Path("reports") / "data_docs"
RENDER_LOGGER = "great_expectations.render.renderer.site_builder"
"""GX logs each page it fails to render (or to write) there, as an ERROR with a traceback."""
BACKEND_ID = re.compile(r"store_backend_id = [0-9a-f-]{36}\s*")
DOCS_LOST = "the data, the manifest and GX's stores are fine and the next run rebuilds the site"
VALIDATIONS = Path("uncommitted") / "validations" / "patients"
"""Where GX's project stores the centers' validations (suite `patients.<center>`)."""


def _file_context(data_root: Path) -> Any:
    """The data root's GX project, its Data Docs site pointed at `reports/data_docs/`."""
    import great_expectations as gx

    context = gx.get_context(mode="file", context_root_dir=str(data_root / GX_FOLDER))
    site: Any = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str((data_root / SITE).resolve()),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.list_data_docs_sites()
    if sites.get(SITE_NAME) != site:
        for name in list(sites):
            context.delete_data_docs_site(name)
        context.add_data_docs_site(SITE_NAME, site)
    if context.variables.analytics_enabled is not False:
        context.enable_analytics(False)
    return context


def _is_whole(path: Path) -> bool:
    """Whether a file of GX's project reads back as what GX wrote (not cut short).

    Its JSON and YAML files and store ids are parsed; other files are taken as whole.
    """
    if path.suffix not in (".json", ".yml") and path.name != ".ge_store_backend_id":
        return True
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            json.loads(text)
        elif path.name == "great_expectations.yml":
            return isinstance(yaml.safe_load(text), dict)
        elif path.suffix == ".yml":
            yaml.safe_load(text)
        elif path.name == ".ge_store_backend_id":
            return BACKEND_ID.fullmatch(text) is not None
    except (ValueError, yaml.YAMLError):
        return False
    return True


def drop_broken_store_files(gx_root: Path) -> list[Path]:
    """Remove the files of GX's project that a full disk or a kill cut short; returns them.

    GX writes its stores and its project file in place, not by a rename: a half-written
    validation result would break every later Data Docs build, a half-written project
    file every later context. GX recreates what is removed; a lost validation result is
    one run's page missing from the site.
    """
    broken = [path for path in sorted(gx_root.rglob("*")) if path.is_file() and not _is_whole(path)]
    for path in broken:
        path.unlink()
    return broken


@contextmanager
def _render_errors() -> Iterator[list[BaseException]]:
    """Keep what GX fails to render or write, instead of its logged tracebacks."""
    caught: list[BaseException] = []

    def keep(record: logging.LogRecord) -> bool:
        error = sys.exc_info()[1]
        if record.levelno < logging.ERROR or error is None:
            return True
        caught.append(error)
        return False

    render_logger = logging.getLogger(RENDER_LOGGER)
    render_logger.addFilter(keep)
    try:
        yield caught
    finally:
        render_logger.removeFilter(keep)


def prune_validations(data_root: Path, center_ids: Iterable[str], keep: int) -> int:
    """Remove each center's validations but its `keep` newest from GX's store, and their
    pages from the site; returns how many were removed. `keep` 0 keeps every validation.

    Notes:
        GX stores a center's validation at `patients/<center>/<run name>/<run time>/`,
        in the store and in the site alike; the run time (`20261127T020000.000000Z`)
        orders them. The manifests keep every run's gate record: only GX's copy and its
        page go. Without this, GX's store grew by one validation per gated center each
        night, and with it the index each run rebuilds (0.16 s with 51 validations,
        0.96 s with 501) and the disk.
    """
    if keep <= 0:
        return 0
    removed = 0
    for center_id in center_ids:
        stored = data_root / GX_FOLDER / VALIDATIONS / center_id
        times = [time for run in _folders(stored) for time in _folders(run)]
        for time in sorted(times, key=lambda folder: folder.name, reverse=True)[keep:]:
            run_name = time.parent.name
            page = data_root / SITE / "validations" / "patients" / center_id / run_name
            for folder in (time, page / time.name):
                shutil.rmtree(folder, ignore_errors=True)
            for folder in (time.parent, page):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            removed += 1
    return removed


def _folders(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.is_dir()] if folder.is_dir() else []


def build_data_docs(
    data_root: Path,
    results: Iterable[GateResult],
    *,
    run_id: str | None = None,
    keep: int = 0,
) -> Path:
    """Store the gate's validations in the data root's GX project and rebuild the Data Docs.

    Returns the site's `index.html`. The site lists each center's `keep` newest
    validations (prune_validations; 0 lists all).
    Files of GX's project cut short by an earlier failure are removed first. A page GX
    cannot render is logged in one line, without GX's traceback. A full disk raises
    `DiskFullError` naming the site, and removes the site (no half-written page stays;
    the next build writes it whole). Every page works offline
    (`spinemet_etl.quality.offline`): nothing is fetched from a CDN.
    """
    site = data_root / SITE
    dropped = drop_broken_store_files(data_root / GX_FOLDER)
    if dropped:
        logger.warning("Data Docs: %d cut-short file(s) of GX's stores removed", len(dropped))
    try:
        with disk_full_as_error(site, consequence=DOCS_LOST), _render_errors() as failed:
            _store_and_build(data_root, results, run_id, keep)
        if any(is_disk_full(error) for error in failed):
            raise disk_full_error(site, consequence=DOCS_LOST)
    except DiskFullError:
        drop_broken_store_files(data_root / GX_FOLDER)
        shutil.rmtree(site, ignore_errors=True)
        raise
    if failed:
        kinds = ", ".join(sorted({type(error).__name__ for error in failed}))
        logger.warning("Data Docs: %d page(s) not rendered by GX (%s)", len(failed), kinds)
    return site / "index.html"


def _store_and_build(
    data_root: Path, results: Iterable[GateResult], run_id: str | None, keep: int
) -> None:
    """Add the validations to GX's store, prune their centers' oldest, and build the site:
    its index and the pages of these validations only, or every page when the site has
    no index yet (a first build, or after a full disk removed it).

    Notes:
        Building every page re-renders every validation stored: 0.7 s with 51
        validations, 5.3 s with 501 (a consortium of 50 centers after ten runs); the
        index and one new page took 0.16 and 0.96 s.
    """
    context = _file_context(data_root)
    keys = _store(context, results, run_id)
    centers = sorted({key.batch_identifier for key in keys})
    pruned = prune_validations(data_root, centers, keep)
    if pruned:
        logger.info(
            "Data Docs: %d validation(s) beyond each center's newest %d removed", pruned, keep
        )
    site = data_root / SITE
    whole = not (site / "index.html").is_file()
    if not (whole or keys):
        return
    before = _page_stamps(site)
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=None if whole else keys)
    after = _page_stamps(site)
    make_offline(site, [page for page, stamp in after.items() if before.get(page) != stamp])


def _store(context: Any, results: Iterable[GateResult], run_id: str | None) -> list[Any]:
    """Each gated center's validation in GX's store, under the run; their store keys.

    The run name is `run-<run id>`: GX parses a run name as a time when it can, and a run
    id whose suffix is all digits (`…Z-6427`) parses as an impossible UTC offset that
    breaks the page's rendering.
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run_name = f"run-{run_id}" if run_id is not None else None
    run = RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.UTC))
    keys = []
    for gate in results:
        validation = gate.gx_validation()
        if validation is None:
            continue
        suite_id = ExpectationSuiteIdentifier(name=f"patients.{gate.center_id}")
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_id, run_id=run, batch_identifier=gate.center_id
        )
        validation.meta["run_id"] = run
        context.validation_results_store.set(key, validation)
        keys.append(key)
    return keys


def _page_stamps(site: Path) -> dict[Path, tuple[int, int]]:
    """Every page of the site with its (mtime in ns, size): which pages a build wrote."""
    return {page: (stat.st_mtime_ns, stat.st_size)
            for page in site.rglob("*.html") for stat in [page.stat()]}  # fmt: skip
