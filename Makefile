# Frontline: the two commands a new user needs are `make run` and `make test`.
# Everything runs from a project-local .venv built with the machine's python3 (>= 3.11).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstalling on every run would cost a minute; the stamp is newer than pyproject.toml
# exactly when the installed dependencies are the declared ones.
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help venv run test test-pg test-browser lint format bench messages clean

help:
	@echo "make run           install into .venv, load the demo city, serve http://127.0.0.1:8000"
	@echo "make test          the whole test suite on SQLite (browser tests skip without chromium)"
	@echo "make test-pg       the suite on PostgreSQL ($(PG_URL))"
	@echo "make test-browser  the Playwright tests (needs /usr/bin/chromium)"
	@echo "make lint          ruff check, ruff format --check, mypy"
	@echo "make bench         the census import/stats benchmark (bench/README.md)"
	@echo "make messages      extract and compile the zh_Hans translation catalogue"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Frontline needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

# Order-only on the interpreter: recreating nothing else should trigger a reinstall.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/frontline demo --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test-pg: $(STAMP)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

test-browser: $(STAMP)
	$(BIN)/pytest -m browser tests/browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check frontline tests bench
	$(BIN)/ruff format --check frontline tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format frontline tests bench
	$(BIN)/ruff check --fix frontline tests bench

bench: $(STAMP)
	$(BIN)/python bench/census.py

# Only the project's own code: .venv, tests and the benchmark carry no UI strings.
messages: $(STAMP)
	mkdir -p frontline/locale
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=data --ignore=build
	$(BIN)/python manage.py compilemessages -l zh_Hans \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=data --ignore=build

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
