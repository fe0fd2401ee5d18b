"""Small helpers to turn simulated columns into frames, JSON lines and SQLite rows."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import polars as pl


def column(name: str, values: Any) -> pl.Series:
    """A Series from numpy/list/Series; object arrays of str-or-None become String."""
    if isinstance(values, pl.Series):
        return values.alias(name)
    if isinstance(values, np.ndarray) and values.dtype == object:
        return pl.Series(name, values.tolist(), dtype=pl.String)
    return pl.Series(name, values)


def frame(columns: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([column(k, v) for k, v in columns.items()])


def json_lines(df: pl.DataFrame) -> list[bytes]:
    """Compact JSON per row, keys in column order, UTF-8 unescaped like real exports."""
    if df.height == 0:
        return []
    buf = io.BytesIO()
    df.write_ndjson(buf)
    return buf.getvalue().splitlines()


def json_payloads(df: pl.DataFrame) -> pl.Series:
    return df.select(pl.struct(pl.all()).struct.json_encode().alias("payload")).to_series()


def connect_for_bulk_load(path: Any) -> sqlite3.Connection:
    con = sqlite3.connect(path)
    # Bulk load without a journal, then switch to WAL so a running server keeps
    # reading while advance() writes.
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    return con


def finish_bulk_load(con: sqlite3.Connection) -> None:
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def insert_rows(con: sqlite3.Connection, table: str, cols: Iterable[str],
                rows: Iterable[tuple[Any, ...]]) -> None:
    cols = list(cols)
    marks = ",".join("?" * len(cols))
    con.executemany(f"INSERT OR REPLACE INTO {table} ({','.join(cols)}) VALUES ({marks})", rows)


def insert_frame(con: sqlite3.Connection, table: str, df: pl.DataFrame) -> None:
    insert_rows(con, table, df.columns, df.iter_rows())
