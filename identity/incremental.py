"""An incremental run: work in proportion to what changed, not to what exists.

Given the previous state (a DuckDB file) and the new input:

1. *Diff*: hash every input row; new, changed and removed records fall out of a join
   with the stored hashes.
2. *Merge protection*: only identifier values that new, changed or removed records carry
   (or carried) are rechecked; records holding a value that became shared or unshared are
   rescored too.
3. *Scoring*: the dirty records against only those stored records that share a blocking
   key with them (the same pairs the blocking rules would produce over everything).
4. *Clustering*: the connected components (over links above the threshold) that hold a
   dirty record, or lost a record, are re-clustered; everything else keeps its cluster.
5. *Placement*: lone records are re-placed only where a name key they carry appears in the
   re-clustered part (nothing else could have changed their candidates).
6. *IDs*: customers whose records changed are carried forward; every other record keeps
   its ID without being looked at.

Each step reads and writes only the affected rows of the state tables.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from identity import cluster as cluster_mod
from identity import evidence, features, placement, predict, stable_ids
from identity import graph as graph_mod
from identity import state as state_mod
from identity.canonical import CANONICAL_COLUMNS
from identity.model import Model
from identity.resolve import KEY, Clock, RunResult, _meta, input_digest, probabilities
from identity.settings import BLOCKING_RULES, IdentityConfig

SWAPPED_RULE = "l.first_name = r.last_name and l.last_name = r.first_name"


def _df(con: duckdb.DuckDBPyConnection, sql: str, **tables: pl.DataFrame) -> pl.DataFrame:
    for name, df in tables.items():
        con.register(name, df)
    try:
        return con.sql(sql).pl()
    finally:
        for name in tables:
            con.unregister(name)


def _uids(values: pl.Series | list[int]) -> pl.DataFrame:
    return pl.DataFrame({"uid": values}, schema={"uid": pl.Int64})


def run(canon: pl.DataFrame, state_dir: Path, model: Model, config: IdentityConfig,
        overrides: pl.DataFrame, run_id: str, ts: dt.datetime, clock: Clock) -> RunResult:
    con = state_mod.connect(state_dir)
    try:
        con.execute("begin transaction")
        result = _run(con, canon, model, config, overrides, run_id, ts, clock)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    result.state_dir = state_dir
    clock.lap("save_state")
    result.seconds = clock.seconds
    return result


def _run(con: duckdb.DuckDBPyConnection, canon: pl.DataFrame, model: Model, config: IdentityConfig,
         overrides: pl.DataFrame, run_id: str, ts: dt.datetime, clock: Clock) -> RunResult:
    meta = state_mod.get_meta(con)
    keys_prev = con.sql("select uid, source, source_record_id, row_hash from keys").pl()
    clock.lap("load_state")

    # 1. Diff.
    j = canon.select(*KEY, "row_hash").join(
        keys_prev.rename({"row_hash": "old_hash"}), on=KEY, how="left")
    fresh = j.filter(pl.col("uid").is_null()).sort(KEY)
    start = int(meta.get("next_uid", 0))
    fresh = fresh.with_columns(pl.Series("uid", np.arange(start, start + fresh.height), dtype=pl.Int64))
    changed = j.filter(pl.col("uid").is_not_null() & (pl.col("old_hash") != pl.col("row_hash")))
    keys = pl.concat([j.filter(pl.col("uid").is_not_null()).select(*KEY, "uid"),
                      fresh.select(*KEY, "uid")])
    removed = keys_prev.join(keys, on="uid", how="anti")["uid"]
    d0 = pl.concat([fresh["uid"], changed["uid"]])
    clock.lap("diff")

    # 2. Features of new and changed records; merge protection for the values they touch.
    rows = canon.join(pl.concat([fresh, changed]).select(*KEY, "uid"), on=KEY)
    feats_new = (features.build(rows.drop("uid", "row_hash"), rows["uid"]).drop(KEY)
                 if rows.height else _df(con, "select * from features limit 0"))
    clock.lap("features")
    shared_prev = con.sql("select * from shared").pl()
    shared, evidence_dirty = _recheck_shared(con, feats_new, d0, removed, shared_prev, config)
    dirty = pl.concat([d0, evidence_dirty]).unique().sort()
    dirty_feats = pl.concat([feats_new, _fetch(con, "features", evidence_dirty)], how="vertical_relaxed")
    clock.lap("merge_protection")

    # 3. Score dirty records against stored records that share a blocking key with them.
    gone = pl.concat([dirty, removed])
    candidates = _blocking_candidates(con, dirty_feats, gone)
    scored = predict.score_new(evidence.without_shared(candidates, shared.table),
                               evidence.without_shared(dirty_feats, shared.table), model,
                               config.evidence_threshold)
    con.register("_gone", _uids(gone))
    con.execute("delete from edges where uid_l in (select uid from _gone) "
                "or uid_r in (select uid from _gone)")
    con.unregister("_gone")
    state_mod.replace_rows(con, "edges", scored, drop_uids=pl.Series("uid", [], pl.Int64))
    clock.lap("score")

    state_mod.replace_rows(con, "shared", shared.shared_rows, drop_uids=shared.touched, key="value")

    # 4. Re-cluster the components that hold a dirty record or lost one.
    steward = evidence.override_pairs(overrides, keys)
    steward_prev = con.sql("select * from overrides").pl()
    steward_changed = pl.concat([
        steward_prev.join(steward, on=["rule", "uid_l", "uid_r"], how="anti"),
        steward.join(steward_prev, on=["rule", "uid_l", "uid_r"], how="anti")])
    seeds = pl.concat([dirty, steward_changed["uid_l"], steward_changed["uid_r"],
                       _co_members(con, "base", pl.concat([dirty, removed]))]).unique()
    region = _expand(con, seeds, steward, config.cluster_threshold).filter(
        ~pl.col("uid").is_in(removed.implode()))
    region_feats = evidence.without_shared(pl.concat([
        _fetch(con, "features", region["uid"].filter(~region["uid"].is_in(d0.implode()))),
        feats_new.filter(pl.col("uid").is_in(region["uid"].implode()))], how="vertical_relaxed"),
        shared.table)
    region_edges = _df(con, """select e.* from edges e
                               where uid_l in (select uid from _r) and uid_r in (select uid from _r)""",
                       _r=region)
    in_region = pl.col("uid_l").is_in(region["uid"].implode()) & pl.col("uid_r").is_in(region["uid"].implode())
    base_region = cluster_mod.cluster(region_feats, region_edges, config.cluster_threshold,
                                      steward.filter(in_region), config.national_id_conflict_splits,
                                      config.birth_date_conflict_splits)

    # 5. Re-place lone records whose name keys meet the re-clustered part.
    prev_base = _df(con, "select uid, base, placed_into, cluster from assignment")
    base_now = pl.concat([
        prev_base.join(region, on="uid", how="anti").filter(~pl.col("uid").is_in(removed.implode()))
        .select("uid", pl.col("base").alias("cluster")),
        base_region])
    sized = base_now.with_columns(pl.len().over("cluster").alias("size"))
    lone = sized.filter(pl.col("size") == 1)["uid"]
    lone_scope = _lone_scope(con, region["uid"], removed, feats_new, lone)
    # Stored features change now: placement reads every record's current ones.
    state_mod.replace_rows(con, "features", feats_new, drop_uids=pl.concat([d0, removed]))
    placed_new = _place(con, sized, lone_scope, shared.table,
                        steward.filter(pl.col("rule") == "cannot_link"))
    clock.lap("cluster")

    # 6. Final clusters and IDs, only where something changed.
    kept_placements = prev_base.filter(
        pl.col("placed_into").is_not_null() & ~pl.col("uid").is_in(lone_scope.implode())
        & ~pl.col("uid").is_in(region["uid"].implode()) & ~pl.col("uid").is_in(removed.implode())
    ).select("uid", pl.col("placed_into").alias("target"))
    placed_all = pl.concat([kept_placements, placed_new])
    scope = _final_scope(prev_base, base_now, placed_all, region["uid"], lone_scope, removed,
                         placed_new)
    scope_base = base_now.filter(pl.col("uid").is_in(scope.implode()))
    scope_placed = placed_all.filter(pl.col("uid").is_in(scope.implode()))
    final = placement.join(scope_base, scope_placed)
    previous_ids = _df(con, "select uid, customer_id from assignment where uid in "
                            "(select uid from _u)", _u=_uids(pl.concat([scope, removed])))
    customers_prev = _df(con, """select * from customers where customer_id in
                                 (select customer_id from _p)""", _p=previous_ids
                         ).cast(stable_ids.CUSTOMER_SCHEMA)
    next_seq = int(con.execute("select coalesce(max(created_seq), 0) + 1 from customers").fetchall()[0][0])
    all_keys = pl.concat([keys, keys_prev.select(*KEY, "uid")]).unique("uid")
    carried = stable_ids.carry_forward(
        final, all_keys, previous_ids, customers_prev, run_id, next_seq=next_seq,
        taken=lambda ids: set(_df(con, "select customer_id from customers where customer_id in "
                                  "(select id from _ids)", _ids=pl.DataFrame(
                                      {"id": ids}, schema={"id": pl.String}))["customer_id"]))
    scope_edges = _df(con, """select * from edges where uid_l in (select uid from _s)
                              and uid_r in (select uid from _s)""", _s=_uids(scope))
    assignment = (carried.assignment
                  .join(scope_base.rename({"cluster": "base"}), on="uid")
                  .join(scope_placed.rename({"target": "placed_into"}), on="uid", how="left")
                  .join(probabilities(carried.assignment, scope_edges), on="uid", how="left")
                  .select("uid", "base", "placed_into", "cluster", "customer_id", "match_probability"))
    state_mod.replace_rows(con, "assignment", assignment, drop_uids=pl.concat([scope, removed]))
    state_mod.replace_rows(con, "customers", carried.customers, key="customer_id")

    events = Counter(carried.events["event"].to_list())
    changes = graph_mod.changes(carried.events, all_keys, run_id, ts)
    current = all_keys.join(assignment.select("uid", "customer_id", "match_probability"), on="uid")
    graph_changed = _update_graph(con, current, removed, ts)
    state_mod.replace_rows(con, "changes", changes, drop_uids=pl.Series("uid", [], pl.Int64))
    clock.lap("stable_ids")

    # Keys and canonical values last: earlier steps needed the previous ones.
    new_keys = canon.join(pl.concat([fresh, changed]).select(*KEY, "uid"), on=KEY)
    state_mod.replace_rows(con, "keys", new_keys.select("uid", *KEY, "row_hash"),
                           drop_uids=pl.concat([d0, removed]))
    state_mod.replace_rows(con, "canonical",
                           new_keys.select("uid", *[c for c in CANONICAL_COLUMNS if c not in KEY]),
                           drop_uids=pl.concat([d0, removed]))
    con.execute("delete from overrides")
    state_mod.replace_rows(con, "overrides", steward, drop_uids=pl.Series("uid", [], pl.Int64))
    digest = input_digest(canon)
    unchanged = meta.get("input_digest") == digest
    next_uid = max(int(meta.get("next_uid", 0)), int(fresh["uid"].max() + 1) if fresh.height else 0)
    state_mod.set_meta(con, _meta(model, config, keys, run_id, ts, digest, "incremental", unchanged,
                                  events, next_uid))
    customers = con.execute("select count(distinct customer_id) from assignment").fetchall()[0][0]
    return RunResult(
        run_id=run_id, ts=ts, mode="incremental", records=keys.height, new=fresh.height,
        changed=changed.height, removed=removed.len(), rescored=dirty.len(),
        pairs_scored=scored.height, clusters=int(customers), events=events,
        input_unchanged=unchanged, changes=changes,
        graph_changed=graph_changed, shared=shared.table)


def _fetch(con: duckdb.DuckDBPyConnection, table: str, uids: pl.Series) -> pl.DataFrame:
    return _df(con, f"select t.* from {table} t where uid in (select uid from _u) order by uid",
               _u=_uids(uids))


class _Shared:
    def __init__(self, table: pl.DataFrame, shared_rows: pl.DataFrame, touched: pl.Series) -> None:
        self.table = table              # all shared identifiers after this run
        self.shared_rows = shared_rows  # rows for the rechecked values (to store)
        self.touched = touched          # the values rechecked (to replace)


def _recheck_shared(con: duckdb.DuckDBPyConnection, feats_new: pl.DataFrame, d0: pl.Series,
                    removed: pl.Series, shared_prev: pl.DataFrame,
                    config: IdentityConfig) -> tuple[_Shared, pl.Series]:
    """Recheck identifier values that new, changed or removed records carry (or carried)."""
    ids = evidence.IDENTIFIERS
    old = _fetch(con, "features", pl.concat([d0, removed])).select("uid", *ids)
    touched = (pl.concat([feats_new.select(*ids), old.select(*ids)])
               .unpivot(variable_name="kind", value_name="value").drop_nulls().unique())
    if touched.is_empty():
        empty = pl.Series("value", [], pl.String)
        return _Shared(shared_prev, shared_prev.clear(), empty), pl.Series("uid", [], pl.Int64)
    # Every stored record (not itself replaced) that carries a touched value, plus the new ones.
    carriers = _df(con, "select * from features where uid in (" + " union ".join(
        f"select f.uid from features f join _t on _t.kind = '{k}' and f.{k} = _t.value"
        for k in ids) + ")", _t=touched)
    carriers = pl.concat([carriers.filter(~pl.col("uid").is_in(pl.concat([d0, removed]).implode())),
                          feats_new], how="vertical_relaxed").unique("uid")
    rechecked = evidence.find_shared(carriers, config).join(touched, on=["kind", "value"])
    before = shared_prev.join(touched, on=["kind", "value"])
    table = pl.concat([shared_prev.join(touched, on=["kind", "value"], how="anti"), rechecked])
    flipped = pl.concat([before.join(rechecked, on=["kind", "value"], how="anti"),
                         rechecked.join(before, on=["kind", "value"], how="anti")]).select("kind", "value")
    dirty = pl.Series("uid", [], pl.Int64)
    if flipped.height:
        hit = carriers.filter(pl.any_horizontal(
            pl.col(k).is_in(flipped.filter(pl.col("kind") == k)["value"].implode()) for k in ids))
        dirty = hit.filter(~pl.col("uid").is_in(d0.implode()))["uid"]
    return _Shared(table, rechecked, touched["value"].unique()), dirty


def _blocking_candidates(con: duckdb.DuckDBPyConnection, dirty: pl.DataFrame,
                         gone: pl.Series) -> pl.DataFrame:
    """Stored records (not dirty, not removed) that share a blocking key with a dirty one.

    Raw features are used for the keys: a superset of what merge-protected keys would
    find, so no pair the blocking rules would produce is missed.
    """
    if dirty.is_empty():
        return _df(con, "select * from features limit 0")
    parts = []
    for rule in BLOCKING_RULES:
        if isinstance(rule, tuple):
            on = " and ".join(f"f.{c} = d.{c}" for c in rule)
        elif rule == SWAPPED_RULE:
            on = "f.first_name = d.last_name and f.last_name = d.first_name"
        else:
            raise ValueError(f"no candidate query for blocking rule {rule!r}")
        parts.append(f"select f.uid from features f join _d d on {on}")
    return _df(con, f"""
        with c as ({" union ".join(parts)})
        select f.* from features f where uid in (select uid from c)
          and uid not in (select uid from _g)
        order by uid""", _d=dirty, _g=_uids(gone))


def _co_members(con: duckdb.DuckDBPyConnection, column: str, uids: pl.Series) -> pl.Series:
    """Every record sharing ``column`` (base or cluster) with one of ``uids``."""
    return _df(con, f"""select a.uid from assignment a where a.{column} in
                        (select {column} from assignment where uid in (select uid from _u))""",
               _u=_uids(uids))["uid"]


def _expand(con: duckdb.DuckDBPyConnection, seeds: pl.Series, steward: pl.DataFrame,
            threshold: float) -> pl.DataFrame:
    """The connected components (links above ``threshold`` and must-links) around ``seeds``."""
    must = steward.filter(pl.col("rule") == "must_link").select("uid_l", "uid_r")
    con.register("_must", must)
    con.execute(f"""create or replace temp table _links as
        select uid_l, uid_r from edges where match_probability >= {threshold}
        union all select uid_l, uid_r from _must""")
    con.unregister("_must")
    region = _uids(seeds.unique())
    while True:
        grown = _df(con, """
            select uid from _r
            union select l.uid_r from _links l join _r on l.uid_l = _r.uid
            union select l.uid_l from _links l join _r on l.uid_r = _r.uid""", _r=region)
        if grown.height == region.height:
            return region
        region = grown


def _join_sql(s_table: str, x_table: str, s_filter: str, keep: str) -> str:
    """uids (of side ``keep``) of every pair a placement join links.

    ``s_filter`` names the side restricted to lone records (``_lone``). Joins through
    nickname forms unnest the lone side only where its surname can meet the other side's,
    not for every stored record.
    """
    parts = []
    for join, condition in placement.all_joins():
        lone = "s.uid in (select uid from _lone)" if s_filter == "s" else "true"
        source = s_table
        if "f.form" in join:
            meet = "last_name" if "x.fk" in join else "first_name"
            source = (f"(select * from {s_table} where last_name in "
                      f"(select {meet} from {x_table}))")
            parts.append(f"select {keep}.uid from {source} s cross join unnest(s.first_name_forms) "
                         f"as f(form) join {x_table} x on {join} where {lone} and {condition}")
        else:
            parts.append(f"select {keep}.uid from {source} s join {x_table} x on {join} "
                         f"where {lone} and {condition}")
    return " union ".join(parts)


def _lone_scope(con: duckdb.DuckDBPyConnection, region: pl.Series, removed: pl.Series,
                feats_new: pl.DataFrame, lone: pl.Series) -> pl.Series:
    """Records whose placement may change: the region, and lone records that a placement
    join (key and condition) links to a region record.

    The region's records are taken with their old features (before they are replaced, so
    that changed and removed records count as they were) and their new ones.
    """
    old = _fetch(con, "features", pl.concat([region, removed]))
    x = pl.concat([old, feats_new.filter(pl.col("uid").is_in(region.implode()))],
                  how="vertical_relaxed")
    scope = _df(con, _join_sql("features", "_x", "s", "s"), _x=x, _lone=_uids(lone))["uid"]
    return pl.concat([scope, region]).unique()


def _place(con: duckdb.DuckDBPyConnection, sizes: pl.DataFrame, scope: pl.Series,
           shared: pl.DataFrame, cannot: pl.DataFrame) -> pl.DataFrame:
    """Placements for lone records in ``scope``, against every record that could matter:
    those sharing a name key with them, and the other members of those records' clusters."""
    con.register("_scope", _uids(scope))
    con.execute("create or replace temp table _sf as select * from features "
                "where uid in (select uid from _scope)")
    # Records a scope record could be placed with (the same joins, the other way round).
    near = _df(con, _join_sql("_sf", "features", "x", "x"))["uid"]
    con.register("_near", _uids(pl.concat([near, scope]).unique()))
    con.register("_sizes", sizes)
    members = con.sql("""select uid from _sizes where cluster in
                         (select cluster from _sizes where uid in (select uid from _near))""").pl()["uid"]
    con.register("_involved", _uids(members))
    con.register("_shared", shared)
    protected = {k: f"case when f.{k} in (select value from _shared where kind = '{k}') then null "
                    f"else f.{k} end" for k in evidence.IDENTIFIERS}
    select = ", ".join(protected.get(c, f"f.{c}") + f" as {c}" for c in placement.COLUMNS)
    rich = " or ".join(f"{protected.get(c, 'f.' + c)} is not null" for c in placement.RICH)
    con.execute(f"""create or replace temp table _pf as
        select {select}, b.cluster, b.size, ({rich}) as rich
        from features f join _sizes b using (uid) where f.uid in (select uid from _involved)""")
    placed = placement.place_on(con, "_pf", "_scope")
    for name in ("_scope", "_near", "_sizes", "_involved", "_shared"):
        con.unregister(name)
    if not cannot.is_empty():
        placed = placement._respect(placed, sizes.select("uid", "cluster"), cannot)
    return placed


