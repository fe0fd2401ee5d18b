"""Point-in-time training frames (DESIGN.md §5, contract).

``get_training_frame(entities, features=None)`` joins every entity row (``customer_id``,
``event_ts``, plus any columns of yours, such as labels) with the latest feature snapshot
known at ``event_ts``. A snapshot for ``as_of_date`` D describes the customer as known at the
start of D (only events before D count), so picking the latest D <= event_ts can never use
anything that happened at or after ``event_ts``: no leakage.

How: the snapshot keys are read first, and one DuckDB ASOF join on narrow integer keys finds
the matching snapshot row of each entity row; the ASOF sort never drags the wide feature
columns along. The feature columns are then streamed batch by batch and each batch's matched
rows are written straight to their entity rows, so the feature table is never held whole
(bench/features.py: 1M entity rows x 50 features).

Consent: rows of customers without ``ai_training`` consent at ``event_ts`` are dropped. The
consent events (``customer_id, purpose, granted, effective_at``) come from the privacy issue at
``gold/consent_events`` under the data root; until that table exists, nothing can be enforced:
the frame is returned whole with a :class:`ConsentNotEnforcedWarning` (docs/deviations.md).

Where the tables are: ``paths`` (a :class:`warehouse.layout.HubPaths`) names the data root.
It is a keyword with a default so that the contract call ``get_training_frame(entities,
features)`` keeps working in a notebook or a model's training script: left out, the root comes
from ``HUB_DATA_DIR``, as it does for the CLI (the one place a library reads the environment,
docs/deviations.md); code that already holds its paths (an asset, a benchmark, a test) hands
them in and nothing is read.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from warehouse.layout import DATA_DIR_VAR, HubPaths

FEATURE_TABLE = "customer_features_daily"
CONSENT_TABLE = "consent_events"
AI_TRAINING = "ai_training"
KEY_COLUMNS = ("customer_id", "as_of_date")

Frame = TypeVar("Frame")


class ConsentNotEnforcedWarning(UserWarning):
    """No consent table exists yet, so ai_training consent could not be checked."""


def get_training_frame(
    entities: Frame,
    features: Sequence[str] | None = None,
    *,
    feature_table: Any = None,
    consent: Any = None,
    paths: HubPaths | None = None,
) -> Frame:
    """Entity rows joined ASOF with the latest features known at their ``event_ts``.

    ``entities``: pandas, Polars or Arrow table (or anything exposing the Arrow C stream) with
    ``customer_id`` and ``event_ts`` (timestamp or date; time zones are taken as UTC). The
    result has the same type, the entity rows in their order with all their columns, and the
    requested features (all by default). Rows with no snapshot at or before ``event_ts`` keep
    null features; rows without ``ai_training`` consent at ``event_ts`` are removed.

    ``feature_table``: defaults to the gold Delta table; a Delta folder, Parquet path, Arrow
    table or dataset, pandas or Polars frame also work. ``consent``: defaults to the gold
    consent table if present; any of the same forms, with ``customer_id, purpose, granted,
    effective_at``. ``paths``: the data root whose gold tables are the defaults (default: the
    one ``HUB_DATA_DIR`` names).
    """
    table = _to_arrow(entities)
    _require(table, ("customer_id", "event_ts"), "entities")
    source = _feature_source(feature_table, paths)
    names = _select_features(source.schema, features, table.schema)
    keys = _keys(table)
    snapshots = _Snapshots(source, names, pc.max(keys["event_ts"]))
    rows = _match(keys, snapshots.keys)
    keep = _consented_rows(table, consent, paths)

    gathered = _gather(snapshots, rows)
    out = pa.Table.from_arrays(
        [*table.columns, *gathered],
        schema=pa.schema([*table.schema, *(source.schema.field(n) for n in names)]),
    )
    if keep is not None:
        out = out.filter(keep)
    return _like(entities, out)


class _Snapshots:
    """The feature table, read in two passes: the narrow keys first (for the ASOF join), then
    the wide feature columns as a stream of batches in the same row order, so that 1M x 50
    features never sit in memory twice (allocating and faulting in a 1 GB table cost more
    than decoding it)."""

    def __init__(self, source: pa.Table | ds.Dataset, names: list[str], latest: pa.Scalar) -> None:
        self.names = names
        self.source = source
        if isinstance(source, ds.Dataset):
            self.options: dict[str, Any] = {"filter": _known_by(source.schema, latest)}
            if isinstance(source, ds.FileSystemDataset) and isinstance(source.format, ds.ParquetFileFormat):
                # Pre-buffering coalesces reads for object stores; on local files it only
                # adds a copy of every column chunk.
                self.options["fragment_scan_options"] = ds.ParquetFragmentScanOptions(pre_buffer=False)
            self.keys = source.to_table(columns=list(KEY_COLUMNS), **self.options)
        else:
            self.keys = source.select(list(KEY_COLUMNS))

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Batches of ``as_of_date`` and the features, in the row order of ``keys``."""
        columns = ["as_of_date", *self.names]
        if isinstance(self.source, ds.Dataset):
            # A short read-ahead: batches are consumed as fast as they are decoded, and a
            # deep queue only holds more memory.
            yield from self.source.to_batches(columns=columns, batch_readahead=2, **self.options)
        else:
            yield from self.source.select(columns).to_batches()


