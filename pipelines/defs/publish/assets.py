"""Publish the gold marts as Delta tables under $HUB_DATA_DIR/gold/, readable by Polars,
pyarrow, pandas and Spark. Marts are overwritten; the feature table per day partition."""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from pipelines.defs.resources import HubStorage
from pipelines.defs.transform.partitions import feature_partitions, partition_dates, single_run
from pipelines.defs.transform.translator import freshness_policy
from privacy.preview import mask_preview
from warehouse.pii_catalog import declarations_by_column
from warehouse.publish import Published, preview_markdown, publish_mart, publish_partitions

OWNERS = ["team:gold"]
DAILY = freshness_policy({})
MARTS = {
    "customer_360": "The customer 360 view: golden record and aggregates, one row per customer_id.",
    "customer_timeline": "Every interaction across sources per customer, in time order.",
    "churn_labels": "Observed churn within 90 days per customer and as_of_date, for training.",
    "customer_id_map": "Every customer_id ever issued and the customer it stands for now.",
}


def _metadata(published: Published) -> Mapping[str, Any]:
    schema = dg.TableSchema(
        columns=[dg.TableColumn(field.name, str(field.type)) for field in published.preview.schema]
    )
    return {
        "dagster/row_count": published.rows_total,
        "rows_written": published.rows_written,
        "dagster/column_schema": schema,
        "path": dg.MetadataValue.path(str(published.path)),
        # Dagster's storage is no place for identifiers: the preview is masked.
        "preview": dg.MetadataValue.md(preview_markdown(mask_preview(published.preview, declarations_by_column()))),
    }


def _publish_mart_asset(table: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["gold", table],
        deps=[dg.AssetKey(["marts", table])],
        description=f"{description} Delta copy of marts.{table}.",
        group_name="gold",
        kinds={"delta"},
        owners=OWNERS,
        freshness_policy=DAILY,
        tags={"layer": "gold"},
    )
    def _asset(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
        paths = storage.paths()
        with storage.vault() as vault:
            published = publish_mart(paths.warehouse_db, paths.gold, table, vault=vault)
        context.log.info(f"gold/{table}: {published.rows_total:,} rows")
        return dg.MaterializeResult(metadata=_metadata(published))

    return _asset


(publish_customer_360, publish_customer_timeline, publish_churn_labels,
 publish_customer_id_map) = (
    _publish_mart_asset(table, description) for table, description in MARTS.items()
)


@dg.asset(
    key=["gold", "customer_features_daily"],
    deps=[dg.AssetKey(["marts", "customer_features_daily"])],
    partitions_def=feature_partitions,
    backfill_policy=single_run,
    group_name="gold",
    kinds={"delta"},
    owners=OWNERS,
    freshness_policy=DAILY,
    tags={"layer": "gold"},
)
def publish_customer_features_daily(
    context: dg.AssetExecutionContext, storage: HubStorage
) -> dg.MaterializeResult:
    """Point-in-time feature snapshots as Delta: the rows of the materialised days are replaced."""
    paths = storage.paths()
    start, end = partition_dates(context)
    published = publish_partitions(
        paths.warehouse_db, paths.gold, "customer_features_daily", start, end
    )
    context.log.info(
        f"gold/customer_features_daily: {published.rows_written:,} rows for {start} .. {end}"
    )
    return dg.MaterializeResult(
        metadata={
            **_metadata(published),
            "first_as_of_date": start.isoformat(),
            "last_as_of_date": end.isoformat(),
        }
    )
