"""What every identity run shares, full or incremental: the result it returns, its clock,
the row and input digests it diffs by, the key that decides whether the next run may be
incremental, and the metadata it leaves in the state.

``identity/full_run.py`` and ``identity/incremental.py`` both build on this module and
neither imports the other; ``identity/resolve.py`` chooses between them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from identity.canonical import CANONICAL_COLUMNS
from identity.model_store import Model
from identity.run_state import State
from identity.settings import IdentityConfig

# Bumped when features or placement decide differently, so the next run is a full one
# (4: two-word given names, surname particles, placement through placed records;
# 5: social_handle; 6: swapped-letter keys, a city deciding between namesakes).
FEATURES_VERSION = "6"
# Layout of the state folder (tables, their columns, the key index). A state written in
# another layout gets a full run, which rewrites it.
STATE_VERSION = "2"
ID_CHANGE_EVENTS = ("merged", "split", "moved")
KEY = ["source", "source_record_id"]


@dataclass
class RunResult:
    run_id: str
    ts: dt.datetime
    mode: str
    records: int
    new: int
    changed: int
    removed: int
    rescored: int
    pairs_scored: int
    clusters: int
    events: Counter[str]
    input_unchanged: bool
    seconds: dict[str, float] = field(default_factory=dict)
    assignment_: pl.DataFrame | None = None  # keys, customer_id, p (loaded lazily)
    changes: pl.DataFrame = field(default_factory=pl.DataFrame)     # this run's identity_changes
    graph_changed: bool = False
    shared: pl.DataFrame = field(default_factory=pl.DataFrame)
    state_dir: Path | None = None
    model: Model | None = None  # the model the run scored with

    @property
    def id_changes(self) -> int:
        """Records that changed customer ID (not counting new and removed records)."""
        return sum(self.events[e] for e in ID_CHANGE_EVENTS)

    @property
    def assignment(self) -> pl.DataFrame:
        """(source, source_record_id, customer_id, match_probability) for every record."""
        if self.assignment_ is None:
            state = self.state
            self.assignment_ = state.keys.select("uid", *KEY).join(
                state.assignment.select("uid", "customer_id", "match_probability"), on="uid"
            ).drop("uid")
        return self.assignment_

    @property
    def state(self) -> State:
        assert self.state_dir is not None
        return State(self.state_dir)

    def summary(self) -> dict[str, object]:
        return {
            "run_id": self.run_id, "mode": self.mode, "records": self.records, "new": self.new,
            "changed": self.changed, "removed": self.removed, "rescored": self.rescored,
            "pairs_scored": self.pairs_scored, "customers": self.clusters,
            "id_changes": self.id_changes, "events": dict(self.events),
            "input_unchanged": self.input_unchanged,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


class Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._t
        self._t = now


def with_row_hash(canonical: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns plus a digest of each record's values (what decides "changed")
    and of its key (what an increment matches stored records by: integers, not strings).

    Polars' row hash is fast but only stable within one Polars version, so the version is
    part of the settings key: after an upgrade the next run is a full one.
    """
    canon = canonical.select(CANONICAL_COLUMNS)
    return canon.with_columns(canon.hash_rows(seed=7).alias("row_hash"),
                              canon.select(KEY).hash_rows(seed=11).alias("key_hash"))


def input_digest(canon: pl.DataFrame) -> str:
    """Order-free digest of the input: the sum of row hashes (keys are part of each row)."""
    hashes = canon["row_hash"].to_numpy().astype(np.uint64)
    total = int(np.add.reduce(hashes, dtype=np.uint64)) if len(hashes) else 0
    return f"{len(hashes)}-{total:016x}"


def settings_key(model: Model | None, config: IdentityConfig) -> str:
    version = model.version if model is not None else "untrained"
    # DuckDB's hash() keys the index (identity/keyindex.py): a new version rebuilds it.
    return (f"{version}|{config.fingerprint()}|{FEATURES_VERSION}|state {STATE_VERSION}"
            f"|polars {pl.__version__}|duckdb {duckdb.__version__}")


def state_meta(model: Model, config: IdentityConfig, next_uid: int, run_id: str,
               ts: dt.datetime, digest: str, mode: str, unchanged: bool,
               events: Counter[str]) -> dict[str, object]:
    """The run's entry in the state's metadata: what the next run diffs and decides by."""
    return {
        "settings_key": settings_key(model, config), "model_version": model.version,
        "next_uid": next_uid, "run_id": run_id, "ts": ts.isoformat(), "input_digest": digest,
        "last_run": {"mode": mode, "input_unchanged": unchanged, "events": dict(events),
                     "id_changes": sum(events[e] for e in ID_CHANGE_EVENTS)},
    }


def probabilities(assignment: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Per record, the strongest scored pair that ties it into its customer (null if none)."""
    cl = assignment.select("uid", "cluster")
    both = pl.concat([edges.select(pl.col("uid_l").alias("uid"), pl.col("uid_r").alias("other"),
                                   "match_probability"),
                      edges.select(pl.col("uid_r").alias("uid"), pl.col("uid_l").alias("other"),
                                   "match_probability")])
    return (both.join(cl, on="uid").join(cl.rename({"uid": "other", "cluster": "c2"}), on="other")
            .filter(pl.col("cluster") == pl.col("c2"))
            .group_by("uid").agg(pl.col("match_probability").max().round(6)))
