# Two commands do all set-up: `make synth` and `make test` (see README). Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Every core (make check, make test); tests/conftest.py groups them so a module's synths are built once and
# one worker synthesizes the environments, and orders the groups longest first: keep xdist from re-sorting.
XDIST := -n auto --dist loadgroup --no-loadscope-reorder
# TOOLCHAIN=cdktn: synthesize (make synth, diff, deploy) on CDK Terrain, CDKTF's community fork, instead
# of CDKTF (docs/toolchain.md). The same code, through provider_import.py; its own virtualenv and CLI.
# Every other target runs in .venv on CDKTF; `make test` compares the two toolchains' output there.
# TOOLCHAIN reaches only the commands that synthesize on it (not, from the caller's environment, .venv's).
TOOLCHAIN ?= cdktf
ifeq ($(TOOLCHAIN),cdktf)
CDK_VENV := $(VENV)
else ifeq ($(TOOLCHAIN),cdktn)
CDK_VENV := .venv-cdktn
else
$(error TOOLCHAIN=$(TOOLCHAIN): allowed: cdktf, cdktn)
endif
unexport TOOLCHAIN
CDK_PY := TOOLCHAIN=$(TOOLCHAIN) $(CDK_VENV)/bin/python
CDK_CLI := TOOLCHAIN=$(TOOLCHAIN) $(TOOLCHAIN)
CDKTN_VENV := .venv-cdktn
CHECKOV_VENV := .venv-checkov
EMULATOR_VENV := .venv-emulator
NODE_BIN := $(CURDIR)/node_modules/.bin
# A supported Node.js (22, from package.json) for jsii and the cdktf CLI: the machine's node 20 is
# end-of-life. Exported for every recipe.
export PATH := $(NODE_BIN):$(PATH)
export JSII_NODE := $(NODE_BIN)/node
# jsii's runtime uses util.isArray; node 22 warns about it on every run. Nothing for users to act on.
export NODE_OPTIONS := --no-deprecation
# Bytecode, and pytest's rewritten test modules, cached in __pycache__ (gitignored; make clean removes
# them) even where the environment turns caching off (PYTHONDONTWRITEBYTECODE, as on these machines):
# a warm run compiles nothing (test collection 1.2 s instead of 5.7 s here).
unexport PYTHONDONTWRITEBYTECODE
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
CDKTN_STAMP := $(CDKTN_VENV)/.installed
CDKTN_LAZY_STAMP := $(CDKTN_VENV)/.lazy-provider
LOCK_VENV := .venv-lock
LOCK_STAMP := $(LOCK_VENV)/.installed
# pip-compile as Dependabot runs it (the command line is recorded in each lock's header), isolated from
# the machine's pip configuration (local mirrors, constraints) so a lock names PyPI's files only.
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
	$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: help setup lock synth check test lint scan validate e2e plan-local docs diagram snapshots review bench diff deploy exec run-job clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# Each virtualenv is installed from its hashed lock (requirements*.txt, written by `make lock` from
# requirements*.in): pip alone, every package checked against its hash (docs/toolchain.md). Each set-up
# step prints one line before it starts and one with its duration: a first run takes minutes.
define install_locked
@echo "setup: python packages ($(@D), $$(grep -c '^[A-Za-z0-9]' $<) locked packages) ..."
@SECONDS=0; $(PYTHON) -m venv $(@D) \
  && $(@D)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r $< \
  && echo "setup: python packages ($(@D)) done in $${SECONDS} s"
@touch $@
endef

$(PY_STAMP): requirements.txt
	$(install_locked)

# The lazy copy of the provider's jsii tarball (docs/quality.md "Fast synth"): again after every install and
# whenever its generator changes.
define lazy_copy
@echo "setup: lazy provider assembly ($(@D)) ..."
@SECONDS=0; TOOLCHAIN=$(1) $(@D)/bin/python -m tools.lazy_provider && echo "setup: lazy provider assembly done in $${SECONDS} s"
@touch $@
endef

$(LAZY_STAMP): $(PY_STAMP) tools/lazy_provider.py
	$(call lazy_copy,cdktf)

$(CDKTN_STAMP): requirements-cdktn.txt
	$(install_locked)

$(CDKTN_LAZY_STAMP): $(CDKTN_STAMP) tools/lazy_provider.py
	$(call lazy_copy,cdktn)

