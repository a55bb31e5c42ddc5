"""Every published center summarized into one outbox, in one process (the hospitals' side).

Run as `python -m spinemet_etl.bench.summaries DATA OUTBOX`; prints the number of centers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from spinemet_etl.federated.report import local_centers
from spinemet_etl.federated.summarize import summarize


def summarize_all(data_root: Path, outbox: Path) -> int:
    """Summarize each center with a partition under `data_root`; the number of centers."""
    centers = local_centers(data_root)
    for center in centers:
        summarize(data_root, center, outbox)
    return len(centers)


if __name__ == "__main__":
    print(summarize_all(Path(sys.argv[1]), Path(sys.argv[2])))
