# spinemet-etl: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := spinemet_etl schemas flows tests

.PHONY: venv demo test lint typecheck unit programs bench bench-scaling fuzz docs r-reference clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/spinemet demo --out demo-output

lint: venv
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -q

# Chromium for the browser tests, when this machine can install it (root with apt-get);
# else those tests are skipped and pytest's summary names the program to install.
programs:
	.ci/install-programs chromium

test: lint typecheck programs unit

bench: venv
	$(BIN)/python -m spinemet_etl.bench

# The cold CSV ingest and the floor at 1M and 5M patients: bench/scaling.json (marginal_ratio).
bench-scaling: venv
	$(BIN)/python -m spinemet_etl.bench.scaling

fuzz: venv
	SPINEMET_FUZZ_EXAMPLES=5000 $(BIN)/pytest -q tests -k fuzz

docs: venv
	$(BIN)/python -m schemas.contract --write docs/data-dictionary.md
	$(BIN)/python -m spinemet_etl.mapping.schema_export --write docs/mapping.schema.json

# R's results that the agreement tests compare with (needs Rscript and R's survival package).
r-reference: venv
	$(BIN)/python -m tests.endpoints.r_reference tests/r/reference

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
