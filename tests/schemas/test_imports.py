"""Building the pandera models loads no Dask, unless Dask's dataframe is already in use."""

from __future__ import annotations

import subprocess
import sys

BUILD = "from schemas.patients import PatientsModel; PatientsModel.to_schema(); "


def _loaded(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_building_the_patients_schema_imports_no_dask_dataframe() -> None:
    assert _loaded(BUILD + "import sys; print('dask.dataframe' in sys.modules)") == "False"


def test_with_dask_dataframe_imported_first_pandera_sees_dask_types() -> None:
    code = (
        "import dask.dataframe, sys; " + BUILD
        + "from pandera.typing import dask; print(dask.DASK_INSTALLED)"
    )  # fmt: skip
    assert _loaded(code) == "True"
