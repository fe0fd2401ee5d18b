"""The monitors on real Delta tables and a real DuckDB warehouse: each fires on the change it
exists for (half a batch missing, a shifted feature, nulls appearing, a new field, a stale source)
and stays quiet on unchanged data."""

import json
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from quality.monitors import MonitorResult, load_config
from warehouse import delta_store
from warehouse.layout import HubPaths
from warehouse.quality_monitors import (
    batch_volumes,
    bronze_schema_drift,
    feature_drift,
    latest_monitors,
    run_monitors,
    source_freshness,
)

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
CONFIG = load_config()


def _land_batches(paths: HubPaths, sizes: list[int], extra: str | None = None) -> None:
    path = paths.bronze_table("crm", "contacts")
    for i, size in enumerate(sizes):
        delta_store.append(path, pa.table({
            "id": [f"CT{i:03d}{j:05d}" for j in range(size)],
            "_extra": [extra] * size,
            "_batch_id": [f"b{i:03d}"] * size,
            "_ingested_at": pa.array([NOW - timedelta(hours=len(sizes) - i)] * size, pa.timestamp("us", tz="UTC")),
        }))


def _verdict(results: list[MonitorResult], subject: str, metric: str) -> MonitorResult:
    return next(r for r in results if r.subject == subject and r.metric == metric)


@pytest.mark.parametrize(("last", "fires"), [(500, True), (1004, False)])
def test_volume_fires_when_half_a_batch_is_missing(tmp_path, last: int, fires: bool) -> None:
    paths = HubPaths(tmp_path / "hub")
    _land_batches(paths, [1000, 1012, 987, 1003, 995, 1020, last])
    verdict = _verdict(batch_volumes(paths, CONFIG), "crm/contacts", "latest_batch_rows")
    assert (verdict.value, verdict.fired) == (float(last), fires)
    if fires:
        assert verdict.detail.startswith("drop")


def test_table_volume_is_judged_against_earlier_runs(tmp_path) -> None:
    paths = HubPaths(tmp_path / "hub")
    _land_batches(paths, [1000])
    for run in range(4):
        results = run_monitors(paths, f"run-{run}", NOW, CONFIG)
        assert not _verdict(results, "crm/contacts", "table_rows").fired
    # Half the table gone between two runs (a replaced table, a bad vacuum): the table count drops.
    delta_store.overwrite(paths.bronze_table("crm", "contacts"),
                          delta_store.read(paths.bronze_table("crm", "contacts")).slice(0, 500))
    dropped = _verdict(run_monitors(paths, "run-4", NOW, CONFIG), "crm/contacts", "table_rows")
    assert dropped.fired and dropped.detail.startswith("drop")
    assert any(m["metric"] == "table_rows" and m["fired"] for m in latest_monitors(paths))


def _features(con: duckdb.DuckDBPyConnection, shift: float = 0.0, nulls: float = 0.0) -> None:
    rng = np.random.default_rng(3)
    n = 5000
    rows = []
    for day, moved in (("2026-05-01", False), ("2026-05-29", True)):
        spend = rng.gamma(2.0, 50.0, n) * (1 + shift if moved else 1) + (20 * shift if moved else 0)
        visits = rng.poisson(4, n).astype(float)
        visits_list: list[float | None] = list(visits)
        if moved and nulls:
            visits_list = [None if i % int(1 / nulls) == 0 else v for i, v in enumerate(visits)]
        rows.append(pa.table({"customer_id": [f"c{i}" for i in range(n)], "as_of_date": pa.array([day] * n).cast(pa.date32()),
                              "spend_90d_eur": spend, "visits_30d": pa.array(visits_list, pa.float64())}))
    con.register("features_in", pa.concat_tables(rows))
    con.execute("create or replace table features as select * from features_in")


def test_psi_fires_on_the_shifted_feature_only() -> None:
    con = duckdb.connect()
    _features(con, shift=0.6)
    results = feature_drift(con, "features", CONFIG)
    fired = {r.subject for r in results if r.monitor == "drift" and r.fired}
    assert fired == {"spend_90d_eur"}
    assert _verdict(results, "spend_90d_eur", "psi").value > 0.2


def test_psi_stays_quiet_on_an_unshifted_copy() -> None:
    con = duckdb.connect()
    _features(con)
    results = feature_drift(con, "features", CONFIG)
    assert not [r for r in results if r.fired]
    assert all(r.value < 0.05 for r in results if r.monitor == "drift")


def test_null_rate_change_fires_when_a_feature_goes_missing() -> None:
    con = duckdb.connect()
    _features(con, nulls=0.25)
    results = feature_drift(con, "features", CONFIG)
    assert _verdict(results, "visits_30d", "null_rate").fired
    assert not _verdict(results, "spend_90d_eur", "null_rate").fired


def test_schema_drift_names_the_fields_that_appear_in_extra(tmp_path) -> None:
    paths = HubPaths(tmp_path / "hub")
    _land_batches(paths, [10], extra=json.dumps({"loyalty_tier": "gold", "first_name": "x"}))
    verdict = _verdict(bronze_schema_drift(paths), "crm/contacts", "new_fields")
    # first_name is declared by the contract; only the undeclared field is named.
    assert verdict.fired and verdict.detail == "loyalty_tier"


def test_schema_drift_is_quiet_without_new_fields(tmp_path) -> None:
    paths = HubPaths(tmp_path / "hub")
    _land_batches(paths, [10])
    assert not _verdict(bronze_schema_drift(paths), "crm/contacts", "new_fields").fired


def test_freshness_per_source_against_its_declared_sla(tmp_path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema staging")
        # The CRM loaded 3 hours ago and its newest change is an hour older: fresh.
        con.execute("create table staging.stg_crm__contacts as select ?::timestamptz as _ingested_at, ?::timestamp as updated_at",
                    [NOW - timedelta(hours=3), (NOW - timedelta(hours=4)).replace(tzinfo=None)])
        # The ERP loaded 3 hours ago, but its newest record is ten days old: the load moved, the data did not.
        con.execute("create table staging.stg_erp__customers as select ?::timestamptz as _ingested_at, ?::timestamp as updated_at",
                    [NOW - timedelta(hours=3), (NOW - timedelta(days=10)).replace(tzinfo=None)])
        # IoT last loaded three days ago.
        con.execute("create table staging.stg_iot__telemetry as select ?::timestamptz as _ingested_at, ?::timestamp as ts",
                    [NOW - timedelta(days=3), (NOW - timedelta(days=3)).replace(tzinfo=None)])
    results = source_freshness(db, CONFIG, NOW)
    assert not _verdict(results, "crm", "load_age_hours").fired and not _verdict(results, "crm", "source_lag_hours").fired
    assert not _verdict(results, "erp", "load_age_hours").fired and _verdict(results, "erp", "source_lag_hours").fired
    assert _verdict(results, "iot", "load_age_hours").fired
    assert _verdict(results, "social", "load_age_hours").fired  # never loaded
