# Customer Hub: `make demo` runs the whole pipeline on a simulated world; `make test` runs the suite.
SHELL := /bin/bash
export HUB_DATA_DIR ?= $(CURDIR)/.hub
PEOPLE ?= 20000
# uv from PATH when there is one; otherwise a private copy in .tools/, so neither PATH nor
# HOME needs to know about it.
UV ?= $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
HUB := $(CURDIR)/.venv/bin/hub

.PHONY: install demo run test lint ui clean

install: .venv/.installed

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet uv

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

demo: install
	$(HUB) simulate --people $(PEOPLE)
	$(HUB) run

run: install
	$(HUB) run

# The suite's temporary folders stay in the checkout: pytest prunes old numbered folders under
# the shared /tmp/pytest-of-<user>, which would delete another run's folders mid-test.
# TEST_WORKERS pytest-xdist workers, each with its own folder under .pytest-tmp; tests that share
# a costly fixture run on one worker (tests/conftest.py).
TEST_WORKERS ?= 2
test: install
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	.venv/bin/dg check defs
	.venv/bin/pytest -q --basetemp=$(CURDIR)/.pytest-tmp -n $(TEST_WORKERS)

# ruff check only: the code keeps hanging indents that ruff format would reflow.
lint: install
	.venv/bin/ruff check .

ui: install
	$(HUB) ui

clean:
	rm -rf .hub dbt/target dbt/logs
