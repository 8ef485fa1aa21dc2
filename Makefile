# Two commands on a fresh clone: `make run` starts the whole system locally, `make test` runs every check.
# Both create .venv and install what they need.

SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Lambda runs python3.12, so the venv (and `sam build`) use it too.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)

# Exported as found, so that a sub-make (make test's) takes the same interpreter, not the venv's.
export PYTHON
export PATH := $(BIN):$(PATH)
# uv never fetches an interpreter of its own: the venvs use the Python 3.12 found above.
export UV_PYTHON_DOWNLOADS := never
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv lock run invoke events test suites static unit integration e2e e2e-long e2e-rest fuzz simulate lint checkov format validate build bench openapi schema deploy clean

help:
	@echo "make run        start the local stack (API on http://127.0.0.1:3000, PORT to change it; RESET=1 starts empty)"
	@echo "make invoke     FUNCTION=RunnerFunction EVENT=events/X.json: sam remote invoke on the running local stack (sam local invoke without Docker)"
	@echo "make events     write events/*.local.json: a pending job for the runner's and job_state's events, the authorizer's token (DEFINITION=key)"
	@echo "make test       every check: lint, template validation, checkov, build, unit, integration, e2e tests, fuzz"
	@echo "make simulate   the job lifecycle's simulation, longer than make test's (SEED=n STEPS=n; 20,000 steps by default)"
	@echo "make lint       ruff check and format check, mypy (strict for layers/jobsys)"
	@echo "make static     every static check (lint, validate, checkov, build), at a lower CPU priority"
	@echo "make checkov    checkov on template.yaml (every skip in it gives its reason)"
	@echo "make fuzz       schemathesis against a local stack: the API must keep docs/openapi.json (SEED=n to repeat a run, EXAMPLES=n for a deeper one)"
	@echo "make format     ruff format and fix"
	@echo "make lock       write requirements.lock anew from pyproject.toml (make installs exactly it)"
	@echo "make bench      benchmarks (bench/), figures into docs/performance.md; installs redis-server and rq for vs_rq"
	@echo "make openapi    regenerate docs/openapi.json from the API's models"
	@echo "make schema     regenerate config/jobs.schema.json from jobs.yaml's model (jobsys.spec.JobsFile)"
	@echo "make deploy     sam build && sam deploy --guided, to a real AWS account"

# uv installs the lock: 12 s on a fresh clone against pip's 26 to 38 s (docs/performance.md). It
# compiles the bytecode as pip does, since the tests and the stack run with PYTHONDONTWRITEBYTECODE
# and would otherwise compile boto3 and moto again in every process.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_INSTALL := $(UV) pip install -q --compile-bytecode

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed (the Lambda runtime); set PYTHON=/path/to/python3.12" >&2; exit 1; }
	test -x $(BIN)/python || "$(PYTHON)" -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(UV_INSTALL) --python $(BIN)/python -r requirements.lock
	$(UV_INSTALL) --python $(BIN)/python --no-deps -e .
	touch $@

