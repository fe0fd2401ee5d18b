"""DuckDB database files: the working warehouse dbt builds into, and the encrypted copies the
hub publishes for its readers (the data engineers' full copy and one file per role).

A published file is encrypted at rest with DuckDB's own AES-256-GCM database encryption, under a
key of its own: 32 random bytes kept in the key store as a secret wrapped by the master key
(``duckdb/<name>``), so rotating the master key rewraps it and a copy of the file without the key
store and the master key reveals nothing. Writing an encrypted file needs the packaged httpfs
extension (``warehouse.duckdb_extensions``); reading one needs only the key.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from privacy.keys.keystore import KeyStore
from warehouse import duckdb_extensions

# The format every file the hub writes is created in. The library and the `duckdb` CLI analysts
# use are the same 1.4 LTS release (pinned together in pyproject.toml), so the CLI reads every
# format the library writes; v1.4.0 is the newest 1.4 knows.
STORAGE_COMPATIBILITY = "v1.4.0"
KEY_PREFIX = "duckdb/"


@dataclass(frozen=True)
class DatabaseFile:
    """A DuckDB file and the key it is encrypted under (None: a plain file)."""

    path: Path
    key: str | None = field(default=None, repr=False)

    @property
    def alias(self) -> str:
        # DuckDB's own rule for the catalog name of a file, so SQL written against a plain file
        # (``warehouse.marts.x``) reads the same when the file is attached.
        return self.path.name.lstrip(".").split(".")[0]


def database_key(store: KeyStore, name: str) -> str:
    """The encryption key of the database file ``name``, created on first use."""
    return base64.urlsafe_b64encode(store.secret(KEY_PREFIX + name)).decode("ascii")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach_sql(db: DatabaseFile, alias: str | None = None, *, read_only: bool = True) -> str:
    options = [f"encryption_key {_quote(db.key)}"] if db.key is not None else []
    if read_only:
        options.append("read_only")
    else:
        options.append(f"storage_version {_quote(STORAGE_COMPATIBILITY)}")
    return f"attach {_quote(str(db.path))} as {alias or db.alias} ({', '.join(options)})"


def connect(db: DatabaseFile | Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is ``db``: a plain file opened directly, an encrypted
    one attached under its key (with the extensions that writing it needs)."""
    if isinstance(db, Path):
        db = DatabaseFile(db)
    if db.key is None:
        return duckdb_extensions.quiet(
            duckdb.connect(str(db.path), read_only=read_only, config=dict(duckdb_extensions.SAFE_CONFIG)))
    con = duckdb_extensions.connect() if not read_only else duckdb_extensions.quiet(
        duckdb.connect(config=dict(duckdb_extensions.SAFE_CONFIG)))
    try:
        con.execute(attach_sql(db, read_only=read_only))
        con.execute(f"use {db.alias}")
    except BaseException:
        con.close()
        raise
    return con


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


def staged_path(published: Path) -> Path:
    return published.with_name(f".{published.name}.{os.getpid()}.new")


def go_live(staged: Path, published: Path) -> None:
    """Rename ``staged`` over ``published`` and make the rename durable."""
    with staged.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(staged, published)
    directory = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def count_tables(db: DatabaseFile) -> int:
    with connect(db) as con:
        return con.execute(
            "select count(*) from information_schema.tables where table_catalog = current_database() "
            "and table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchone()[0]


def publish_database(
    working: DatabaseFile | Path, published: DatabaseFile,
    finish: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> PublishedDatabase:
    """Replace ``published`` by a copy of the ``working`` warehouse, atomically, encrypted
    under ``published.key``.

    Readers open the published file while the pipeline writes the working one, so a read-only
    session never blocks a run (DuckDB's file lock is per file). The copy is written beside the
    published file and renamed over it: a session that has the old file open keeps reading the
    old one (its inode lives until the session closes), a new session sees the new one, and
    nobody ever sees half a copy. The copy is made by DuckDB (``copy from database``), not by
    copying bytes, so the published file has its own key. ``finish`` runs on the copy (as the
    default catalog) before it goes live.
    """
    if isinstance(working, Path):
        working = DatabaseFile(working)
    published.path.parent.mkdir(parents=True, exist_ok=True)
    staged = DatabaseFile(staged_path(published.path), published.key)
    staged.path.unlink(missing_ok=True)
    try:
        with duckdb_extensions.connect() as con:
            con.execute(attach_sql(working, "working"))
            con.execute(attach_sql(staged, "staged", read_only=False))
            con.execute("copy from database working to staged")
            if finish is not None:
                con.execute("use staged")
                finish(con)
                con.execute("use memory")
            con.execute("detach staged")
        # Opened before it goes live: a copy DuckDB cannot read is never published.
        tables = count_tables(staged)
        size = staged.path.stat().st_size
        go_live(staged.path, published.path)
    finally:
        staged.path.unlink(missing_ok=True)
        staged.path.with_name(staged.path.name + ".wal").unlink(missing_ok=True)
    return PublishedDatabase(published.path, size, tables)
