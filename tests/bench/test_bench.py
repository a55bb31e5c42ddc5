"""The bench: its pieces on tiny inputs, and one small end-to-end run (keys and ratios only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spinemet_etl.bench.baseline import convert_csv_exports
from spinemet_etl.bench.cli import format_table, main
from spinemet_etl.bench.consortium import (
    _split_by_size,
    template_of,
    workbook_rows,
    write_mapping_sets,
)
from spinemet_etl.bench.measure import Timing
from spinemet_etl.bench.run import (
    BenchConfig,
    change_one_export,
    child_env,
    linked_landing,
    measure_preview,
    repo_root,
    results_record,
)
from spinemet_etl.bench.server import free_port, prefect_server
from spinemet_etl.errors import SpinemetError
from spinemet_etl.synth.consortium import CenterPlan

RESULT_KEYS = {
    "date", "package_version", "machine", "patients", "centers", "prefect_server", "rows",
    "baseline_s", "ingest_s", "ingest_excel_s", "ingest_spss_s", "empty_flow_s",
    "noop_s", "one_changed_s", "one_changed_ratio", "report_s", "preview_s", "summarize_s",
    "pool_s", "peak_rss_mb", "ingest_ratio",
    "noop_ratio", "excel_engine", "excel_row_us", "csv_row_us", "excel_row_ratio",
}  # fmt: skip
MACHINE_KEYS = {"cores", "memory_gib", "cpu_model", "python", "os"}
COSTS = {"excel": 2e-5, "csv": 1e-5}


@pytest.mark.parametrize(
    ("center_id", "template"),
    [("boston", "boston"), ("boston_11", "boston"), ("bologna_07", "bologna")],
    ids=["template", "clone", "clone-low-number"],
)
def test_template_of(center_id: str, template: str) -> None:
    assert template_of(center_id) == template


def test_split_by_size_balances_patients() -> None:
    plans = [CenterPlan(f"c{i}", "boston", i, size) for i, size in enumerate([50, 40, 30, 20])]
    groups = _split_by_size(plans, 2)
    assert sorted(sum(p.patients for p in group) for group in groups) == [70, 70]


def test_write_mapping_sets_replaces_the_center_id(tmp_path: Path) -> None:
    for center_id in ("boston", "boston_11", "lyon", "rotterdam_09"):
        (tmp_path / "landing" / center_id).mkdir(parents=True)
    sets = write_mapping_sets(tmp_path / "landing", repo_root() / "centers", tmp_path / "sets")
    assert sorted(p.name for p in sets["csv"].glob("*.yaml")) == ["boston.yaml", "boston_11.yaml"]
    assert [p.name for p in sets["spss"].glob("*.yaml")] == ["rotterdam_09.yaml"]
    assert len(list(sets["all"].glob("*.yaml"))) == 4
    clone = (sets["csv"] / "boston_11.yaml").read_text(encoding="utf-8")
    assert "\ncenter_id: boston_11\n" in clone
    assert (sets["excel"] / "vocabularies" / "sex.yaml").is_file()


def test_baseline_converts_comma_and_semicolon_exports(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "boston").mkdir(parents=True)
    (landing / "muenchen").mkdir()
    (landing / "boston" / "a.csv").write_text("id,age\n1,50\n2,61\n", encoding="utf-8")
    (landing / "muenchen" / "b.csv").write_bytes("Nr;Primärtumor\n1;Schilddrüse\n".encode("cp1252"))
    assert convert_csv_exports(landing, tmp_path / "out") == 3
    assert (tmp_path / "out" / "muenchen" / "b.parquet").is_file()


MEASURE_A_200_MB_CHILD = """
import sys
from pathlib import Path
from spinemet_etl.bench.measure import run_timed
child = "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"
timing = run_timed([sys.executable, "-c", child], Path(sys.argv[1]))
print(timing.returncode, timing.peak_rss_mb)
"""


def test_run_timed_reports_the_childs_peak_memory(tmp_path: Path) -> None:
    """Measured from a small parent, as the bench does.

    A forked child starts with its parent's resident set, so its peak is never below
    that; the test process itself is too large to be that parent.
    """
    script = [sys.executable, "-c", MEASURE_A_200_MB_CHILD, str(tmp_path / "child.log")]
    output = subprocess.run(script, capture_output=True, text=True, check=True).stdout
    returncode, peak_rss_mb = output.split()
    assert returncode == "0"
    assert 200 <= float(peak_rss_mb) < 400


MEASURE_TWO_150_MB_GRANDCHILDREN = """
import sys
from pathlib import Path
from spinemet_etl.bench.measure import run_timed
hold = "import time; b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
parent = (
    "import subprocess, sys; "
    f"children = [subprocess.Popen([sys.executable, '-c', {hold!r}]) for _ in range(2)]; "
    "[child.wait() for child in children]"
)
timing = run_timed([sys.executable, "-c", parent], Path(sys.argv[1]))
print(timing.returncode, timing.peak_rss_mb)
"""


def test_run_timed_sums_the_processes_of_a_run(tmp_path: Path) -> None:
    """Two worker-like descendants at once count twice (ru_maxrss alone gives one)."""
    script = [sys.executable, "-c", MEASURE_TWO_150_MB_GRANDCHILDREN, str(tmp_path / "c.log")]
    output = subprocess.run(script, capture_output=True, text=True, check=True).stdout
    returncode, peak_rss_mb = output.split()
    assert returncode == "0"
    assert 300 <= float(peak_rss_mb) < 600


def _timing(seconds: float) -> Timing:
    return Timing(seconds=seconds, peak_rss_mb=123.4, returncode=0)


def test_results_record_ratios() -> None:
    config = BenchConfig(patients=100, centers=6, seed=1, work=Path("unused"))
    record = results_record(
        baseline=_timing(2.0), ingest=_timing(7.0), excel=_timing(1.0), spss=_timing(1.0),
        empty=_timing(4.0), noop=_timing(5.0), one_changed=_timing(8.0), report=_timing(3.0),
        preview=_timing(1.5),
        rows=10, row_costs=COSTS, config=config, summarize=_timing(1.0), pool=_timing(0.5),
    )  # fmt: skip
    assert set(record) == RESULT_KEYS
    assert record["ingest_ratio"] == 3.5
    assert record["noop_ratio"] == 1.25
    assert record["one_changed_ratio"] == 1.6
    assert record["peak_rss_mb"] == 123.4
    assert record["preview_s"] == 1.5


def test_excel_row_ratio_is_the_excel_cost_a_row_over_the_csv_cost() -> None:
    config = BenchConfig(patients=100, centers=6, seed=1, work=Path("unused"))
    record = results_record(
        baseline=_timing(2.0), ingest=_timing(10.0), excel=_timing(7.0), spss=_timing(1.0),
        empty=_timing(1.0), noop=_timing(5.0), one_changed=_timing(6.0), report=_timing(3.0),
        preview=_timing(1.0),
        summarize=_timing(1.0), pool=_timing(1.0), rows=60, config=config,
        row_costs={"excel": 30e-6, "csv": 12e-6},
    )  # fmt: skip
    assert (record["excel_row_us"], record["csv_row_us"]) == (30.0, 12.0)
    assert record["excel_row_ratio"] == 2.5
    assert record["excel_engine"] == "calamine"


def test_one_export_changes_in_the_linked_landing_only(tmp_path: Path) -> None:
    source = tmp_path / "consortium"
    (source / "boston").mkdir(parents=True)
    (source / "boston" / "registry.csv").write_bytes(b"id,age\r\n1,50\r\n2,61\r\n")
    (source / "lyon").mkdir()
    (source / "lyon" / "export.xls").write_bytes(b"workbook")
    landing = linked_landing(source, tmp_path / "landing")
    assert (landing / "lyon" / "export.xls").samefile(source / "lyon" / "export.xls")
    change_one_export(landing / "boston")
    assert (landing / "boston" / "registry.csv").read_bytes() == b"id,age\r\n1,50\r\n"
    assert (source / "boston" / "registry.csv").read_bytes().endswith(b"2,61\r\n")
    assert sorted(p.name for p in (landing / "boston").iterdir()) == ["registry.csv"]


def test_excel_engine_flag_reaches_every_step(tmp_path: Path) -> None:
    from spinemet_etl.readers.calamine import ENGINE_VARIABLE

    assert child_env(tmp_path)[ENGINE_VARIABLE] == "calamine"
    assert child_env(tmp_path, "openpyxl")[ENGINE_VARIABLE] == "openpyxl"


def test_workbook_rows_counts_every_sheets_records(tmp_path: Path) -> None:
    """Counted by openpyxl and xlrd here: non-blank rows of every sheet but the header."""
    import xlrd
    from openpyxl import load_workbook

    from spinemet_etl.synth import write_consortium

    write_consortium(tmp_path, n_patients=600, seed=3)
    [xlsx] = sorted(tmp_path.glob("bologna/*.xlsx"))
    expected = 0
    for sheet in load_workbook(xlsx, read_only=True).worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        expected += sum(1 for row in rows if any(c not in (None, "") for c in row)) - 1
    assert expected > 100
    assert workbook_rows(xlsx) == expected
    [xls] = sorted(tmp_path.glob("lyon/*.xls"))
    expected = 0
    for sheet in xlrd.open_workbook(xls).sheets():
        rows = [sheet.row_values(i) for i in range(sheet.nrows)]
        expected += sum(1 for row in rows if any(c != "" for c in row)) - 1
    assert expected > 50
    assert workbook_rows(xls) == expected


def test_format_table_has_a_line_per_key() -> None:
    config = BenchConfig(patients=1000, centers=6, seed=1, work=Path("unused"))
    record = results_record(
        baseline=_timing(1.0), ingest=_timing(2.0), excel=_timing(1.0), spss=_timing(1.0),
        empty=_timing(1.0), noop=_timing(1.0), one_changed=_timing(1.0), report=_timing(1.0),
        preview=_timing(1.0),
        rows=10, row_costs=COSTS, config=config, summarize=_timing(1.0), pool=_timing(1.0),
    )  # fmt: skip
    table = format_table([record]).splitlines()
    assert "1,000 patients" in table[0]
    assert any(line.startswith("ingest_ratio") and line.endswith("2.00") for line in table)


@pytest.mark.slow
def test_measure_preview_runs_only_the_preview_step(tmp_path: Path) -> None:
    """A real `spinemet centers preview` of the demo's bologna, exit 0; scratch removed."""
    result = measure_preview(tmp_path)
    assert set(result) == {"preview_center", "preview_s"}
    assert result["preview_center"] == "bologna" and result["preview_s"] > 0
    assert not (tmp_path / "preview").exists()


