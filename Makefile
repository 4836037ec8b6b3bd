# paperfeed: `make serve` runs the site, `make test` runs every test. Both set up what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
WRK    := /usr/bin/wrk
NGINX  := /usr/sbin/nginx
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Tests keep their databases and artifacts here, never in your own data directory.
TEST_DATA := $(CURDIR)/.test-data

.PHONY: serve test test-sqlite test-postgresql lint bench bench-load clean help

help:
	@echo "make serve   set up and serve paperfeed on http://127.0.0.1:8000 (HOST=… PORT=… to change)"
	@echo "make test    set up and run every test, browser tests included, on SQLite and on PostgreSQL"
	@echo "make lint    ruff and the import-layer contracts"
	@echo "make bench   benchmarks on the full shared corpus (see docs/benchmarks.md)"
	@echo "make bench-load  200 clients for 60 s on SQLite, then PostgreSQL, without and with nginx (LOAD_ARGS='--db sqlite --front nginx --seconds 10' …)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium fonts-dejavu-core

$(WRK):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk

# nginx for the test of the documented micro-cache (tests/test_nginx_front.py) and bench-load's --front nginx.
$(NGINX):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nginx-light

serve: $(VENV)/.installed
	$(BIN)/paperfeed serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports

# Every test twice, both passes at once (tests/both_passes.py): on SQLite, and on a PostgreSQL 16 + pgvector that
# tests/with_postgres.py starts (PyPI's pgserver). Tests marked both_databases build both kinds of site themselves
# (SQLite against PostgreSQL): they run once, in the PostgreSQL pass. One pass alone: make test-sqlite or
# make test-postgresql (ARGS="tests/test_x.py -x" picks tests in any of the three).
test: $(VENV)/.installed-test $(CHROMIUM) $(NGINX) lint
	$(BIN)/python tests/both_passes.py $(TEST_DATA) $(ARGS)

test-sqlite: $(VENV)/.installed-test $(CHROMIUM) $(NGINX)
	mkdir -p $(TEST_DATA)/sqlite
	PAPERFEED_DATA_DIR=$(TEST_DATA)/sqlite $(BIN)/pytest -m "not both_databases" $(ARGS)

test-postgresql: $(VENV)/.installed-test $(CHROMIUM) $(NGINX)
	mkdir -p $(TEST_DATA)/postgresql
	PAPERFEED_DATA_DIR=$(TEST_DATA)/postgresql $(BIN)/python tests/with_postgres.py $(BIN)/pytest $(ARGS)

bench: $(VENV)/.installed-test
	PAPERFEED_DATA_DIR=$(TEST_DATA)/bench $(BIN)/python bench/load_and_search.py

# Load (issue 14): the site under mixed traffic from wrk, on SQLite then on PostgreSQL, each without and with nginx in front; keeps its sites in $(TEST_DATA)/load.
bench-load: $(VENV)/.installed-test $(WRK) $(NGINX)
	$(BIN)/python bench/load.py --data-dir $(TEST_DATA)/load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) $(TEST_DATA) src/*.egg-info
