"""Publish gold marts from the warehouse to Delta under ``$HUB_DATA_DIR/gold/<table>``.

Delta is the storage of record that Polars, pyarrow, pandas and Spark read; the DuckDB
warehouse is the analysts' copy. Rows stream from DuckDB to ``write_deltalake`` as Arrow
record batches, so a large mart never sits in memory twice.

Whole marts are overwritten. The feature table is published per day partition: a predicate
overwrite replaces exactly the as_of_dates of the partitions being materialised.

Given a vault, the direct identifiers of a mart are sealed on the way (``warehouse.gold_protection``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from privacy.keys.vault import Vault
from warehouse import delta_store
from warehouse.gold_protection import seal_batches
from warehouse.pii_catalog import declarations_by_column

SCHEMA = "marts"
PREVIEW_ROWS = 5
# Files of about this size: a day-partition overwrite then rewrites one small file, not the table.
TARGET_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Published:
    table: str
    path: Path
    rows_written: int
    rows_total: int
    preview: pa.Table


def publish_mart(warehouse_db: Path, gold_dir: Path, table: str, vault: Vault | None = None) -> Published:
    """Overwrite gold/<table> with marts.<table>."""
    return _publish(warehouse_db, gold_dir / table, table, where=None, predicate=None, vault=vault)


def publish_partitions(
    warehouse_db: Path,
    gold_dir: Path,
    table: str,
    start: date,
    end: date,
    column: str = "as_of_date",
) -> Published:
    """Replace the rows with ``start <= column <= end`` in gold/<table> by the warehouse's."""
    bounds = f"{column} >= '{start.isoformat()}' and {column} <= '{end.isoformat()}'"
    return _publish(warehouse_db, gold_dir / table, table, where=bounds, predicate=bounds)


def connect_warehouse(warehouse_db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse."""
    con = duckdb.connect(str(warehouse_db), read_only=True)
    con.execute("set enable_progress_bar = false")  # keep run logs readable
    return con


def _publish(
    warehouse_db: Path, path: Path, table: str, where: str | None, predicate: str | None,
    vault: Vault | None = None,
) -> Published:
    with connect_warehouse(warehouse_db) as con:
        # Sorted by the partition column so Delta's per-file min/max prune day filters.
        order = " order by as_of_date" if predicate else ""
        query = f"select * from {SCHEMA}.{table}" + (f" where {where}" if where else "") + order
        reader = con.sql(query).fetch_record_batch(256_000)
        if vault is not None:
            reader = seal_batches(reader, table, vault, declarations_by_column())
        counted = _Counting(reader)
        path.parent.mkdir(parents=True, exist_ok=True)
        if predicate and delta_store.exists(path):
            # schema_mode="merge": a feature added to the model appears as a new column (null
            # in days not yet re-materialised) instead of failing the partition write.
            write_deltalake(
                str(path),
                counted.reader(),
                mode="overwrite",
                predicate=predicate,
                schema_mode="merge",
                target_file_size=TARGET_FILE_BYTES,
            )
        else:
            write_deltalake(
                str(path),
                counted.reader(),
                mode="overwrite",
                schema_mode="overwrite",
                target_file_size=TARGET_FILE_BYTES,
            )
        preview = con.sql(f"select * from {SCHEMA}.{table} limit {PREVIEW_ROWS}").to_arrow_table()
    total = DeltaTable(str(path)).to_pyarrow_dataset().count_rows()
    return Published(table, path, counted.rows, total, preview)


class _Counting:
    """Wraps a record batch reader and counts the rows that pass through it."""

    def __init__(self, reader: pa.RecordBatchReader) -> None:
        self._source = reader
        self.rows = 0

    def reader(self) -> pa.RecordBatchReader:
        def batches():
            for batch in self._source:
                self.rows += batch.num_rows
                yield batch

        return pa.RecordBatchReader.from_batches(self._source.schema, batches())


def preview_markdown(preview: pa.Table, max_width: int = 40) -> str:
    """A small Markdown table for Dagster metadata."""
    names = preview.column_names
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in preview.to_pylist():
        cells = [str(row[n])[:max_width].replace("|", "/").replace("\n", " ") for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
