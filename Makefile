# Two commands do all set-up: `make synth` and `make test` (see README). Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
EMULATOR_VENV := .venv-emulator
NODE_BIN := $(CURDIR)/node_modules/.bin
# A supported Node.js (22, from package.json) for jsii and the cdktf CLI: the machine's node 20 is
# end-of-life. Exported for every recipe.
export PATH := $(NODE_BIN):$(PATH)
export JSII_NODE := $(NODE_BIN)/node
# jsii's runtime uses util.isArray; node 22 warns about it on every run. Nothing for users to act on.
export NODE_OPTIONS := --no-deprecation
export CHECKPOINT_DISABLE := 1
export DISABLE_VERSION_CHECK := 1

# make synth: local state for every stack, so any machine can synth/plan without shared state.
# make diff/deploy: each environment's configured backend (S3 / HCP Terraform for shared envs).
BACKEND ?= local
ENV ?=
SERVICE ?=
JOB ?=

PY_STAMP := $(VENV)/.installed
LAZY_STAMP := $(VENV)/.lazy-provider
NODE_STAMP := node_modules/.installed
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
EMULATOR_STAMP := $(EMULATOR_VENV)/.installed

.PHONY: help setup synth check test lint scan validate e2e plan-local docs diagram snapshots review bench diff deploy exec run-job clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(PY_STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The lazy copy of the provider's jsii tarball (docs/quality.md "Fast synth"): again after every install and
# whenever its generator changes.
$(LAZY_STAMP): $(PY_STAMP) tools/lazy_provider.py
	$(PY) -m tools.lazy_provider
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(EMULATOR_STAMP): requirements-emulator.txt
	$(PYTHON) -m venv $(EMULATOR_VENV)
	$(EMULATOR_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
	touch $@

setup: $(PY_STAMP) $(LAZY_STAMP) $(NODE_STAMP) ## Create/update the virtualenv and node_modules (done by every target that needs them)

synth: setup ## Synthesize every environment into cdktf.out/stacks/<stack>/cdk.tf.json (local backend)
	$(PY) main.py --backend $(BACKEND)

check: setup ## The fast tier: config and construct tests (no subprocess, checkov, terraform or whole-stack synth)
	$(PY) -m pytest -q -m "not slow and not stack and not emulator"

test: setup $(CHECKOV_STAMP) ## Run the whole test suite: fast tier, per-environment gates, validate, CLI (FRESH=1: no reuse of cached references)
	$(if $(FRESH),FRESH=1) $(PY) -m pytest -n auto --dist loadgroup

lint: setup ## ruff (lint + format check) and mypy on the project's code
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

scan: synth $(CHECKOV_STAMP) ## checkov over every stack; fails on any failed check not in checkov-skips.toml; SARIF in build/
	$(PY) -m tools.scan

validate: setup ## terraform validate of every stack with the real AWS provider (5.100.0; TF_PROVIDER_MIRROR or the registry)
	$(PY) -m tools.validate

e2e: setup $(EMULATOR_STAMP) ## Every stack against an emulated AWS (moto): plan, apply, re-plan, destroy (+ dev's upgrade, rebuilds) and, alongside, the emulator test tier; STACKS=dev,prod: those stacks only
	@mkdir -p build
	@# The emulator test tier (the plan-based review) runs beside the harness: both mostly wait on the provider.
	@$(if $(STACKS),:,$(PY) -m pytest -m emulator -p no:cacheprovider > build/e2e-tests.log 2>&1 & echo $$! > build/e2e-tests.pid); \
	status=0; $(PY) -m tools.e2e $(if $(STACKS),--stacks $(STACKS)) || status=$$?; \
	$(if $(STACKS),,tier=0; wait $$(cat build/e2e-tests.pid) || tier=$$?; echo "--- emulator test tier (pytest -m emulator) ---"; cat build/e2e-tests.log; [ $$tier -eq 0 ] || status=1;) \
	exit $$status

plan-local: setup $(EMULATOR_STAMP) ## terraform plan of ENV against an emulated AWS, no account needed; APPLY=1 applies it there
	$(PY) -m tools.plan_local "$(ENV)" $(if $(APPLY),--apply)

docs: setup ## docs/configuration.md from the settings models (a test fails when it is stale)
	$(PY) -m tools.config_reference

# Graphviz comes from npm (@viz-js/viz: Graphviz compiled to wasm; @resvg/resvg-js for the PNG), installed
# by setup with the cdktf CLI: it needs only node, so no root, apt-get or system `dot` on a fresh machine,
# and the same Graphviz (16.x, pinned in package-lock.json) lays out the picture everywhere.
diagram: synth ## Architecture per stack from the synthesized JSON, drawn by Graphviz (wasm, via npm): build/diagrams/<stack>.dot/.svg/.png; the dev picture docs/architecture.png
	$(PY) -m tools.diagram

snapshots: setup ## Rewrite tests/snapshots/<stack>.json from a fresh synth (after reviewing the change)
	$(PY) -m tools.snapshots

review: setup $(EMULATOR_STAMP) ## Per stack vs BASE (default HEAD): JSON diff, then a real plan over BASE's state in the emulator; fails when stateful resources would be destroyed or replaced
	$(PY) -m tools.review "$(or $(BASE),HEAD)"

bench: setup ## Median wall time and peak RSS: make synth vs a naive cdktf app (ratio), and staging synth at 2/60/200 services (linear?)
	$(PY) -m tools.bench

diff: setup ## terraform plan of one environment through the cdktf CLI: make diff ENV=staging
	@$(PY) -m tools.preflight diff "$(ENV)"
	PLATFORM_BACKEND=configured cdktf diff $$($(PY) -m tools.preflight stack "$(ENV)")

deploy: setup ## Apply one environment through the cdktf CLI: make deploy ENV=dev (FIRST_DEPLOY=1: services at zero tasks)
	@$(PY) -m tools.preflight deploy "$(ENV)"
	PLATFORM_BACKEND=configured $(if $(FIRST_DEPLOY),PLATFORM_FIRST_DEPLOY=1) cdktf deploy $$($(PY) -m tools.preflight stack "$(ENV)")

exec: setup ## A shell in a running task through ECS Exec (needs the AWS CLI and Session Manager plugin): make exec ENV=dev SERVICE=movie-service
	@$(PY) -m tools.exec "$(ENV)" "$(SERVICE)"

run-job: setup ## Run a job's task to its end and exit with its exit code (e.g. migrations before a deploy): make run-job ENV=dev JOB=migrate-movies
	@$(PY) -m tools.run_job "$(ENV)" "$(JOB)"

clean: ## Remove generated output and caches (keeps the virtualenvs, node_modules and local state)
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache build
	find . -name __pycache__ -type d -not -path './.venv*' -not -path './node_modules/*' -prune -exec rm -rf {} +
