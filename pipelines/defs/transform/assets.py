"""dbt models as Dagster assets; dbt tests run in the same `dbt build` and appear as asset checks."""


from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.transform.project import dbt_project
from pipelines.lib.dbt_translator import HubDbtTranslator


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=HubDbtTranslator())
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Build and test every selected dbt model (staging, intermediate, marts) in the warehouse."""
    yield from dbt.cli(["build"], context=context).stream().fetch_row_counts()

