"""Load a center's mapping file: the validated model, or a MappingError listing every problem."""

from __future__ import annotations

from pathlib import Path

from spinemet_etl.errors import MappingError
from spinemet_etl.mapping.check import check_mapping_file
from spinemet_etl.mapping.model import CenterMapping


def load_mapping(path: Path) -> CenterMapping:
    """The mapping in `path`, checked as `spinemet centers check` does; no data is read.

    Raises MappingError naming the file and each problem with its line and key.
    """
    mapping, problems = check_mapping_file(path)
    if mapping is None or problems:
        listed = "; ".join(str(problem) for problem in problems)
        raise MappingError(
            f"mapping file `{path}` has {len(problems)} problem(s): {listed}; "
            f"fix them (run `spinemet centers check {path}`)."
        )
    return mapping