# requirements.lock anew, from pyproject.toml's ranges (the project, its `local` and `dev` extras),
# resolved in a venv of its own.
lock:
	@test -n "$(PYTHON)" || { echo "Python 3.12 is needed; set PYTHON=/path/to/python3.12" >&2; exit 1; }
	rm -rf .venv-lock && "$(PYTHON)" -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q --upgrade pip
	.venv-lock/bin/python -m pip install -q -e '.[local,dev]'
	{ sed -n '1,2p' requirements.lock; .venv-lock/bin/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf .venv-lock

venv: $(VENV)/.installed

# RESET=1 starts with no jobs and no output; otherwise they are kept across restarts.
run: venv
	$(BIN)/python -m jobs_local $(if $(RESET),--reset)

# The Docker-free stand-in for `sam local invoke`: the SAM CLI's `sam remote invoke` on the stack that
# `make run` started, with its endpoint and keys (`jobs-local env`) and its stack name (samconfig's
# `local` environment). The function runs as deployed there: the code of the checkout, in a new
# worker for each change (README, "Develop a function").
invoke: venv
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=RunnerFunction EVENT=events/runner.local.json" >&2; exit 2; }
	$(BIN)/jobs-local exec sam remote invoke $(FUNCTION) --config-env local --event-file $(EVENT)

events: venv
	$(BIN)/jobs-local events $(if $(DEFINITION),--definition $(DEFINITION))

# The long end-to-end tests run beside the rest from the start: they mostly wait (a hung runner's two
# minutes, a cron's next minute), one worker each. The fuzz runs beside the last suite, the e2e
# tests, at a lower CPU priority: until then the CPUs are full (the unit, integration and long
# tests), and the e2e tests leave them idle a fifth of the time (waiting for the browser,
# executions, timers), which the fuzz takes rather than a minute of its own (docs/performance.md).
test: venv
	$(MAKE) --no-print-directory -j6 --output-sync=line suites e2e-long

# Every check, but the long end-to-end tests: the unit tests, then the stacks' suites one after the
# other, each on its workers (together they would only share the same two CPUs). The static checks
# run beside the integration tests and the fuzz beside the e2e tests, both at nice 10, on the CPU
# time those leave idle; beside the unit tests they took it from them, which every later suite waits for.
# The unit tests beside the integration tests were no faster (docs/performance.md).
suites: venv
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory -j3 --output-sync=target integration static
	$(MAKE) --no-print-directory -j2 --output-sync=line e2e-rest fuzz FUZZ_NICE=10

# ruff, mypy, sam validate, cfn-lint, checkov and sam build, at a lower CPU priority.
static: venv
	nice -n 10 $(MAKE) --no-print-directory -j4 --output-sync=target lint validate checkov build

unit: venv
	$(BIN)/pytest -q -n 2 tests/unit

# The lifecycle simulation (tests/unit/lifecycle_simulation.py) from another seed and for longer
# than make test's 300 steps: about 20 min for 20,000 steps; no per-test timeout. A failure names its seed and steps.
simulate: venv
	SIMULATION_SEED=$(or $(SEED),1) SIMULATION_STEPS=$(or $(STEPS),20000) $(BIN)/pytest -q -p no:logging -p no:cacheprovider --timeout 0 tests/unit/test_lifecycle_simulation.py

# Each worker has a stack of its own, and the tests are independent. Four workers on 2 cores: the
# tests mostly wait (for executions, timers, processes), and with two workers the CPUs were busy
# only half the time (docs/performance.md, "make test").
integration: venv
	$(BIN)/pytest -q -n 4 --dist worksteal tests/integration

# The browser tests drive Debian's Chromium; nothing is downloaded at run time. Two workers for
# them: with four, the page's timed expectations failed when the CPUs were busy, for 14 s gained.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi

# Two runs at once. The long tests (marked `long`: a hung runner's two minutes, a restart, a cron's
# next minute, a full runner) mostly wait, one worker each; the rest keep two workers, since the
# browser's timed expectations want the CPU. In one run of two workers, the long ones held both for
# two minutes: 288 s against 224 s for the two runs at once (docs/performance.md).
e2e: venv $(CHROMIUM)
	$(MAKE) --no-print-directory -j2 --output-sync=target e2e-long e2e-rest

e2e-long: venv $(CHROMIUM)
	$(BIN)/pytest -q -n 4 --dist worksteal -m long tests/e2e

e2e-rest: venv $(CHROMIUM)
	$(BIN)/pytest -q -n 2 --dist worksteal -m "not long" tests/e2e

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/jobsys/jobsys functions

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

CHECKOV_VENV := $(VENV)/checkov
$(CHECKOV_VENV)/.installed: pyproject.toml | $(VENV)/.installed
	test -x $(CHECKOV_VENV)/bin/python || $(UV) venv -q --python "$(PYTHON)" $(CHECKOV_VENV)
	$(UV_INSTALL) --python $(CHECKOV_VENV)/bin/python --group checkov
	touch $@

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

# About 1.5 min alone: a fresh local stack on a free port, then every schemathesis check on at
# least 1,000 cases (about 2,000: an admin's run of every phase, a viewer's of the fuzzing phase).
# FUZZ_NICE lowers its CPU priority (make test runs it beside the e2e tests); EXAMPLES=n makes a
# deeper run (n cases per operation in the fuzzing and stateful phases, 15 by default).
fuzz: venv
	$(if $(FUZZ_NICE),nice -n $(FUZZ_NICE)) $(BIN)/python -m tools.fuzz $(if $(SEED),--seed $(SEED)) $(if $(EXAMPLES),--max-examples $(EXAMPLES))

validate: venv
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/cfn-lint template.yaml

build: venv
	$(BIN)/sam build --template template.yaml

# RQ's yardstick needs a real redis-server (Debian's) and the `bench` extra (rq, py-spy).
REDIS := /usr/bin/redis-server
$(REDIS):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
	else echo "bench/vs_rq.py needs Debian's redis-server: sudo apt-get install redis-server" >&2; exit 1; fi

$(VENV)/.bench: pyproject.toml | $(VENV)/.installed
	$(UV_INSTALL) --python $(BIN)/python -e '.[dev,bench]'
	touch $@

# About 11 min; each benchmark appends its figures to docs/performance.md.
bench: venv $(REDIS) $(VENV)/.bench
	cd bench && $(BIN)/python vs_rq.py --jobs 100 500 --history 10000 --write ../docs/performance.md
	cd bench && $(BIN)/python transitions.py --write ../docs/performance.md
	cd bench && $(BIN)/python cold_imports.py --write ../docs/performance.md
	cd bench && $(BIN)/python latency.py --write ../docs/performance.md
	cd bench && $(BIN)/python calls.py --write ../docs/performance.md
	cd bench && $(BIN)/python cpu_per_job.py --write ../docs/performance.md
	$(BIN)/python bench/throughput.py
	cd bench && $(BIN)/python queue_wakeup.py --write ../docs/performance.md
	cd bench && $(BIN)/python stats_cost.py --sizes 100 5000 --write ../docs/performance.md
	cd bench && $(BIN)/python iam_cost.py --write ../docs/performance.md
	cd bench && $(BIN)/python iam_toggle.py --write ../docs/performance.md
	cd bench && $(BIN)/python burst.py --write ../docs/performance.md

openapi: venv
	$(BIN)/python -m tools.openapi > docs/openapi.json

schema: venv
	$(BIN)/python -m jobsys.spec.schema > config/jobs.schema.json

deploy: build
	$(BIN)/sam deploy --guided

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache
