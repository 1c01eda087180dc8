# Two commands do all set-up: `make repro` runs the study, `make test` runs the tests.
# Both create .venv on first use, with exactly the versions in requirements.lock (installed by
# uv, hashes checked). The environment holds the dependencies only, not weightreg itself:
# `python -m weightreg`, run from the project root, imports the code beside dvc.yaml, so a
# queued experiment runs the code of its own commit.

# The newest Python >= 3.11 on the PATH; `make PYTHON=/path/to/python` picks another.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3.11 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && \
	{ command -v $$p; break; }; done)
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV := $(BIN)/uv
# The stages run `python -m weightreg`: put the project's environment first on PATH.
RUN := PATH="$(BIN):$$PATH" DVC_NO_ANALYTICS=1

.PHONY: setup repro test bench bench-waits lock

setup: $(VENV)/installed .dvc/offline_plots.html

$(VENV)/installed: requirements.lock
	@test -n "$(PYTHON)" || { echo "no Python >= 3.11 found on the PATH; pass PYTHON=..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes \
	  -r requirements.lock
	touch $@

# The offline page for `dvc plots` (see weightreg/offline_page.py): Vega from the Python lock,
# made DVC's default page.
.dvc/offline_plots.html: $(VENV)/installed weightreg/offline_page.py
	$(BIN)/python -m weightreg.offline_page $@
	$(RUN) dvc config --local plots.html_template offline_plots.html

repro: setup
	$(RUN) dvc repro

test: setup
	$(RUN) python -m pytest -q

bench: setup
	$(RUN) python -m weightreg.bench

# What users wait for (exp run, repro --force) against import tensorflow and one Keras fit,
# in fresh clones of HEAD: commit first.
bench-waits: setup
	$(RUN) python -m weightreg.bench_waits

# Resolve pyproject.toml's dependencies again, for every platform at once (environment markers
# pick tensorflow-cpu or tensorflow), with hashes.
lock: $(VENV)/installed
	$(UV) pip compile --quiet --universal --python-version 3.11 --extra test --extra dask --generate-hashes \
	  --no-header pyproject.toml -o requirements.lock
