"""Incremental runs against full runs on the same input: the same scored pairs, shared
identifiers and customers, through additions, changes, removals and many small runs; and
the key index that lets an increment skip scanning the stored records."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from identity import (
    canonical,
    comparison_columns,
    incremental,
    keyindex,
    placement,
    resolve,
    run_state,
    runs,
)
from identity.model_store import Model
from identity.settings import IdentityConfig

KEY = ["source", "source_record_id"]


def _run(records: pl.DataFrame, state: Path, model: Model, config: IdentityConfig,
         **kw: object) -> resolve.RunResult:
    canon, _ = canonical.to_canonical(records)
    return resolve.run(canon, state, model, config, **kw)  # type: ignore[arg-type]


def _keyed(result: resolve.RunResult) -> pl.DataFrame:
    return result.state.keys.select("uid", pl.concat_str(KEY, separator="|").alias("key"))


def _pairs(result: resolve.RunResult) -> pl.DataFrame:
    """Stored scored pairs by record key (uids differ between two states)."""
    k = _keyed(result)
    edges = (result.state.edges
             .join(k.rename({"uid": "uid_l", "key": "l"}), on="uid_l")
             .join(k.rename({"uid": "uid_r", "key": "r"}), on="uid_r"))
    return edges.select(pl.min_horizontal("l", "r").alias("a"), pl.max_horizontal("l", "r").alias("b"),
                        "match_probability").sort("a", "b")


def _partition(result: resolve.RunResult, column: str) -> set[frozenset[str]]:
    """Records grouped by ``column`` of the assignment (base cluster, or customer)."""
    groups = (result.state.assignment.join(_keyed(result), on="uid")
              .group_by(column).agg(pl.col("key")))
    return {frozenset(keys) for keys in groups["key"].to_list()}


def _assert_same_as_full(inc: resolve.RunResult, records: pl.DataFrame, model: Model,
                         config: IdentityConfig, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    full = _run(records, folder, model, config)
    assert inc.mode == "incremental" and full.mode == "full"
    assert _pairs(inc).equals(_pairs(full))
    assert inc.shared.select("kind", "value", "reason").sort("kind", "value").equals(
        full.shared.select("kind", "value", "reason").sort("kind", "value"))
    assert _partition(inc, "base") == _partition(full, "base")
    assert _partition(inc, "customer_id") == _partition(full, "customer_id")
    assert inc.clusters == full.clusters == full.assignment["customer_id"].n_unique()


def _edit(records: pl.DataFrame, rng: np.random.Generator, n: int) -> pl.DataFrame:
    """``n`` records get someone else's email and a first name with a typo."""
    rows = rng.choice(records.height, n, replace=False)
    donors = rng.choice(records.height, n, replace=False)
    edited = records.with_row_index("_i")
    emails = dict(zip(rows.tolist(), records["email"].gather(donors).to_list(), strict=True))
    return edited.with_columns(
        pl.col("_i").replace_strict(emails, default=None, return_dtype=pl.String)
        .fill_null(pl.col("email")).alias("email"),
        pl.when(pl.col("_i").is_in(rows.tolist()))
        .then(pl.col("first_name").str.slice(0, 1) + pl.col("first_name").str.slice(2))
        .otherwise(pl.col("first_name")).alias("first_name"),
    ).drop("_i")


