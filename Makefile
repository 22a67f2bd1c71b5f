# Two commands do everything on a fresh machine:
#   make run   installs into .venv, migrates, seeds the demo tenant and serves on http://127.0.0.1:8000
#   make test  installs into .venv and runs ruff, mypy and the whole test suite
# Both install exactly what uv.lock pins (hashes checked); `make lock` rewrites it after pyproject.toml
# changes (README: "Dependencies").

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

# uv installs into our .venv and never fetches a Python of its own.
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint install lock clean

# uv itself comes from PyPI, pinned with its hashes like everything else.
$(UV): requirements-uv.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-uv.txt
	touch $(UV)

# --locked stops with "the lockfile needs to be updated" when pyproject.toml changed without `make lock`.
$(RUN_STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --inexact --quiet
	touch $(RUN_STAMP)

$(DEV_STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --inexact --quiet --extra dev
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

# Keeps every pin it can; ARGS=--upgrade moves them all, ARGS="--upgrade-package fastapi" one.
lock: $(UV)
	$(UV) lock $(ARGS)
	echo uv | $(UV) pip compile - --universal --generate-hashes --quiet -o requirements-uv.txt $(ARGS)

# The demo's sign-in limit: mistyping a printed password twice should not lock a newcomer out for 15
# minutes. `portal serve` prints the limit in force; a PORTAL_LOGIN_RATE_LIMIT of your own wins.
DEMO_LOGIN_RATE_LIMIT ?= 30/minute

run: $(RUN_STAMP)
	$(BIN)/portal demo
	PORTAL_LOGIN_RATE_LIMIT="$${PORTAL_LOGIN_RATE_LIMIT:-$(DEMO_LOGIN_RATE_LIMIT)}" $(BIN)/portal serve $(ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check portal tests benchmarks
	$(BIN)/ruff format --check portal tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(ARGS)

clean:
	rm -rf $(VENV) data
