# Two commands on a fresh machine: `make run` (the embedded Switchboard) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup setup-test browser lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	npm ci --no-audit --no-fund --loglevel=error

setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	@$(MAKE) --no-print-directory browser

# Debian's Chromium drives the browser tests (Playwright cannot download its own browser here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed and cannot be installed here: browser tests will be skipped"; fi; \
	fi

run: setup
	@mkdir -p var
	$(BIN)/python manage.py migrate --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo "Switchboard on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) switchboard.asgi:application

test: setup-test
	$(BIN)/python tests/run.py

lint: setup-test
	$(BIN)/ruff check .

bench: setup-test
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) node_modules var
