"""The monitors (quality/monitors.yml) as one asset with a check per kind: volume, freshness,
feature drift, null rate and cardinality, schema drift. Every check warns; none blocks. An hourly
schedule runs them between pipeline runs, since freshness changes with the clock alone."""

import dagster as dg

from pipelines.defs.resources import HubStorage
from quality.monitors import MonitorResult
from warehouse.quality_monitors import run_monitors

MONITORS = dg.AssetKey(["quality", "monitors"])
KINDS = {
    "volume": "Bronze batch and table row counts against their own trailing history (median and MAD).",
    "freshness": "Latest load and the source's own newest timestamp against the SLA per source.",
    "drift": "PSI per feature of the feature table against its reference snapshot (warning above 0.2).",
    "profile": "Null rate and distinct count per feature against the reference snapshot.",
    "schema_drift": "Fields arriving in a bronze table's _extra that its contract does not declare.",
}
SAMPLE_SIZE = 10


def _check(kind: str, results: list[MonitorResult]) -> dg.AssetCheckResult:
    mine = [r for r in results if r.monitor == kind]
    fired = [r for r in mine if r.fired]
    return dg.AssetCheckResult(
        asset_key=MONITORS, check_name=f"monitor_{kind}", passed=not fired, severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "subjects": len(mine), "fired": len(fired),
            # Table, source and feature names with their figures: no row's values.
            "fired_sample": dg.MetadataValue.json(
                [{"subject": r.subject, "metric": r.metric, "value": r.value, "detail": r.detail} for r in fired[:SAMPLE_SIZE]]),
        },
    )


@dg.asset(
    key=MONITORS,
    group_name="quality",
    deps=[dg.AssetKey(["quality", "silver_quarantine"]), dg.AssetKey(["marts", "customer_360"])],
    check_specs=[dg.AssetCheckSpec(f"monitor_{k}", asset=MONITORS, description=d, blocking=False) for k, d in KINDS.items()],
)
def monitors(context: dg.AssetExecutionContext, storage: HubStorage) -> dg.MaterializeResult:
    """Every monitor's verdict on the data root, appended to ``quality/monitors`` (Delta)."""
    results = run_monitors(storage.paths(), context.run_id)
    return dg.MaterializeResult(
        metadata={"verdicts": len(results), "fired": sum(r.fired for r in results)},
        check_results=[_check(kind, results) for kind in KINDS],
    )


monitors_job = dg.define_asset_job(
    "quality_monitors",
    selection=dg.AssetSelection.assets(MONITORS, dg.AssetKey(["quality", "quality_report"])),
    description="The quality monitors and the report, between pipeline runs.",
)

monitors_hourly = dg.ScheduleDefinition(
    name="quality_monitors_hourly",
    job=monitors_job,
    cron_schedule="45 * * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Hourly monitors (freshness ages with the clock, not only with new data) and the report.",
)
