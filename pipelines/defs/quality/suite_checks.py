"""Quality suites as Dagster asset checks: the one place a suite result becomes a check result."""


import re

import dagster as dg

from pipelines.defs.resources import HubStorage
from quality.gx_runner import SuiteResult, run_suites
from quality.suites import Suite
from warehouse.quality_store import record_results

SAMPLE_SIZE = 5


def check_result(result: SuiteResult, asset_key: dg.AssetKey | None = None) -> dg.AssetCheckResult:
    """Passed when every rule passed; a failed error-level rule makes it an ERROR (blocking where
    the check blocks), a failed warn-level or quarantining rule only a WARN. The metadata holds each failing rule's
    row count and a sample of failing business keys (never a row's values)."""
    failed = result.failed()
    # A quarantining rule's failing rows are routed away, so they warn instead of failing.
    errors = [r for r in result.failed("error") if not r.quarantine]
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name(result.suite),
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        metadata={
            "rules": len(result.results),
            "rules_failed": len(failed),
            "failing_rows": dg.MetadataValue.json({r.name: r.rows_failed for r in failed}),
            "failing_keys_sample": dg.MetadataValue.json({r.name: list(r.failing_keys[:SAMPLE_SIZE]) for r in failed}),
            "errors": dg.MetadataValue.json({r.name: r.error for r in failed if r.error}),
        },
    )


def check_name(suite: Suite) -> str:
    return re.sub(r"\W", "_", f"{suite.layer}_suite_{suite.table_name}")


def suite_asset_check(suite: Suite, asset_key: dg.AssetKey, blocking: bool) -> dg.AssetChecksDefinition:
    """One suite as a standalone check on ``asset_key``, run with GX on the warehouse."""

    @dg.asset_check(
        asset=asset_key,
        name=check_name(suite),
        blocking=blocking,
        description=f"The {suite.layer} quality suite of {suite.table} (quality/suites/{suite.layer}/).",
    )
    def _check(context: dg.AssetCheckExecutionContext, storage: HubStorage) -> dg.AssetCheckResult:
        paths = storage.paths()
        result = run_suites(paths.warehouse_db, [suite])[0]
        record_results(paths, context.run.run_id, [result])
        return check_result(result)

    return _check
