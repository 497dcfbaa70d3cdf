# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev setup demo lint format bench bench-quick bench-tools smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): requirements.txt requirements-dev.txt $(STAMP)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

## Migrate, load demo data and the demo logins (safe to run again).
setup: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_starter_templates
	$(BIN)/python manage.py seed_demo --customers $${DEMO_CUSTOMERS:-500}
	$(BIN)/python manage.py compute_customer_metrics
	$(BIN)/python manage.py create_demo_staff
	$(BIN)/python manage.py create_demo_campaigns

## Start web + Celery worker + Celery beat + the local fake ESP (Ctrl-C stops all).
run: setup
	@echo ""
	@echo "  Admin:      http://127.0.0.1:8000/admin/"
	@echo "  Logins:     admin / admin (superuser)   marketing / marketing (Marketing group)"
	@echo "  Sent mail:  http://127.0.0.1:8025/  (local fake ESP inbox)"
	@echo "  Event API:  http://127.0.0.1:8000/api/v1/events  (schema: /api/v1/openapi.json)"
	@echo ""
	$(BIN)/honcho start -f Procfile

## The whole suite. DATABASE_URL / REDIS_URL select PostgreSQL and Redis; unset = SQLite.
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest: no tests matched the selection"; rc=0; fi; exit $$rc

## Starts the real processes on the server-less default and sends one campaign through them.
smoke: install-dev
	bash .ci/smoke_default.sh

## Benchmarks on PostgreSQL + Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL): ratios in bench/results.md.
bench: install-dev bench-tools
	$(BIN)/python bench/run.py --full

bench-quick: install-dev bench-tools
	$(BIN)/python bench/run.py

## wrk drives the tracking case; installed from Debian's packages when missing and we may.
bench-tools:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) \
	  || echo "wrk is not installed: the tracking case will be skipped (apt-get install wrk)"; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var staticfiles .pytest_cache
