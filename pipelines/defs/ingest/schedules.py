"""Fixed-clock pulls for the API and database sources: the job selects the sources tagged for
its clock in ``sources.py``, so a source joins it only by declaring that tag."""

import dagster as dg

from pipelines.defs.ingest.sources import HOURLY, PULL_TAG

crm_erp_pull_job = dg.define_asset_job(
    "pull_crm_erp",
    selection=dg.AssetSelection.tag(PULL_TAG, HOURLY),
    description="Incremental pull of the CRM API and the ERP database into bronze.",
)

crm_erp_hourly = dg.ScheduleDefinition(
    name="crm_erp_hourly",
    job=crm_erp_pull_job,
    cron_schedule="15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly incremental pull: each run fetches only what changed since the last cursor.",
)
