"""Gold dbt assets look like the rest (HubDbtTranslator) plus owners and freshness from dbt meta."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg

from pipelines.lib.dbt_translator import HubDbtTranslator

DEFAULT_FAIL_AFTER_HOURS = 26


def freshness_policy(meta: Mapping[str, Any]) -> dg.FreshnessPolicy:
    """Daily data: stale when not materialised for `fail_after_hours` (default 26 h)."""
    hours = (meta.get("freshness") or {}).get("fail_after_hours", DEFAULT_FAIL_AFTER_HOURS)
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=hours), warn_window=timedelta(hours=hours - 2)
    )


class GoldDbtTranslator(HubDbtTranslator):
    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        meta = (props.get("config") or {}).get("meta") or {}
        if props.get("resource_type") != "model" or "freshness" not in meta:
            return spec
        owners = [meta["owner"]] if meta.get("owner") else []
        return spec.replace_attributes(freshness_policy=freshness_policy(meta), owners=owners)
