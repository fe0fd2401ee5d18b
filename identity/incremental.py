"""An incremental run: work in proportion to what changed, not to what exists.

Given the previous state (a DuckDB file plus the key index, identity/keyindex.py) and the
new input:

1. *Diff*: every input row's hash and key hash against the stored ones (integer joins;
   no stored string is read); new, changed and removed records fall out.
2. *Merge protection*: only identifier values that new, changed or removed records carry
   (or carried) are rechecked, on the records the index says carry them; records holding
   a value that became shared or unshared are rescored too.
3. *Scoring*: the dirty records against the stored records the index finds under one of
   their blocking keys (the same pairs the blocking rules would produce over everything).
4. *Clustering*: the connected components (over links above the threshold) that hold a
   dirty record, or lost a record, are re-clustered; everything else keeps its cluster.
5. *Placement*: lone records are re-placed only where a placement join links them to the
   re-clustered part (nothing else could have changed their candidates); both directions
   of that question are index look-ups.
6. *IDs*: customers whose records changed are carried forward; every other record keeps
   its ID without being looked at.

Each step reads and writes only the affected rows of the state tables, except two integer
columns of ``keys`` and ``assignment`` and the strong links (the diff, cluster sizes and
components need every record). Reads that do not depend on each other run in a second
thread, on a second connection to the state.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
)
from identity.canonical import CANONICAL_COLUMNS
from identity.model_store import Model
from identity.runs import KEY, Clock, RunResult, input_digest, probabilities, state_meta
from identity.settings import IdentityConfig

# What placement candidates need besides cluster, size and "rich": their names and keys.
_NAMES = ("uid", "first_name", "last_name", "first_name_forms", "name_hanzi", "city",
          *comparison_columns.PLACEMENT_KEYS)
_GRAPH_ROW = {"uid": pl.Int64, **graph_history.GRAPH_SCHEMA}


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


def _in(uids: pl.Series) -> pl.Expr:
    return pl.col("uid").is_in(uids.implode())


def run(canon: pl.DataFrame, state_dir: Path, model: Model, config: IdentityConfig,
        overrides: pl.DataFrame, run_id: str, ts: dt.datetime, clock: Clock) -> RunResult:
    con = run_state.connect(state_dir)
    # Some reads wait on DuckDB while the main thread has other work: a second thread with
    # its own connection does them (it sees the state as it was before this run).
    side = con.cursor()
    pool = ThreadPoolExecutor(max_workers=1)
    index: keyindex.Index | None = None
    try:
        con.execute("begin transaction")
        meta = run_state.get_meta(con)
        index = keyindex.Index(state_dir, meta)
        result = _run(con, side, pool, meta, index, canon, model, config, overrides, run_id, ts,
                      clock)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        if index is not None:
            index.forget_added()
        raise
    finally:
        pool.shutdown()
        side.close()
        con.close()
    index.discard_unlisted()
    result.state_dir = state_dir
    clock.lap("save_state")
    result.seconds = clock.seconds
    return result


def _run(con: duckdb.DuckDBPyConnection, side: duckdb.DuckDBPyConnection, pool: ThreadPoolExecutor,
         meta: dict, index: keyindex.Index, canon: pl.DataFrame, model: Model,
         config: IdentityConfig, overrides: pl.DataFrame, run_id: str, ts: dt.datetime,
         clock: Clock) -> RunResult:
    rules = keyindex.model_rules(model.settings)
    if not index.usable(rules):
        # Index files missing (a state copied without them, say), or holding other keys
        # than this code indexes: rebuild, then go on.
        keyindex.rebuild(con, index, rules)
    clock.lap("load_state")

    # 1. Diff.
    diff = _diff(con, canon, int(meta.get("next_uid", 0)))
    fresh, changed, removed = diff.fresh, diff.changed, diff.removed
    d0 = pl.concat([fresh, changed])
    rows = diff.rows
    clock.lap("diff")

    # 2. Features of new and changed records; merge protection for the values they touch.
    feats_new = (comparison_columns.build(rows.select(CANONICAL_COLUMNS), rows["uid"]).drop(KEY)
                 if rows.height else _df(con, "select * from features limit 0"))
    keyindex.check_uids(feats_new["uid"])
    clock.lap("features")
    shared_prev = con.sql("select * from shared").pl()
    # Features that changed and removed records had: what they carried may need rechecks.
    old_changed = (_fetch(con, "features", pl.concat([changed, removed]))
                   if changed.len() or removed.len() else feats_new.clear())
    # Merge protection (in the second thread) and reading the stored records that share a
    # blocking key with a new one (the candidates to score) are independent; then, while
    # Splink scores, the new records' index entries and every record's base cluster.
    stored = _Features(con, feats_new, removed)
    recheck = pool.submit(_recheck_shared, side, index, rules, feats_new, old_changed,
                          shared_prev, config)
    new_entries = pool.submit(_index_entries, rules, feats_new, feats_new.clear())
    prev_clusters = pool.submit(lambda: side.sql(
        "select uid, base, coalesce(placed_into, -1) as placed_into, cluster from assignment"
    ).fetchnumpy())
    near = stored.get(_neighbours(con, index, rules, feats_new))
    shared, rescore, rescore_near = recheck.result()
    stored.add(rescore_near)
    dirty = pl.concat([d0, rescore["uid"]]).unique().sort()
    dirty_feats = pl.concat([feats_new.select(comparison_columns.MATCH_COLUMNS), rescore])
    clock.lap("merge_protection")

    # 3. Score dirty records against stored records that share a blocking key with them.
    gone = pl.concat([dirty, removed])
    candidates = pl.concat([near, stored.get(rescore_near["uid"])]).unique("uid")
    candidates = candidates.filter(~_in(gone)).select(comparison_columns.MATCH_COLUMNS)
    scored = predict.score_new(evidence.without_shared(candidates, shared.table),
                               evidence.without_shared(dirty_feats, shared.table), model,
                               config.evidence_threshold)
    con.register("_gone", _uids(gone))
    con.execute("delete from edges where uid_l in (select uid from _gone) "
                "or uid_r in (select uid from _gone)")
    con.unregister("_gone")
    run_state.replace_rows(con, "edges", scored, drop_uids=pl.Series("uid", [], pl.Int64))
    clock.lap("score")

    run_state.replace_rows(con, "shared", shared.shared_rows, drop_uids=shared.touched, key="value")

    # 4. Re-cluster the components that hold a dirty record or lost one.
    steward = evidence.override_pairs(overrides, _override_keys(con, overrides, rows))
    steward_prev = con.sql("select * from overrides").pl()
    steward_changed = pl.concat([
        steward_prev.join(steward, on=["rule", "uid_l", "uid_r"], how="anti"),
        steward.join(steward_prev, on=["rule", "uid_l", "uid_r"], how="anti")])
    seeds = pl.concat([dirty, steward_changed["uid_l"], steward_changed["uid_r"],
                       _co_members(con, "base", pl.concat([dirty, removed]))]).unique()
    region = _expand(con, seeds, steward, config.cluster_threshold).filter(~_in(removed))
    region_raw = stored.get(region["uid"])
    region_feats = evidence.without_shared(region_raw, shared.table)
    region_edges = _df(con, """select e.* from edges e
                               where uid_l in (select uid from _r) and uid_r in (select uid from _r)""",
                       _r=region)
    in_region = pl.col("uid_l").is_in(region["uid"].implode()) & pl.col("uid_r").is_in(region["uid"].implode())
    base_region = clustering.cluster(region_feats, region_edges, config.cluster_threshold,
                                      steward.filter(in_region), config.national_id_conflict_splits,
                                      config.birth_date_conflict_splits)

    # 5. Re-place lone records whose name keys meet the re-clustered part.
    clusters = _Clusters(prev_clusters.result(), base_region, removed)
    lone = clusters.lone
    lone_entries = pool.submit(_index_entries, rules, feats_new.clear(), region_raw.filter(_in(lone)))
    lone_scope, lone_feats = _lone_scope(con, index, stored, region_raw, old_changed, lone)
    # Stored features change now: placement reads every record's current ones.
    run_state.replace_rows(con, "features", feats_new, drop_uids=pl.concat([d0, removed]))
    placeable = pl.concat([region_raw.select(lone_feats.columns), lone_feats]).filter(
        _in(lone_scope) & _in(lone))
    # Placement candidates may be new or changed records: the index knows them from now on.
    index.stage(new_entries.result())
    placed_new = _place(con, index, stored, clusters, lone_scope, placeable, shared.table,
                        steward.filter(pl.col("rule") == "cannot_link"),
                        clusters.carried(region["uid"], lone_scope, removed))
    clock.lap("cluster")

    # 6. Final clusters and IDs, only where something changed.
    scope, scope_base, scope_placed = clusters.final_scope(region["uid"], lone_scope, removed,
                                                           placed_new)
    final = placement.join(scope_base, scope_placed)
    previous = _df(con, "select * from assignment where uid in (select uid from _u)",
                   _u=_uids(pl.concat([scope, removed])))
    previous_ids = previous.select("uid", "customer_id")
    customers_prev = _df(con, """select * from customers where customer_id in
                                 (select customer_id from _p)""", _p=previous_ids
                         ).cast(stable_ids.CUSTOMER_SCHEMA)
    next_seq = int(con.execute("select coalesce(max(created_seq), 0) + 1 from customers").fetchall()[0][0])
    # Keys of the records this run speaks about: every stored one has an open graph row
    # (read anyway, to update the graph), new ones are in the input.
    open_rows = _df(con, "select * from graph where valid_to is null and uid in (select uid from _u)",
                    _u=_uids(pl.concat([scope, removed]))).cast(_GRAPH_ROW)
    scope_keys = pl.concat([open_rows.select("uid", *KEY), rows.select("uid", *KEY)]).unique("uid")
    carried = stable_ids.carry_forward(
        final, scope_keys, previous_ids, customers_prev, run_id, next_seq=next_seq,
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
    # Only rows that differ are written: most of the scope keeps its values, and what a run
    # writes, the state file's checkpoint pays for again.
    moved = _differing(assignment, previous)
    run_state.replace_rows(con, "assignment", moved, drop_uids=pl.concat([moved["uid"], removed]))
    run_state.replace_rows(con, "customers", _differing(carried.customers, customers_prev),
                           key="customer_id")
    customers = _customer_count(con, meta, previous_ids, assignment)

    events = Counter(carried.events["event"].to_list())
    changes = graph_history.changes(carried.events, scope_keys, run_id, ts)
    current = scope_keys.join(assignment.select("uid", "customer_id", "match_probability"), on="uid")
    graph_changed = _update_graph(con, open_rows, current, ts)
    run_state.replace_rows(con, "changes", changes, drop_uids=pl.Series("uid", [], pl.Int64))
    clock.lap("stable_ids")

    # Keys and canonical values last: earlier steps needed the previous ones.
    run_state.replace_rows(con, "keys", rows.select("uid", *KEY, "row_hash", "key_hash"),
                           drop_uids=pl.concat([d0, removed]))
    run_state.replace_rows(con, "canonical",
                           rows.select("uid", *[c for c in CANONICAL_COLUMNS if c not in KEY]),
                           drop_uids=pl.concat([d0, removed]))
    con.execute("delete from overrides")
    run_state.replace_rows(con, "overrides", steward, drop_uids=pl.Series("uid", [], pl.Int64))
    # The index learns the new and changed records, and lone records it may not know as
    # such (records only become lone inside a re-clustered region).
    index.append(keyindex.merge(new_entries.result(), lone_entries.result()))
    digest = input_digest(canon)
    unchanged = meta.get("input_digest") == digest
    next_uid = max(int(meta.get("next_uid", 0)), int(fresh.max() + 1) if fresh.len() else 0)  # type: ignore[operator]
    run_state.set_meta(con, {
        **state_meta(model, config, next_uid, run_id, ts, digest, "incremental", unchanged, events),
        "customers": customers, "index": index.meta()})
    return RunResult(
        run_id=run_id, ts=ts, mode="incremental", records=canon.height, new=fresh.len(),
        changed=changed.len(), removed=removed.len(), rescored=dirty.len(),
        pairs_scored=scored.height, clusters=customers, events=events,
        input_unchanged=unchanged, changes=changes,
        graph_changed=graph_changed, shared=shared.table)


@dataclass
class _Diff:
    rows: pl.DataFrame  # input rows of new and changed records, with their uid
    fresh: pl.Series    # new records (uids just issued)
    changed: pl.Series  # records whose canonical values changed
    removed: pl.Series  # stored records no longer in the input


def _diff(con: duckdb.DuckDBPyConnection, canon: pl.DataFrame, next_uid: int) -> _Diff:
    """Match input rows to stored records by key hash (a join of integers in DuckDB; no
    stored string is read, and only rows that differ come back); by the keys themselves
    should two keys ever share a hash."""
    j = _match(con, canon, "key_hash") if canon["key_hash"].n_unique() == canon.height else None
    if j is not None:
        changed = j.filter(pl.col("row").is_not_null() & pl.col("uid").is_not_null())
        if changed.height:
            # A key hash shared by two keys shows up here: a "changed" row whose key is
            # not the stored record's.
            was = _fetch(con, "keys", changed["uid"], ("uid", *KEY))
            now = canon.select(*KEY)[changed["row"]].with_columns(changed["uid"])
            if now.join(was, on=["uid", *KEY]).height != changed.height:
                j = None
    if j is None:
        j = _match(con, canon, KEY)
    changed = j.filter(pl.col("row").is_not_null() & pl.col("uid").is_not_null())
    new_rows = j.filter(pl.col("uid").is_null())["row"]
    fresh = (canon[new_rows].sort(KEY)
             .with_columns(pl.Series("uid", np.arange(next_uid, next_uid + new_rows.len()),
                                     dtype=pl.Int64)))
    rows = pl.concat([fresh, canon[changed["row"]].with_columns(changed["uid"].cast(pl.Int64))])
    return _Diff(rows, fresh["uid"], changed["uid"].cast(pl.Int64),
                 j.filter(pl.col("row").is_null())["uid"].cast(pl.Int64))


def _match(con: duckdb.DuckDBPyConnection, canon: pl.DataFrame, on: str | list[str]) -> pl.DataFrame:
    """(row, uid) of every input row that is new (uid null) or changed, and of every
    stored record no longer in the input (row null)."""
    cols = [on] if isinstance(on, str) else on
    con.register("_in", canon.select(*cols, "row_hash").with_row_index("row"))
    try:
        return con.sql(f"""select i.row, k.uid from _in i full join keys k using ({", ".join(cols)})
                           where i.row is null or k.uid is null
                              or k.row_hash <> i.row_hash""").pl()
    finally:
        con.unregister("_in")


def _override_keys(con: duckdb.DuckDBPyConnection, overrides: pl.DataFrame,
                   rows: pl.DataFrame) -> pl.DataFrame:
    """The keys (with uids) of the records the steward overrides name: stored ones, and
    new ones from this run's rows."""
    named = pl.concat([
        overrides.select(pl.col("source_l").alias("source"),
                         pl.col("source_record_id_l").alias("source_record_id")),
        overrides.select(pl.col("source_r").alias("source"),
                         pl.col("source_record_id_r").alias("source_record_id"))]).unique()
    new = rows.select("uid", *KEY)
    if named.is_empty():
        return new.clear()
    stored = _df(con, "select uid, source, source_record_id from keys semi join _n using "
                      "(source, source_record_id)", _n=named)
    return pl.concat([new.join(named, on=KEY, how="semi"), stored]).unique("uid")


