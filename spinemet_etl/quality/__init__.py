"""The data-quality gate (GX Core) and its Data Docs; no Prefect here."""
