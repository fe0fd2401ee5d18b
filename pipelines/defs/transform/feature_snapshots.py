"""Daily feature snapshots (customer_features_daily), built by dbt one day partition at a time."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.resources import HubStorage
from pipelines.defs.transform.partitions import (
    dbt_vars,
    feature_partitions,
    partition_dates,
    single_run,
)
from pipelines.defs.transform.translator import GoldDbtTranslator
from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.dbt_row_counts import with_row_counts

PARTITIONED_MODELS = "tag:daily_partitioned"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=PARTITIONED_MODELS,
    name="gold_feature_snapshots",
    partitions_def=feature_partitions,
    backfill_policy=single_run,
    dagster_dbt_translator=GoldDbtTranslator(),
)
def gold_feature_snapshots(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, storage: HubStorage
) -> Iterator[Any]:
    """Point-in-time feature snapshots for the selected days (one dbt run for the whole range)."""
    start, end = partition_dates(context)
    context.log.info(f"customer_features_daily: as_of_date {start} .. {end}")
    invocation = dbt.cli(["build", "--vars", dbt_vars(start, end)], context=context)
    yield from with_row_counts(
        invocation.stream(), invocation.manifest, storage.paths().warehouse_db
    )
