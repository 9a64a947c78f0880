# RoadTwin. Two commands for a newcomer: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TWIN := $(VENV)/bin/twin
STAMPS := .twin/stamps
BENCHES := $(patsubst bench/bench_%.py,%,$(wildcard bench/bench_*.py))

.PHONY: run test setup lint bench db sample serve stop clean help $(addprefix bench-,$(BENCHES))

help:  ## list the targets
	@grep -E '^[a-z%-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

run: setup sample  ## set up, load the Tianjin sample, serve the API and the twin
	@bash scripts/serve.sh

test: setup  ## set up what tests need, then run the whole suite
	$(PY) -m pytest -q -p no:cacheprovider

setup: $(STAMPS)/system $(STAMPS)/venv db  ## everything but serving and testing

$(STAMPS)/system: scripts/system-deps.sh
	@mkdir -p $(STAMPS)
	bash scripts/system-deps.sh
	@touch $@

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip >/dev/null
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

db: $(STAMPS)/venv  ## start the database (embedded cluster unless TWIN_DATABASE_URL) and migrate
	$(TWIN) db up

sample: db  ## load the bundled Tianjin sample (idempotent)
	$(TWIN) load sample

serve:  ## serve the API and the twin (after setup)
	@bash scripts/serve.sh

stop:  ## stop the embedded database cluster
	$(TWIN) db down

lint: $(STAMPS)/venv  ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy twin loaders road_network assets scenes

bench: setup  ## every benchmark under bench/
	@for b in $(BENCHES); do echo "== bench-$$b"; $(PY) bench/bench_$$b.py || exit 1; done

$(addprefix bench-,$(BENCHES)): bench-%: setup
	$(PY) bench/bench_$*.py

clean:  ## remove the virtualenv and stamps (keeps the database)
	rm -rf $(VENV) $(STAMPS)
