"""Blocking checks on the gold marts.

Unique customer_id in customer_360 and no orphans in customer_timeline are dbt tests
(`unique`, `relationships` in the marts' yml files); dagster-dbt turns error-severity tests into
blocking asset checks, so a failure stops everything downstream, publishing included. The
declared feature ranges live in the same YAML (the registry) and are checked here.
"""

import dagster as dg
import duckdb

from pipelines.defs.resources import HubStorage
from warehouse.feature_registry import declared_ranges
from warehouse.publish import connect_warehouse

FEATURES = dg.AssetKey(["marts", "customer_features_daily"])


def range_violations(
    con: duckdb.DuckDBPyConnection, table: str, ranges: dict[str, tuple[float | None, float | None]]
) -> dict[str, int]:
    """Rows outside the declared [min, max] per feature (nulls are allowed: 'not applicable')."""
    counts = []
    for name, (low, high) in ranges.items():
        tests = ([f"{name} < {low}"] if low is not None else []) + (
            [f"{name} > {high}"] if high is not None else []
        )
        counts.append(f"count(*) filter (where {' or '.join(tests)}) as {name}")
    row = con.sql(f"select {', '.join(counts)} from {table}").to_arrow_table().to_pylist()[0]
    return {name: n for name, n in row.items() if n}


@dg.asset_check(
    asset=FEATURES,
    blocking=True,
    description="Every feature value lies within the min/max declared in the registry (dbt YAML).",
)
def features_within_declared_ranges(storage: HubStorage) -> dg.AssetCheckResult:
    ranges = declared_ranges()
    with connect_warehouse(storage.paths().warehouse_db) as con:
        violations = range_violations(con, "marts.customer_features_daily", ranges)
    return dg.AssetCheckResult(
        passed=not violations,
        metadata={"features_checked": len(ranges), "violations": dg.MetadataValue.json(violations)},
    )
