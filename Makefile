# meterd: see README.md. `make run` and `make test` set everything up themselves.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# `make setup` holds this lock while it installs: two at once (`make run` and `make test` on a fresh clone)
# install once, the second waiting and then finding everything in place.
SETUP_LOCK := .setup.lock
NODE_TOOLS := node_modules/.bin
BUF := $(NODE_TOOLS)/buf

# buf breaking compares protos/ with this git ref: the previous commit by default (the last change must not
# break existing clients); set BUF_AGAINST='.git#branch=main' on a feature branch.
BUF_AGAINST ?= .git\#ref=HEAD~1

# Files kept in `ruff format` shape, checked by `make lint` and rewritten by `make fmt`: the files written since
# the check began. Widen to the whole tree (`$(PY_SOURCES)`) once it has been formatted in one pass.
FORMATTED := server/meterd/server/wiring server/meterd/server/balances/__init__.py \
  server/meterd/server/store/stores.py server/meterd/server/store/sqlite/stores.py \
  server/meterd/server/store/postgres/stores.py server/meterd/server/store/sql/__init__.py \
  server/meterd/server/store/sql/connection.py server/meterd/server/store/sql/events.py \
  server/meterd/server/store/sql/meters.py server/meterd/server/store/sql/migrations.py \
  server/meterd/server/store/sql/snapshots.py scripts/import_graph.py
PY_SOURCES := client/meterd/client server tests bench scripts

.PHONY: help setup lock generate check-generated check-stubs run test test-slow lint fmt bench stubs clean fuzz

help: ## this list
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(STAMP) $(BUF) ## .venv with the project and every dev tool, buf, and the PostgreSQL package (idempotent)
	@bash scripts/ensure-postgresql.sh

# The project (editable) with its server and dev extras, at the versions requirements.lock pins; the install
# also builds the C extension (setup.py), again when its source changes.
NATIVE_SRC := server/meterd/server/meters/_foldc.c
$(STAMP): pyproject.toml $(LOCK) setup.py $(NATIVE_SRC)
	@flock $(SETUP_LOCK) bash -c 'set -e; \
	  if [ $(STAMP) -nt pyproject.toml ] && [ $(STAMP) -nt $(LOCK) ] && [ $(STAMP) -nt setup.py ] \
	    && [ $(STAMP) -nt $(NATIVE_SRC) ]; then exit 0; fi; \
	  test -x $(PY) || python3 -m venv $(VENV); \
	  echo "installing Python packages from $(LOCK) into $(VENV)"; \
	  $(PY) -m pip install -q --upgrade pip; \
	  $(PY) -m pip install -q -c $(LOCK) -e ".[server,dev]"; \
	  touch $(STAMP)'

$(BUF): package.json
	@flock $(SETUP_LOCK) bash -c 'set -e; \
	  if [ $(BUF) -nt package.json ]; then exit 0; fi; \
	  npm install --no-audit --no-fund --silent; \
	  touch $(BUF)'

# Re-resolves requirements.lock from pyproject.toml (newest versions within its ranges, for every platform).
lock: ## re-resolve requirements.lock from pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q 'uv>=0.9,<1'
	$(VENV)/bin/uv pip compile pyproject.toml --extra server --extra dev --universal --python-version 3.11 \
	  --quiet -o $(LOCK)

generate: setup ## the Python messages and stubs from protos/ (client/meterd/v1)
	$(PY) scripts/generate.py

check-generated: generate ## fail when client/meterd/v1 drifted from protos/
	@git diff --exit-code --stat -- client/meterd/v1 || { echo "generated code drifted from protos/: run 'make generate' and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- client/meterd/v1)" || { git status --porcelain -- client/meterd/v1; echo "untracked generated files: run 'make generate' and commit" >&2; exit 1; }

run: setup ## meterd serve on 127.0.0.1:50051 with examples/meterd.yaml
	$(VENV)/bin/meterd serve --listen 127.0.0.1:50051 --db ./meterd.db --config examples/meterd.yaml

# Tests marked slow (the kill -9 chaos loop) run in `make test-slow`, which CI runs too.
test: setup ## every suite but the slow ones
	$(PY) -m pytest -q -m "not slow"

test-slow: setup ## the slow tests (the kill -9 chaos loop)
	$(PY) -m pytest -q -m slow

# The wire fuzz test with many examples per RPC (make test runs a few): METERD_FUZZ_EXAMPLES to change.
FUZZ_EXAMPLES ?= 500
fuzz: setup ## the wire fuzz test with many examples per RPC
	METERD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/api/test_wire_fuzz.py

# The server's type check runs with --check-untyped-defs (bodies of functions without annotations too); the
# layer contracts are .importlinter's (an import pointing back up the layers fails here, and so in CI).
lint: setup ## buf lint and breaking, ruff (check; format on FORMATTED), mypy, the layer contracts
	$(BUF) lint
	$(BUF) breaking --against '$(BUF_AGAINST)'
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(FORMATTED)
	$(VENV)/bin/mypy --strict client/meterd/client
	$(VENV)/bin/mypy --check-untyped-defs server/meterd/server
	$(VENV)/bin/lint-imports

fmt: setup ## ruff format (and import sorting) on the files kept in format shape (FORMATTED)
	$(VENV)/bin/ruff check --select I --fix $(FORMATTED)
	$(VENV)/bin/ruff format $(FORMATTED)

bench: setup ## benchmarks: bench/results/*.json and a short table
	$(PY) bench/run.py

# Stubs for TypeScript, Go and Java (stubs/<language>), generated from protos/ and committed.
stubs: setup ## TypeScript, Go and Java stubs from protos/ (stubs/<language>)
	bash scripts/stubs.sh --build

check-stubs: setup ## fail when stubs/ drifted from protos/
	bash scripts/stubs.sh --check

clean: ## remove .venv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache $(SETUP_LOCK)
