#!/usr/bin/env bash
# The Feast side of bench/features.py needs its own venv: modern Feast needs pandas<3 and the
# project pins pandas 3. Creates bench/.feast-venv (not tracked by git) once.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .feast-venv/bin/python ]]; then
    uv venv .feast-venv -p 3.11 -q
fi
uv pip install --python .feast-venv -q 'feast[duckdb]==0.67.0'
.feast-venv/bin/python -c 'import feast; print("feast", feast.__version__)'
