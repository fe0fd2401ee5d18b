"""One identity run: canonical records in, stable customer IDs, graph history and events out.

    canonical -> features -> merge protection -> score pairs -> cluster -> place lone
    records -> carry IDs forward -> graph + changes -> state for the next run

A run is *full* when there is no previous state or the model or settings changed, and
*incremental* otherwise: only new and changed records (and records whose identifiers
became shared or unshared) are scored, against everything else, and only the connected
components they touch are re-clustered. The result is the same as a full run's, because
each stage is a deterministic function of the scored pairs, and a pair's score does not
depend on which other records exist (term frequencies are frozen with the model).
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
from identity import evidence, features, placement, predict, stable_ids
from identity import graph as graph_mod
from identity.canonical import CANONICAL_COLUMNS
from identity.model import Model
from identity.settings import IdentityConfig
from identity.state import State

FEATURES_VERSION = "1"
ID_CHANGE_EVENTS = ("merged", "split", "moved")


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
    assignment: pl.DataFrame = field(default_factory=pl.DataFrame)  # keys, customer_id, p
    edges: pl.DataFrame = field(default_factory=pl.DataFrame)       # uid pairs, p
    changes: pl.DataFrame = field(default_factory=pl.DataFrame)     # identity_changes rows
    graph: pl.DataFrame = field(default_factory=pl.DataFrame)
    graph_changed: bool = False
    shared: pl.DataFrame = field(default_factory=pl.DataFrame)
    state: State | None = None

    @property
    def id_changes(self) -> int:
        """Records that changed customer ID (not counting new and removed records)."""
        return sum(self.events[e] for e in ID_CHANGE_EVENTS)

    def summary(self) -> dict[str, object]:
        return {
            "run_id": self.run_id, "mode": self.mode, "records": self.records, "new": self.new,
            "changed": self.changed, "removed": self.removed, "rescored": self.rescored,
            "pairs_scored": self.pairs_scored, "customers": self.clusters,
            "id_changes": self.id_changes, "events": dict(self.events),
            "input_unchanged": self.input_unchanged,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def row_hashes(canonical: pl.DataFrame) -> pl.Series:
    """A stable digest of each record's canonical values (what decides whether it changed)."""
    con = duckdb.connect()
    con.register("c", canonical.select(CANONICAL_COLUMNS))
    parts = ", ".join(f"coalesce(cast({c} as varchar), chr(0))" for c in CANONICAL_COLUMNS)
    return con.sql(f"select md5(concat_ws(chr(31), {parts})) as h from c").pl()["h"]


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._t
        self._t = now


