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

demo: venv
	$(BIN)/mlpilot demo demo-workspace --replace

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
