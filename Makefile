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
SDK_DIR := tests/sdk
SDK_NODE := $(SDK_DIR)/node_modules/.installed
SDK_VENV := $(SDK_DIR)/.venv/.installed
GRPCURL := $(VENV)/bin/grpcurl
GRPCURL_MODULE := github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3

# buf breaking compares protos/ with this git ref: the previous commit by default (the last change must not
# break existing clients); set BUF_AGAINST='.git#branch=main' on a feature branch.
BUF_AGAINST ?= .git\#ref=HEAD~1

PY_SOURCES := client/meterd/client server tests bench scripts

.PHONY: help setup lock generate check-generated check-stubs run test test-slow lint fmt bench bench-scale stubs clean fuzz

help: ## this list
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(STAMP) $(BUF) $(SDK_NODE) $(SDK_VENV) $(GRPCURL) ## .venv with the project and every dev tool, buf, OpenMeter's SDKs, grpcurl, PostgreSQL and Chromium (idempotent)
	@bash scripts/ensure-postgresql.sh
	@bash scripts/ensure-fiu.sh
	@bash scripts/ensure-chromium.sh

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

# OpenMeter's own SDKs, which tests/api/test_openmeter_sdks.py runs against meterd's HTTP API: the npm packages
# pinned by tests/sdk/package-lock.json, and the Python SDK in a venv of its own (it brings azure-core, requests).
$(SDK_NODE): $(SDK_DIR)/package.json $(SDK_DIR)/package-lock.json
	@flock $(SETUP_LOCK) bash -c 'set -e; \
	  if [ $(SDK_NODE) -nt $(SDK_DIR)/package-lock.json ] && [ $(SDK_NODE) -nt $(SDK_DIR)/package.json ]; then exit 0; fi; \
	  npm ci --prefix $(SDK_DIR) --no-audit --no-fund --silent --engine-strict=false; \
	  touch $(SDK_NODE)'

$(SDK_VENV): $(SDK_DIR)/requirements.txt
	@flock $(SETUP_LOCK) bash -c 'set -e; \
	  if [ $(SDK_VENV) -nt $(SDK_DIR)/requirements.txt ]; then exit 0; fi; \
	  test -x $(SDK_DIR)/.venv/bin/python || python3 -m venv $(SDK_DIR)/.venv; \
	  $(SDK_DIR)/.venv/bin/pip install -q --no-deps -r $(SDK_DIR)/requirements.txt; \
	  touch $(SDK_VENV)'

# grpcurl, which tests/api/test_grpc_tooling.py drives against meterd's reflection (from the Go module proxy;
# without Go the test uses a reflection client of its own instead).
$(GRPCURL):
	@flock $(SETUP_LOCK) bash -c 'set -e; test -x $(GRPCURL) && exit 0; \
	  if command -v go >/dev/null; then GOBIN=$(abspath $(VENV))/bin go install $(GRPCURL_MODULE); \
	  else echo "go: missing, grpcurl not installed"; fi'

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

run: setup ## meterd serve: gRPC on 127.0.0.1:50051, the HTTP API and the dashboard on 8888
	METERD_HTTP_DASHBOARD_DIR=examples/dashboard $(VENV)/bin/meterd serve --listen 127.0.0.1:50051 \
	  --http-listen 127.0.0.1:8888 --db ./meterd.db --config examples/meterd.yaml

# Tests marked slow (the kill -9 chaos loop, the storage and connection fault sweeps over every call of a
# path) run in `make test-slow`, which CI runs too; `make test` runs a short sweep of each.
# TEST_WORKERS pytest-xdist workers, each with its own servers and PostgreSQL cluster: a test spends most of
# its time waiting (for servers, subprocesses, fsync), so 4 workers on 2 cores took make test from 21 to 12
# minutes (1,650 tests, load 4-8). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 4
test: setup ## every suite but the slow ones
	$(PY) -m pytest -q -m "not slow" -n $(TEST_WORKERS)

test-slow: setup ## the slow tests (the kill -9 chaos loop, the full fault sweeps)
	$(PY) -m pytest -q -m slow -n $(TEST_WORKERS)

# The wire fuzz test with many examples per RPC (make test runs a few): METERD_FUZZ_EXAMPLES to change.
FUZZ_EXAMPLES ?= 500
fuzz: setup ## the wire and HTTP fuzz tests with many examples per RPC and route
	METERD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/api/test_wire_fuzz.py tests/api/test_http_fuzz.py

# The server's type check runs with --check-untyped-defs (bodies of functions without annotations too); the
# layer contracts are .importlinter's (an import pointing back up the layers fails here, and so in CI).
lint: setup ## buf lint and breaking, ruff (check, format --check), unasync --check, mypy, the layer contracts
	$(BUF) lint
	$(BUF) breaking --against '$(BUF_AGAINST)'
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/mypy --strict client/meterd/client
	$(PY) scripts/unasync.py --check
	$(VENV)/bin/mypy --check-untyped-defs server/meterd/server
	$(VENV)/bin/lint-imports

fmt: setup ## ruff format and import sorting over every Python source
	$(VENV)/bin/ruff check --select I --fix $(PY_SOURCES)
	$(VENV)/bin/ruff format $(PY_SOURCES)

bench: setup ## benchmarks: bench/results/*.json and a short table
	$(PY) bench/run.py

# bench/scale.py: bulk loads, hours, ~60 GB of disk at the largest size; run once, its figures committed.
bench-scale: setup ## costs at 1M, 10M and 50M stored events on both backends (bench/results/scale.json)
	$(PY) bench/scale.py

# Stubs for TypeScript, Go and Java (stubs/<language>), generated from protos/ and committed.
stubs: setup ## TypeScript, Go and Java stubs from protos/ (stubs/<language>)
	bash scripts/stubs.sh --build

check-stubs: setup ## fail when stubs/ drifted from protos/
	bash scripts/stubs.sh --check

clean: ## remove .venv, node_modules and caches
	rm -rf $(VENV) node_modules .pytest_cache $(SETUP_LOCK) $(SDK_DIR)/node_modules $(SDK_DIR)/.venv
