"""One identity run: canonical records in, stable customer IDs, graph history and events out.

    canonical -> features -> merge protection -> score pairs -> cluster -> place lone
    records -> carry IDs forward -> graph + changes -> state for the next run

A run is *full* when there is no previous state or the model or settings changed, and
*incremental* otherwise (identity/incremental.py): only new and changed records (and
records whose identifiers became shared or unshared) are scored, and only the part of the
graph they touch is re-clustered. Both give the same result, because each stage is a
deterministic function of the scored pairs, and a pair's score does not depend on which
other records exist (term frequencies are frozen with the model).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from identity import cluster as cluster_mod
from identity import comparison_columns, evidence, keyindex, placement, predict, stable_ids
from identity import graph as graph_mod
from identity import state as state_mod
from identity.canonical import CANONICAL_COLUMNS
from identity.model_store import Model
from identity.settings import IdentityConfig
from identity.state import State

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


def run(canonical: pl.DataFrame, state_dir: Path, model: Model | None, config: IdentityConfig,
        overrides: pl.DataFrame | None = None, run_id: str | None = None,
        ts: dt.datetime | None = None, full: bool = False,
        models_dir: Path | None = None) -> RunResult:
    """Resolve ``canonical`` records against the state in ``state_dir`` and update it.

    Without a ``model``, one is trained on these records (after merge protection) and
    saved as a new version under ``models_dir``: the bootstrap for a first run.
    """
    from identity import incremental

    clock = Clock()
    ts = ts or dt.datetime.now(dt.UTC)
    run_id = run_id or f"{ts:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    overrides = overrides if overrides is not None else evidence.load_overrides(None)
    canon = with_row_hash(canonical)
    previous_meta = State(state_dir).meta if state_mod.exists(state_dir) else None
    if (not full and model is not None and previous_meta is not None
            and previous_meta.get("settings_key") == settings_key(model, config)):
        return incremental.run(canon, state_dir, model, config, overrides, run_id, ts, clock)
    return _full(canon, state_dir, model, config, overrides, run_id, ts, clock, models_dir)


def _full(canon: pl.DataFrame, state_dir: Path, model: Model | None, config: IdentityConfig,
          overrides: pl.DataFrame, run_id: str, ts: dt.datetime, clock: Clock,
          models_dir: Path | None) -> RunResult:
    prev = State.load(state_dir)
    keys, status = _assign_uids(canon, prev)
    canon = canon.join(keys, on=KEY).sort("uid")
    clock.lap("diff")
    feats = comparison_columns.build(canon.drop("uid", "row_hash"), canon["uid"]).drop(KEY)
    clock.lap("features")
    shared = evidence.find_shared(feats, config)
    clean = evidence.without_shared(feats, shared)
    clock.lap("merge_protection")
    if model is None:
        model = _train(clean, shared, config, models_dir)
        clock.lap("train")
    edges = predict.score_all(clean, model, config.evidence_threshold)
    clock.lap("score")
    steward = evidence.override_pairs(overrides, keys)
    base = cluster_mod.cluster(clean, edges, config.cluster_threshold, steward,
                               config.national_id_conflict_splits, config.birth_date_conflict_splits)
    final, placed = placement.place(clean, base, steward.filter(pl.col("rule") == "cannot_link"))
    clock.lap("cluster")

    previous_ids = prev.assignment.select("uid", "customer_id") if prev is not None else None
    customers = prev.customers if prev is not None else stable_ids.empty_customers()
    carried = stable_ids.carry_forward(final, keys, previous_ids, customers, run_id)
    assignment = (carried.assignment
                  .join(base.rename({"cluster": "base"}), on="uid")
                  .join(placed.rename({"target": "placed_into"}), on="uid", how="left")
                  .join(probabilities(carried.assignment, edges), on="uid", how="left")
                  .select("uid", "base", "placed_into", "cluster", "customer_id", "match_probability"))
    current = keys.join(assignment.select("uid", "customer_id", "match_probability"), on="uid")
    prev_graph = prev.graph_rows if prev is not None else graph_mod.empty_graph().with_columns(
        pl.lit(None, pl.Int64).alias("uid"))
    graph, graph_changed = graph_mod.update(prev_graph.drop("uid"), current, ts)
    # The state keeps each row's uid (integer joins in incremental runs).
    uid_of = pl.concat([keys.select("uid", *KEY), prev_graph.select("uid", *KEY)]).unique(KEY)
    graph = graph.join(uid_of, on=KEY, how="left").select("uid", *graph_mod.GRAPH_SCHEMA)
    all_keys = keys if prev is None else pl.concat([keys.select("uid", *KEY), prev.keys.select("uid", *KEY)]).unique("uid")
    changes = graph_mod.changes(carried.events, all_keys, run_id, ts)
    history = pl.concat([prev.changes, changes]) if prev is not None else changes
    clock.lap("stable_ids")

    index = keyindex.Index(state_dir, prev.meta if prev is not None else None)
    rules = keyindex.model_rules(model.settings)
    index.replace(_index_entries(feats, base, rules), rules)
    clock.lap("index")

    events = Counter(carried.events["event"].to_list())
    digest = input_digest(canon)
    unchanged = prev is not None and prev.meta.get("input_digest") == digest
    removed = prev.keys.join(keys, on="uid", how="anti").height if prev is not None else 0
    n_customers = assignment["customer_id"].n_unique()
    meta = {**_meta(model, config, keys, run_id, ts, digest, "full", unchanged, events),
            "customers": n_customers, "index": index.meta()}
    try:
        state_mod.write_all(state_dir, {
            "keys": canon.select("uid", *KEY, "row_hash", "key_hash"),
            "canonical": canon.select("uid", *[c for c in CANONICAL_COLUMNS if c not in KEY]),
            "features": feats, "edges": edges, "assignment": assignment,
            "customers": carried.customers, "shared": shared, "graph": graph, "changes": history,
            "overrides": steward,
        }, meta)
    except BaseException:
        index.forget_added()
        raise
    index.discard_unlisted()
    clock.lap("save_state")
    return RunResult(
        run_id=run_id, ts=ts, mode="full", records=keys.height,
        new=status.filter(pl.col("status") == "new").height,
        changed=status.filter(pl.col("status") == "changed").height, removed=removed,
        rescored=keys.height, pairs_scored=edges.height,
        clusters=n_customers, events=events, input_unchanged=unchanged,
        seconds=clock.seconds, assignment_=current.drop("uid"), changes=changes,
        graph_changed=graph_changed,
        shared=shared, state_dir=state_dir)


def _index_entries(feats: pl.DataFrame, base: pl.DataFrame, rules: list[str]) -> np.ndarray:
    """Key index of every record (identity/keyindex.py); lone ones also as placeable."""
    keyindex.check_uids(feats["uid"])
    lone = base.filter(pl.len().over("cluster") == 1).select("uid")
    con = duckdb.connect()
    try:
        con.register("_features", feats)
        con.register("_lone", lone)
        return keyindex.build(con, "_features", "_lone", rules)
    finally:
        con.close()


def _train(clean: pl.DataFrame, shared: pl.DataFrame, config: IdentityConfig,
           models_dir: Path | None) -> Model:
    from identity import model_store, train

    if models_dir is None:
        raise ValueError("no model given and no models_dir to train one into")
    settings, meta = train.fit(clean, config)
    return model_store.save(models_dir, settings, train.tf_tables(clean),
                            {**meta, "shared_identifiers": shared.height})


def _meta(model: Model, config: IdentityConfig, keys: pl.DataFrame, run_id: str, ts: dt.datetime,
          digest: str, mode: str, unchanged: bool, events: Counter[str],
          next_uid: int | None = None) -> dict[str, object]:
    return {
        "settings_key": settings_key(model, config), "model_version": model.version,
        "next_uid": next_uid if next_uid is not None else int(keys["uid"].max() + 1) if keys.height else 0,
        "run_id": run_id, "ts": ts.isoformat(), "input_digest": digest,
        "last_run": {"mode": mode, "input_unchanged": unchanged, "events": dict(events),
                     "id_changes": sum(events[e] for e in ID_CHANGE_EVENTS)},
    }


def _assign_uids(canon: pl.DataFrame, prev: State | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(keys: source, source_record_id, uid) and (uid, status: new|changed|same).

    Known records keep their uid; new ones get the next free numbers in key order.
    """
    if prev is None:
        keys = canon.select(*KEY).sort(KEY).with_row_index("uid").with_columns(
            pl.col("uid").cast(pl.Int64))
        return keys.select(*KEY, "uid"), keys.select("uid", pl.lit("new").alias("status"))
    known = prev.keys.select(*KEY, "uid", pl.col("row_hash").alias("old_hash"))
    j = canon.select(*KEY, "row_hash").join(known, on=KEY, how="left")
    fresh = j.filter(pl.col("uid").is_null()).sort(KEY)
    start = int(prev.meta.get("next_uid", 0))
    fresh = fresh.with_columns(pl.Series("uid", np.arange(start, start + fresh.height), dtype=pl.Int64))
    j = pl.concat([j.filter(pl.col("uid").is_not_null()), fresh], how="vertical_relaxed")
    status = j.select("uid", pl.when(pl.col("old_hash").is_null()).then(pl.lit("new"))
                      .when(pl.col("old_hash") != pl.col("row_hash")).then(pl.lit("changed"))
                      .otherwise(pl.lit("same")).alias("status"))
    return j.select(*KEY, pl.col("uid").cast(pl.Int64)), status


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
