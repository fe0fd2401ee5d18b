"""The published DuckDB warehouse file."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Analysts open the file with the DuckDB CLI, whose newest release on PyPI (duckdb-cli 1.5.x)
# cannot read DuckDB 2.0's default storage format. The format is fixed when the file is
# created, so the hub creates it in the 1.5 format before dbt first opens it.
STORAGE_COMPATIBILITY = "v1.5.0"


def ensure_warehouse(path: Path) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY}).close()
    return path
