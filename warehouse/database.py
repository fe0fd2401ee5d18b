"""The DuckDB warehouse: the working file dbt builds into, and the copy published to analysts."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

# The format every file the hub writes is created in. The library and the `duckdb` CLI analysts
# use are the same 1.4 LTS release (pinned together in pyproject.toml), so the CLI reads every
# format the library writes; v1.4.0 is the newest 1.4 knows.
STORAGE_COMPATIBILITY = "v1.4.0"


def ensure_warehouse(path: Path) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY}).close()
    return path


@dataclass(frozen=True)
class PublishedDatabase:
    path: Path
    size_bytes: int
    tables: int


def publish_database(working: Path, published: Path) -> PublishedDatabase:
    """Replace ``published`` by a copy of the ``working`` warehouse, atomically.

    Analysts read the published file while the pipeline writes the working one, so a read-only
    session never blocks a run (DuckDB's file lock is per file). The copy is written beside the
    published file and renamed over it: a session that has the old file open keeps reading the
    old one (its inode lives until the session closes), a new session sees the new one, and
    nobody ever sees half a copy.
    """
    # A checkpoint folds the write-ahead log into the file, so the file alone is the database.
    with duckdb.connect(str(working)) as con:
        con.execute("checkpoint")
    published.parent.mkdir(parents=True, exist_ok=True)
    staged = published.with_name(f".{published.name}.{os.getpid()}.new")
    try:
        shutil.copyfile(working, staged)
        with staged.open("rb+") as handle:
            os.fsync(handle.fileno())
        # Opened before it goes live: a copy DuckDB cannot read is never published.
        with duckdb.connect(str(staged), read_only=True) as con:
            tables = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema not in ('information_schema', 'pg_catalog')"
            ).fetchone()[0]
        size = staged.stat().st_size
        os.replace(staged, published)
    finally:
        staged.unlink(missing_ok=True)
    directory = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return PublishedDatabase(published, size, tables)
