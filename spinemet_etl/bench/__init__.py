"""`make bench`: the pipeline's cost beside pyarrow's CSV-to-Parquet floor (docs/performance.md)."""
