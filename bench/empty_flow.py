"""A Prefect flow that does nothing, started the way `spinemet run` starts its flow.

The bench times this script in a subprocess (`empty_flow_s`): interpreter start,
imports, Prefect's temporary server, one flow run. It lives outside `spinemet_etl/`
because it imports Prefect.
"""

from __future__ import annotations

from prefect import flow

from flows.entrypoints import run_flow
from spinemet_etl.settings import load_settings


@flow(name="spinemet-bench-empty", log_prints=False)
def empty() -> None:
    """Nothing at all."""


if __name__ == "__main__":
    run_flow(empty, load_settings())
