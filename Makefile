# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
TEST_STAMP := $(VENV)/.test-installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

export LITELLM_LOCAL_MODEL_COST_MAP := True
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint layers typecheck install install-test browser neo4j llama clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first: the pinned CPU wheel is on local disk; a bare `torch` would pull a CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(STAMP)
install-test: $(TEST_STAMP) browser

# Debian's Chromium for the inspector page's end-to-end test (skipped when absent and not root).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installed: the browser test will be skipped"; }

# Neo4j Community's jars from Maven Central into ~/.cache/memlane/neo4j (once), for the
# Neo4j test server (tests/neo4j/); a no-op with a message where Java or Maven is missing.
neo4j: $(TEST_STAMP)
	$(BIN)/python -m tests.neo4j.server --fetch

# The real model server the integration tests use (tests/integration/llama_server.py): built
# and assembled once into ~/.cache/memlane/llama (a cold build takes 20-45 min on 2 cores);
# `make test` does it on first use, this target ahead of time.
llama: $(TEST_STAMP)
	$(BIN)/python -m tests.integration.llama_server

run: install
	$(BIN)/memlane demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The layer contracts of docs/design.md ([tool.importlinter] in pyproject.toml).
layers: $(TEST_STAMP)
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

test: install-test lint layers typecheck neo4j
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
