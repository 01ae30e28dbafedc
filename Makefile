# The portal's tasks. `make help` lists them; README.md gives the two a newcomer needs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app portal
HOST ?= 127.0.0.1
PORT ?= 5000
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2
# The local SPID/CIE test provider (scripts/idp.sh) and the portal's place in its federation.
IDP_HOST ?= 127.0.0.1
IDP_TA_PORT ?= 8000
IDP_CIE_PORT ?= 8002
export IDP_HOST IDP_TA_PORT IDP_CIE_PORT
export FEDERATION_ENTITY_ID ?= http://$(HOST):$(PORT)/
export FEDERATION_TRUST_ANCHOR ?= http://$(IDP_HOST):$(IDP_TA_PORT)/
export AUTH_CIE_PROVIDERS ?= http://$(IDP_HOST):$(IDP_CIE_PORT)/oidc/op/

.PHONY: help install run idp idp-stop db demo test test-postgres lint format i18n i18n-check bench bench-backoffice search-quality load ci

help: ## List the tasks
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: ## Install everything: Python packages, Bootstrap Italia, compiled translations
	@bash scripts/setup.sh

db: ## Create or upgrade the database schema (DATABASE_URL, or the embedded SQLite file)
	$(FLASK) db upgrade

demo: db ## Load the demo territory and catalog (safe to repeat)
	$(FLASK) demo load

idp: install db ## Start the local SPID/CIE test provider with the portal onboarded in its federation
	@mkdir -p instance/idp
	@$(FLASK) auth federation-jwks > $(CURDIR)/instance/idp/portal-federation.jwks.json
	@bash scripts/idp.sh bootstrap --rp $(FEDERATION_ENTITY_ID)=$(CURDIR)/instance/idp/portal-federation.jwks.json
	@bash scripts/idp.sh start

idp-stop: ## Stop the local SPID/CIE test provider
	@bash scripts/idp.sh stop

run: install demo idp ## Install, load the demo data, start the test SPID/CIE provider and run the portal
	@echo ""
	@echo "  The portal is starting: open http://$(HOST):$(PORT)/ in your browser (Ctrl+C stops it)."
	@echo "  Log in with SPID or CIE as a test identity (idp/README.md), password pua-demo-2026."
	@echo ""
	@trap 'bash scripts/idp.sh stop' EXIT; $(FLASK) run --host $(HOST) --port $(PORT)

test: install lint i18n-check ## Install everything and run the whole test suite (embedded SQLite)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres: install ## Run the test suite against PostgreSQL (PG_URL; fails if unreachable)
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

lint: ## Lint and check formatting with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: ## Format the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

i18n: ## Extract UI strings, update every locale's catalog and compile them
	$(PY) scripts/i18n.py update

i18n-check: ## Fail if the .pot is stale or a locale has untranslated or broken strings
	$(PY) scripts/i18n.py check

REQUESTS ?= 1000000
bench-backoffice: install ## Benchmark the back office on REQUESTS synthetic requests (scratch DB bench_backoffice)
	psql -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS bench_backoffice" -c "CREATE DATABASE bench_backoffice"
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_backoffice $(FLASK) db upgrade
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_backoffice $(FLASK) demo load
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_backoffice $(FLASK) backoffice bench --requests $(REQUESTS)

LOAD_SECONDS ?= 120
RESTART ?=
load: install ## Load the portal under gunicorn (scratch DB bench_load) and check nothing acknowledged is lost; RESTART=1 restarts PostgreSQL half-way
	$(PY) -m portal.ops.load_cli load run --seconds $(LOAD_SECONDS) $(if $(RESTART),--restart)

search-quality: ## Print search MRR and nDCG@5 per query language on the judged queries
	$(FLASK) search evaluate

bench: install ## Benchmark search: Whoosh vs SQLite FTS5 on 50,000 synthetic services
	SEARCH_INDEX_DIR=$$(mktemp -d) $(FLASK) search bench --services $${SERVICES:-50000} --comuni 1500 --queries 450

ci: test test-postgres ## What CI runs
