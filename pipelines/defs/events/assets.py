"""The outbox of customer events, derived from the warehouse after every run that changes what
they report (the batch graph and the near-real-time slice); `hub events publish` delivers it."""

import dagster as dg

from pipelines.defs.resources import HubStorage
from pipelines.events.derive import derive, digest_key, outbox_path
from pipelines.events.outbox import Outbox

OUTBOX = dg.AssetKey(["events", "outbox"])


@dg.asset(
    key=OUTBOX,
    group_name="events",
    kinds={"sqlite"},
    deps=[
        dg.AssetKey(["marts", "customer_360"]),
        dg.AssetKey(["intermediate", "int_customer_devices"]),
        dg.AssetKey(["intermediate", "int_identity_current"]),
        dg.AssetKey(["staging", "stg_iot__telemetry"]),
        dg.AssetKey(["staging", "stg_identity__identity_changes"]),
        dg.AssetKey(["staging", "stg_crm__opportunity_versions"]),
    ],
)
def customer_events_outbox(storage: HubStorage) -> dg.MaterializeResult:
    """Customer events since the last derivation (device alerts, merges, splits, stage changes,
    updated attributes), once per event ID, waiting for delivery to the subscribers."""
    paths = storage.paths()
    with Outbox(outbox_path(paths.state)) as outbox:
        derived = derive(paths.warehouse_db, outbox, digest_key(paths.state))
        waiting = outbox.size()
    # Counts only: the events' values never go into Dagster's metadata.
    return dg.MaterializeResult(metadata={"derived": dg.MetadataValue.json(derived), "events_waiting": waiting})