def _customer_count(con: duckdb.DuckDBPyConnection, meta: dict, previous: pl.DataFrame,
                    assignment: pl.DataFrame) -> int:
    """Customers after the run: the scope is closed under customers (every record of a
    customer it touched is in it), so the count changes by what the scope held."""
    if "customers" not in meta:
        return int(con.execute("select count(distinct customer_id) from assignment").fetchall()[0][0])
    return (int(meta["customers"]) - previous["customer_id"].n_unique()
            + assignment["customer_id"].n_unique())


def _probe(con: duckdb.DuckDBPyConnection, index: keyindex.Index, frame: pl.DataFrame,
           specs: list[keyindex.Spec]) -> pl.Series:
    """uids the index holds under any key (per ``specs``) of the records in ``frame``."""
    if frame.is_empty():
        return pl.Series("uid", [], pl.Int64)
    con.register("_probe", frame)
    try:
        hashes = keyindex.probe(con, "_probe", specs)
    finally:
        con.unregister("_probe")
    return index.lookup(hashes)


def _index_entries(rules: list[str], feats: pl.DataFrame, lone: pl.DataFrame) -> np.ndarray:
    """Index entries of ``feats`` (every key) and ``lone`` (also as placeable records)."""
    con = duckdb.connect()
    try:
        con.register("_new", feats)
        con.register("_lone", lone)
        every = keyindex.stored_specs(rules, lone=False)
        lone_only = [s for s in keyindex.stored_specs(rules, lone=True) if s not in every]
        return keyindex.entries(con, [("_new", every), ("_lone", lone_only)])
    finally:
        con.close()