def test_additions_changes_and_removals_give_what_a_full_run_gives(world, model, config,
                                                                   tmp_path: Path) -> None:
    records = world[0]
    rng = np.random.default_rng(11)
    held = records.sample(fraction=0.02, seed=9)
    first = records.join(held, on=KEY, how="anti")
    state = tmp_path / "inc"
    _run(first, state, model, config)

    # New records arrive.
    second = pl.concat([first, held.head(held.height // 2)])
    inc = _run(second, state, model, config)
    assert inc.new == held.height // 2 and inc.changed == inc.removed == 0
    _assert_same_as_full(inc, second, model, config, tmp_path / "full")

    # Some records change (identifiers move between people, names get typos), some leave,
    # the rest of the held-back ones arrive.
    third = pl.concat([_edit(second, rng, 25).sample(fraction=1.0, seed=2, shuffle=True)
                       .slice(15), held.tail(held.height - held.height // 2)])
    inc = _run(third, state, model, config)
    assert inc.changed > 0 and inc.removed > 0 and inc.new > 0
    assert inc.events["erased"] == inc.removed
    _assert_same_as_full(inc, third, model, config, tmp_path / "full")

    # Nothing changes: nothing happens.
    again = _run(third, state, model, config)
    assert again.input_unchanged and not again.events and not again.graph_changed


def test_many_small_increments_keep_the_index_small_and_right(world, model, config,
                                                               tmp_path: Path) -> None:
    records = world[0]
    held = records.sample(n=keyindex.MAX_SEGMENTS * 6 + 6, seed=4)
    state = tmp_path / "inc"
    current = records.join(held, on=KEY, how="anti")
    _run(current, state, model, config)
    for part in held.iter_slices(6):
        current = pl.concat([current, part])
        inc = _run(current, state, model, config)
        segments = list((state / keyindex.FOLDER).glob("*.npy"))
        assert len(segments) <= keyindex.MAX_SEGMENTS + 1
        assert {p.name for p in segments} == set(inc.state.meta["index"]["segments"])
    _assert_same_as_full(inc, current, model, config, tmp_path / "full")


def test_a_state_without_its_index_rebuilds_it(world, model, config, tmp_path: Path) -> None:
    records = world[0]
    held = records.sample(fraction=0.01, seed=6)
    state = tmp_path / "inc"
    _run(records.join(held, on=KEY, how="anti"), state, model, config)
    shutil.rmtree(state / keyindex.FOLDER)
    inc = _run(records, state, model, config)
    # A base rebuilt from the stored features, and this run's segment.
    assert len(list((state / keyindex.FOLDER).glob("*.npy"))) == 2
    _assert_same_as_full(inc, records, model, config, tmp_path / "full")


def test_keys_sharing_a_hash_fall_back_to_the_keys(world, model, config, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    records = world[0]
    held = records.sample(fraction=0.01, seed=8)
    state = tmp_path / "inc"
    _run(records.join(held, on=KEY, how="anti"), state, model, config)
    hashed = runs.with_row_hash

    def colliding(canon: pl.DataFrame) -> pl.DataFrame:
        return hashed(canon).with_columns((pl.col("key_hash") % 7).alias("key_hash"))

    monkeypatch.setattr(runs, "with_row_hash", colliding)
    inc = _run(records, state, model, config)
    assert inc.new == held.height and inc.changed == inc.removed == 0
    monkeypatch.undo()
    _assert_same_as_full(inc, records, model, config, tmp_path / "full")


def test_compaction_drops_index_entries_of_erased_records(world, model, config,
                                                          tmp_path: Path) -> None:
    records = world[0]
    state = tmp_path / "inc"
    first = _run(records, state, model, config)
    gone = first.state.features.filter(pl.col("nk").is_not_null()).head(3)
    _run(records.join(first.state.keys.join(gone.select("uid"), on="uid").select(KEY), on=KEY,
                      how="anti"), state, model, config)

    def found() -> set[int]:
        meta = run_state.State(state).meta
        con = duckdb.connect()
        con.register("g", gone)
        hits = keyindex.Index(state, meta).lookup(
            keyindex.probe(con, "g", keyindex.candidate_probes()))
        return set(hits.to_list()) & set(gone["uid"].to_list())

    assert found(), "entries of records that left stay until the index is rebuilt"
    run_state.compact(state)
    assert not found()


@pytest.fixture(scope="module")
def indexed(world: tuple[pl.DataFrame, pl.DataFrame], model: Model,
            tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[duckdb.DuckDBPyConnection, keyindex.Index, list[str]]:
    """Every world record indexed (a third of them as lone records)."""
    feats = comparison_columns.build(canonical.to_canonical(world[0])[0])
    con = duckdb.connect()
    con.register("f", feats)
    con.register("lone", feats.select("uid").gather_every(3))
    rules = keyindex.model_rules(model.settings)
    index = keyindex.Index(tmp_path_factory.mktemp("index"), None)
    index.replace(keyindex.build(con, "f", "lone", rules), rules)
    return con, index, rules


def test_index_finds_every_record_a_blocking_rule_pairs(indexed) -> None:
    con, index, rules = indexed
    probe = con.sql("select * from f using sample 200 rows (reservoir, 1)").pl()
    con.register("p", probe)
    found = set(index.lookup(keyindex.probe(con, "p", keyindex.blocking_probes(rules))).to_list())
    truth = set()
    for rule in rules:
        for a, b in (("f", "p"), ("p", "f")):
            on = re.sub(r"\br\.", f"{b}.", re.sub(r"\bl\.", f"{a}.", rule))
            truth |= {u for (u,) in con.sql(f"select f.uid from f join p on {on}").fetchall()}
    assert truth and truth <= found


def test_index_finds_every_placement_join_both_ways(indexed) -> None:
    con, index, _ = indexed
    x = con.sql("select * from f using sample 300 rows (reservoir, 2)").pl()
    con.register("x", x)
    lone = con.sql("select * from f where uid in (select uid from lone)").pl()
    con.register("s_all", lone)
    # Lone records a placement join links to x, found from x's keys.
    truth = {u for (u,) in con.sql(incremental._join_sql("s_all", "x", "s")).fetchall()}
    found = set(index.lookup(keyindex.probe(con, "x", keyindex.lone_probes())).to_list())
    assert truth and truth <= found
    # Candidates a placement join links to lone records, found from theirs.
    s = lone.head(300)
    con.register("s_few", s)
    truth = {u for (u,) in con.sql(incremental._join_sql("s_few", "f", "x")).fetchall()}
    found = set(index.lookup(keyindex.probe(con, "s_few", keyindex.candidate_probes())).to_list())
    assert truth and truth <= found
    assert {j.x_key for j in placement.JOINS} <= set(comparison_columns.PLACEMENT_KEYS) | {"name_hanzi"}


def test_blocking_rules_are_read_from_model_sql() -> None:
    assert keyindex.rule_sides('l."email" = r."email"') == (("email",), ("email",))
    assert keyindex.rule_sides('(l."last_name" = r."last_name") AND (l."dob" = r."dob")') == (
        ("last_name", "dob"), ("last_name", "dob"))
    assert keyindex.rule_sides("l.first_name = r.last_name and l.last_name = r.first_name") == (
        ("first_name", "last_name"), ("last_name", "first_name"))
    assert keyindex.rule_sides("substr(l.postcode, 1, 3) = substr(r.postcode, 1, 3)") is None
    settings = {"blocking_rules_to_generate_predictions": [
        {"blocking_rule": 'l."email" = r."email"', "sql_dialect": "duckdb"},
        {"blocking_rule": 'l."phone" = r."phone"', "sql_dialect": "duckdb", "salting_partitions": 4}]}
    plain, salted = keyindex.model_rules(settings)
    assert keyindex.rule_sides(plain) is not None and keyindex.rule_sides(salted) is None
