# The two commands for a newcomer are `make plan` and `make test`; both set up .venv when missing.
# Everything CI checks runs through `make test` (and `.ci/run` calls nothing else).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev
STAMP := $(VENV)/.installed

.PHONY: plan test check lint format typecheck unit bench clean

# Re-install only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt policies/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## plan: run the program offline for STACK (default dev) as a preview, print its resources, gate it with the policy pack
plan: $(STAMP)
	$(BIN)/python -m tools.plan --stack $(STACK)

## test: everything CI checks — format, lint, types, tests
test: check

check: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/pyright

unit: $(STAMP)
	$(BIN)/python -m pytest

## bench: measure the plan, the policy gate, the providers and the test suite; rewrites BENCHMARKS.md (~15 min)
bench: $(STAMP)
	$(BIN)/python -m bench

## format: rewrite files in the project's format and apply safe lint fixes
format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
