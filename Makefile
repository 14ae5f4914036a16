# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint worker install screenshots

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

# Runs the browser tests and saves a screenshot of each page for the README.
screenshots: $(STAMP)
	ATELIER_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/e2e

worker: $(STAMP)
	$(BIN)/celery -A config worker -l info -Q default,generation.local,generation.fal,generation.openai,generation.replicate,generation.huggingface,generation.comfyui,training
