# The two commands of the README: `make demo` sets up and runs the demo; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup chromium bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) chromium

# Debian's Chromium for the report's browser test (Playwright drives it; `playwright install` never runs).
chromium:
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)

demo: $(STAMP)
	$(BIN)/cxpredict demo

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# The suite on both cores (a file's tests on one worker, so module fixtures are built once), then
# the tests bound by wall time alone, so the other worker's load cannot fail them.
# Two test workers share two cores, each running LightGBM's or torch's OpenMP threads: threads that
# spin while they wait starve the other worker's (a what-if test and a shape test run side by side:
# 321 s each; passive: 74 s and 86 s)
test: export OMP_WAIT_POLICY = PASSIVE
test: lint chromium
	$(BIN)/pytest -n 2 --dist loadfile -m "not serial"
	$(BIN)/pytest -m serial

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_generator
	$(BIN)/python -m benchmarks.bench_features
	$(BIN)/python -m benchmarks.bench_service
	$(BIN)/python -m benchmarks.bench_workers
	$(BIN)/python -m benchmarks.bench_text
	$(BIN)/python -m benchmarks.bench_text_ablation

clean:
	rm -rf $(VENV) demo-workspace bench-out mlruns mlflow.db .pytest_cache .mypy_cache .ruff_cache