def _final_scope(prev: pl.DataFrame, base_now: pl.DataFrame, placed_all: pl.DataFrame,
                 region: pl.Series, lone_scope: pl.Series, removed: pl.Series,
                 placed_new: pl.DataFrame) -> pl.Series:
    """Records whose final cluster may change; closed under the links that form clusters."""
    prev_placed = prev.filter(pl.col("uid").is_in(lone_scope.implode())).select("placed_into")
    labels = pl.concat([
        base_now.filter(pl.col("uid").is_in(region.implode()))["cluster"],
        prev.filter(pl.col("uid").is_in(pl.concat([region, removed]).implode()))["base"],
        placed_new["target"], prev_placed["placed_into"].drop_nulls(),
        base_now.filter(pl.col("uid").is_in(lone_scope.implode()))["cluster"],
    ]).unique().implode()
    first = pl.concat([
        base_now.filter(pl.col("cluster").is_in(labels))["uid"],
        placed_all.filter(pl.col("target").is_in(labels))["uid"],
        region, lone_scope.filter(lone_scope.is_in(base_now["uid"].implode())),
    ]).unique()
    finals = prev.filter(pl.col("uid").is_in(pl.concat([first, removed]).implode()))["cluster"]
    same_final = prev.filter(pl.col("cluster").is_in(finals.implode()))["uid"]
    scope = pl.concat([first, same_final]).unique()
    return scope.filter(~scope.is_in(removed.implode()))


def _update_graph(con: duckdb.DuckDBPyConnection, current: pl.DataFrame, removed: pl.Series,
                  ts: dt.datetime) -> bool:
    """Close and open graph rows for records whose customer changed; update probabilities."""
    uids = pl.concat([current["uid"], removed])
    open_rows = _df(con, """select * from graph where valid_to is null
                            and uid in (select uid from _u)""", _u=_uids(uids))
    updated, changed = graph_mod.update(open_rows.drop("uid").cast(graph_mod.GRAPH_SCHEMA),
                                        current.select(*KEY, "customer_id", "match_probability"), ts)
    if changed:
        updated = updated.join(pl.concat([current.select("uid", *KEY),
                                          open_rows.select("uid", *KEY)]).unique("uid"), on=KEY)
        con.register("_u", _uids(uids))
        con.execute("delete from graph where valid_to is null and uid in (select uid from _u)")
        con.unregister("_u")
        state_mod.replace_rows(con, "graph", updated.select("uid", *graph_mod.GRAPH_SCHEMA),
                               drop_uids=pl.Series("uid", [], pl.Int64))
    return changed
