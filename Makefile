# PhotoFlow: `make run` runs the workflow on the offline local stack, `make test` checks everything.
# Both set themselves up: a virtualenv in .venv with the pinned versions of requirements/dev.lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The oldest Python the project runs on: pyproject.toml's requires-python.
MIN_PYTHON := $(shell sed -n 's/^requires-python = ">=\([0-9.]*\)"/\1/p' pyproject.toml)
# The Python that PYTHON names (empty if it does not run). The stamp carries it, so a .venv
# that another Python made is set up again rather than used.
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
STAMP := $(VENV)/.installed-python$(PYTHON_VERSION)
# A set-up step: a line when it starts, and one with the time it took when it is done.
STEP := sh -c 'step="$$1"; shift; started=$$(date +%s); echo "setup: $$step ..."; \
	"$$@" || exit $$?; echo "setup: $$step: done in $$(( $$(date +%s) - started )) s"' step
PIP_INSTALL := -m pip install --disable-pip-version-check --root-user-action=ignore
PYTEST_ARGS ?=
# The browser tests drive Debian's Chromium (no browser download is possible or wanted).
CHROMIUM ?= /usr/bin/chromium

.PHONY: help setup run up test lint typecheck cfn build unit integration e2e bench soak mutation clean

help:
	@echo "make run    - start the local stack, process the sample photos, print what happened;"
	@echo "              in a terminal, keep the stack and its page up until Ctrl-C"
	@echo "make up     - start the local stack and keep it running until Ctrl-C"
	@echo "make test   - lint, type-check, validate and build the template, run every test"
	@echo "make build  - sam build: the deployment artefact in .aws-sam/build"
	@echo "make bench  - imaging and local-stack benchmarks with targets"
	@echo "make soak   - many photos with injected faults; nothing may be lost"
	@echo "make mutation - mutation testing of the core (keys, imaging) against its unit tests"

# The first set-up: Python checked before anything is made, then one line per step.
$(STAMP): requirements/dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < tuple(map(int, "$(MIN_PYTHON)".split("."))))' \
		2>/dev/null || { \
		echo "setup: PhotoFlow needs Python $(MIN_PYTHON) or newer;" \
			"PYTHON=$(PYTHON) is $(or $(PYTHON_VERSION:%=Python %),not a Python that runs)."; \
		echo "setup: install one (python.org, your package manager or pyenv) and name it:" \
			"make $(or $(MAKECMDGOALS),setup) PYTHON=python$(MIN_PYTHON)"; \
		exit 1; }
	@echo "setup: Python $(PYTHON_VERSION) ($(PYTHON)); the first set-up takes a few minutes"
	@made_by=$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ -d $(VENV) ] && [ "$$made_by" != "$(PYTHON_VERSION)" ]; then \
		echo "setup: removing $(VENV): it was made by $${made_by:+Python }$${made_by:-a Python that no longer runs}, not $(PYTHON_VERSION)"; \
		rm -rf $(VENV); \
	fi
	@$(STEP) "creating $(VENV)" $(PYTHON) -m venv $(VENV)
	@$(STEP) "installing the pinned packages of requirements/dev.lock (pip's progress below)" \
		$(BIN)/python $(PIP_INSTALL) --progress-bar on -r requirements/dev.lock
	@$(STEP) "installing photoflow itself (editable)" \
		$(BIN)/python $(PIP_INSTALL) --quiet --no-deps -e .
	@rm -f $(VENV)/.installed $(VENV)/.installed-python*
	@touch $@
	@echo "setup: $(VENV) is ready"

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
	@$(STEP) "creating $(SCAN) for the security scanner" $(PYTHON) -m venv $(SCAN)
	@$(STEP) "installing requirements/scan.txt into it" \
		$(SCAN)/bin/python $(PIP_INSTALL) --quiet -r requirements/scan.txt
	@touch $@

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
	@$(STEP) "creating $(SAM) for the SAM CLI" $(PYTHON) -m venv $(SAM)
	@$(STEP) "installing requirements/sam.txt into it" \
		$(SAM)/bin/python $(PIP_INSTALL) --quiet -r requirements/sam.txt
	@touch $@

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
		$(STEP) "installing Chromium for the browser tests (apt-get)" sh -c \
			'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'; \
	else \
		echo "The browser tests need Chromium: sudo apt-get install chromium"; exit 1; \
	fi

# axe-core, the accessibility engine the browser tests run in the page: the version and
# tarball sha256 pinned in requirements/axe-core.txt, fetched from the npm registry once.
AXE := .cache/axe-core-$(shell sed -n 's/^axe-core==\([^ ]*\) .*/\1/p' requirements/axe-core.txt)/axe.min.js

$(AXE): requirements/axe-core.txt | $(STAMP)
	@$(STEP) "fetching axe-core for the browser tests (npm registry, sha256 checked)" \
		$(BIN)/python -m tests.axe

# What the tests need, made side by side: the scanner's and the SAM CLI's virtualenvs
# install while the linters run (each target's output kept together).
test: $(STAMP)
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint cfn build $(CHROMIUM) $(AXE)
	CHROMIUM_PATH=$(CHROMIUM) $(BIN)/python -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: build
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP) $(CHROMIUM) $(AXE)
	CHROMIUM_PATH=$(CHROMIUM) $(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

soak: $(STAMP)
	$(BIN)/photoflow soak $(SOAK_ARGS)

bench: build $(VENV)/.bench-installed
	$(BIN)/python -m bench

$(VENV)/.bench-installed: requirements/bench.txt $(STAMP)
	@$(STEP) "installing requirements/bench.txt" \
		$(BIN)/python $(PIP_INSTALL) --quiet -r requirements/bench.txt
	@touch $@

# Mutants of the pure core, each run against the unit tests that execute it (tests/mutation,
# stdlib and pytest only); equivalent mutants are listed in tests/mutation/equivalent.toml.
# A release check: minutes, not part of `make test`.
mutation: $(STAMP)
	$(BIN)/python -m tests.mutation $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .local-stack test-artifacts .cache
