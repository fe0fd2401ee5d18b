"""The hub's PII catalog: the contracts' declarations checked against every table's values.

Tables are named as the data root lays them out: ``bronze/<source>/<entity>`` for bronze
Delta tables, and ``<schema>.<table>`` for the warehouse's staging and mart tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import duckdb

from privacy.catalog import CatalogRow, Declared, classify_table
from privacy.detect import Detector
from privacy.sample import sample_columns
from quality.contracts import CONTRACTS
from warehouse.bronze_protection import join_key_columns
from warehouse.database import DatabaseFile, connect
from warehouse.layout import HubPaths

SAMPLE_ROWS = 200
CATALOG_TABLE = "governance.pii_catalog"


def contract_declarations() -> dict[str, dict[str, Declared]]:
    """Per bronze table, each contract field's declared PII type and level; the join keys
    bronze adds are keyed hashes, pseudonymous (L2)."""
    return {f"bronze/{name}": {**{column: Declared(f.pii, f.level) for column, f in c.fields.items()},
                               **{column: Declared("NONE", "L2") for column in join_key_columns(c)}}
            for name, c in CONTRACTS.items()}


def declarations_by_column() -> dict[str, Declared]:
    """The declaration a column name carries wherever it appears (staging, marts), for the
    names that every contract declaring them declares alike."""
    seen: dict[str, set[Declared]] = defaultdict(set)
    for fields in contract_declarations().values():
        for column, declared in fields.items():
            seen[column].add(declared)
    return {column: next(iter(d)) for column, d in seen.items() if len(d) == 1}


def declarations_for(table: str) -> dict[str, Declared]:
    return contract_declarations().get(table) or declarations_by_column()


def bronze_tables(paths: HubPaths) -> Iterator[tuple[str, Path]]:
    for log in sorted(paths.bronze.glob("*/*/_delta_log")):
        table = log.parent
        yield f"bronze/{table.parent.name}/{table.name}", table


def warehouse_samples(db: Path, size: int = SAMPLE_ROWS) -> Iterator[tuple[str, dict[str, list[object]]]]:
    if not db.exists():
        return
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog', 'governance') "
            "order by 1, 2").fetchall()
        for schema, name in tables:
            rel = con.sql(f'select * from "{schema}"."{name}" using sample reservoir({size} rows) '
                          "repeatable (7)")
            columns = rel.columns
            rows = rel.fetchall()
            yield f"{schema}.{name}", {c: [r[i] for r in rows] for i, c in enumerate(columns)}


def build_catalog(paths: HubPaths, detector: Detector, warehouse_db: Path | None = None) -> list[CatalogRow]:
    """Catalog rows for every bronze table and every warehouse table, from samples."""
    rows: list[CatalogRow] = []
    for table, path in bronze_tables(paths):
        rows += classify_table(table, sample_columns(path, SAMPLE_ROWS), detector,
                               declarations_for(table))
    for table, columns in warehouse_samples(warehouse_db or paths.warehouse_db):
        rows += classify_table(table, columns, detector, declarations_for(table))
    return rows


def store_catalog(db: Path, rows: list[CatalogRow]) -> int:
    """Replace ``governance.pii_catalog`` in the warehouse with ``rows``."""
    import pyarrow as pa

    table = pa.Table.from_pylist([r.as_dict() for r in rows]) if rows else None
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists governance")
        con.execute(f"drop table if exists {CATALOG_TABLE}")
        if table is None:
            return 0
        con.register("catalog_rows", table)
        con.execute(f"create table {CATALOG_TABLE} as select * from catalog_rows")
    return len(rows)


def golden_name_rows(db: Path | DatabaseFile) -> list[tuple[str | None, str | None, str | None]]:
    """(full, first, last) name of every golden record in ``customer_360``; none when the
    warehouse has not been built. An encrypted file comes with its key."""
    db = db if isinstance(db, DatabaseFile) else DatabaseFile(db)
    if not db.path.exists():
        return []
    with connect(db) as con:
        found = con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'customer_360' order by table_schema = 'marts' desc, 1").fetchone()
        if found is None:
            return []
        return con.execute(f'select full_name, first_name, last_name from "{found[0]}".customer_360'
                           ).fetchall()