CDKTN_SETUP := $(CDKTN_STAMP) $(CDKTN_LAZY_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@echo "setup: node packages (node_modules, $$(grep -c '^    "node_modules/' package-lock.json) locked packages) ..."
	@SECONDS=0; npm ci --no-audit --no-fund --loglevel=error && echo "setup: node packages done in $${SECONDS} s"
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	$(install_locked)

$(EMULATOR_STAMP): requirements-emulator.txt
	$(install_locked)

# The lock tool (pip-tools), itself installed from its hashed lock; only `make lock` needs it.
$(LOCK_STAMP): requirements-lock.txt
	$(install_locked)

setup: $(PY_STAMP) $(LAZY_STAMP) $(NODE_STAMP) $(if $(filter cdktn,$(TOOLCHAIN)),$(CDKTN_SETUP)) ## Create/update the virtualenv(s) and node_modules (done by every target that needs them)

# Every requirements*.in is locked the same way: a new environment needs only its .in file to be locked.
# Locks are for Python 3.11 on Linux, the interpreter pip-compile runs on. pip-compile keeps each
# lock's current pins where the .in still allows them; UPGRADE=1 takes the newest allowed instead.
lock: $(LOCK_STAMP) ## Re-lock every requirements*.in into requirements*.txt (pinned, hashed); UPGRADE=1: newest transitive versions
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) or sys.platform != "linux")' \
	  || { echo "make lock: the locks are for Python 3.11 on Linux; set PYTHON to such an interpreter"; exit 1; }
	@for pins in requirements*.in; do \
	  out=$${pins%.in}.txt; echo "lock: $$pins -> $$out ..."; SECONDS=0; \
	  $(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --output-file=$$out $$pins || exit 1; \
	  echo "lock: $$out: $$(grep -c '^[A-Za-z0-9]' $$out) packages in $${SECONDS} s"; \
	done

synth: setup ## Synthesize every environment into cdktf.out/stacks/<stack>/cdk.tf.json (local backend); TOOLCHAIN=cdktn: on CDK Terrain
	$(CDK_PY) main.py --backend $(BACKEND)

check: setup ## The fast tier: config and construct tests (no subprocess, checkov, terraform or whole-stack synth)
	$(PY) -m pytest -q -m "not slow and not stack and not emulator" $(XDIST)

test: setup $(CHECKOV_STAMP) $(CDKTN_SETUP) ## Run the whole test suite: fast tier, per-environment gates, validate, CLI, both toolchains (FRESH=1: no reuse of cached references)
	$(if $(FRESH),FRESH=1) $(PY) -m pytest $(XDIST)

lint: setup ## pre-commit's hooks over every file: ruff, ruff format, mypy, actionlint, detect-secrets, snapshots, locks
	$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

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

bench: setup $(CDKTN_SETUP) ## Median wall time and peak RSS: make synth vs a naive cdktf app (ratio), staging synth at 2/60/200 services (linear?), CDKTF vs CDK Terrain
	$(PY) -m tools.bench

diff: setup ## terraform plan of one environment through the cdktf CLI (cdktn with TOOLCHAIN=cdktn): make diff ENV=staging
	@$(PY) -m tools.preflight diff "$(ENV)"
	PLATFORM_BACKEND=configured $(CDK_CLI) diff $$($(PY) -m tools.preflight stack "$(ENV)")

deploy: setup ## Apply one environment through the cdktf CLI (cdktn with TOOLCHAIN=cdktn): make deploy ENV=dev (FIRST_DEPLOY=1: services at zero tasks)
	@$(PY) -m tools.preflight deploy "$(ENV)"
	PLATFORM_BACKEND=configured $(if $(FIRST_DEPLOY),PLATFORM_FIRST_DEPLOY=1) $(CDK_CLI) deploy $$($(PY) -m tools.preflight stack "$(ENV)")

exec: setup ## A shell in a running task through ECS Exec (needs the AWS CLI and Session Manager plugin): make exec ENV=dev SERVICE=movie-service
	@$(PY) -m tools.exec "$(ENV)" "$(SERVICE)"

run-job: setup ## Run a job's task to its end and exit with its exit code (e.g. migrations before a deploy): make run-job ENV=dev JOB=migrate-movies
	@$(PY) -m tools.run_job "$(ENV)" "$(JOB)"

clean: ## Remove generated output and caches (keeps the virtualenvs, node_modules and local state)
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache build
	find . -name __pycache__ -type d -not -path './.venv*' -not -path './node_modules/*' -prune -exec rm -rf {} +
