"""The encryption-coverage check: no column the policy protects holds cleartext.

A thin adapter over ``warehouse.encryption_coverage``: every protected column of bronze, of
the quarantine and of gold is read whole, and one cleartext value fails the check, naming the
table, the column and how many values (never a value).

DuckDB files are listed when they open without a key. A published file (the analysts' and
the role databases under ``published/``) that opens fails the check. The working files, which
the hub does not write encrypted yet (dbt's ``warehouse.duckdb``, identity's run state), are
reported and do not fail it; ``WORKING_DUCKDB_FILES_MUST_BE_ENCRYPTED`` is the switch that makes
them fail too.
"""

import dagster as dg

from pipelines.defs.ingest.assets import bronze_key
from pipelines.defs.privacy.assets import CATALOG
from pipelines.defs.resources import HubStorage
from quality.contracts import CONTRACTS
from warehouse.encryption_coverage import column_coverage, unencrypted_duckdb_files

CHECK = "encryption_coverage"
# True once the working DuckDB files are written encrypted, so that an unencrypted one fails.
WORKING_DUCKDB_FILES_MUST_BE_ENCRYPTED = False

# After the published warehouse, which itself waits for every gold export and the catalog, so
# the check sees this run's gold tables and DuckDB files (named by key: publish imports this group).
PUBLISHED = dg.AssetKey(["published", "warehouse"])


@dg.asset_check(
    asset=CATALOG,
    name=CHECK,
    additional_deps=[*(bronze_key(c) for c in CONTRACTS.values()), PUBLISHED],
    description=("Every bronze, quarantine and gold column the policy protects holds only ciphertext; "
                 "DuckDB files under the data root do not open without a key."),
)
def encryption_coverage(storage: HubStorage) -> dg.AssetCheckResult:
    paths = storage.paths()
    gaps = column_coverage(paths)
    leaking = [g for g in gaps if g.cleartext]
    duckdb_files = unencrypted_duckdb_files(paths.root)
    published = [f for f in duckdb_files if f.startswith(f"{paths.published.name}/")]
    passed = not leaking and not published and not (WORKING_DUCKDB_FILES_MUST_BE_ENCRYPTED and duckdb_files)
    lines = ["| table | column | cleartext | values |", "|---|---|---|---|"]
    lines += [f"| {g.table} | {g.column} | {g.cleartext:,} | {g.values:,} |" for g in leaking[:50]]
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "protected_columns": len(gaps),
            "values_checked": sum(g.values for g in gaps),
            "columns_with_cleartext": len(leaking),
            "cleartext_values": sum(g.cleartext for g in leaking),
            "unencrypted_duckdb_files": dg.MetadataValue.json(duckdb_files),
            "unencrypted_published_files": len(published),
            "working_duckdb_files_must_be_encrypted": WORKING_DUCKDB_FILES_MUST_BE_ENCRYPTED,
            **({"leaks": dg.MetadataValue.md("\n".join(lines))} if leaking else {}),
        },
    )
