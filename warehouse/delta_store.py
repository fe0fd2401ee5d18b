"""Delta Lake I/O: the storage of record for every layer.

Always read through the Delta log (never glob the Parquet files: the log knows
which files are live).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError


def exists(path: Path) -> bool:
    return (path / "_delta_log").is_dir()


def read(path: Path, columns: list[str] | None = None) -> pa.Table | None:
    if not exists(path):
        return None
    return DeltaTable(str(path)).to_pyarrow_table(columns=columns)


def row_count(path: Path) -> int:
    if not exists(path):
        return 0
    return DeltaTable(str(path)).to_pyarrow_dataset().count_rows()


def distinct_values(path: Path, column: str) -> set[str]:
    try:
        table = DeltaTable(str(path)).to_pyarrow_table(columns=[column])
    except TableNotFoundError:
        return set()
    return set(pc.unique(table.column(column)).to_pylist())


def append(path: Path, table: pa.Table) -> None:
    """Append rows; new columns that appear later (schema drift) merge in."""
    if table.num_rows == 0:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), table, mode="append", schema_mode="merge")


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