def _known_by(schema: pa.Schema, latest: pa.Scalar) -> ds.Expression | None:
    """``as_of_date <= latest event_ts``: lets Delta file statistics and Parquet row-group
    statistics skip snapshots newer than every entity row."""
    if not latest.is_valid:
        return None
    kind = schema.field("as_of_date").type
    if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        return None
    return ds.field("as_of_date") <= pc.cast(latest, kind)


def _match(keys: pa.Table, snapshots: pa.Table) -> np.ndarray:
    """Per entity row, the position of its snapshot in ``snapshots`` (-1 for none)."""
    # Integer customer keys (positions in the snapshots' dictionary) make the ASOF sort cheaper
    # than comparing strings; customers without snapshots get a null key and no match.
    encoded = pc.dictionary_encode(pc.cast(snapshots["customer_id"], pa.string())).combine_chunks()
    con = duckdb.connect()
    con.register(
        "entities",
        pa.table(
            {
                "entity_row": pa.array(np.arange(keys.num_rows, dtype=np.int32)),
                "customer_key": pc.index_in(keys["customer_id"], value_set=encoded.dictionary),
                "event_ts": keys["event_ts"],
            }
        ),
    )
    con.register(
        "snapshots",
        pa.table(
            {
                "customer_key": encoded.indices,
                "as_of_ts": pc.cast(snapshots["as_of_date"], pa.timestamp("us")),
                "snapshot_row": pa.array(np.arange(snapshots.num_rows, dtype=np.int64)),
            }
        ),
    )
    # Snapshot D is known from D 00:00 on, so `>=` picks the latest D <= event_ts.
    matched = con.sql("""
        select entities.entity_row, snapshots.snapshot_row
        from entities
        asof left join snapshots
            on entities.customer_key = snapshots.customer_key
            and entities.event_ts >= snapshots.as_of_ts
    """).to_arrow_table()
    con.close()
    # Every entity row comes back exactly once, so scattering by entity_row restores the
    # caller's order in one pass: cheaper than an `order by` in DuckDB.
    rows = np.empty(keys.num_rows, dtype=np.int64)
    rows[matched["entity_row"].to_numpy()] = matched["snapshot_row"].fill_null(-1).to_numpy()
    return rows


