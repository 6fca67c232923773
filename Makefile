# Deconfliction Hotline — build, lint, test.
# Every target uses the project's own virtualenv through .venv/bin/... paths (no activation).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.installed
LOCK       := requirements/lock.txt
BENCH_ARGS ?=
TEST_WORKERS ?= 2
FUZZ_SECONDS ?= 60
FUZZ_API_EXAMPLES ?= 100
FUZZ_DSS_EXAMPLES ?= 50
FUZZ_PARSER_EXAMPLES ?= 5000
POSTGIS_CONTROL := /usr/share/postgresql/15/extension/postgis.control
PG_BINDIR  := /usr/lib/postgresql/15/bin
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: help install lock lock-upgrade lint audit test fuzz demo bench soak soak-load soak-crash postgresql nats postgis chromium vendor fmt clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

# --- environment ------------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml or the lock file changed (or the venv is new).
$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev,bench,postgres,nats]'
	touch $@

install: $(STAMP)  ## create .venv and install the package with pinned dev+bench+postgres+nats deps

# Regenerate requirements/lock.txt from pyproject.toml. Existing pins are kept unless they no
# longer satisfy pyproject.toml; `make lock-upgrade` moves every pin to the newest release.
# The lock is replaced only when its content changes, so an unchanged lock does not force a
# reinstall.
define uv_compile
	mkdir -p $(dir $(LOCK))
	if [ -f $(LOCK) ]; then cp $(LOCK) $(LOCK).new; fi
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --extra postgres --extra nats --extra fuzz \
		--python-version 3.11 --python-platform linux \
		--custom-compile-command 'make lock' --quiet -o $(LOCK).new $(1)
	if cmp -s $(LOCK).new $(LOCK); then rm $(LOCK).new; echo "$(LOCK) unchanged"; \
	else mv $(LOCK).new $(LOCK); echo "$(LOCK) updated"; fi
endef

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv $(if $(wildcard $(LOCK)),-c $(LOCK))

lock: $(BIN)/uv  ## re-pin requirements/lock.txt (keeps current pins where possible)
	$(call uv_compile,)

lock-upgrade: $(BIN)/uv  ## re-pin requirements/lock.txt to the newest allowed releases
	$(call uv_compile,--upgrade)

# --- quality ----------------------------------------------------------------------------------

# Runs every checker, then fails if any of them failed.
lint: $(STAMP)  ## ruff check (incl. the S security rules), ruff format --check, mypy, lint-imports
	@status=0; \
	echo "--- ruff check";        $(BIN)/ruff check . || status=1; \
	echo "--- ruff format --check"; $(BIN)/ruff format --check . || status=1; \
	echo "--- mypy";              $(BIN)/mypy || status=1; \
	echo "--- lint-imports";      $(BIN)/lint-imports --no-logo || status=1; \
	exit $$status

# Known vulnerabilities of every pinned dependency, from PyPI's advisory data (the PyPI JSON
# API, /pypi/NAME/VERSION/json; no packages are installed). --strict: a dependency that
# could not be looked up FAILS the audit, as does an unreachable service: an audit that did
# not run must not look like one that found nothing. (Where only PyPI's per-project JSON is
# served and OSV is unreachable, every lookup fails: the audit then says so and fails.)
audit: $(STAMP)  ## pip-audit requirements/lock.txt (fails on a finding or if PyPI is unreachable)
	@echo "--- pip-audit $(LOCK)"; \
	$(BIN)/pip-audit --strict --disable-pip --no-deps --progress-spinner off -r $(LOCK) \
	|| { echo "pip-audit did not pass: a known vulnerability, or a pinned dependency PyPI's advisory data could not cover (see above)"; exit 1; }

# Runs lint and the test suite (both, even if lint fails) and fails if either failed.
# The dependency audit (`make audit`) is not part of it: it needs PyPI's per-version advisory
# data or OSV, which the machines this project is built and tested on cannot reach (every
# lookup fails there, so the audit cannot pass) — run it where they can be reached.
# The console's browser tests drive Debian's Chromium, the PostgreSQL store's tests start a
# throwaway cluster with Debian's PostgreSQL server: both installed first when missing.
# DECONFLICTION_NO_POSTGRES=1 skips the PostgreSQL tests (otherwise they fail without it).
# The NATS bus's tests start a throwaway Debian nats-server (-js); DECONFLICTION_NO_NATS=1
# skips them (otherwise they fail without it).
# pytest runs on TEST_WORKERS processes (pytest-xdist, a test file per process at a time;
# each process starts its own hub, PostgreSQL cluster and browser as its tests need them).
# TEST_WORKERS=0 runs it in this one process.
test: $(STAMP) chromium postgresql nats  ## lint, then the test suite (tests/ and doctests in src/)
	@status=0; \
	$(MAKE) lint || status=1; \
	echo "--- pytest"; \
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=25 || status=1; \
	exit $$status

