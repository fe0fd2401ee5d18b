"""A full identity run: every record scored, clustered and placed, the state rewritten.

    features -> merge protection -> (train) -> score pairs -> cluster -> place lone
    records -> carry IDs forward -> graph + changes -> state and key index

The first run on a state, and any run after the model, the settings or the feature code
changed, is a full one (``identity/resolve.py`` decides). It shares its bookkeeping with
the incremental run through ``identity/runs.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from identity import (
    clustering,
    comparison_columns,
    evidence,
    graph_history,
    keyindex,
    placement,
    predict,
    run_state,
    stable_ids,
    train,
)
from identity.canonical import CANONICAL_COLUMNS
from identity.model_store import Model
from identity.run_state import State
from identity.runs import KEY, Clock, RunResult, input_digest, probabilities, state_meta
from identity.settings import IdentityConfig


def run(canon: pl.DataFrame, state_dir: Path, model: Model | None, config: IdentityConfig,
        overrides: pl.DataFrame, run_id: str, ts: dt.datetime, clock: Clock,
        models_dir: Path | None) -> RunResult:
    """Score, cluster and place every record of ``canon`` (with row hashes), carry IDs
    forward from the state in ``state_dir`` if there is one, and rewrite that state.

    Without a ``model``, one is trained on these records after merge protection and saved
    under ``models_dir``.
    """
    prev = State.load(state_dir)
    keys, status = _assign_uids(canon, prev)
    canon = canon.join(keys, on=KEY).sort("uid")
    clock.lap("diff")
    keyed = comparison_columns.build(canon.drop("uid", "row_hash"), canon["uid"])
    feats = keyed.drop(KEY)
    clock.lap("features")
    shared = evidence.find_shared(feats, config)
    clean = evidence.without_shared(feats, shared)
    clock.lap("merge_protection")
    if model is None:
        if models_dir is None:
            raise ValueError("no model given and no models_dir to train one into")
        # With the record keys, which order the training sample: the same records give the
        # same model whatever uids an earlier state gave them.
        model = train.train(evidence.without_shared(keyed, shared), config, models_dir,
                            shared_identifiers=shared.height)
        clock.lap("train")
    edges = predict.score_all(clean, model, config.evidence_threshold)
    clock.lap("score")
    steward = evidence.override_pairs(overrides, keys)
    base = clustering.cluster(clean, edges, config.cluster_threshold, steward,
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
    prev_graph = prev.graph_rows if prev is not None else graph_history.empty_graph().with_columns(
        pl.lit(None, pl.Int64).alias("uid"))
    graph, graph_changed = graph_history.update(prev_graph.drop("uid"), current, ts)
    # The state keeps each row's uid (integer joins in incremental runs).
    uid_of = pl.concat([keys.select("uid", *KEY), prev_graph.select("uid", *KEY)]).unique(KEY)
    graph = graph.join(uid_of, on=KEY, how="left").select("uid", *graph_history.GRAPH_SCHEMA)
    all_keys = keys if prev is None else pl.concat([keys.select("uid", *KEY), prev.keys.select("uid", *KEY)]).unique("uid")
    changes = graph_history.changes(carried.events, all_keys, run_id, ts)
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
    next_uid = int(keys["uid"].max() + 1) if keys.height else 0  # type: ignore[operator]
    meta = {**state_meta(model, config, next_uid, run_id, ts, digest, "full", unchanged, events),
            "customers": n_customers, "index": index.meta()}
    try:
        run_state.write_all(state_dir, {
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
        shared=shared, state_dir=state_dir, model=model)


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
