"""R regenerates tests/r/reference/ exactly: the committed R results are current.

Needs `Rscript` with the `survival` and `metafor` packages; skipped without it (and CI,
which installs R through .ci/run, turns that skip into a failure: tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.endpoints.r_reference import REFERENCE, require_rscript, write_reference

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.csv"))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_rscript()
    folder = tmp_path_factory.mktemp("r_reference")
    write_reference(folder)
    return folder


def test_r_writes_the_same_files(regenerated: Path) -> None:
    assert _files(regenerated) == _files(REFERENCE)
    assert len(_files(REFERENCE)) == 9


@pytest.mark.parametrize(
    "name",
    ["lung.csv", "veteran.csv", "lung/patients.csv", "lung/endpoints.csv",
     "veteran_and_odd/patients.csv", "veteran_and_odd/endpoints.csv", "reml.csv",
     "fifty_centers/patients.csv", "fifty_centers/stratified_c.csv"],
)  # fmt: skip
def test_r_gives_the_committed_results(regenerated: Path, name: str) -> None:
    """Equal values (floats to 1e-12 relative: another libm may move a 15th digit)."""
    committed = pd.read_csv(REFERENCE / name)
    fresh = pd.read_csv(regenerated / name)
    pd.testing.assert_frame_equal(fresh, committed, check_exact=False, rtol=1e-12, atol=0)
