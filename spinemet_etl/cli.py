"""The `spinemet` command line: parses flags, builds settings, calls the flows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from spinemet_etl.errors import ConfigError, MappingError, SourceError, SpinemetError
from spinemet_etl.settings import Settings, env_name, load_settings

EXIT_OK, EXIT_NEEDS_ATTENTION, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="spinemet",
    help=(
        "Batch ETL for a multicenter study of surgery for spinal metastases.\n\n"
        "Reads each center's exports from the landing folder, harmonizes them to the "
        "canonical `patients` table with the center's mapping file, publishes Parquet, "
        "checks data quality and computes the study endpoints.\n\n"
        "Start with `spinemet demo`. Exit status: 0 all centers published or unchanged; "
        "1 a center is held or failed (the others are still published), or the run stopped "
        "with one sentence saying why (data root locked, disk full, SIGTERM or SIGINT, "
        "--timeout, Prefect API lost); 2 usage error. Signals and time limits: "
        "docs/operations.md."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
centers_app = typer.Typer(help="Work with center mapping files.", no_args_is_help=True)
app.add_typer(centers_app, name="centers")

Landing = Annotated[
    Path | None,
    typer.Option(help=f"Landing folder, one sub-folder per center. [env: {env_name('landing')}]"),
]
CentersDir = Annotated[
    Path | None,
    typer.Option("--centers", help=f"Folder of mapping files. [env: {env_name('centers_dir')}]"),
]
Data = Annotated[
    str | None,
    typer.Option(help=f"Data root (path or file:// URL). [env: {env_name('data')}]"),
]
CenterIds = Annotated[
    list[str] | None,
    typer.Option("--center", help="Only this center (repeat for several)."),
]
TaskRunner = Annotated[
    str | None,
    typer.Option(
        help="`default` (centers harmonized in worker processes, one per core), `threads` "
        f"(all in this process) or `dask`. [env: {env_name('task_runner')}]",
    ),
]
MaxWorkers = Annotated[
    int | None,
    typer.Option(
        help=f"Centers processed at once (default: the number of cores). "
        f"[env: {env_name('max_workers')}]",
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Stop the run gracefully after this many seconds: no new center starts, "
        "those in flight are not published, the manifest says so; exit status 1. "
        f"[env: {env_name('timeout_seconds')}]",
    ),
]
DaskAddress = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address; a local cluster when omitted."),
]


def _fail(error: SpinemetError) -> NoReturn:
    typer.echo(f"error [{error.code}]: {error.message}", err=True)
    raise typer.Exit(EXIT_USAGE if isinstance(error, ConfigError) else EXIT_NEEDS_ATTENTION)


def _settings(**flags: object) -> Settings:
    try:
        return load_settings(flags)
    except ConfigError as error:
        _fail(error)


def _exit_for(status: str) -> NoReturn:
    raise typer.Exit(EXIT_OK if status == "ok" else EXIT_NEEDS_ATTENTION)


@app.command()
def run(
    landing: Landing = None,
    centers: CentersDir = None,
    data: Data = None,
    center: CenterIds = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Re-process every center even if nothing changed.")
    ] = False,
    task_runner: TaskRunner = None,
    dask_address: DaskAddress = None,
    max_workers: MaxWorkers = None,
    timeout: Timeout = None,
) -> None:
    """One run of the nightly flow, now: ingest changed exports, publish, report.

    Example: spinemet run --landing landing --centers centers --data data
    """
    settings = _settings(
        landing=landing, centers_dir=centers, data=data, centers=center,
        full_refresh=full_refresh or None, task_runner=task_runner, dask_address=dask_address,
        max_workers=max_workers, timeout_seconds=timeout,
    )  # fmt: skip
    from flows.entrypoints import run_nightly

    try:
        _exit_for(run_nightly(settings))
    except SpinemetError as error:
        _fail(error)


@app.command()
def backfill(
    center: Annotated[list[str], typer.Option("--center", help="Center to re-process.")],
    landing: Landing = None,
    centers: CentersDir = None,
    data: Data = None,
    export_file: Annotated[
        str | None,
        typer.Option(help="Only this export file (relative to the center's landing folder)."),
    ] = None,
    timeout: Timeout = None,
) -> None:
    """Re-process the named centers regardless of change detection, replacing their partitions.

    Example: spinemet backfill --center bologna --data data
    """
    settings = _settings(
        landing=landing, centers_dir=centers, data=data, centers=center, timeout_seconds=timeout
    )
    from flows.entrypoints import run_backfill

    try:
        _exit_for(run_backfill(settings, export_file=export_file))
    except SpinemetError as error:
        _fail(error)


@app.command()
def report(
    data: Data = None,
    suppress_below: Annotated[
        int | None,
        typer.Option(help="Show per-center counts 1..K-1 as '<K' in report.html (0 = off)."),
    ] = None,
    summaries: Annotated[
        Path | None,
        typer.Option(
            help="Also pool the center summaries under this folder (federated mode) with "
            "the local partitions; see `spinemet pool`."
        ),
    ] = None,
) -> None:
    """Recompute reports/endpoints.parquet and reports/report.html from the harmonized data.

    Example: spinemet report --data data
    """
    settings = _settings(data=data, suppress_below=suppress_below)
    if summaries is not None:
        _pool(summaries, settings, max_age_days=45, with_local=True)
    from flows.entrypoints import run_report

    try:
        _exit_for(run_report(settings))
    except SpinemetError as error:
        _fail(error)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the landing layout into.")],
    centers: Annotated[int, typer.Option(help="Number of centers (at least 6).")] = 6,
    patients: Annotated[
        int | None,
        typer.Option(help="Total patients across centers (default: the demo sizes)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 20100,
    dirt: Annotated[
        float, typer.Option(help="Share of rows given realistic dirt (0 to 1).")
    ] = 0.03,
) -> None:
    """Write a synthetic consortium's exports (no real patient data) into OUT/<center_id>/.

    Example: spinemet synth --out landing --seed 7
    """
    from spinemet_etl.synth import write_consortium

    try:
        written = write_consortium(
            out, n_centers=centers, n_patients=patients, seed=seed, dirt_rate=dirt
        )
    except SpinemetError as error:
        _fail(error)
    typer.echo(f"wrote {len(written)} export files under {out}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's landing and data.")] = Path(
        "demo-output"
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic consortium.")] = 20100,
) -> None:
    """Write a synthetic consortium and run the whole pipeline on it; print where the report is.

    Example: spinemet demo --out /tmp/spinemet-demo
    """
    from flows.entrypoints import run_demo

    try:
        _exit_for(run_demo(out, seed=seed))
    except SpinemetError as error:
        _fail(error)


@centers_app.command("check")
def centers_check(
    files: Annotated[list[Path], typer.Argument(help="Mapping files to validate.")],
) -> None:
    """Validate mapping files and report every mistake with its location, before reading data.

    Example: spinemet centers check centers/*.yaml
    """
    from spinemet_etl.mapping.check import check_mapping_files

    problems = check_mapping_files(files)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(EXIT_USAGE)
    typer.echo(f"{len(files)} mapping file(s) OK")


# --- centers preview / draft (issue 13): the inner loop of writing a mapping file ---


@centers_app.command("preview")
def centers_preview(
    center: Annotated[str, typer.Argument(help="Center id: its mapping file is CENTERS/ID.yaml.")],
    landing: Landing = None,
    centers: CentersDir = None,
    rows: Annotated[int, typer.Option(help="Canonical rows to show.")] = 5,
) -> None:
    """Harmonize one center in memory and print its accounting, quarantine reasons and first rows.

    No Prefect server, no quality gate, nothing written. Quarantined values of identifying
    columns are masked. Exit status: 0 the center harmonizes (quarantined rows are listed);
    1 the run would fail the center (a file or column missing, an unreadable export);
    2 the mapping file is invalid or missing.

    Example: spinemet centers preview bologna --landing landing --centers centers
    """
    from spinemet_etl.preview import preview_center, preview_text

    settings = _settings(landing=landing, centers_dir=centers)
    path = settings.centers_dir / f"{center}.yaml"
    if not path.is_file():
        _fail(ConfigError(f"no mapping file {path}; write it, or pass --centers DIR"))
    try:
        result = preview_center(
            path, settings.landing, key=settings.pseudonym_key, limits=settings.read_limits
        )
    except MappingError as error:
        _fail(ConfigError(error.message, code=error.code))
    except SpinemetError as error:
        _fail(error)
    typer.echo(preview_text(result, rows))


@centers_app.command("draft")
def centers_draft(
    folder: Annotated[Path, typer.Argument(help="The center's landing folder, LANDING/CENTER.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Write the draft mapping here (standard output when omitted)."),
    ] = None,
    centers: CentersDir = None,
) -> None:
    """Profile a center's exports and draft its mapping file; unresolved targets are `TODO`.

    Reads every file of the folder with the readers (and their size limits), profiles each
    file, sheet, REDCap event and column, and proposes a mapping from the synonym list and
    the shared vocabularies (CENTERS/vocabularies). The readable profile goes to
    `<out stem>.profile.md` beside --out, else `<center>.profile.md` here; identifier-like
    columns' values are never shown. Exit status: 0 drafted; 1 no export could be read;
    2 usage error (no such folder, --out or the profile already exists).

    Example: spinemet centers draft landing/torino --out centers/torino.yaml
    """
    from spinemet_etl.mapping.drafting import draft_center, profile_path

    settings = _settings(centers_dir=centers)
    if not folder.is_dir():
        _fail(ConfigError(f"no folder {folder}; give the center's landing folder LANDING/CENTER"))
    profile_file = profile_path(out, folder.name)
    for target in filter(None, (out, profile_file)):
        if target.exists():
            _fail(ConfigError(f"{target} exists; move it away or choose another --out"))
    try:
        drafted = draft_center(folder, settings.centers_dir)
    except SpinemetError as error:
        _fail(error)
    for problem in [*drafted.profile.problems, *drafted.profile.skipped]:
        typer.echo(f"note: {problem}", err=True)
    if not drafted.profile.tables:
        _fail(SourceError(f"no export in {folder} could be read", code="no-export-file"))
    profile_file.parent.mkdir(parents=True, exist_ok=True)
    profile_file.write_text(drafted.profile_md, encoding="utf-8")
    if out is None:
        typer.echo(drafted.mapping_yaml, nl=False)
    else:
        out.write_text(drafted.mapping_yaml, encoding="utf-8")
    todo = drafted.mapping_yaml.count("TODO") - drafted.mapping_yaml.count("`TODO`")
    typer.echo(f"draft {out or '(standard output)'}, profile {profile_file}: {todo} TODO", err=True)


# Federated mode (docs/federated.md): summarize at a hospital, pool at the coordinator.
TimeUnit = Annotated[
    str,
    typer.Option(
        help="Unit of the risk-set times: day (exact pooled survival), or week / month "
        "(coarser, and the pooled survival endpoints approximate)."
    ),
]


@app.command()
def summarize(
    center: Annotated[str, typer.Option(help="The center to summarize (its slug).")],
    data: Data = None,
    out: Annotated[
        Path, typer.Option(help="Outbox: the summary goes to OUT/<center>/<run_id>/.")
    ] = Path("outbox"),
    time_unit: TimeUnit = "day",
) -> None:
    """Write the center summary of one center's published partition (no patient row leaves).

    Writes summary.json, risk_sets.parquet, summary.html (read it before sending) and
    SHA256SUMS; send the whole folder to the coordinator.

    Example: spinemet summarize --data data --center bologna --out outbox
    """
    settings = _settings(data=data)
    from spinemet_etl.federated.summarize import summarize as write_summary

    try:
        folder = write_summary(settings.data_path, center, out, time_unit=time_unit)
    except SpinemetError as error:
        _fail(error)
    typer.echo(f"wrote {folder}; read {folder / 'summary.html'} before sending the folder")


def _pool(summaries: Path, settings: Settings, *, max_age_days: int, with_local: bool) -> NoReturn:
    from datetime import UTC, datetime

    from spinemet_etl.federated.report import pool_report
    from spinemet_etl.manifest import new_run_id

    if not summaries.is_dir():
        _fail(ConfigError(f"--summaries {summaries} is not a folder; give the summaries' inbox"))
    try:
        centers = pool_report(
            summaries, settings.data_path, run_id=new_run_id(datetime.now(UTC)),
            max_age_days=max_age_days, with_local=with_local,
            suppress_below=settings.suppress_below,
        )  # fmt: skip
    except SpinemetError as error:
        _fail(error)
    for center in centers:
        line = f"{center.center_id}: {center.status}"
        typer.echo(f"{line}; {center.problem}" if center.problem else line)
    _exit_for("ok" if all(c.status in ("used", "local") for c in centers) else "attention")


@app.command()
def pool(
    summaries: Annotated[
        Path, typer.Option(help="Folder of center summaries: DIR/<center>/<run>/.")
    ],
    data: Data = None,
    max_age_days: Annotated[
        int, typer.Option(help="A summary older than this is used but marked stale.")
    ] = 45,
) -> None:
    """Pool the center summaries into reports/endpoints.parquet, report.html, summaries.json.

    Each center's newest summary is verified (checksums, format, version, center id);
    a bad one makes that center `failed` with the reason, the others are pooled.

    Example: spinemet pool --summaries inbox --data coordinator-data
    """
    settings = _settings(data=data)
    _pool(summaries, settings, max_age_days=max_age_days, with_local=False)


def main() -> None:
    app()
