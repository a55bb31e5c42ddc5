"""Shared fixtures for the synthetic-consortium tests: one small consortium written once."""

from __future__ import annotations

from pathlib import Path

import pytest

from spinemet_etl.synth import write_consortium

SMALL = {"n_centers": 7, "n_patients": 420, "seed": 7, "dirt_rate": 0.3}


@pytest.fixture(scope="session")
def small_args() -> dict[str, float | int]:
    """The `write_consortium` arguments of `small_consortium`."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def small_consortium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-center consortium (6 kinds + `bologna_07`), 420 patients, 30 % dirt (every kind)."""
    out = tmp_path_factory.mktemp("synth")
    write_consortium(out, **SMALL)  # type: ignore[arg-type]
    return out