def _gather(snapshots: _Snapshots, rows: np.ndarray) -> list[pa.Array]:
    """Every feature of each entity row's snapshot (``rows``: its position, -1 for none).

    The matched positions are sorted, so each streamed batch finds its rows with one binary
    search and reads them in order; they are written straight to their entity rows."""
    unmatched = rows < 0
    matched = np.flatnonzero(~unmatched)
    order = np.argsort(rows[matched])
    wanted = rows[matched][order]
    target = matched[order]
    fields = [snapshots.source.schema.field(name) for name in snapshots.names]
    columns = [_Column(f.type, unmatched) for f in fields]
    dates = snapshots.keys["as_of_date"]
    offset = 0
    # The columns of a batch are filled in parallel (NumPy releases the GIL) while Arrow's
    # threads decode the next batches.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for batch in snapshots.batches():
            if not batch["as_of_date"].equals(dates.slice(offset, batch.num_rows).combine_chunks()):
                raise RuntimeError("the feature table changed while it was being read; retry")
            lo, hi = np.searchsorted(wanted, [offset, offset + batch.num_rows])
            local, rows_to = wanted[lo:hi] - offset, target[lo:hi]
            done = [pool.submit(column.add, batch.column(i + 1), local, rows_to) for i, column in enumerate(columns)]
            for future in done:
                future.result()
            offset += batch.num_rows
    if offset != len(dates):
        raise RuntimeError("the feature table changed while it was being read; retry")
    return [column.finish(target) for column in columns]


class _Column:
    """One feature's values for the entity rows, filled batch by batch."""

    def __init__(self, kind: pa.DataType, unmatched: np.ndarray) -> None:
        self.type = kind
        self.unmatched = unmatched
        # Numeric columns go through NumPy: its gathers with non-null indices are about twice
        # as fast as Arrow's take with null indices, which dominated 50-feature retrievals.
        self.numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        self.values = np.empty(len(unmatched), dtype=kind.to_pandas_dtype()) if self.numeric else None
        self.invalid: np.ndarray | None = None
        self.pieces: list[pa.Array] = []

    def add(self, array: pa.Array, local: np.ndarray, target: np.ndarray) -> None:
        if self.values is None:
            self.pieces.append(array.take(local))
            return
        if array.null_count:
            if self.invalid is None:
                self.invalid = np.zeros(len(self.values), dtype=bool)
            self.invalid[target] = np.asarray(array.is_null()).take(local)
            array = array.fill_null(0)
        self.values[target] = array.to_numpy().take(local)

    def finish(self, target: np.ndarray) -> pa.Array:
        mask = self.unmatched if self.invalid is None else self.unmatched | self.invalid
        if self.values is not None:
            return pa.array(self.values, type=self.type, mask=mask if mask.any() else None)
        if not self.pieces:
            return pa.nulls(len(mask), self.type)
        # Other types were gathered in sorted snapshot order: put them in entity order.
        slot = np.zeros(len(mask), dtype=np.int64)
        slot[target] = np.arange(len(target))
        gathered = pa.concat_arrays(self.pieces) if len(self.pieces) > 1 else self.pieces[0]
        return gathered.take(pa.array(slot, mask=mask))


def feature_names(feature_table: Any = None, paths: HubPaths | None = None) -> list[str]:
    """The feature columns of the feature table (everything but the keys)."""
    return [n for n in _feature_source(feature_table, paths).schema.names if n not in KEY_COLUMNS]


def _to_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, ds.Dataset):
        return data.to_table()
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "to_arrow"):  # Polars
        return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise TypeError(f"expected a pandas, Polars or Arrow table, got {type(data).__name__}")


def _like(original: Any, table: pa.Table) -> Any:
    """Return the result as the same kind of frame the caller passed."""
    module = type(original).__module__
    if module.startswith("pandas"):
        return table.to_pandas()
    if module.startswith("polars"):
        import polars as pl

        return pl.from_arrow(table)
    return table


def _require(table: pa.Table | pa.Schema, columns: Sequence[str], what: str) -> None:
    names = table.names if isinstance(table, pa.Schema) else table.column_names
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(names)}")


