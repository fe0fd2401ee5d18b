"""Gold marts published to Delta are readable by polars.read_delta; day partitions replace only
their own rows; the Dagster publishing assets and the range check run on a small warehouse."""

from datetime import date

import polars as pl
import pytest

from warehouse.layout import HubPaths
from warehouse.publish import preview_markdown, publish_mart, publish_partitions

MARTS = """
    create schema if not exists marts;
    create or replace table marts.customer_360 as
    select * from (values
        ('C1', 'Robert Smith', 120.5, timestamp '2026-06-01 10:00:00', ['crm', 'erp']),
        ('C2', '李龙东', 0.0, null, ['social'])
    ) as t(customer_id, full_name, lifetime_value, last_seen, sources);
    create or replace table marts.customer_features_daily as
    select 'C' || (i % 3)::varchar as customer_id, date '2026-06-01' + (i // 3)::integer as as_of_date,
           i::bigint as tickets_30d, (i % 5 - 2) / 2.0 as sentiment_avg_30d
    from range(30) as r(i);
"""


@pytest.fixture
def marts(warehouse) -> None:
    with warehouse() as con:
        con.execute(MARTS)


def test_marts_publish_to_delta_that_polars_reads(marts: None, hub_paths: HubPaths) -> None:
    published = publish_mart(hub_paths.warehouse_db, hub_paths.gold, "customer_360")
    assert published.rows_total == 2 and published.path == hub_paths.gold / "customer_360"
    frame = pl.read_delta(str(published.path)).sort("customer_id")
    assert frame["full_name"].to_list() == ["Robert Smith", "李龙东"]
    assert frame["sources"].to_list() == [["crm", "erp"], ["social"]]
    assert "| customer_id |" in preview_markdown(published.preview)
    # Re-publishing unchanged data changes nothing.
    assert publish_mart(hub_paths.warehouse_db, hub_paths.gold, "customer_360").rows_total == 2


def test_feature_partitions_replace_only_their_days(marts: None, hub_paths: HubPaths, warehouse) -> None:
    full = publish_partitions(hub_paths.warehouse_db, hub_paths.gold, "customer_features_daily", date(2026, 6, 1), date(2026, 6, 10))
    assert full.rows_written == full.rows_total == 30
    with warehouse() as con:
        con.execute("update marts.customer_features_daily set tickets_30d = -1")
    day = publish_partitions(hub_paths.warehouse_db, hub_paths.gold, "customer_features_daily", date(2026, 6, 3), date(2026, 6, 3))
    assert (day.rows_written, day.rows_total) == (3, 30)
    frame = pl.read_delta(str(day.path))
    changed = frame.filter(pl.col("tickets_30d") == -1)
    assert changed["as_of_date"].unique().to_list() == [date(2026, 6, 3)]


def test_dagster_assets_and_range_check(marts: None, hub_paths: HubPaths) -> None:
    import dagster as dg

    from pipelines.defs.publish.assets import publish_customer_360, publish_customer_features_daily
    from pipelines.defs.resources import HubStorage
    from pipelines.defs.transform.checks import range_violations
    from pipelines.defs.transform.partitions import range_tags

    resources = {"storage": HubStorage(data_dir=str(hub_paths.root))}
    assert dg.materialize([publish_customer_360], resources=resources).success
    result = dg.materialize(
        [publish_customer_features_daily], resources=resources, tags=range_tags("2026-06-01", "2026-06-10"),
    )
    # One run, one publish for the whole range, recorded for each of its ten day partitions.
    materializations = result.asset_materializations_for_node("gold__customer_features_daily")
    assert len(materializations) == 10
    materialization = materializations[0]
    assert materialization.metadata["dagster/row_count"].value == 30
    assert "preview" in materialization.metadata

    import duckdb

    with duckdb.connect(str(hub_paths.warehouse_db), read_only=True) as con:
        ranges = {"tickets_30d": (0, None), "sentiment_avg_30d": (-1, 1)}
        assert range_violations(con, "marts.customer_features_daily", ranges) == {}
        assert range_violations(con, "marts.customer_features_daily", {"tickets_30d": (0, 20)}) == {"tickets_30d": 9}