def run(canonical: pl.DataFrame, state_dir: Path, model: Model | None, config: IdentityConfig,
        overrides: pl.DataFrame | None = None, run_id: str | None = None,
        ts: dt.datetime | None = None, full: bool = False,
        models_dir: Path | None = None) -> RunResult:
    """Resolve ``canonical`` records against the state in ``state_dir`` and update it.

    Without a ``model``, one is trained on these records (after merge protection) and
    saved as a new version under ``models_dir``: the bootstrap for a first run.
    """
    clock = _Clock()
    ts = ts or dt.datetime.now(dt.UTC)
    run_id = run_id or f"{ts:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    prev = State.load(state_dir)
    version = model.version if model is not None else "untrained"
    settings_key = f"{version}|{config.fingerprint()}|{FEATURES_VERSION}"
    incremental = prev is not None and not full and prev.meta.get("settings_key") == settings_key
    clock.lap("load_state")

    canon = canonical.select(CANONICAL_COLUMNS).with_columns(row_hashes(canonical).alias("row_hash"))
    keys, status = _assign_uids(canon, prev)
    canon = canon.join(keys.select("source", "source_record_id", "uid"),
                       on=["source", "source_record_id"]).sort("uid")
    clock.lap("diff")

    feats = _features(canon, status, prev)
    clock.lap("features")
    new_uids = status.filter(pl.col("status") != "same")["uid"]
    removed = (prev.canonical.join(keys, on="uid", how="anti")["uid"] if prev is not None
               else pl.Series("uid", [], pl.Int64))
    if incremental:
        assert prev is not None
        shared = _shared_incremental(feats, prev, new_uids, removed, config)
    else:
        shared = evidence.find_shared(feats, config)
    clean = evidence.without_shared(feats, shared)
    clock.lap("merge_protection")
    if model is None:
        from identity import model as model_store
        from identity import train

        if models_dir is None:
            raise ValueError("no model given and no models_dir to train one into")
        settings, meta = train.fit(clean, config)
        model = model_store.save(models_dir, settings, train.tf_tables(clean),
                                 {**meta, "shared_identifiers": shared.height})
        settings_key = f"{model.version}|{config.fingerprint()}|{FEATURES_VERSION}"
        clock.lap("train")

    dirty = new_uids
    if incremental:
        assert prev is not None
        dirty = pl.concat([dirty, _evidence_dirty(feats, prev.shared, shared)]).unique()
    steward = evidence.override_pairs(
        overrides if overrides is not None else evidence.load_overrides(None), keys)

    if incremental:
        assert prev is not None
        gone = pl.concat([dirty, removed]).implode()
        kept = prev.edges.filter(~pl.col("uid_l").is_in(gone) & ~pl.col("uid_r").is_in(gone))
        is_dirty = pl.col("uid").is_in(dirty.implode())
        scored = predict.score_new(clean.filter(~is_dirty), clean.filter(is_dirty), model,
                                   config.evidence_threshold)
        edges = pl.concat([kept, scored]).unique(["uid_l", "uid_r"]).sort("uid_l", "uid_r")
    else:
        scored = edges = predict.score_all(clean, model, config.evidence_threshold)
    clock.lap("score")

    if incremental:
        assert prev is not None
        base = _recluster(clean, edges, steward, prev, dirty, removed, config)
    else:
        base = cluster_mod.cluster(clean, edges, config.cluster_threshold, steward,
                                   config.national_id_conflict_splits,
                                   config.birth_date_conflict_splits)
    cannot = steward.filter(pl.col("rule") == "cannot_link")
    final = placement.place(clean, base, cannot)
    clock.lap("cluster")

    previous_ids = prev.assignment.select("uid", "customer_id") if prev is not None else None
    customers = prev.customers if prev is not None else stable_ids.empty_customers()
    carried = stable_ids.carry_forward(final, keys, previous_ids, customers, run_id)
    assignment = (carried.assignment.join(base.rename({"cluster": "base"}), on="uid")
                  .join(_probabilities(carried.assignment, edges), on="uid", how="left"))
    current = keys.join(assignment.select("uid", "customer_id", "match_probability"), on="uid")
    prev_graph = prev.graph if prev is not None else graph_mod.empty_graph()
    graph, graph_changed = graph_mod.update(prev_graph, current, ts)
    all_keys = pl.concat([keys.select("uid", "source", "source_record_id"),
                          prev.canonical.select("uid", "source", "source_record_id")
                          if prev is not None else keys.select("uid", "source", "source_record_id")
                          ]).unique("uid")
    changes = graph_mod.changes(carried.events, all_keys, run_id, ts)
    clock.lap("stable_ids")

    state = State(
        canonical=canon, features=feats, edges=edges,
        assignment=assignment.select("uid", "base", "cluster", "customer_id", "match_probability"),
        customers=carried.customers, shared=shared, graph=graph, overrides=steward,
        meta={"settings_key": settings_key, "model_version": model.version,
              "next_uid": int(keys["uid"].max() + 1) if keys.height else
              int(prev.meta.get("next_uid", 0)) if prev is not None else 0,
              "run_id": run_id, "ts": ts.isoformat(), "input_digest": _digest(canon)})
    input_unchanged = prev is not None and prev.meta.get("input_digest") == state.meta["input_digest"]
    state.save(state_dir)
    clock.lap("save_state")

    return RunResult(
        run_id=run_id, ts=ts, mode="incremental" if incremental else "full", records=keys.height,
        new=status.filter(pl.col("status") == "new").height,
        changed=status.filter(pl.col("status") == "changed").height, removed=removed.len(),
        rescored=dirty.len() if incremental else keys.height, pairs_scored=scored.height,
        clusters=assignment["customer_id"].n_unique(),
        events=Counter(carried.events["event"].to_list()), input_unchanged=input_unchanged,
        seconds=clock.seconds, assignment=current, edges=edges, changes=changes, graph=graph,
        graph_changed=graph_changed, shared=shared, state=state,
    )


