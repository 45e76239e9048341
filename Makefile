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
	$(PY) -m pytest -q

e2e: $(VENV)/.dev  ## the real Pulumi engine against the loopback cloud (tests/e2e/README.md)
	bin="$$(tests/e2e/engine/build.sh)" && \
	DATABRICKS_AZUREML_ENGINE_BIN="$$bin" $(PY) -m pytest -q -m e2e tests/e2e

teardown-check: $(VENV)/.runtime  ## what `pulumi destroy` left behind (STACK=dev); exit 1 if anything
	$(PY) -m teardown.check --stack $(STACK) $(if $(SUBSCRIPTION),--subscription $(SUBSCRIPTION))

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
