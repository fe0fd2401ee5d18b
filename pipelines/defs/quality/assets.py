"""Silver quarantine: the silver suites run on the staging tables, failing rows are routed to
quarantine, and the intermediate models read only the rows that passed."""

import re

import dagster as dg
import duckdb

from pipelines.defs.quality.suite_checks import check_name, check_result
from pipelines.defs.resources import HubStorage
from quality.gx_runner import run_suites
from quality.quarantine import rejections
from quality.suites import load_suites
from warehouse.quality_report import write_report
from warehouse.quality_store import (
    publish_results,
    record_results,
    refresh_summary,
    store_silver_quarantine,
)

SILVER_SUITES = load_suites("silver")
SILVER_QUARANTINE = dg.AssetKey(["quality", "silver_quarantine"])


def _staging_tables() -> list[str]:
    """Every staging table a silver suite reads: its own and those its rules look up."""
    names = {s.table_name for s in SILVER_SUITES}
    for suite in SILVER_SUITES:
        for expectation in suite.expectations:
            names |= set(re.findall(r"staging\.(\w+)", str(expectation.arguments.get("query", ""))))
    return sorted(names)


@dg.asset(
    key=SILVER_QUARANTINE,
    group_name="quality",
    deps=[dg.AssetKey(["staging", name]) for name in _staging_tables()],
    check_specs=[dg.AssetCheckSpec(check_name(s), asset=SILVER_QUARANTINE) for s in SILVER_SUITES],
)
def silver_quarantine(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
    """Rows of the staging tables that fail a quarantining silver rule, with the rules they failed;
    every other row flows on (rows in = passed + quarantined, per table)."""
    paths = storage.paths()
    results = run_suites(paths.warehouse_db, SILVER_SUITES)
    stored = store_silver_quarantine(paths, paths.warehouse_db, results, rejections(results))
    record_results(paths, context.run_id, results)
    unbalanced = [r.table for r in stored.reconciliations if not r.balanced]
    if unbalanced:
        raise RuntimeError(f"silver quarantine: counts do not reconcile for {unbalanced}")
    return dg.MaterializeResult(
        metadata={
            "rows_quarantined": stored.rejected,
            "reconciliation": dg.MetadataValue.json(
                {r.table: {"rows_in": r.rows_in, "passed": r.passed, "quarantined": r.quarantined}
                 for r in stored.reconciliations}
            ),
        },
        # Quarantined rows are routed, not failures of the run: their rules report as warnings.
        check_results=[check_result(r, SILVER_QUARANTINE) for r in results],
    )


@dg.asset(
    key=dg.AssetKey(["quality", "quality_report"]),
    group_name="quality",
    deps=[SILVER_QUARANTINE, dg.AssetKey(["marts", "customer_360"]), dg.AssetKey(["quality", "monitors"])],
)
def quality_report(storage: HubStorage) -> dg.MaterializeResult:
    """The quality report page (scores, trend, failing rules, quarantine, freshness, drift) and
    the ``quality.quality_results`` and ``quality.quarantine_summary`` warehouse tables."""
    paths = storage.paths()
    with duckdb.connect(str(paths.warehouse_db)) as con:
        publish_results(con, paths)
        refresh_summary(con, paths)
    written = write_report(paths, paths.root / "quality" / "report.html")
    return dg.MaterializeResult(metadata={"report": dg.MetadataValue.path(str(written))})
