"""GX Data Docs of the gate's validations, a static site under `<data>/reports/data_docs/`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spinemet_etl.quality.gate import GateResult

SITE_NAME = "spinemet"
GX_FOLDER = "_gx"
"""GX's project folder (stores of validation results) under the data root, outside the dataset."""


def _file_context(data_root: Path) -> Any:
    """The data root's GX project, its Data Docs site pointed at `reports/data_docs/`."""
    import great_expectations as gx

    context = gx.get_context(mode="file", context_root_dir=str(data_root / GX_FOLDER))
    site: Any = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str((data_root / "reports" / "data_docs").resolve()),
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


def gx_run_name(run_id: str | None) -> str | None:
    """The name under which a run's validations are listed in the Data Docs."""
    return None if run_id is None else f"run {run_id}"


def build_data_docs(
    data_root: Path, results: Iterable[GateResult], *, run_id: str | None = None
) -> Path:
    """Store the gate's validations in the data root's GX project and rebuild the Data Docs.

    Returns the site's `index.html`. Earlier runs' validations stay listed in the site.

    Notes:
        GX's page renderer parses the run name as a date: a run id whose random suffix is
        four digits (`-3572`) reads as a time-zone offset beyond 24 h, and the page then
        fails to render. The run name is therefore `run <run_id>`, which never parses.
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = _file_context(data_root)
    run = RunIdentifier(run_name=gx_run_name(run_id), run_time=dt.datetime.now(dt.UTC))
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
    context.build_data_docs(site_names=[SITE_NAME])
    return data_root / "reports" / "data_docs" / "index.html"
