# Build / test entry points.  `make test` is what CI runs (via .ci/run).

SHELL := /bin/bash
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint clean distclean

# The venv is (re)installed only when pyproject.toml is newer than the stamp file.
venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Builds the demo workspace, prints its status, then serves it: the dashboard stays up until
# Ctrl-C. The sign-in token is created fresh and printed once (there is no default password).
demo: venv
	$(BIN)/mlpilot demo demo-workspace --replace
	@echo "Dashboard sign-in token (admin, shown once):"
	@$(BIN)/mlpilot --home demo-workspace token create --role admin --name demo-dashboard
	@echo "Open http://127.0.0.1:8520/login and paste the token above. Ctrl-C stops the server."
	$(BIN)/mlpilot --home demo-workspace serve

test: venv
	bash scripts/test.sh

lint: venv
	$(BIN)/ruff check src tests && $(BIN)/ruff format --check src tests && $(BIN)/mypy

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis demo-workspace
	find . -path ./$(VENV) -prune -o \( -name '*.egg-info' -o -name __pycache__ \) -prune \
		-exec rm -rf {} +

# clean, and also remove the virtualenv.
distclean: clean
	rm -rf $(VENV)
