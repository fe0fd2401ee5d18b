"""Asset checks on identity: they warn (never block) so that a steward looks, not a pager."""


import dagster as dg

from identity.run_state import State
from identity.settings import IdentityConfig
from pipelines.defs.identity.assets import GRAPH, QUALITY, workspace
from pipelines.defs.resources import HubStorage


@dg.asset_check(asset=GRAPH, description="No customer ID changes when the input did not change.")
def stable_ids_on_unchanged_input(storage: HubStorage) -> dg.AssetCheckResult:
    state = State.load(workspace(storage).run_state)
    last = state.meta.get("last_run", {}) if state is not None else {}
    unchanged = bool(last.get("input_unchanged"))
    churn = int(last.get("id_changes", 0))
    return dg.AssetCheckResult(
        passed=not (unchanged and churn > 0), severity=dg.AssetCheckSeverity.WARN,
        metadata={"input_unchanged": unchanged, "id_changes": churn,
                  "events": dg.MetadataValue.json(last.get("events", {}))})


@dg.asset_check(asset=QUALITY, description="No customer holds more records than the size limit.")
def customers_within_size_limit(storage: HubStorage) -> dg.AssetCheckResult:
    limit = IdentityConfig.load().max_cluster_size
    state = State.load(workspace(storage).run_state)
    if state is None:
        return dg.AssetCheckResult(passed=True, metadata={"note": "no identity run yet"})
    sizes = state.assignment.group_by("customer_id").len("size")
    over = sizes.filter(sizes["size"] > limit)
    return dg.AssetCheckResult(
        passed=over.is_empty(), severity=dg.AssetCheckSeverity.WARN,
        metadata={"limit": limit, "customers_over_limit": over.height,
                  "largest": int(sizes["size"].max() or 0),
                  "examples": dg.MetadataValue.json(
                      over.sort("size", descending=True).head(10).to_dicts())})
