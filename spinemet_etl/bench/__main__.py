"""`python -m spinemet_etl.bench`: run the benchmark (see `--help`)."""

from spinemet_etl.bench.cli import main

main()