@pytest.mark.slow
def test_bench_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    main([
        "--patients", "600", "--centers", "6", "--quick", "--work", str(tmp_path),
        "--out", str(out),
    ])  # fmt: skip
    results = json.loads(out.read_text(encoding="utf-8"))
    assert set(results) == RESULT_KEYS
    assert set(results["machine"]) == MACHINE_KEYS
    assert (results["patients"], results["prefect_server"]) == (600, "shared")
    assert results["rows"] >= 600
    assert results["ingest_ratio"] == pytest.approx(results["ingest_s"] / results["baseline_s"])
    assert results["noop_ratio"] == pytest.approx(results["noop_s"] / results["empty_flow_s"])
    assert results["one_changed_ratio"] == pytest.approx(
        results["one_changed_s"] / results["noop_s"]
    )
    texts = {"date", "package_version", "machine", "prefect_server", "excel_engine"}
    assert all(results[key] > 0 for key in RESULT_KEYS - texts)


def test_free_port_can_be_bound(tmp_path: Path) -> None:
    import socket

    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))
    assert 1024 <= port <= 65535


def test_a_server_that_exits_at_once_is_an_actionable_error(tmp_path: Path) -> None:
    env = {"PATH": "", "PYTHONPATH": "/nonexistent", "PYTHONNOUSERSITE": "1"}
    env["PYTHONSAFEPATH"] = "1"
    with (
        pytest.raises(SpinemetError, match="did not start"),
        prefect_server(tmp_path / "server.log", {**env, "PYTHONHOME": str(tmp_path)}),
    ):
        pass
