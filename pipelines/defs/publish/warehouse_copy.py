"""The analysts' database: after a build, the working warehouse is copied to
$HUB_DATA_DIR/published/warehouse.duckdb and swapped in whole, so an open analyst session never
blocks the next run and never sees a half-built warehouse."""

import dagster as dg

from pipelines.defs.privacy.assets import CATALOG
from pipelines.defs.publish.assets import MARTS
from pipelines.defs.resources import HubStorage
from pipelines.defs.transform.assets import dbt_models, dbt_staging_models
from pipelines.defs.transform.feature_snapshots import gold_feature_snapshots
from warehouse.database import publish_database

# After every model that writes the warehouse, directly, so that a run of any subset still
# orders the copy after the builds it selected; and after the Delta exports, whose marts'
# blocking checks must pass. A failed build or check skips this asset: analysts keep the last
# good copy.
UPSTREAM = sorted(
    {*dbt_staging_models.keys, *dbt_models.keys, *gold_feature_snapshots.keys,
     *(dg.AssetKey(["gold", table]) for table in (*MARTS, "customer_features_daily")), CATALOG}
)


@dg.asset(
    key=["published", "warehouse"],
    deps=UPSTREAM,
    group_name="published",
    kinds={"duckdb"},
    owners=["team:gold"],
    tags={"layer": "published"},
)
def published_warehouse(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
    """The DuckDB file analysts open: a copy of the warehouse, replaced atomically after each build."""
    paths = storage.paths()
    published = publish_database(paths.warehouse_db, paths.published_db)
    context.log.info(f"published {published.tables} tables to {published.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "tables": published.tables,
            "size_bytes": published.size_bytes,
        }
    )
