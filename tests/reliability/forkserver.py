"""A test driver that imports the pipeline once, then forks one child per job.

Run as `python -m tests.reliability.forkserver`; it reads one JSON request per line on
stdin and answers one JSON line on stdout. It is single-threaded, so forking is safe,
and a forked child starts its work at once: a SIGKILL lands in the pipeline's work, not
in Python's start-up. Requests:

- `{"op": "read", "kind", "path", "name", "options", "timeout"}`: read one file with the
  reader of `kind` in a child; the answer has `outcome` (`ok` or the error `code`),
  `message`, `rows`, `peak_rss_mib`, `seconds`.
- `{"op": "run", "flags", "force", "hook", "result", "tied", "signals"}`: start
  `run_pipeline` in a child, which leads a process group of its own (its id is the
  child's); answers `{"pid": ...}` at once. With `tied` the child first starts what a
  command starts beside its run: Prefect's temporary server (`flows.server.launch`) and
  two worker processes with their fork server. With `signals` SIGTERM and SIGINT stop
  the run gracefully, as in the command (`stop.stopping_on_signals`); the child then
  exits 1 (and writes no `result` when stopped before it took the lock). `hook`
  `{"step", "nth"}` SIGKILLs the child right after the nth time the pipeline finishes
  that step (STEPS); `{"step", "nth", "ready", "resume"}` instead writes the file
  `ready` and blocks until `resume` exists. The child writes its outcome as JSON to
  `result`.
- `{"op": "kill", "pid", "signal"}`: send the child SIGKILL (or `signal`) if it still
  runs, and reap it; the answer says how it ended and `seconds` from the signal.
- `{"op": "wait", "pid", "timeout"}`: reap the child; the answer says how it ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STEPS = ("cleanup", "read", "harmonize", "write", "publish", "state", "manifest")
"""Where a hook can kill a run: right after that step finished (counted per call)."""


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_job(request: dict[str, Any]) -> dict[str, Any]:
    from spinemet_etl.errors import SpinemetError
    from spinemet_etl.readers.registry import reader_for

    started = time.monotonic()
    reader = reader_for(request["kind"], "hostile")
    try:
        tables = reader.read(Path(request["path"]), request["name"], request.get("options"))
        answer: dict[str, Any] = {
            "outcome": "ok",
            "rows": sum(len(table.frame) for table in tables),
            "values": sorted(
                {str(v) for table in tables for v in table.frame.to_numpy().ravel().tolist()}
            )[:10_000],
        }
    except SpinemetError as error:
        answer = {"outcome": error.code, "message": error.message}
    except Exception as exc:  # the test asserts there is none
        answer = {"outcome": "unexpected", "message": f"{type(exc).__name__}: {exc}"[:500]}
    answer["seconds"] = time.monotonic() - started
    answer["peak_rss_mib"] = _peak_rss_mib()
    return answer


def _after(target: Any, name: str, then: Callable[[], None]) -> None:
    original = getattr(target, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value = original(*args, **kwargs)
        then()
        return value

    setattr(target, name, wrapped)


def _install_hook(hook: dict[str, Any]) -> None:
    import spinemet_etl.harmonize as harmonize
    import spinemet_etl.harmonize.read as read
    import spinemet_etl.pipeline as pipeline
    import spinemet_etl.publish as publish

    calls = {"n": 0}

    def reached() -> None:
        calls["n"] += 1
        if calls["n"] != hook["nth"]:
            return
        if "ready" not in hook:
            os.kill(os.getpid(), signal.SIGKILL)
        Path(hook["ready"]).write_text("ready", encoding="utf-8")
        while not Path(hook["resume"]).exists():
            time.sleep(0.01)

    step = hook["step"]
    if step == "read":
        original_reader_for = read.reader_for

        def reader_for(kind: str, center_id: str = "unknown") -> Any:
            return _CountingReader(original_reader_for(kind, center_id), reached)

        read.reader_for = reader_for  # type: ignore[assignment]
        return
    targets = {
        "cleanup": (pipeline, "cleanup_staging"),
        "harmonize": (harmonize, "process_center"),
        "write": (publish, "write_parquet"),
        "publish": (publish, "swap_partition"),
        "state": (pipeline, "record_published"),
        "manifest": (pipeline, "write_manifest"),
    }
    _after(*targets[step], reached)


class _CountingReader:
    """A reader that calls `reached` after each file it read."""

    def __init__(self, reader: Any, reached: Callable[[], None]) -> None:
        self._reader, self._reached = reader, reached

    def read(self, path: Path, relative_name: str, options: Any) -> Any:
        tables = self._reader.read(path, relative_name, options)
        self._reached()
        return tables


def _start_beside_the_run() -> None:
    from flows.server import launch
    from spinemet_etl.localserver import free_port
    from spinemet_etl.workers import start_workers

    launch(free_port())
    start_workers(2)


def _run_job(request: dict[str, Any]) -> int:
    from spinemet_etl.errors import SpinemetError
    from spinemet_etl.stop import stopping_on_signals

    os.setpgid(0, 0)
    signals = stopping_on_signals() if request.get("signals") else contextlib.nullcontext()
    try:
        with signals:
            outcome = _run_outcome(request)
    except SpinemetError as error:
        outcome = {"error": error.code, "message": error.message}
    Path(request["result"]).write_text(json.dumps(outcome), encoding="utf-8")
    return 1 if outcome.get("interrupted") else 0


def _run_outcome(request: dict[str, Any]) -> dict[str, Any]:
    from spinemet_etl.pipeline import run_pipeline
    from spinemet_etl.settings import load_settings

    if request.get("tied"):
        _start_beside_the_run()
    if request.get("hook"):
        _install_hook(request["hook"])
    flags = dict(request["flags"])
    for name in ("landing", "centers_dir"):
        flags[name] = Path(flags[name])
    manifest = run_pipeline(load_settings(flags, {}), force=bool(request.get("force")))
    return {
        "status": manifest["status"],
        "run_id": manifest["run_id"],
        "centers": {c: e["status"] for c, e in manifest["centers"].items()},
        "interrupted": manifest.get("interrupted"),
    }


def _fork(job: Callable[[], int], quiet: bool = True) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        if quiet:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        code = job()
    finally:
        os._exit(code)


def _ended(status: int) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status)}


def _wait(pid: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return _ended(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            return {**_ended(status), "timed_out": True}
        time.sleep(0.005)


def _read_in_child(request: dict[str, Any]) -> dict[str, Any]:
    answer_read, answer_write = os.pipe()

    def job() -> int:
        os.close(answer_read)
        with os.fdopen(answer_write, "w", encoding="utf-8") as sink:
            sink.write(json.dumps(_read_job(request)))
        return 0

    pid = _fork(job)
    os.close(answer_write)
    with os.fdopen(answer_read, encoding="utf-8") as source:
        text = source.read()
    ended = _wait(pid, float(request.get("timeout", 30)))
    answer = json.loads(text) if text else {"outcome": "crashed"}
    return {**answer, **ended}


def _kill(pid: int, number: int = signal.SIGKILL) -> dict[str, Any]:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        return {**_ended(status), "already_ended": True}
    sent = time.monotonic()
    os.kill(pid, number)
    return {**_wait(pid, 60), "already_ended": False, "seconds": time.monotonic() - sent}


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Answer one request (see the module docstring)."""
    op = request["op"]
    if op == "read":
        return _read_in_child(request)
    if op == "run":
        return {"pid": _fork(lambda: _run_job(request))}
    if op == "kill":
        return _kill(int(request["pid"]), int(request.get("signal", signal.SIGKILL)))
    if op == "wait":
        return _wait(int(request["pid"]), float(request.get("timeout", 120)))
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    import openpyxl  # noqa: F401  (preloaded, so that children start at once)
    import pandas  # noqa: F401
    import pyreadstat  # noqa: F401
    import xlrd  # noqa: F401

    import flows.server  # noqa: F401  (Prefect, for the `tied` runs' server)
    import spinemet_etl.harmonize
    import spinemet_etl.pipeline
    import spinemet_etl.readers.registry
    import spinemet_etl.readers.xlsx  # noqa: F401

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(handle(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
