"""The PII catalog asset: a thin adapter over ``warehouse.pii_catalog`` (docs/privacy.md).

Its check warns when a column holds PII that no contract declares, or values contradict a
declaration, naming the table, the column, the type and how many sampled values showed it.
"""

from collections import Counter

import dagster as dg

from pipelines.defs.resources import HubStorage
from pipelines.defs.transform.assets import dbt_models
from privacy.catalog import CatalogRow, findings
from privacy.detect import Detector
from warehouse.pii_catalog import CATALOG_TABLE, build_catalog, store_catalog

CATALOG = dg.AssetKey(["governance", "pii_catalog"])
GROUP = "privacy"
CHECK = "pii_declared_and_consistent"


def _finding_table(rows: list[CatalogRow]) -> str:
    lines = ["| table | column | status | type | matched / sampled |", "|---|---|---|---|---|"]
    lines += [f"| {r.table} | {r.column} | {r.status} | {r.pii_type} | {r.matched} / {r.sampled} |"
              for r in rows[:50]]
    return "\n".join(lines)


@dg.asset(
    key=CATALOG,
    deps=sorted(dbt_models.keys),
    group_name=GROUP,
    kinds={"duckdb", "python"},
    owners=["team:privacy"],
    tags={"layer": "governance"},
    check_specs=[dg.AssetCheckSpec(CHECK, asset=CATALOG, description=(
        "Every column holding PII is declared, and no sample contradicts its declaration."))],
)
def pii_catalog(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
    """Every column of every bronze, staging and mart table (``_extra`` keys included), its
    declared and discovered PII type and its sensitivity level; unclassified means L3."""
    paths = storage.paths()
    rows = build_catalog(paths, Detector(), paths.warehouse_db)
    stored = store_catalog(paths.warehouse_db, rows)
    found = findings(rows)
    for r in found:
        context.log.warning(f"{r.table}.{r.column}: {r.status} {r.pii_type} "
                            f"({r.matched} of {r.sampled} sampled values)")
    by_status = Counter(r.status for r in rows)
    by_level = Counter(r.level for r in rows)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stored,
            "table": CATALOG_TABLE,
            "tables": len({r.table for r in rows}),
            "by_status": dg.MetadataValue.json(dict(sorted(by_status.items()))),
            "by_level": dg.MetadataValue.json(dict(sorted(by_level.items()))),
        },
        check_results=[dg.AssetCheckResult(
            check_name=CHECK, passed=not found, severity=dg.AssetCheckSeverity.WARN,
            metadata={"findings": len(found),
                      "undeclared_pii": by_status.get("undeclared_pii", 0),
                      "contradicted": by_status.get("contradicted", 0),
                      **({"detail": dg.MetadataValue.md(_finding_table(found))} if found else {})})],
    )
