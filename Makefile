# Two commands do all set-up: `make repro` runs the study, `make test` runs the tests.
# Both create .venv from requirements.lock (exact versions) on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The stages run `python -m weightreg`: put the project's environment first on PATH.
RUN := PATH="$(BIN):$$PATH" DVC_NO_ANALYTICS=1

.PHONY: setup repro test bench clean-venv

setup: $(VENV)/installed

$(VENV)/installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

repro: setup
	$(RUN) dvc repro

test: setup
	$(RUN) python -m pytest -q

bench: setup
	$(RUN) python -m weightreg.bench

clean-venv:
	rm -rf $(VENV)
