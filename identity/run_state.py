"""What one identity run leaves for the next, in one DuckDB file (``state.duckdb``).

Every stage writes a table it can restart from (Splink's production pattern), and the
next run diffs against them: a record whose canonical values hash the same keeps its
features and its scored pairs. Tables are updated in place (delete + insert of the rows
that changed, and only of those: what a run writes, the file's checkpoint pays for
again), so an incremental run costs what changed, not what exists.

    keys        uid, source, source_record_id, row_hash, key_hash (what an increment's diff
                joins on: integers, not the keys)
    canonical   uid + the canonical columns (what explain shows)
    features    uid + matching features (before merge protection) + placement keys
    edges       scored pairs: uid_l < uid_r, match_weight, match_probability, other_weight
    assignment  uid, base (cluster before placement), placed_into, cluster, customer_id,
                match_probability
    customers   every customer ID ever issued, with issue order and status
    shared      identifiers not used as evidence (kind, value, n_records, n_people, reason)
    graph       identity_graph with history
    changes     identity_changes, append-only
    overrides   steward rules as applied (rule, uid_l, uid_r)
    meta        key -> JSON value (also the customer count and the key index's segments)

Beside the file, ``index/`` holds the key index of identity/keyindex.py (which records
share a blocking key, an identifier or a name with given ones).

The state holds personal data (names, emails), so it lives under the hub's data root where
erasure reaches it; ``compact`` rewrites the file so that deleted rows leave no trace.
"""

from __future__ import annotations

import json
import shutil
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import polars.selectors as cs

from identity import graph_history, stable_ids

TABLES = ("keys", "canonical", "features", "edges", "assignment", "customers", "shared",
          "graph", "changes", "overrides")
FILE = "state.duckdb"


# DuckDB's default string compression (FSST after analysis) made writing the state the
# slowest step of a full run (5 s for 1M feature rows); dictionary encoding writes in 1.5 s
# for a file twice the size. The state is rewritten often and read whole: speed wins.
_SETTINGS = "set force_compression = 'dictionary'"


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(_SETTINGS)
    return con


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    folder.mkdir(parents=True, exist_ok=True)
    return _open(folder / FILE)


def exists(folder: Path) -> bool:
    return (folder / FILE).exists()


def write_all(folder: Path, tables: dict[str, pl.DataFrame], meta: dict[str, Any]) -> None:
    """Replace the whole state (a full run). Written beside, then swapped in."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (FILE + ".tmp")
    tmp.unlink(missing_ok=True)
    con = _open(tmp)
    try:
        for name, df in tables.items():
            con.register("_df", df)
            con.execute(f"create table {name} as select * from _df")
            con.unregister("_df")
        con.execute("create table meta (key varchar primary key, value varchar)")
        set_meta(con, meta)
        con.execute("checkpoint")
    finally:
        con.close()
    tmp.replace(folder / FILE)
    (folder / (FILE + ".wal")).unlink(missing_ok=True)


def set_meta(con: duckdb.DuckDBPyConnection, meta: dict[str, Any]) -> None:
    for key, value in meta.items():
        con.execute("insert or replace into meta values (?, ?)", [key, json.dumps(value, default=str)])


def get_meta(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in con.execute("select key, value from meta").fetchall()}


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame,
                 drop_uids: pl.Series | None = None, key: str = "uid") -> None:
    """Delete rows whose ``key`` is in ``drop_uids`` (default: the new rows'), insert ``rows``."""
    drop = drop_uids if drop_uids is not None else rows[key]
    if drop.len():
        con.register("_drop", pl.DataFrame({key: drop}))
        con.execute(f"delete from {table} where {key} in (select {key} from _drop)")
        con.unregister("_drop")
    if rows.height:
        con.register("_rows", rows)
        columns = ", ".join(rows.columns)
        con.execute(f"insert into {table} ({columns}) select {columns} from _rows")
        con.unregister("_rows")


def compact(folder: Path) -> None:
    """Rewrite the state file: deleted rows (an erased person's, say) are physically gone,
    from the key index too (it keeps entries of records that left until rebuilt)."""
    from identity import keyindex

    src = folder / FILE
    if not src.exists():
        return
    tmp = folder / "compact.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with duckdb.connect(str(src)) as con:
        con.execute(f"export database '{tmp}' (format parquet)")
    src.unlink()
    with duckdb.connect(str(src)) as con:
        con.execute(f"import database '{tmp}'")
        meta = get_meta(con)
        index = keyindex.Index(folder, meta)
        if index.segments:
            keyindex.rebuild(con, index, index.rules)
            set_meta(con, {"index": index.meta()})
    shutil.rmtree(tmp, ignore_errors=True)
    index.discard_unlisted()


class State:
    """Read access to a state folder; each table is loaded on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def load(cls, folder: Path) -> State | None:
        return cls(folder) if exists(folder) else None

    def _read(self, table: str) -> pl.DataFrame:
        with duckdb.connect(str(self.folder / FILE), read_only=True) as con:
            frame = con.sql(f"select * from {table}").pl()
        # DuckDB hands UTC back as "Etc/UTC": the same instants, but Polars refuses to
        # concatenate the two names, which broke every run after the first.
        return frame.with_columns(cs.datetime(time_zone="Etc/UTC").dt.convert_time_zone("UTC"))

    @cached_property
    def meta(self) -> dict[str, Any]:
        with duckdb.connect(str(self.folder / FILE), read_only=True) as con:
            return get_meta(con)

    @cached_property
    def keys(self) -> pl.DataFrame:
        return self._read("keys")

    @cached_property
    def canonical(self) -> pl.DataFrame:
        return self._read("canonical").join(self.keys.select("uid", "source", "source_record_id"),
                                            on="uid")

    @cached_property
    def features(self) -> pl.DataFrame:
        return self._read("features")

    @cached_property
    def edges(self) -> pl.DataFrame:
        return self._read("edges")

    @cached_property
    def assignment(self) -> pl.DataFrame:
        return self._read("assignment")

    @cached_property
    def customers(self) -> pl.DataFrame:
        return self._read("customers").cast(stable_ids.CUSTOMER_SCHEMA)

    @cached_property
    def shared(self) -> pl.DataFrame:
        return self._read("shared")

    @cached_property
    def graph(self) -> pl.DataFrame:
        """identity_graph with history (contract columns, without the internal uid)."""
        return self._read("graph").select(*graph_history.GRAPH_SCHEMA).cast(graph_history.GRAPH_SCHEMA)

    @cached_property
    def graph_rows(self) -> pl.DataFrame:
        """The stored graph: uid plus the contract columns."""
        return self._read("graph").cast({"uid": pl.Int64, **graph_history.GRAPH_SCHEMA})

    @cached_property
    def changes(self) -> pl.DataFrame:
        return self._read("changes")

    @cached_property
    def overrides(self) -> pl.DataFrame:
        return self._read("overrides")
