# The two commands for a newcomer are `make plan` and `make test`; both set up .venv when missing.
# Everything CI checks runs through `make test` (and `.ci/run` calls nothing else).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: setup plan layer test check lint format typecheck unit bench clean

## setup: create or repair .venv (Python 3.11-3.13; see tools/bootstrap.py). Every target runs it; fast when done.
setup:
	@PYTHON=$(PYTHON) tools/setup

## plan: run the program offline for STACK (default dev) as a preview, print its resources, gate it with the policy pack.
## make reports any failure as exit 2; scripts use ./plan, whose exit code is the plan's (0, 1 or 2).
plan: setup
	@PYTHON=$(PYTHON) ./plan --stack $(STACK)

## layer: build the drift check's FC layer zip (build/layers/drift-check.zip) for `pulumi up`; needs the package index
layer: setup
	$(BIN)/python -m tools.build_layer

## test: everything CI checks — format, lint, types, tests
test: check

check: lint typecheck unit

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/pyright

unit: setup
	$(BIN)/python -m pytest

## bench: measure the plan, the policy gate, the providers, the provider lanes and the test suite; rewrites BENCHMARKS.md (~35 min)
bench: setup
	$(BIN)/python -m bench

## format: rewrite files in the project's format and apply safe lint fixes
format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .venv.lock .venv-setup.log build .pytest_cache .ruff_cache
