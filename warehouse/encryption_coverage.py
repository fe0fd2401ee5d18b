"""Encryption coverage: does every column the policy protects hold only ciphertext?

Bronze's protected fields, ``_extra`` values and quarantined payloads, and gold's sealed
columns, are read whole (not sampled: one cleartext value is a leak) and every non-null value
must be hub ciphertext. DuckDB files under the data root are opened without a key: one that
opens is unencrypted. Results name the table, the column and a count, never a value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from privacy.keys.envelope import TEXT_PREFIX
from quality.contracts import CONTRACTS
from warehouse import delta_store
from warehouse.bronze_protection import EXTRA, RAW, protected_fields
from warehouse.gold_protection import protected_columns
from warehouse.layout import HubPaths
from warehouse.pii_catalog import declarations_by_column


@dataclass(frozen=True)
class Gap:
    table: str
    column: str
    cleartext: int
    values: int


def _cleartext(column: pa.ChunkedArray) -> tuple[int, int]:
    """(non-null values that are not ciphertext, non-null values)."""
    values = column.cast(pa.string())
    present = pc.is_valid(values)
    sealed = pc.fill_null(pc.starts_with(values, TEXT_PREFIX), False)
    return int(pc.sum(pc.and_(present, pc.invert(sealed))).as_py() or 0), int(pc.sum(present).as_py() or 0)


def _extra_cleartext(column: pa.ChunkedArray) -> tuple[int, int]:
    clear = total = 0
    for text in column.to_pylist():
        if not text:
            continue
        try:
            record = json.loads(text)
        except ValueError:
            clear, total = clear + 1, total + 1  # not the sealed JSON object bronze writes
            continue
        for value in (record.values() if isinstance(record, dict) else [record]):
            if value is not None:
                total += 1
                clear += not (isinstance(value, str) and value.startswith(TEXT_PREFIX))
    return clear, total


def _gaps(table: str, data: pa.Table, columns: Iterable[str]) -> Iterator[Gap]:
    for name in columns:
        if name not in data.column_names:
            continue
        check = _extra_cleartext if name == EXTRA else _cleartext
        clear, total = check(data.column(name))
        yield Gap(table, name, clear, total)


def column_coverage(paths: HubPaths) -> list[Gap]:
    """Every protected column of bronze, quarantine and gold, with its cleartext count."""
    out: list[Gap] = []
    for contract in CONTRACTS.values():
        path = paths.bronze_table(contract.source, contract.entity)
        columns = [*protected_fields(contract), EXTRA]
        data = delta_store.read(path, columns=columns) if delta_store.exists(path) else None
        if data is not None:
            out += _gaps(f"bronze/{contract.name}", data, columns)
    for source in sorted({c.source for c in CONTRACTS.values()}):
        path = paths.quarantine_table(source)
        if delta_store.exists(path):
            out += _gaps(f"quarantine/{source}", delta_store.read(path, columns=[RAW]), [RAW])
    declared = declarations_by_column()
    for log in sorted(paths.gold.glob("*/_delta_log")):
        path = log.parent
        schema = DeltaTable(str(path)).to_pyarrow_dataset().schema
        columns = protected_columns(schema, declared)
        if columns:
            out += _gaps(f"gold/{path.name}", delta_store.read(path, columns=columns), columns)
    return out


def unencrypted_duckdb_files(root: Path, exclude: Iterable[str] = ("world",)) -> list[str]:
    """DuckDB files under ``root`` (outside ``exclude``) that open without a key."""
    skipped = set(exclude)
    found = []
    for path in sorted(root.rglob("*.duckdb")):
        rel = path.relative_to(root)
        if rel.parts[0] in skipped or not path.is_file():
            continue
        try:
            duckdb.connect(str(path), read_only=True).close()
        except duckdb.Error as error:
            if "encrypt" in str(error).lower():
                continue
            raise
        found.append(rel.as_posix())
    return found