def _fetch(con: duckdb.DuckDBPyConnection, table: str, uids: pl.Series,
           columns: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Rows of ``table`` by uid. Naming only the ``columns`` needed pays: the cost is a scan
    of those columns over every stored row, whatever the number of uids."""
    select = ", ".join(columns) if columns else "t.*"
    return _df(con, f"select {select} from {table} t where uid in (select uid from _u)",
               _u=_uids(uids))


class _Shared:
    def __init__(self, table: pl.DataFrame, shared_rows: pl.DataFrame, touched: pl.Series) -> None:
        self.table = table              # all shared identifiers after this run
        self.shared_rows = shared_rows  # rows for the rechecked values (to store)
        self.touched = touched          # the values rechecked (to replace)


def _recheck_shared(con: duckdb.DuckDBPyConnection, index: keyindex.Index, rules: list[str],
                    feats_new: pl.DataFrame, old: pl.DataFrame, shared_prev: pl.DataFrame,
                    config: IdentityConfig) -> tuple[_Shared, pl.DataFrame, pl.DataFrame]:
    """Recheck identifier values that new, changed or removed records carry (``old``: what
    changed and removed ones carried). Returns the stored records holding a value that
    flipped (became shared or unshared), which are rescored, and their neighbours."""
    ids = evidence.IDENTIFIERS
    touched = (pl.concat([feats_new.select(*ids), old.select(*ids)])
               .unpivot(variable_name="kind", value_name="value").drop_nulls().unique())
    empty = _df(con, f"select {', '.join(comparison_columns.MATCH_COLUMNS)} from features limit 0")
    if touched.is_empty():
        return _Shared(shared_prev, shared_prev.clear(), touched["value"]), empty, empty
    # Every stored record (not itself replaced) that carries a touched value, plus the new
    # ones. The index may name a few that do not (stale entries, hash collisions): they
    # only add identifier groups that the join with ``touched`` drops again.
    hits = pl.concat([_probe(con, index, touched.filter(pl.col("kind") == k)
                             .select(pl.col("value").alias(k)), [keyindex.identifier_probe(k, rules)])
                      for k in ids])
    replaced = pl.concat([feats_new["uid"], old["uid"]])
    # Scoring columns, not just what the check reads: records to rescore come from here.
    carrying = _fetch(con, "features", hits.filter(~hits.is_in(replaced.implode())),
                      comparison_columns.MATCH_COLUMNS)
    carriers = pl.concat([carrying, feats_new.select(carrying.columns)], how="vertical_relaxed")
    rechecked = evidence.find_shared(carriers, config).join(touched, on=["kind", "value"])
    before = shared_prev.join(touched, on=["kind", "value"])
    table = pl.concat([shared_prev.join(touched, on=["kind", "value"], how="anti"), rechecked])
    flipped = pl.concat([before.join(rechecked, on=["kind", "value"], how="anti"),
                         rechecked.join(before, on=["kind", "value"], how="anti")]).select("kind", "value")
    hit = carrying.filter(pl.any_horizontal(
        pl.col(k).is_in(flipped.filter(pl.col("kind") == k)["value"].implode()) for k in ids))
    # Their neighbours are read here too: the main thread would only wait for them.
    near = _neighbours(con, index, rules, hit)
    near = _fetch(con, "features", near.filter(~near.is_in(replaced.implode())),
                  comparison_columns.MATCH_COLUMNS)
    return _Shared(table, rechecked, touched["value"].unique()), hit, near


class _Features:
    """Current features of the records this run looks at: new and changed ones from the
    run, stored ones read once each. Every read scans its columns over all stored records,
    whatever it asks for, so asking again for what was read costs that scan again."""

    def __init__(self, con: duckdb.DuckDBPyConnection, new: pl.DataFrame, removed: pl.Series) -> None:
        self.con = con
        self.columns = _df(con, "select * from features limit 0").columns
        self.frame = self._read(pl.Series("uid", [], pl.Int64))  # stored ones read so far
        self.new = new.select(self.columns)
        self.skip = pl.concat([new["uid"], removed])  # their stored rows are stale or gone

    def _read(self, uids: pl.Series) -> pl.DataFrame:
        # The placement keys are derived from the names rather than read: a quarter fewer
        # columns to scan per read.
        return (_fetch(self.con, "features", uids, comparison_columns.MATCH_COLUMNS)
                .with_columns(comparison_columns.placement_keys()).select(self.columns))

    def add(self, rows: pl.DataFrame) -> None:
        """Stored rows read elsewhere (scoring columns)."""
        rows = rows.filter(~pl.col("uid").is_in(self.frame["uid"].implode()))
        self.frame = pl.concat([self.frame, rows.with_columns(comparison_columns.placement_keys())
                               .select(self.columns)])

    def get(self, uids: pl.Series) -> pl.DataFrame:
        wanted = uids.unique()
        stored = wanted.filter(~wanted.is_in(self.skip.implode()))
        missing = stored.filter(~stored.is_in(self.frame["uid"].implode()))
        if missing.len():
            self.frame = pl.concat([self.frame, self._read(missing)])
        return pl.concat([self.frame.filter(_in(stored)), self.new.filter(_in(wanted))])


def _neighbours(con: duckdb.DuckDBPyConnection, index: keyindex.Index, rules: list[str],
                records: pl.DataFrame) -> pl.Series:
    """Stored records that share a blocking key or an identifier with one of ``records``.

    Raw features are used for the keys: a superset of what merge-protected keys would
    find, so no pair the blocking rules would produce is missed. A few extra candidates
    (index collisions, stale entries) cost a little scoring and nothing else: Splink
    applies the rules themselves to every pair.
    """
    if records.is_empty():
        return pl.Series("uid", [], pl.Int64)
    specs = keyindex.blocking_probes(rules) + [
        keyindex.identifier_probe(k, rules) for k in evidence.IDENTIFIERS]
    found = [_probe(con, index, records, list(dict.fromkeys(specs)))]
    # A rule that is not a plain conjunction of equalities cannot be indexed: ask the
    # stored features directly, in both orientations of the pair.
    for rule in rules:
        if keyindex.rule_sides(rule) is None:
            for a, b in (("f", "d"), ("d", "f")):
                on = re.sub(r"\br\.", f"{b}.", re.sub(r"\bl\.", f"{a}.", rule))
                found.append(_df(con, f"select f.uid from features f join _d d on {on}",
                                 _d=records)["uid"])
    return pl.concat(found).unique()


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


def _join_sql(s_table: str, x_table: str, keep: str) -> str:
    """uids (of side ``keep``) of every pair a placement join links.

    Joins through nickname forms unnest the lone side only where its surname can meet the
    other side's, not for every record.
    """
    parts = []
    for j in placement.JOINS:
        source = s_table
        if j.forms:
            meet = "last_name" if j.x_key == "fk" else "first_name"
            source = (f"(select * from {s_table} where last_name in "
                      f"(select {meet} from {x_table}))")
        unnest = " cross join unnest(s.first_name_forms) as f(form)" if j.forms else ""
        parts += [f"select {keep}.uid from {source} s{unnest} join {x_table} x on {on} "
                  f"where {j.check}" for on in j.sql]
    return " union ".join(parts)


def _lone_scope(con: duckdb.DuckDBPyConnection, index: keyindex.Index, stored: _Features,
                region: pl.DataFrame, old: pl.DataFrame, lone: pl.Series
                ) -> tuple[pl.Series, pl.DataFrame]:
    """Records whose placement may change: the region, and lone records that a placement
    join (key and condition) links to a region record; and those lone records' comparison_columns.

    The region's records count with their current features (``region``) and, for changed
    and removed ones, the features they had (``old``). The index proposes lone records
    by key; the joins themselves decide, on those few.
    """
    x = pl.concat([region, old], how="vertical_relaxed")
    hits = _probe(con, index, x, keyindex.lone_probes())
    hits = hits.filter(hits.is_in(lone.implode()) & ~hits.is_in(region["uid"].implode()))
    s = stored.get(hits)
    scope = _df(con, _join_sql("_s", "_x", "s"), _s=s, _x=x)["uid"] if s.height else hits.clear()
    return pl.concat([scope, region["uid"]]).unique(), s.filter(_in(scope))


class _Clusters:
    """Every record's base cluster (before placement) and cluster sizes, as arrays indexed
    by uid (-1: none): the previous run's for all stored records, with the re-clustered
    region's applied. Array look-ups keep these million-record questions at a few
    milliseconds each."""

    def __init__(self, prev: dict[str, np.ndarray], region: pl.DataFrame, removed: pl.Series) -> None:
        uid = prev["uid"]
        n = int(max(uid.max(initial=-1), region["uid"].max() or 0, removed.max() or 0)) + 1  # type: ignore[operator]
        self.prev_base, self.prev_placed, self.prev_cluster = (
            self._array(n, uid, prev[c]) for c in ("base", "placed_into", "cluster"))
        self.base = self.prev_base.copy()
        self.base[removed.to_numpy()] = -1
        self.base[region["uid"].to_numpy()] = region["cluster"].to_numpy()
        # Counted with -1 (no record) shifted into bin 0, so no masked copies of a million.
        counts = np.bincount(self.base + 1, minlength=n + 1)
        counts[0] = 0
        self.size = counts[self.base + 1]
        self.lone = pl.Series("uid", np.flatnonzero(self.size == 1), dtype=pl.Int64)

    @staticmethod
    def _array(n: int, uid: np.ndarray, values: np.ndarray) -> np.ndarray:
        out = np.full(n, -1, dtype=np.int64)
        out[uid] = values
        return out

    def _mask(self, uids: pl.Series | np.ndarray) -> np.ndarray:
        mask = np.zeros(len(self.base), dtype=bool)
        mask[uids.to_numpy() if isinstance(uids, pl.Series) else uids] = True
        return mask

    def _member_of(self, labels: np.ndarray, of: np.ndarray) -> np.ndarray:
        """Which entries of ``of`` (cluster labels, -1 none) are among ``labels``."""
        table = self._mask(labels[labels >= 0])
        return np.where(of >= 0, table[np.maximum(of, 0)], False)

    @property
    def frame(self) -> pl.DataFrame:
        """(uid, cluster) of every current record."""
        uid = np.flatnonzero(self.base >= 0)
        return pl.DataFrame({"uid": uid, "cluster": self.base[uid]},
                            schema={"uid": pl.Int64, "cluster": pl.Int64})

    def of(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (with uid) plus each record's cluster and its size."""
        uid = frame["uid"].to_numpy()
        return frame.with_columns(pl.Series("cluster", self.base[uid], dtype=pl.Int64),
                                  pl.Series("size", self.size[uid], dtype=pl.UInt32))

    def members(self, clusters: pl.Series) -> pl.Series:
        """Every record of these clusters."""
        return pl.Series("uid", np.flatnonzero(self._member_of(clusters.to_numpy(), self.base)),
                         dtype=pl.Int64)

    def _carried(self, in_region: np.ndarray, in_lone: np.ndarray,
                 in_removed: np.ndarray) -> np.ndarray:
        """Previous placement targets that stand: of records neither re-placed, re-clustered
        nor removed (-1 for the rest)."""
        return np.where((self.prev_placed >= 0) & ~in_lone & ~in_region & ~in_removed,
                        self.prev_placed, -1)

    def carried(self, region: pl.Series, lone_scope: pl.Series, removed: pl.Series) -> pl.DataFrame:
        """(uid, target) of the placements that carry over from the previous run."""
        target = self._carried(self._mask(region), self._mask(lone_scope), self._mask(removed))
        uid = np.flatnonzero(target >= 0)
        return pl.DataFrame({"uid": uid, "target": target[uid]},
                            schema={"uid": pl.Int64, "target": pl.Int64})

    def final_scope(self, region: pl.Series, lone_scope: pl.Series, removed: pl.Series,
                    placed: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame, pl.DataFrame]:
        """Records whose final cluster may change, closed under the links that form final
        clusters (base clusters and placements); with their base clusters and placements.

        Placements of records not re-placed (``placed``: the new ones) carry over."""
        in_region, in_lone, in_removed = self._mask(region), self._mask(lone_scope), self._mask(removed)
        target = self._carried(in_region, in_lone, in_removed)
        target[placed["uid"].to_numpy()] = placed["target"].to_numpy()
        labels = np.concatenate([
            self.base[in_region], self.prev_base[in_region | in_removed], placed["target"].to_numpy(),
            self.prev_placed[in_lone], self.base[in_lone]])
        present = self.base >= 0
        first = (self._member_of(labels, self.base) | self._member_of(labels, target)
                 | in_region | (in_lone & present))
        finals = self.prev_cluster[first | in_removed]
        scope = (first | self._member_of(finals, self.prev_cluster)) & ~in_removed
        uid = np.flatnonzero(scope)
        placed_uid = uid[target[uid] >= 0]
        return (pl.Series("uid", uid, dtype=pl.Int64),
                pl.DataFrame({"uid": uid, "cluster": self.base[uid]},
                             schema={"uid": pl.Int64, "cluster": pl.Int64}),
                pl.DataFrame({"uid": placed_uid, "target": target[placed_uid]},
                             schema={"uid": pl.Int64, "target": pl.Int64}))


def _place(con: duckdb.DuckDBPyConnection, index: keyindex.Index, stored: _Features,
           clusters: _Clusters, scope: pl.Series, placeable: pl.DataFrame,
           shared: pl.DataFrame, cannot: pl.DataFrame, carried: pl.DataFrame) -> pl.DataFrame:
    """Placements for the lone records in ``scope`` (``placeable``: their features), decided
    as placement.place_on decides them, on just the records that can matter: candidates
    the index finds for each tier, then every member of a customer that is some record's
    only candidate. ``carried``: placements that stand from the previous run."""
    rich = pl.any_horizontal(pl.col(c).is_not_null() for c in placement.RICH).alias("rich")

    def frame(feats: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
        return clusters.of(evidence.without_shared(feats, shared).select(*columns, rich))

    def candidates(lone: pl.DataFrame, joins: tuple[placement.Join, ...]) -> pl.DataFrame:
        hits = _probe(con, index, lone, keyindex.candidate_probes(joins))
        return frame(stored.get(hits), _NAMES).filter(pl.col("rich") | (pl.col("size") > 1))

    # Placement's steps leave temp tables (s, c1, s2, c2, c) in the run's connection.
    frames = {"_s": frame(placeable, placement.COLUMNS),
              "x1": candidates(placeable, placement.EXACT_JOINS)}
    for name, df in frames.items():
        con.register(name, df)
    con.execute(f"create or replace temp table s as select * from _s s where size = 1 "
                f"and {placement.LONE_SQL}")
    placement.exact_candidates(con, "s", "x1")
    without_exact = placeable.join(con.sql("select uid from c1").pl(), on="uid", how="anti")
    frames["x2"] = candidates(without_exact, placement.CLOSE_JOINS)
    con.register("x2", frames["x2"])
    placement.close_candidates(con, "s", "x2")
    members = clusters.members(placement.unique_candidates(con))
    frames["v"] = pl.concat([
        frames["_s"],
        frame(stored.get(members.filter(~members.is_in(placeable["uid"].implode()))),
              placement.COLUMNS)])
    con.register("v", frames["v"])
    placed = placement.agreeing(con, "v")
    # Bare records whose candidates this run's or standing placements join.
    placed = pl.concat([placed, placement.through_placed(con, pl.concat([placed, carried]))])
    for name in frames:
        con.unregister(name)
    if not cannot.is_empty():
        placed = placement.respect_cannot_links(placed, clusters.frame, cannot)
    return placed


def _differing(rows: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """``rows`` that are not already stored exactly so (nulls compare equal)."""
    return rows.join(stored.select(rows.columns).cast(dict(rows.schema)), on=rows.columns,
                     how="anti", nulls_equal=True)


def _update_graph(con: duckdb.DuckDBPyConnection, open_rows: pl.DataFrame,
                  current: pl.DataFrame, ts: dt.datetime) -> bool:
    """Close and open graph rows for records whose customer changed; update probabilities.
    ``open_rows``: the current graph rows of the scope and of removed records. Rows that
    stay as they were are not rewritten."""
    updated, changed = graph_history.update(open_rows.drop("uid"),
                                        current.select(*KEY, "customer_id", "match_probability"), ts)
    if changed:
        updated = updated.join(pl.concat([current.select("uid", *KEY),
                                          open_rows.select("uid", *KEY)]).unique("uid"), on=KEY)
        updated = updated.select(*_GRAPH_ROW).cast(_GRAPH_ROW)
        closed = _differing(open_rows, updated)["uid"]
        con.register("_u", _uids(closed))
        con.execute("delete from graph where valid_to is null and uid in (select uid from _u)")
        con.unregister("_u")
        run_state.replace_rows(con, "graph", _differing(updated, open_rows),
                               drop_uids=pl.Series("uid", [], pl.Int64))
    return changed
