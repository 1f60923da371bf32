# Two commands on a fresh machine: `make run` (the embedded Switchboard) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup setup-test system-packages lint bench clean prod-like messages compilemessages screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	npm ci --no-audit --no-fund --loglevel=error
	@$(MAKE) --no-print-directory compilemessages

setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	@$(MAKE) --no-print-directory system-packages
	@$(MAKE) --no-print-directory compilemessages

# Translations (issue 10): locale/<lang>/LC_MESSAGES/*.po are the source; the .mo files are built, never committed.
compilemessages:
	@command -v msgfmt >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) || \
	  echo "msgfmt missing and not installable here: pages stay in English"
	@command -v msgfmt >/dev/null && $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity 0 || true

# After marking new strings: refresh the catalogues, then translate every empty msgstr (tests/preferences checks).
messages:
	$(BIN)/python manage.py makemessages -l id -l vi -l th --no-location --ignore=.venv --ignore=node_modules \
	  --ignore=var --ignore=tests --ignore=bench --ignore=switchboard.egg-info
	$(BIN)/python manage.py makemessages -d djangojs -l id -l vi -l th --no-location --ignore=.venv \
	  --ignore=node_modules --ignore=var --ignore=tests

# Screenshots of the main screens in light and dark themes into docs/screenshots/ (shown in README.md).
screenshots: setup-test
	SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_accessibility.py -q -p no:randomly

# Debian's Chromium drives the browser tests (Playwright cannot download its own browser here); nginx is the
# proxy of the production-like process model, exercised by a test.
system-packages:
	@if [ ! -x /usr/bin/chromium ] || ! command -v nginx >/dev/null || ! command -v msgfmt >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium, nginx and gettext for the tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nginx-light gettext >/dev/null; \
	  else echo "chromium/nginx missing and not installable here: browser and proxy tests will be skipped"; fi; \
	fi

run: setup
	@mkdir -p var
	$(BIN)/python manage.py migrate --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo "Switchboard on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) switchboard.asgi:application

# The production-like process model on this machine: nginx -> 2 WSGI + 2 ASGI processes, workers per queue,
# beat, on the local PostgreSQL and Redis (see README "Deployment").
prod-like: setup
	@command -v nginx >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light)
	@mkdir -p var && [ -f var/prod.env ] || $(BIN)/python deploy/make_env.py > var/prod.env
	@set -a && . ./var/prod.env && set +a && \
	  (psql "$${DATABASE_URL}" -c 'select 1' >/dev/null 2>&1 || createdb -h 127.0.0.1 -U postgres switchboard_prod) && \
	  $(BIN)/python manage.py migrate --verbosity 0 && $(BIN)/python manage.py collectstatic --noinput --verbosity 0 && \
	  $(BIN)/python manage.py seed_demo && echo "Switchboard (production-like) on http://127.0.0.1:8080/" && \
	  $(BIN)/honcho -f Procfile -e var/prod.env start

test: setup-test
	$(BIN)/python tests/run.py

lint: setup-test
	$(BIN)/ruff check .

bench: setup-test
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) node_modules var
