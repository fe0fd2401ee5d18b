# Customer Hub: `make demo` runs the whole pipeline on a simulated world; `make test` runs the suite.
SHELL := /bin/bash
export HUB_DATA_DIR ?= $(CURDIR)/.hub
PEOPLE ?= 20000
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: install demo run test lint ui clean

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	uv sync --frozen
	@touch $@

demo: install
	uv run hub simulate --people $(PEOPLE)
	uv run hub run

run: install
	uv run hub run

test: install
	uv run ruff check .
	uv run dg check defs
	uv run pytest -q

# ruff check only: the code keeps hanging indents that ruff format would reflow.
lint: install
	uv run ruff check .

ui: install
	uv run hub ui

clean:
	rm -rf .hub dbt/target dbt/logs
