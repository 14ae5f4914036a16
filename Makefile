# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint worker install screenshots

# uv installs the pinned requirements in seconds where pip takes about a minute. The virtualenv
# is made without pip (ensurepip alone takes several seconds) and uv, pinned in
# requirements/dev.txt, is put in it by the pip of the Python that made it (pip --python), else by
# the virtualenv's own pip. Where uv cannot be installed or cannot install (another platform, an
# index only pip is configured for), pip installs everything as before.
UV_PIN = $(shell grep -o '^uv==[^ ]*' requirements/dev.txt)
# Python writes the bytecode of what it imports on the first start, unless PYTHONDONTWRITEBYTECODE
# forbids it: then every start would compile every module again, so uv compiles them all once at
# install (pip always does).
UV_COMPILE = $(if $(PYTHONDONTWRITEBYTECODE),--compile-bytecode)

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet "$(UV_PIN)" 2>/dev/null \
		|| { $(BIN)/python -m ensurepip --default-pip >/dev/null && $(BIN)/python -m pip install --quiet "$(UV_PIN)"; } \
		|| echo "uv could not be installed"
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(UV_COMPILE) -r requirements/dev.txt \
		|| { echo "Installing with pip (about a minute)"; \
			$(BIN)/python -m ensurepip --default-pip >/dev/null && $(BIN)/python -m pip install --quiet -r requirements/dev.txt; }
	touch $(STAMP)

install: $(STAMP)

# Web, worker and beat as one command (Procfile); without REDIS_URL they share a broker and a
# cache in files under var/.
# Outputs are signed with content credentials by a local test signer (var/c2pa/) unless a signer
# is configured (ATELIER_C2PA_CERT); if it cannot be made, they are stored unsigned.
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	eval "$$($(BIN)/python manage.py c2pa_test_signer --export --if-unset 2>/dev/null)"; \
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