def _assign_uids(canon: pl.DataFrame, prev: State | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(keys: source, source_record_id, uid) and (uid, status: new|changed|same)."""
    key = ["source", "source_record_id"]
    if prev is None:
        ordered = canon.select(*key, "row_hash").sort(key).with_row_index("uid")
        keys = ordered.with_columns(pl.col("uid").cast(pl.Int64))
        return keys.select(*key, "uid"), keys.select("uid", pl.lit("new").alias("status"))
    known = prev.canonical.select(*key, "uid", pl.col("row_hash").alias("old_hash"))
    j = canon.select(*key, "row_hash").join(known, on=key, how="left")
    fresh = j.filter(pl.col("uid").is_null()).sort(key)
    start = int(prev.meta.get("next_uid", 0))
    fresh = fresh.with_columns(pl.Series("uid", np.arange(start, start + fresh.height),
                                         dtype=pl.Int64))
    j = pl.concat([j.filter(pl.col("uid").is_not_null()), fresh], how="vertical_relaxed")
    status = j.select("uid", pl.when(pl.col("old_hash").is_null()).then(pl.lit("new"))
                      .when(pl.col("old_hash") != pl.col("row_hash")).then(pl.lit("changed"))
                      .otherwise(pl.lit("same")).alias("status"))
    return j.select(*key, pl.col("uid").cast(pl.Int64)), status


def _features(canon: pl.DataFrame, status: pl.DataFrame, prev: State | None) -> pl.DataFrame:
    todo = status.filter(pl.col("status") != "same")["uid"]
    subset = canon.filter(pl.col("uid").is_in(todo.implode()))
    built = features.build(subset.drop("uid", "row_hash"), subset["uid"]) if subset.height else None
    parts = [b.drop("source", "source_record_id") for b in [built] if b is not None]
    if prev is not None:
        same = status.filter(pl.col("status") == "same").select("uid")
        parts.append(prev.features.join(same, on="uid"))
    if not parts:
        return features.build(canon.drop("uid", "row_hash")).drop("source", "source_record_id").clear()
    out = pl.concat(parts, how="vertical_relaxed").sort("uid")
    return out


def _shared_incremental(feats: pl.DataFrame, prev: State, changed: pl.Series, removed: pl.Series,
                        config: IdentityConfig) -> pl.DataFrame:
    """Recheck only identifier values that new, changed or removed records carry (or carried)."""
    touched = pl.concat([
        feats.filter(pl.col("uid").is_in(changed.implode())),
        prev.features.filter(pl.col("uid").is_in(pl.concat([changed, removed]).implode())),
    ], how="vertical_relaxed").select(*evidence.IDENTIFIERS)
    mask = pl.any_horizontal(pl.col(k).is_in(touched[k].drop_nulls().unique().implode())
                             for k in evidence.IDENTIFIERS)
    rechecked = evidence.find_shared(feats.filter(mask), config)
    values = (touched.unpivot(variable_name="kind", value_name="value").drop_nulls().unique())
    keep = prev.shared.join(values, on=["kind", "value"], how="anti")
    return pl.concat([keep, rechecked]).unique(["kind", "value"]).sort("kind", "value")


def _evidence_dirty(feats: pl.DataFrame, before: pl.DataFrame, after: pl.DataFrame) -> pl.Series:
    """Records carrying an identifier that became shared or stopped being shared."""
    flipped = pl.concat([before.join(after, on=["kind", "value"], how="anti"),
                         after.join(before, on=["kind", "value"], how="anti")])
    if flipped.is_empty():
        return pl.Series("uid", [], pl.Int64)
    mask = pl.any_horizontal(
        pl.col(k).is_in(flipped.filter(pl.col("kind") == k)["value"].implode())
        for k in evidence.IDENTIFIERS)
    return feats.filter(mask)["uid"]


def _recluster(clean: pl.DataFrame, edges: pl.DataFrame, steward: pl.DataFrame, prev: State,
               dirty: pl.Series, removed: pl.Series, config: IdentityConfig) -> pl.DataFrame:
    """Re-cluster only the connected components that hold a dirty record or lost one."""
    base_prev = prev.assignment.select("uid", pl.col("base").alias("cluster"))
    touched_clusters = base_prev.filter(
        pl.col("uid").is_in(pl.concat([dirty, removed]).implode()))["cluster"]
    steward_changed = pl.concat([
        prev.overrides.join(steward, on=["rule", "uid_l", "uid_r"], how="anti"),
        steward.join(prev.overrides, on=["rule", "uid_l", "uid_r"], how="anti")])
    seeds = pl.concat([
        dirty, steward_changed["uid_l"], steward_changed["uid_r"],
        base_prev.filter(pl.col("cluster").is_in(touched_clusters.implode()))["uid"],
    ]).unique()
    links = pl.concat([
        edges.filter(pl.col("match_probability") >= config.cluster_threshold).select("uid_l", "uid_r"),
        steward.filter(pl.col("rule") == "must_link").select("uid_l", "uid_r")])
    uids = clean["uid"].to_numpy()
    comp = pl.DataFrame({"uid": uids, "component": cluster_mod.components(uids, links)})
    hit = comp.filter(pl.col("uid").is_in(seeds.implode()))["component"].unique()
    nodes = comp.filter(pl.col("component").is_in(hit.implode()))["uid"]
    sub = clean.filter(pl.col("uid").is_in(nodes.implode()))
    node_set = nodes.implode()
    sub_edges = edges.filter(pl.col("uid_l").is_in(node_set) & pl.col("uid_r").is_in(node_set))
    sub_steward = steward.filter(pl.col("uid_l").is_in(node_set) & pl.col("uid_r").is_in(node_set))
    redone = cluster_mod.cluster(sub, sub_edges, config.cluster_threshold, sub_steward,
                                 config.national_id_conflict_splits,
                                 config.birth_date_conflict_splits)
    untouched = base_prev.filter(~pl.col("uid").is_in(node_set)).join(
        clean.select("uid"), on="uid")
    return pl.concat([untouched, redone]).sort("uid")


def _probabilities(assignment: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Per record, the strongest scored pair that ties it into its customer (null if alone)."""
    cl = assignment.select("uid", "cluster")
    both = pl.concat([edges.select(pl.col("uid_l").alias("uid"), pl.col("uid_r").alias("other"),
                                   "match_probability"),
                      edges.select(pl.col("uid_r").alias("uid"), pl.col("uid_l").alias("other"),
                                   "match_probability")])
    return (both.join(cl, on="uid").join(cl.rename({"uid": "other", "cluster": "c2"}), on="other")
            .filter(pl.col("cluster") == pl.col("c2"))
            .group_by("uid").agg(pl.col("match_probability").max().round(6)))


def _digest(canon: pl.DataFrame) -> str:
    import hashlib

    hashes = canon.select("source", "source_record_id", "row_hash").sort("source", "source_record_id")
    return hashlib.sha256("\n".join(hashes["row_hash"].to_list()).encode()).hexdigest()[:32]
