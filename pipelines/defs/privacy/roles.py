"""The role databases (docs/privacy.md, "Roles"): one encrypted DuckDB file per role of
``privacy/policy.yaml`` (per rep for sales_rep), published from the warehouse after each build by
``warehouse.role_databases``. The data engineers' full copy is ``published/warehouse``.

The policy's digest is each asset's code version, so a policy change shows the role databases
as changed in the UI and `hub run` re-publishes them; `hub sql` also re-publishes a role whose
file was built under another policy before it opens it.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from pipelines.defs.resources import HubStorage
from privacy.detect import Detector
from privacy.names import NameIndex, golden_names
from privacy.redact import redact
from privacy.roles import load_policy
from warehouse.database import DatabaseFile, database_key
from warehouse.pii_catalog import golden_name_rows
from warehouse.role_databases import ENGINEER_ROLE, Redactor, RoleDatabase, publish_roles

GROUP = "privacy"
ENGINEER_COPY = dg.AssetKey(["published", "warehouse"])
POLICY = load_policy()


def _metadata(published: list[RoleDatabase]) -> Mapping[str, Any]:
    per_user = any(p.user for p in published)
    tables = sorted({t for p in published for t in p.rows})
    totals = {t: sum(p.rows.get(t, 0) for p in published) for t in tables}
    meta: dict[str, Any] = {
        "dagster/row_count": sum(totals.values()),
        "rows_by_table": dg.MetadataValue.json(totals),
        "databases": len(published),
        "encrypted": True,
        "policy_sha256": POLICY.digest,
    }
    if per_user:
        # Per user, the CRM owner id (a pseudonymous employee id, no customer data).
        meta["rows_by_user"] = dg.MetadataValue.json({p.user: sum(p.rows.values()) for p in published})
    else:
        meta["path"] = dg.MetadataValue.path(str(published[0].path))
    return meta


def redactor_for(warehouse: DatabaseFile) -> Redactor:
    """Free-text redaction with the hub's own customers' names as the strongest name signal."""
    detector = Detector(NameIndex(golden_names(golden_name_rows(warehouse))))
    return lambda values: redact(values, detector).texts


def _role_asset(role: str) -> dg.AssetsDefinition:
    spec = POLICY.role(role)

    @dg.asset(
        key=["published", role],
        # After the engineers' copy, which comes after every build and blocking check of the
        # run: a failed build skips both, and readers keep the last good files.
        deps=[ENGINEER_COPY],
        group_name=GROUP,
        kinds={"duckdb"},
        owners=["team:privacy"],
        tags={"layer": "published"},
        code_version=POLICY.digest[:16],
        description=f"The {role} role's encrypted DuckDB database"
                    f"{' (one per user)' if spec.per_user else ''}: {spec.description}",
    )
    def _asset(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
        paths = storage.paths()
        warehouse = DatabaseFile(paths.warehouse_db)
        with storage.key_store() as store:
            published = publish_roles(warehouse, paths.published, POLICY,
                                      lambda name: database_key(store, name), redactor_for(warehouse), [role])
        context.log.info(f"{role}: {len(published)} database(s), "
                         f"{sum(sum(p.rows.values()) for p in published):,} rows")
        return dg.MaterializeResult(metadata=_metadata(published))

    return _asset


role_databases: list[dg.AssetsDefinition] = [_role_asset(role) for role in POLICY.roles if role != ENGINEER_ROLE]


@dg.definitions
def role_database_defs() -> dg.Definitions:
    # One asset per role of the policy: the list follows the file, so it is handed over whole.
    return dg.Definitions(assets=role_databases)
