"""Delta Lake I/O: the storage of record for every layer.

Always read through the Delta log (never glob the Parquet files: the log knows
which files are live).
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

# A writer that loses a commit race re-reads the table and tries again; each retry waits a
# little longer, with jitter so that two losers do not collide again in step.
INSERT_ATTEMPTS = 12
_RETRY_BASE_S = 0.05


def exists(path: Path) -> bool:
    return (path / "_delta_log").is_dir()


def read(path: Path, columns: list[str] | None = None) -> pa.Table | None:
    if not exists(path):
        return None
    return DeltaTable(str(path)).to_pyarrow_table(columns=columns)


def version(path: Path) -> int | None:
    """The table's latest version (a cheap read of the log), or None when there is no table."""
    try:
        return DeltaTable(str(path)).version()
    except TableNotFoundError:
        return None


def row_count(path: Path) -> int:
    if not exists(path):
        return 0
    return DeltaTable(str(path)).to_pyarrow_dataset().count_rows()


def distinct_values_at(path: Path, column: str, where: tuple[str, str] | None = None) -> tuple[int | None, set[str]]:
    """The table version read (None when there is no table) and the distinct values of
    ``column`` in it, in the rows whose ``where`` column equals its value if one is given."""
    try:
        table = DeltaTable(str(path))
    except TableNotFoundError:
        return None, set()
    rows = table.to_pyarrow_table(columns=[column, *([where[0]] if where else [])])
    if where:
        rows = rows.filter(pc.equal(rows[where[0]], where[1]))
    return table.version(), set(pc.unique(rows.column(column)).to_pylist())


def append(path: Path, table: pa.Table) -> None:
    """Append rows; new columns that appear later (schema drift) merge in."""
    if table.num_rows == 0:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), table, mode="append", schema_mode="merge")


class ConcurrentWriteError(RuntimeError):
    """Other writers kept committing to a table until every attempt to insert was outrun."""


def insert_missing(path: Path, table: pa.Table, keys: list[str], absent_at: int | None = None) -> pa.Table:
    """Insert the rows of ``table`` whose ``keys`` the Delta table does not hold yet.

    Safe against concurrent writers (optimistic concurrency): the keys present are read at
    one table version, and the rows that are new are committed as exactly the next version,
    never rebased onto a commit this call has not seen. A writer that loses the race to that
    version reads the table again and retries. Returns the rows this call inserted, so that
    a caller can count exactly what it loaded; the rest were present. ``table`` must not
    repeat a key. A caller that already knows none of its keys are in version ``absent_at``
    saves the re-read while that is still the latest version.

    A Delta MERGE on ``keys`` gives the same guarantee at many times the cost, because it
    joins against every stored row (bench/results/bronze_append.md).
    """
    if table.num_rows == 0:
        return table
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(INSERT_ATTEMPTS):
        target = _open_or_create(path, table.schema)
        read_version = target.version()
        new = table if read_version == absent_at else _without_present(target, table, keys)
        if new.num_rows == 0:
            return new
        token = uuid.uuid4().hex
        try:
            write_deltalake(
                target, new, mode="append", schema_mode="merge",
                commit_properties=CommitProperties(custom_metadata={"hub_insert": token}, max_commit_retries=0),
            )
        except CommitFailedError:
            time.sleep(_RETRY_BASE_S * (2 ** min(attempt, 5)) * (0.5 + random.random()))
            continue
        committed = DeltaTable(str(path), version=read_version + 1).history(1)[0]
        if committed.get("hub_insert") != token:  # the engine rebased the append: say so loudly
            raise ConcurrentWriteError(f"{path}: insert was not committed as version {read_version + 1}")
        return new
    raise ConcurrentWriteError(f"{path}: still outrun by other writers after {INSERT_ATTEMPTS} attempts")


def _open_or_create(path: Path, schema: pa.Schema) -> DeltaTable:
    try:
        return DeltaTable(str(path))
    except TableNotFoundError:
        pass
    try:
        return DeltaTable.create(str(path), schema, mode="ignore")
    except DeltaError:  # another writer created it first
        return DeltaTable(str(path))


def _without_present(target: DeltaTable, table: pa.Table, keys: list[str]) -> pa.Table:
    """The rows of ``table`` whose keys are absent from ``target`` at its loaded version."""
    stored = target.to_pyarrow_table(columns=keys)
    if stored.num_rows == 0:
        return table
    present = pc.is_in(_key(table, keys), value_set=_key(stored, keys))
    return table.filter(pc.invert(present))


def _key(table: pa.Table, keys: list[str]) -> pa.ChunkedArray:
    if len(keys) == 1:
        return table[keys[0]]
    return pc.binary_join_element_wise(*(table[k].cast(pa.string()) for k in keys), "\x1f")


def overwrite(path: Path, table: pa.Table, partition_by: list[str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(
        str(path), table, mode="overwrite", schema_mode="overwrite", partition_by=partition_by
    )


def register(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """Expose a Delta table to DuckDB as a view over its Arrow dataset (no extension needed)."""
    con.register(name, DeltaTable(str(path)).to_pyarrow_dataset())


def file_count(path: Path) -> int:
    """Live data files: what a reader opens; many small ones make every read slower."""
    if not exists(path):
        return 0
    return len(DeltaTable(str(path)).file_uris())


def compact(path: Path) -> dict[str, int]:
    """Rewrite small files into few large ones (a new version; readers see the same rows)."""
    if not exists(path):
        return {"files_removed": 0, "files_added": 0}
    metrics = DeltaTable(str(path)).optimize.compact()
    return {"files_removed": int(metrics.get("numFilesRemoved", 0)),
            "files_added": int(metrics.get("numFilesAdded", 0))}


def vacuum(path: Path, retention_hours: int) -> int:
    """Delete files no version younger than ``retention_hours`` still needs; returns how many."""
    if not exists(path):
        return 0
    return len(DeltaTable(str(path)).vacuum(retention_hours=retention_hours, dry_run=False,
                                            enforce_retention_duration=False))
