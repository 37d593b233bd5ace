# Two commands do all set-up: `make run` (the main job) and `make test` (the test suite).
# Each creates .venv and installs the project into it on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,viz]"
	touch $(STAMP)

# The main job: policy arms x 10 seeds x {no shock, export shock} on the default world
# (experiments/headline.py); ARGS pass options and Hydra overrides through.
run: $(STAMP)
	$(PY) -m experiments.headline $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check sim tests experiments scripts

bench: $(STAMP)
	$(PY) scripts/benchmark.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache results/runs results/sweeps
