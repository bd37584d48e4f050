# Two commands do all set-up on a fresh machine (each makes the virtual environment):
#   make run    build an index if none exists (built-in sample without a mirror) and serve
#   make test   run every test
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint sample bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/trialsearch serve

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check indexer webapp tests bench
	$(VENV)/bin/ruff format --check indexer webapp tests bench

clean:
	rm -rf $(VENV) index_data/gen-* index_data/CURRENT.json index_data/reindex-status.json index_data/sample_pages
