# Two commands: `make run` and `make test`. Everything else is a step they take.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export PORT

.PHONY: run test install check lint types migrations-check pytest services bench clean messages

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install it, or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make run: migrate, load the demo (unless DEMO=0) and serve web, worker and beat together.
run: install
	DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py collectstatic --noinput -v0
	@if [ "$${DEMO:-1}" != "0" ]; then DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py demo; fi
	@echo "Serving on http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@# exec: honcho replaces the shell, so a SIGTERM to make (which make passes on to its
	@# child) reaches honcho, which stops web, worker and beat together, as Ctrl-C does.
	@# SITE_URL (links in e-mail) is the address served: honcho gives each process a PORT of
	@# its own (web $(PORT), worker $(PORT)+100, ...), so the worker must not derive it.
	exec env DJANGO_SETTINGS_MODULE=config.settings.local SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" $(VENV)/bin/honcho start -f Procfile.local

## make test: quality gates, then every test against PostgreSQL and Redis on localhost.
test: install
	@$(PY) scripts/check_services.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	@sh scripts/ensure_chromium.sh
	@sh scripts/ensure_gettext.sh
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/pytest -n $(or $(JOBS),auto)

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3*

## make messages: collect the translatable strings into locale/zh_Hans/LC_MESSAGES/django.po
## (translate what is new there), then compile the .mo that is committed beside it.
messages: install
	@sh scripts/ensure_gettext.sh
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var --ignore=staticfiles --ignore=tests
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py compilemessages --ignore=.venv

## make bench: build (or reuse) the benchmark databases on PostgreSQL (SIZE shipments, default
## 1,000,000, and 100,000 for the scale ratios), measure, and write BENCHMARKS.md. REBUILD=1
## builds them again. wrk (throughput) is installed with apt-get when missing. Last, the load
## test: CLIENTS (50) signed-in clients for LOAD_SECONDS (60) against gunicorn with 4 workers,
## with think times of mean THINK (1.5) seconds, then with none (bench/load.py).
bench: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || \
		echo "wrk is not installed (apt-get install wrk): throughput will not be measured"
	SIZE=$(or $(SIZE),1000000) REBUILD=$(REBUILD) $(PY) -m bench.run
