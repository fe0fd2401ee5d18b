"""The gold assets are in the code location with their partitions, freshness and blocking checks."""

import dagster as dg
import pytest

from pipelines.environment import apply_env_defaults
from warehouse.layout import HubPaths


@pytest.fixture
def graph(hub_paths: HubPaths):
    apply_env_defaults()
    from pipelines.definitions import defs

    return defs.resolve_asset_graph()


def test_gold_assets_partitions_and_freshness(graph) -> None:
    features = graph.get(dg.AssetKey(["marts", "customer_features_daily"]))
    assert features.partitions_def is not None and features.backfill_policy == dg.BackfillPolicy.single_run()
    assert dg.AssetKey(["intermediate", "int_customer_activity_daily"]) in features.parent_keys
    published = graph.get(dg.AssetKey(["gold", "customer_features_daily"]))
    assert published.partitions_def == features.partitions_def
    for table in ("customer_360", "customer_timeline", "churn_labels", "customer_id_map"):
        assert dg.AssetKey(["marts", table]) in graph.get(dg.AssetKey(["gold", table])).parent_keys
        assert graph.get(dg.AssetKey(["gold", table])).freshness_policy is not None
    # Identity resolution's output comes back through a dbt source with its asset key, into
    # staging; the marts read only refs.
    for table in ("identity_graph", "identity_changes"):
        assert dg.AssetKey([table]) in graph.get(dg.AssetKey(["staging", f"stg_identity__{table}"])).parent_keys
    assert dg.AssetKey(["staging", "stg_identity__identity_graph"]) in graph.get(
        dg.AssetKey(["intermediate", "int_identity_current"])).parent_keys
    assert dg.AssetKey(["staging", "stg_identity__identity_changes"]) in graph.get(
        dg.AssetKey(["marts", "customer_id_map"])).parent_keys


def test_mart_checks_block_publishing(graph) -> None:
    checks = {key.name: key for key in graph.asset_check_keys}
    for name in ("unique_customer_360_customer_id",
                 "relationships_customer_timeline_customer_id__customer_id__ref_customer_360_",
                 "features_within_declared_ranges"):
        assert name in checks
        assert graph.get_check_spec(checks[name]).blocking, name


def test_partitions_follow_the_dbt_vars() -> None:
    from pipelines.defs.transform.partitions import (
        FEATURES_DAILY_FROM,
        FEATURES_START,
        feature_partitions,
    )
    from warehouse.dbt_config import dbt_var

    assert (dbt_var("features_history_start"), dbt_var("features_daily_from")) == (FEATURES_START, FEATURES_DAILY_FROM)
    # Weekly (Mondays) before FEATURES_DAILY_FROM, daily from it on.
    assert feature_partitions.has_partition_key("2024-07-08") and not feature_partitions.has_partition_key("2024-07-09")
    assert feature_partitions.has_partition_key("2026-06-02") and not feature_partitions.has_partition_key("2026-05-06")
