"""Imported last by the workers' fork server: the objects of its imports are frozen.

A worker forked from the fork server shares the pages of every object the fork server
imported, until it writes to one of them. Python's garbage collector writes to the header
of each object it examines, so the workers' collections would copy the pages of those
imports (Great Expectations, pandas, pyarrow) into each worker, page by page. `gc.freeze`
moves every object alive now (after collecting the imports' garbage) into a generation the
collector never examines, so the workers keep sharing those pages: three 5M-patient
ingests peaked at 1 387–1 439 MB without it and 1 280–1 398 MB with it, the fork server
itself at 163 and 127 MB (docs/performance.md).
"""

from __future__ import annotations

import gc

gc.collect()
gc.freeze()
