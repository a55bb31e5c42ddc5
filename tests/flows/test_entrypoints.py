"""The CLI's entry points on a small synthetic consortium, with the real pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.entrypoints import demo_centers_dir, flow_parameters, run_nightly, run_report
from spinemet_etl.errors import ConfigError
from spinemet_etl.settings import Settings, load_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")


def settings_for(tmp_path: Path, centers: tuple[str, ...]) -> Settings:
    from spinemet_etl.synth import write_consortium

    write_consortium(tmp_path / "landing", n_patients=60, seed=11)
    flags = {
        "landing": tmp_path / "landing", "centers_dir": demo_centers_dir(),
        "data": str(tmp_path / "data"), "centers": centers,
    }  # fmt: skip
    return load_settings(flags, environ={})


def test_run_nightly_then_report_on_real_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, ("boston",))
    assert run_nightly(settings) == "ok"
    printed = capsys.readouterr().out
    assert "  boston: published" in printed
    assert "report.html" in printed
    html = tmp_path / "data" / "reports" / "report.html"
    first = html.stat().st_mtime_ns

    assert run_report(settings) == "ok"
    assert html.stat().st_mtime_ns > first


def test_unknown_center_is_a_config_error(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, ("atlantis",))
    with pytest.raises(ConfigError, match="atlantis"):
        run_nightly(settings)


def test_flow_parameters_are_json_and_never_carry_the_key() -> None:
    settings = Settings(landing=Path("in"), pseudonym_key="secret-key", centers=("lyon",))
    parameters = flow_parameters(settings)
    assert parameters["landing"] == "in" and parameters["centers"] == ["lyon"]
    assert "secret-key" not in repr(parameters)
