"""The data engineers' database: after a build, the working warehouse is copied to
$HUB_DATA_DIR/published/warehouse.duckdb, encrypted under its own key, and swapped in whole, so
an open session never blocks the next run and never sees a half-built warehouse. The other
roles' databases are published from the same build (pipelines/defs/privacy/roles.py)."""

import dagster as dg

from pipelines.defs.privacy.assets import CATALOG
from pipelines.defs.publish.assets import MARTS
from pipelines.defs.resources import HubStorage
from pipelines.defs.transform.assets import dbt_models, dbt_staging_models
from pipelines.defs.transform.feature_snapshots import gold_feature_snapshots
from privacy.roles import load_policy
from warehouse.database import DatabaseFile, database_key
from warehouse.role_databases import ENGINEER_ROLE, publish_role, role_database

# After every model that writes the warehouse, directly, so that a run of any subset still
# orders the copy after the builds it selected; and after the Delta exports, whose marts'
# blocking checks must pass. A failed build or check skips this asset: readers keep the last
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
    """The data engineers' DuckDB file: an encrypted copy of the warehouse, replaced atomically
    after each build (``hub sql --role data_engineer``)."""
    paths = storage.paths()
    policy = load_policy()
    with storage.key_store() as store:
        target = role_database(paths.published, ENGINEER_ROLE, None, lambda name: database_key(store, name))
    published = publish_role(DatabaseFile(paths.warehouse_db), policy.role(ENGINEER_ROLE), policy, target,
                             redactor=lambda values: list(values))
    context.log.info(f"published {published.rows['tables']} tables to {published.path} (encrypted)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "tables": published.rows["tables"],
            "size_bytes": published.path.stat().st_size,
            "encrypted": True,
        }
    )
