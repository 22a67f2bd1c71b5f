# Two commands do everything on a fresh machine:
#   make run   installs into .venv, migrates, seeds the demo tenant and serves on http://127.0.0.1:8000
#   make test  installs into .venv and runs ruff, mypy and the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/portal demo
	$(BIN)/portal serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check portal tests benchmarks
	$(BIN)/ruff format --check portal tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(ARGS)

clean:
	rm -rf $(VENV) data
