# fediverse-mu — the two commands a newcomer needs:
#   make run    set up .venv, create a demo place in var/demo (first time) and serve it
#   make test   set up .venv with the test tools (and Debian's Chromium for the browser test),
#               run ruff, mypy and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO ?= var/demo
PORT ?= 8000

.PHONY: run test lint typecheck pytest bench clean check-python browser

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "fediverse-mu needs Python >= 3.11 (found: $$($(PYTHON) --version 2>&1)); set PYTHON=python3.X"; exit 1; }

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	@touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable ".[test]"
	@touch $@ $(VENV)/.stamp-run

run: $(VENV)/.stamp-run
	@if [ ! -f "$(DEMO)/config.toml" ]; then \
	  mkdir -p "$$(dirname "$(DEMO)")" && \
	  $(BIN)/fediverse-mu init --data "$(DEMO)" --domain "localhost:$(PORT)" --dev \
	    --name "La Fabrique du Quartier" --kind fabrique-de-territoire \
	    --territory "Quartier de la gare" \
	    --description "Un tiers-lieu de démonstration pour essayer fediverse-mu." && \
	  $(BIN)/fediverse-mu user create --data "$(DEMO)" demo --email demo@localhost --admin \
	    > "$(DEMO)/demo-credentials.txt" && chmod 600 "$(DEMO)/demo-credentials.txt"; \
	fi
	@echo
	@echo "  Demo place: http://localhost:$(PORT)/   (data in $(DEMO))"
	@sed 's/^/  /' "$(DEMO)/demo-credentials.txt"
	@echo "  Mastodon clients: server http://localhost:$(PORT), user demo (or demo@localhost), the password above."
	@echo "  API token for scripts: $(BIN)/fediverse-mu token create --data $(DEMO) demo"
	@echo
	$(BIN)/fediverse-mu serve --data "$(DEMO)" --port $(PORT)

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check fediverse_mu tests migrations bench

typecheck: $(VENV)/.stamp-test
	$(BIN)/mypy

browser:
	@.ci/install-browser

pytest: $(VENV)/.stamp-test browser
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(VENV)/.stamp-test
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
