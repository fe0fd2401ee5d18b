"""dbt models as Dagster assets; dbt tests run in the same `dbt build` and appear as asset checks."""


from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.resources import HubStorage
from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.dbt_row_counts import with_row_counts
from pipelines.lib.dbt_translator import HubDbtTranslator
from warehouse.database import ensure_warehouse

# Staging and the rest are two assets because the silver quarantine (pipelines/defs/quality) runs
# between them: it reads the staging tables, and the intermediate models read what it let pass.
STAGING = "path:models/staging"
# Telemetry staging builds with the models it feeds, so the near-real-time slice
# (pipelines/defs/stream/sensors.py) is one dbt invocation; no silver suite reads it.
TELEMETRY_STAGING = "stg_iot__telemetry"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=HubDbtTranslator(),
    select=STAGING,
    exclude=f"tag:daily_partitioned {TELEMETRY_STAGING}",
    name="dbt_staging_models",
)
def dbt_staging_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, storage: HubStorage) -> Iterator[Any]:
    """Build and test the staging models (typed, standardised source tables) in the warehouse."""
    warehouse_db = ensure_warehouse(storage.paths().warehouse_db)
    invocation = dbt.cli(["build"], context=context)
    yield from with_row_counts(invocation.stream(), invocation.manifest, warehouse_db)


# Day-partitioned models (the feature snapshots) have their own partitioned asset (feature_snapshots.py).
@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=HubDbtTranslator(),
    select=f"path:models/intermediate path:models/marts {TELEMETRY_STAGING}",
    exclude="tag:daily_partitioned",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, storage: HubStorage) -> Iterator[Any]:
    """Build and test every selected intermediate and mart model in the warehouse."""
    warehouse_db = ensure_warehouse(storage.paths().warehouse_db)
    invocation = dbt.cli(["build"], context=context)
    yield from with_row_counts(invocation.stream(), invocation.manifest, warehouse_db)

