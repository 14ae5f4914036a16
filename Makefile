# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint worker install screenshots

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

install: $(STAMP)

# Web, worker and beat as one command (Procfile); without REDIS_URL they share a broker and a
# cache in files under var/.
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile -p $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# Runs the browser tests and saves a screenshot of each page for the README.
screenshots: $(STAMP)
	ATELIER_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/e2e

# A worker alone, on every queue config/celery.py declares.
worker: $(STAMP)
	$(BIN)/celery -A config worker -l info -Q "$$($(BIN)/python -m config.queues)"
