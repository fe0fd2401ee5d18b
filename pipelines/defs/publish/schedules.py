"""A fixed clock for the daily feature partition: build and publish yesterday's snapshot."""

import dagster as dg

from pipelines.defs.transform.partitions import feature_partitions

daily_features_job = dg.define_asset_job(
    "gold_daily_features",
    selection=dg.AssetSelection.assets(
        dg.AssetKey(["marts", "customer_features_daily"]),
        dg.AssetKey(["gold", "customer_features_daily"]),
    ),
    partitions_def=feature_partitions,
    description="Feature snapshot of one day, built in dbt and published to Delta.",
)

daily_features_schedule = dg.build_schedule_from_partitioned_job(daily_features_job, hour_of_day=3)