SOAK_ARGS ?=
soak: soak-load soak-crash  ## every soak run: nominal load for 30 min, then kill -9 rounds

soak-load: $(STAMP)  ## 30 min at nominal load with live tracks (options: SOAK_ARGS=...)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

# The long fuzz run (`make test` runs tests/fuzz with few examples): schemathesis against the
# hub's OpenAPI and the F3548 interface, and the Hypothesis parser properties, with many more
# examples; then each atheris harness in fuzz/ for FUZZ_SECONDS. atheris (the `fuzz` extra)
# is installed here when missing; a crash's input is left in fuzz/crashes/.
fuzz: $(STAMP)  ## long fuzzing: schemathesis + Hypothesis with more examples, atheris FUZZ_SECONDS each
	@$(BIN)/python -c 'import atheris' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[fuzz]'
	@status=0; \
	echo "--- schemathesis and Hypothesis (tests/fuzz)"; \
	FUZZ_API_EXAMPLES=$(FUZZ_API_EXAMPLES) FUZZ_DSS_EXAMPLES=$(FUZZ_DSS_EXAMPLES) \
		FUZZ_PARSER_EXAMPLES=$(FUZZ_PARSER_EXAMPLES) \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz || status=1; \
	echo "--- atheris (fuzz/, $(FUZZ_SECONDS) s each)"; \
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python fuzz/run_all.py || status=1; \
	exit $$status

fmt: $(STAMP)  ## apply ruff fixes and formatting, then report what is left
	$(BIN)/ruff check --fix-only --quiet .
	$(BIN)/ruff format .
	$(BIN)/ruff check .

# --- running ----------------------------------------------------------------------------------

# A hub on http://127.0.0.1:8000 with four parties and a scenario; serves until Ctrl-C.
# (`deconfliction check examples/sample-volumes.geojson` checks a file locally, no hub.)
demo: $(STAMP)  ## run a hub with four parties over northern France and play the scenario
	$(BIN)/deconfliction demo

# Debian's PostgreSQL server for the store's tests (a throwaway cluster per test session,
# started with initdb/pg_ctl; no system service is used). Installed only if missing.
postgresql:  ## install Debian's PostgreSQL 15 server if $(PG_BINDIR)/initdb is missing
	@if [ -x $(PG_BINDIR)/initdb ]; then \
		echo "PostgreSQL present ($(PG_BINDIR))"; \
	else \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			postgresql; \
	fi

# Debian's NATS server for the JetStream bus's tests (a throwaway `nats-server -js` per test
# session on a free loopback port; no system service is used). Installed only if missing.
nats:  ## install Debian's nats-server if it is missing
	@if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then \
		echo "nats-server present ($$(command -v nats-server || echo /usr/sbin/nats-server))"; \
	else \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			nats-server; \
	fi

# PostGIS for the benchmark's baseline; installed only if missing. Not needed by `make test`.
postgis:  ## install PostgreSQL 15 + PostGIS 3 from Debian if missing
	@if [ -f $(POSTGIS_CONTROL) ]; then \
		echo "PostGIS present ($(POSTGIS_CONTROL))"; \
	else \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql postgresql-15-postgis-3; \
	fi

# Debian's Chromium for the console's browser tests (Playwright drives /usr/bin/chromium;
# its own browser downloads are never used). Installed only if missing.
chromium:  ## install Debian's chromium if /usr/bin/chromium is missing
	@if [ -x /usr/bin/chromium ]; then \
		echo "Chromium present (/usr/bin/chromium)"; \
	else \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			chromium fonts-liberation; \
	fi

# The console's third-party files (Leaflet, Leaflet-Geoman, topojson-client, Natural Earth)
# are committed under src/deconfliction/web/static/vendor; this re-takes them from the npm
# registry at the versions web/package-lock.json pins (needs Node.js and npm; not by CI).
vendor:  ## re-vendor the console's map library and basemap from npm (web/package-lock.json)
	cd web && npm ci --no-audit --no-fund && node vendor.mjs

bench: $(STAMP) postgis  ## run the strategic benchmark (pass options in BENCH_ARGS=...)
	$(BIN)/python bench/strategic.py $(BENCH_ARGS)

# Long runs, beside `make test` (which runs a few rounds of each). SOAK_CRASH_ARGS passes
# options to bench/crash.py (e.g. --rounds 100 --ops 300 --seed 7, or --postgres).
SOAK_CRASH_ARGS ?=

soak-crash: $(STAMP) postgresql  ## kill -9 the hub in many rounds of mixed load; check, summarise
	$(BIN)/python bench/crash.py $(SOAK_CRASH_ARGS)

# --- housekeeping -----------------------------------------------------------------------------

clean:  ## remove caches and build output (keeps .venv)
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print \
		| xargs -r rm -rf

distclean: clean  ## also remove .venv
	rm -rf $(VENV)
