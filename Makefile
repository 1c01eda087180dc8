# Two commands do all set-up: `make repro` runs the study, `make test` runs the tests.
# Both create .venv from requirements.lock (exact versions) on first use. The environment holds
# the dependencies only, not weightreg itself: `python -m weightreg`, run from the project root,
# imports the code beside dvc.yaml, so a queued experiment runs the code of its own commit.
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The stages run `python -m weightreg`: put the project's environment first on PATH.
RUN := PATH="$(BIN):$$PATH" DVC_NO_ANALYTICS=1

.PHONY: setup repro test bench

setup: $(VENV)/installed .dvc/offline_plots.html

$(VENV)/installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

# The offline page for `dvc plots` (see weightreg/offline_page.py). It needs npm; without
# it, set-up goes on and DVC's own page loads Vega from a CDN.
.dvc/offline_plots.html: package-lock.json $(VENV)/installed
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --loglevel=error && \
	  $(BIN)/python -m weightreg.offline_page node_modules $@ && \
	  $(RUN) dvc config --local plots.html_template offline_plots.html; \
	else echo "npm not found: dvc plots pages will load Vega from a CDN"; fi

repro: setup
	$(RUN) dvc repro

test: setup
	$(RUN) python -m pytest -q

bench: setup
	$(RUN) python -m weightreg.bench
