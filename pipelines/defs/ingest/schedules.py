"""Fixed-clock pulls for the API and database sources."""

import dagster as dg

crm_erp_pull_job = dg.define_asset_job(
    "pull_crm_erp",
    selection=dg.AssetSelection.groups("bronze") - dg.AssetSelection.key_prefixes(["bronze", "social"], ["bronze", "iot"]),
    description="Incremental pull of the CRM API and the ERP database into bronze.",
)

crm_erp_hourly = dg.ScheduleDefinition(
    name="crm_erp_hourly",
    job=crm_erp_pull_job,
    cron_schedule="15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly incremental pull: each run fetches only what changed since the last cursor.",
)
