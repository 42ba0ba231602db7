# PMHub: `make run` (demo on SQLite, Celery eager) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SCALE ?= full
# Test processes (pytest-xdist; each gets its own test database and Redis cache database).
# Two by default (one per core of the CI machine); TEST_WORKERS=1 runs them in one process.
TEST_WORKERS ?= 2

.PHONY: install run test lint migrate worker beat bench bench-live bench-jira fuzz load faults clean screenshots

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c requirements.lock ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: install
	$(PY) manage.py migrate --noinput

# Links in e-mails point at the address the server was started on unless SITE_URL says otherwise.
SITE_URL ?= http://$(HOST):$(PORT)

# The demo runs with DEBUG on: with it off, PMHub refuses the public default SECRET_KEY (SECURITY.md).
run: install
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_demo
	DEBUG=true SITE_URL=$(SITE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

# Three pytest phases (tests/phases.sh; docs/decisions/1430, 1431, 2100): everything but the browser
# tests on TEST_WORKERS processes and, at the same time, the browser tests except the mouse drags on
# TEST_WORKERS processes of their own (own test and cache databases); then the drags (marked `drag`:
# timing-sensitive when another process keeps both cores busy) alone in one process. Every test
# database is created afresh (never a stale schema) as a copy of one template migrated for the run.
test: lint
	PYTEST=$(VENV)/bin/pytest TEST_WORKERS=$(TEST_WORKERS) tests/phases.sh $(PYTEST_ARGS)

# Refresh docs/screenshots/: every main page at 390 px and 1440 px (the browser sweep, with
# PMHUB_SCREENSHOTS=1), plus the screenshots the other browser tests take. Only this target writes them.
screenshots: install
	PMHUB_SCREENSHOTS=1 $(VENV)/bin/pytest -m e2e tests/e2e $(PYTEST_ARGS)

worker: install
	$(VENV)/bin/celery -A pmhub worker -l info

beat: install
	$(VENV)/bin/celery -A pmhub beat -l info

bench: install
	$(PY) -m bench.run --scale $(SCALE)

# Live updates: 1,000 websocket clients on one server process, commit-to-delivery p50/p95, memory
# per connection (needs REDIS_URL; docs/live.md).
LIVE_CLIENTS ?= 1000
bench-live: install
	$(PY) -m bench.live --clients $(LIVE_CLIENTS)
# Jira sync at scale against the fake Jira (needs DATABASE_URL=postgres://..., REDIS_URL for a real worker).
bench-jira: install
	$(PY) -m bench.jira_sync

FUZZ_EXAMPLES ?= 500
fuzz: install
	$(VENV)/bin/pytest tests/security/test_fuzz.py --timeout=0 --fuzz-examples=$(FUZZ_EXAMPLES) -p no:randomly -q -s -W ignore

faults: install
	$(VENV)/bin/pytest -m faults tests/integration -v

# Issue 23's load test (about 5 minutes; bench/load.py): 200 people with 1-3 s think time and a
# live websocket each against the shipped web (gunicorn.conf.py) and live processes pinned to
# CPUs 0,1, then the saturation of the mix and of the floor; fails when p95 >= 300 ms or on any error.
load: install
	$(PY) -m bench.load

# The API against its floors over real HTTP (bench/floors.py); FLOORS_SCALE=full for 20,000 stories.
FLOORS_SCALE ?= small
.PHONY: floors
floors: install
	$(PY) -m bench.floors --scale $(FLOORS_SCALE)

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3
