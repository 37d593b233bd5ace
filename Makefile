# `make run` (the main job) and `make test` (the test suite) do all set-up: each creates .venv
# on first use and installs what it needs into it. `make run` installs the project with the
# `sweeps` extra only; `make test` adds everything the tests use (the `dev` extra: sweeps,
# EMA, cluster launchers, pytest, ruff, lifelines; the `viz` extra: the browser app).
# Another interpreter in its own environment:
#   make test PYTHON=/root/.pyenv/versions/3.13.0/bin/python VENV=.venv313
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.stamp-run
TEST_STAMP := $(VENV)/.stamp-test
PUBLISH_DIR := results/headline

.PHONY: run publish test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[sweeps]"
	touch $@

# dev includes sweeps, so a test install also satisfies `make run`.
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev,viz]"
	touch $@ $(RUN_STAMP)

# The main job: policy arms x 10 seeds x {no shock, export shock} on the default world
# (experiments/headline.py); ARGS pass options and Hydra overrides through. It writes only
# into results/sweeps/ (git-ignored).
run: $(RUN_STAMP)
	$(PY) -m experiments.headline $(ARGS)

# The main job (resumed: finished runs are not redone), then its curated outputs copied to
# the tracked results/headline/ (default design only; meta.json has no date or wall time).
publish: $(RUN_STAMP)
	$(PY) -m experiments.headline --publish $(PUBLISH_DIR) $(ARGS)

test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(PY) -m ruff check sim tests experiments scripts

bench: $(RUN_STAMP)
	$(PY) -m experiments.bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache results/runs results/sweeps
