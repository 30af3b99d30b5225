# Dr. Assistant — the two commands of the README, and the rest.
#   make run     create .venv, install the app with the embedded stack, start the GUI
#   make test    create .venv, install dev dependencies (+ Debian packages as root), run all tests
#   make lint    ruff + mypy
#   make bench   ratio benchmarks (never part of make test)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test lint bench system-deps test-deps clean

system-deps:
	@sh .ci/system-deps.sh

test-deps:
	@sh .ci/system-deps.sh test

$(BIN)/python: | system-deps
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "Python 3.11 or newer is needed; this $(PYTHON) is %d.%d. Install it and run: make PYTHON=python3.11" % v[:2])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[embedded]'
	@touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[embedded,dev]'
	@touch $@ $(STAMP_RUN)

run: system-deps $(STAMP_RUN)
	$(BIN)/dr-assistant

test: test-deps $(STAMP_DEV)
	$(BIN)/python -m pytest

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: test-deps $(STAMP_DEV)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) artifacts .pytest_cache .mypy_cache .ruff_cache