def _keys(table: pa.Table) -> pa.Table:
    """The narrow side of the join: row number, customer_id, event_ts as a UTC timestamp."""
    ts = table["event_ts"]
    if pa.types.is_string(ts.type) or pa.types.is_large_string(ts.type):
        ts = pc.cast(ts, pa.timestamp("us"))
    elif pa.types.is_timestamp(ts.type) and ts.type.tz is not None:
        ts = pc.cast(ts, pa.timestamp(ts.type.unit, "UTC")).cast(pa.timestamp(ts.type.unit))
    elif pa.types.is_date(ts.type):
        ts = pc.cast(ts, pa.timestamp("us"))
    return pa.table(
        {
            "entity_row": pa.array(np.arange(table.num_rows, dtype=np.int64)),
            "customer_id": pc.cast(table["customer_id"], pa.string()),
            "event_ts": ts,
        }
    )


def _resolve_table(source: Any, default: Path) -> pa.Table | ds.Dataset | None:
    """A Delta folder, Parquet file or folder, or an in-memory frame; None if absent."""
    if source is None:
        source = default
    if isinstance(source, (str, Path)):
        path = Path(source).resolve()
        # Memory-mapped local reads: decoding straight from the page cache, rather than copying
        # each column chunk into freshly allocated buffers first, cut a 1 GB read to a third.
        local = pafs.LocalFileSystem(use_mmap=True)
        if (path / "_delta_log").is_dir():
            from deltalake import DeltaTable

            # Through the Delta log, never a glob: the log knows which files are live.
            return DeltaTable(str(path)).to_pyarrow_dataset(filesystem=pafs.SubTreeFileSystem(str(path), local))
        if path.exists():
            return ds.dataset(str(path), format="parquet", filesystem=local)
        return None
    if isinstance(source, ds.Dataset):
        return source
    return _to_arrow(source)


def _gold_table(paths: HubPaths | None, table: str) -> Path:
    """A gold table of ``paths``, or of the data root the environment names."""
    return (paths or HubPaths.at(os.environ.get(DATA_DIR_VAR))).gold_table(table)


def _feature_source(feature_table: Any, paths: HubPaths | None = None) -> pa.Table | ds.Dataset:
    default = _gold_table(paths, FEATURE_TABLE)
    found = _resolve_table(feature_table, default)
    if found is None:
        raise FileNotFoundError(
            f"no feature table at {feature_table or default}: "
            "materialise gold/customer_features_daily first (hub run)"
        )
    _require(found.schema, KEY_COLUMNS, "the feature table")
    return found


def _select_features(
    schema: pa.Schema, features: Sequence[str] | None, entities: pa.Schema
) -> list[str]:
    available = [n for n in schema.names if n not in KEY_COLUMNS]
    names = list(available if features is None else features)
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise KeyError(f"unknown feature(s) {unknown}; see `hub features list`")
    clash = sorted(set(names) & set(entities.names))
    if clash:
        raise ValueError(f"entity column(s) {clash} clash with feature names; rename them")
    return names


def _consented_rows(entities: pa.Table, consent: Any, paths: HubPaths | None = None) -> pa.Array | None:
    """Boolean mask of entity rows whose customer had ai_training consent at event_ts."""
    events = _resolve_table(consent, _gold_table(paths, CONSENT_TABLE))
    if events is None:
        warnings.warn(
            "no consent table yet (gold/consent_events, from the privacy issue): "
            "ai_training consent is NOT enforced on this training frame",
            ConsentNotEnforcedWarning,
            stacklevel=3,
        )
        return None
    events = events.to_table() if isinstance(events, ds.Dataset) else events
    _require(events, ("customer_id", "purpose", "granted", "effective_at"), "the consent table")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("entities", _keys(entities))
    con.register("consent_events", events)
    # Latest ai_training decision at or before event_ts; none at all means no consent (opt-in).
    mask = con.sql(f"""
        with decisions as (
            select customer_id::varchar as customer_id, effective_at::timestamp as effective_at, granted
            from consent_events where purpose = '{AI_TRAINING}'
        )
        select coalesce(decisions.granted, false) as keep
        from entities
        asof left join decisions
            on entities.customer_id = decisions.customer_id
            and entities.event_ts >= decisions.effective_at
        order by entities.entity_row
    """).to_arrow_table()["keep"]
    con.close()
    return mask
