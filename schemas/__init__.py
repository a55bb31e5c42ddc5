"""The data contract: pandera models of the canonical tables and what is generated from them."""

from __future__ import annotations

import sys
import types


def _skip_dask_typing() -> None:
    """Tell pandera that no annotation of ours is a Dask type, before it asks by importing Dask.

    Notes:
        The first `DataFrameModel.to_schema()` of a process calls pandera's
        `get_index_types()`, which imports `pandera.typing.dask` only to learn whether
        `dask.dataframe` is installed (it is: prefect-dask). That import costs about 0.5 s
        of CPU in every process that validates (each worker, `centers preview`, the
        report), and our models use pandas types only. Where Dask's dataframe is already
        imported (a Dask cluster's worker), pandera's own module is left to load.
    """
    if "dask.dataframe" in sys.modules or "pandera.typing.dask" in sys.modules:
        return
    stand_in = types.ModuleType("pandera.typing.dask")
    stand_in.DASK_INSTALLED = False  # type: ignore[attr-defined]
    sys.modules["pandera.typing.dask"] = stand_in


_skip_dask_typing()
