# PhotoFlow: `make run` runs the workflow on the offline local stack, `make test` checks everything.
# Both set themselves up: a virtualenv in .venv with the pinned versions of requirements/dev.lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# The browser tests drive Debian's Chromium (no browser download is possible or wanted).
CHROMIUM ?= /usr/bin/chromium

.PHONY: help setup run up test lint typecheck cfn build unit integration e2e bench soak mutation clean

help:
	@echo "make run    - start the local stack, process the sample photos, print what happened"
	@echo "make test   - lint, type-check, validate and build the template, run every test"
	@echo "make build  - sam build: the deployment artefact in .aws-sam/build"
	@echo "make bench  - imaging and local-stack benchmarks with targets"
	@echo "make soak   - many photos with injected faults; nothing may be lost"
	@echo "make mutation - mutation testing of the core (keys, imaging) against its unit tests"

$(STAMP): requirements/dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/photoflow demo

up: $(STAMP)
	$(BIN)/photoflow up

lint: $(STAMP)
	$(BIN)/ruff check src functions tests bench
	$(BIN)/ruff format --check src functions tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench
	@# Every function's module is app.py: check them one by one.
	for handler in functions/*/app.py; do $(BIN)/mypy "$$handler" || exit 1; done

# The security scanner has a virtualenv of its own: checkov's pins clash with the dev tools'.
SCAN := $(VENV)/scan
SCAN_STAMP := $(SCAN)/.installed

$(SCAN_STAMP): requirements/scan.txt | $(STAMP)
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/python -m pip install --quiet -r requirements/scan.txt
	touch $@

cfn: $(STAMP) $(SCAN_STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python -m photoflow_local.template_check template.yaml
	@# No failed check; a check is skipped only in template.yaml's Metadata, with the reason.
	$(SCAN)/bin/checkov --file template.yaml --framework cloudformation --quiet --compact --skip-download

# The SAM CLI has a virtualenv of its own too (.venv/sam): its pins differ from the dev tools'.
SAM := $(VENV)/sam
SAM_STAMP := $(SAM)/.installed
BUILD_DIR := .aws-sam/build
RUNTIME_SDK := .aws-sam/runtime-sdk
# An interpreter of the template's Runtime version (python3.12 on PATH, or pyenv's):
# the layer's bytecode is compiled by it and the artefact checks start functions with it.
LAMBDA_PYTHON = $(shell $(BIN)/python -m photoflow_local.artifact python)

$(SAM_STAMP): requirements/sam.txt | $(STAMP)
	$(PYTHON) -m venv $(SAM)
	$(SAM)/bin/python -m pip install --quiet -r requirements/sam.txt
	touch $@

# `sam build` exactly as a user runs it before `sam deploy`, then what Lambda's Python
# runtime adds (the AWS SDK), so that tests and bench load functions as Lambda does.
build: $(STAMP) $(SAM_STAMP)
	@test -n "$(LAMBDA_PYTHON)" || { $(BIN)/python -m photoflow_local.artifact python; exit 1; }
	PATH="$(dir $(LAMBDA_PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 \
		$(SAM)/bin/sam build --template-file template.yaml --build-dir $(BUILD_DIR)
	rm -rf $(RUNTIME_SDK)
	$(LAMBDA_PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
		--target $(RUNTIME_SDK) --requirement requirements/lambda-runtime.txt
	$(LAMBDA_PYTHON) -m compileall -q -j 0 $(RUNTIME_SDK) >/dev/null

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Chromium: sudo apt-get install chromium"; exit 1; \
	fi

test: lint cfn build $(CHROMIUM)
	CHROMIUM_PATH=$(CHROMIUM) $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: build
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP) $(CHROMIUM)
	CHROMIUM_PATH=$(CHROMIUM) $(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

soak: $(STAMP)
	$(BIN)/photoflow soak $(SOAK_ARGS)

bench: build $(VENV)/.bench-installed
	$(BIN)/python -m bench

$(VENV)/.bench-installed: requirements/bench.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements/bench.txt
	touch $@

# Mutants of the pure core, each run against the unit tests that execute it (tests/mutation,
# stdlib and pytest only); equivalent mutants are listed in tests/mutation/equivalent.toml.
# A release check: minutes, not part of `make test`.
mutation: $(STAMP)
	$(BIN)/python -m tests.mutation $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .local-stack test-artifacts
