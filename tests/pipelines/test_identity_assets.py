"""The identity assets as Dagster runs them, on a tiny warehouse (no dbt needed)."""

from __future__ import annotations

import dagster as dg
import duckdb
import polars as pl

from bench.identity_data import generate
from pipelines.defs.identity import assets, checks
from pipelines.defs.resources import HubStorage
from warehouse import delta_store
from warehouse.layout import HubPaths


def _warehouse(paths: HubPaths, records: pl.DataFrame) -> None:
    paths.root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse_db)) as con:
        con.execute("create schema intermediate")
        con.register("r", records)
        con.execute("create table intermediate.int_person_records as select * from r")


def _materialize(paths: HubPaths, *defs: object) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(defs), resources={"storage": HubStorage(data_dir=str(paths.root))},
                          raise_on_error=True)


def test_identity_assets_publish_graph_changes_quality_and_checks(hub_paths: HubPaths) -> None:
    records, _ = generate(2_500, seed=11)
    _warehouse(hub_paths, records)
    everything = (assets.identity_model, assets.identity_graph, assets.identity_quality,
                  checks.stable_ids_on_unchanged_input, checks.customers_within_size_limit)
    first = _materialize(hub_paths, *everything)
    assert first.success
    gold = hub_paths.gold
    graph = pl.from_arrow(delta_store.read(gold / "identity_graph"))
    assert graph.height == records.height
    assert graph.columns == ["source", "source_record_id", "customer_id", "match_probability",
                             "valid_from", "valid_to"]
    assert delta_store.row_count(gold / "identity_changes") == records.height  # all "created"
    assert (hub_paths.state / "identity" / "models" / "v0001" / "model.json").exists()
    # A scheduled run: no training, unchanged input, nothing changes, checks pass.
    second = _materialize(hub_paths, assets.identity_graph, assets.identity_quality,
                          checks.stable_ids_on_unchanged_input, checks.customers_within_size_limit)
    meta = second.asset_materializations_for_node("identity_graph")[0].metadata
    assert meta["mode"].value == "incremental" and meta["id_changes"].value == 0
    evaluations = second.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {"stable_ids_on_unchanged_input",
                                                   "customers_within_size_limit"}
    assert all(e.passed for e in evaluations)
    assert delta_store.row_count(gold / "identity_changes") == records.height
    assert delta_store.row_count(gold / "identity_quality") == 2
    assert not (hub_paths.state / "identity" / "models" / "v0002").exists()
