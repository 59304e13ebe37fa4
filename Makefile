# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast setup install bench clean

# llama.cpp (the fast CPU backend) builds from source; if that fails the bot still runs on
# the slower transformers path, and says so.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q -e ".[test,cpu-fast]" || echo "warning: llama-cpp-python did not build; replies use the slower transformers CPU path"
	touch $(STAMP)

install: $(STAMP)

# A transcript key in .env (generated once), the database migrated, the default model cached.
setup: $(STAMP)
	$(BIN)/counselbot setup

run: setup
	$(BIN)/counselbot run

test: setup
	$(BIN)/mypy
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python bench/risk.py
	$(BIN)/python bench/worker.py
	$(BIN)/python bench/load.py --users 1000

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache
