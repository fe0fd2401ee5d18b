"""How dbt nodes appear in the Dagster asset graph: grouped by layer, staging under its own key prefix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

# Groups name where the tables live: the staging and intermediate schemas of warehouse.duckdb;
# marts form the gold layer with their Delta copies under gold/.
LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "gold"}


class HubDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def _layer(self, props: Mapping[str, Any]) -> str | None:
        fqn = props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else None

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta = (dbt_resource_props.get("config") or {}).get("meta") or dbt_resource_props.get("meta") or {}
            key = (meta.get("dagster") or {}).get("asset_key")
            if key:
                return dg.AssetKey(key)
        layer = self._layer(dbt_resource_props)
        if dbt_resource_props["resource_type"] == "model" and layer:
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return LAYER_GROUPS.get(self._layer(dbt_resource_props) or "", "staging")
