# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint worker install screenshots

# uv installs the pinned requirements in seconds where pip takes about a minute. pip installs uv
# itself (the version requirements/dev.txt pins), and does the whole install where uv cannot be
# installed or cannot install (another platform, an index only pip is configured for).
UV_PIN = $(shell grep -o '^uv==[^ ]*' requirements/dev.txt)

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	if $(BIN)/python -m pip install --quiet --disable-pip-version-check "$(UV_PIN)" \
		&& $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/dev.txt; then :; else \
		echo "uv is not available here: installing with pip (about a minute)"; \
		$(BIN)/python -m pip install --quiet --upgrade pip \
		&& $(BIN)/python -m pip install --quiet -r requirements/dev.txt; fi
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
