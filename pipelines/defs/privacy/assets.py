"""The privacy group (docs/privacy.md): the PII catalog, a thin adapter over
``warehouse.pii_catalog``, and silver free text redacted by ``warehouse.free_text``.

Its check warns when a column holds PII that no contract declares, or values contradict a
declaration, naming the table, the column, the type and how many sampled values showed it.
"""

from collections import Counter

import dagster as dg

from pipelines.defs.resources import HubStorage
from pipelines.defs.transform.assets import dbt_models, dbt_staging_models
from privacy.catalog import CatalogRow, findings
from privacy.detect import Detector
from privacy.names import NameIndex, golden_names
from warehouse.database import database_key
from warehouse.free_text import redact_free_text
from warehouse.pii_catalog import CATALOG_TABLE, build_catalog, golden_name_rows, store_catalog
from warehouse.role_databases import ENGINEER_ROLE, role_database

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
    deps=sorted({*dbt_staging_models.keys, *dbt_models.keys}),
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


@dg.asset(
    key=["silver", "free_text"],
    deps=[dg.AssetKey(["bronze", "social", "posts"]), dg.AssetKey(["bronze", "crm", "activities"])],
    group_name=GROUP,
    kinds={"delta", "python"},
    owners=["team:privacy"],
    tags={"layer": "silver"},
)
def redacted_free_text(storage: HubStorage) -> dg.MaterializeResult:
    """Social posts and bios, CRM activity subjects and bodies, with PII replaced by typed
    placeholders (<PERSON>, <EMAIL_ADDRESS>, ...): Delta tables in silver/free_text/.
    Person names include the golden records' names from the last published ``customer_360``
    (the previous run's), so that redaction needs no gold of its own run."""
    paths = storage.paths()
    with storage.vault() as vault:
        published = role_database(paths.published, ENGINEER_ROLE, None,
                                  lambda name: database_key(vault.store, name))
        names = NameIndex(golden_names(golden_name_rows(published)))
        tables = redact_free_text(paths, Detector(names), vault)
    entities: Counter[str] = Counter()
    for t in tables:
        entities.update(t.entities)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(t.rows for t in tables),
        "known_customer_name_spellings": names.size,
        "entities_by_type": dg.MetadataValue.json(dict(sorted(entities.items()))),
        **{f"{t.name}_rows": t.rows for t in tables},
    })
