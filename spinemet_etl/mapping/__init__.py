"""The mapping language: one YAML file per center says how its exports become canonical rows."""
