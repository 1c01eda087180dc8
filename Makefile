# Two commands do all set-up: `make repro` runs the study, `make test` runs the tests.
# Both create .venv on first use, with exactly the versions in the locks (installed by uv,
# hashes checked): `make repro` what the study needs (requirements.lock), `make test` that and
# the test tools and Dask's `distributed` (requirements-test.lock, the same pins and a few more).
# The environment holds the dependencies only, not weightreg itself: the stages run
# `PYTHONPATH=src python -m weightreg` from the project root (dvc.yaml), so a queued experiment
# runs the code of its own commit.

# The newest Python >= 3.11 on the PATH; `make PYTHON=/path/to/python` picks another.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3.11 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && \
	{ command -v $$p; break; }; done)
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV := $(BIN)/uv
# The project's environment first on PATH, and its code on the import path: the tools below
# run `python -m weightreg...` from the project root, as the stages do.
RUN := PATH="$(BIN):$$PATH" PYTHONPATH=src DVC_NO_ANALYTICS=1

.PHONY: setup setup-test repro test bench bench-waits lock

setup: $(VENV)/installed .dvc/offline_plots.html
setup-test: setup $(VENV)/installed-test

$(VENV)/bin/uv:
	@test -n "$(PYTHON)" || { echo "no Python >= 3.11 found on the PATH; pass PYTHON=..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/installed: requirements.lock $(VENV)/bin/uv
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes \
	  -r requirements.lock
	touch $@

$(VENV)/installed-test: requirements-test.lock $(VENV)/installed
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes \
	  -r requirements-test.lock
	touch $@

# The offline page for `dvc plots` (see src/weightreg/offline_page.py): Vega from the Python
# lock, made DVC's default page.
.dvc/offline_plots.html: $(VENV)/installed src/weightreg/offline_page.py
	$(RUN) python -m weightreg.offline_page $@
	$(RUN) dvc config --local plots.html_template offline_plots.html

repro: setup
	$(RUN) dvc repro

test: setup-test
	$(RUN) python -m pytest -q

# The benchmarks (src/weightreg/bench): the engine's speed against Keras and scikit-learn...
bench: setup-test
	$(RUN) python -m weightreg.bench

# ... and what users wait for (exp run, repro --force) against import tensorflow and one Keras
# fit, in fresh clones of HEAD: commit first.
bench-waits: setup
	$(RUN) python -m weightreg.bench.waits

# Resolve pyproject.toml's dependencies again, for every platform at once (environment markers
# pick tensorflow-cpu or tensorflow), with hashes: the test lock first, then the study's with
# the test lock's pins as constraints, so that both install the same versions.
LOCK := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --no-header
lock: $(VENV)/bin/uv
	$(LOCK) --extra test --extra dask pyproject.toml -o requirements-test.lock
	$(LOCK) --constraint requirements-test.lock pyproject.toml -o requirements.lock
