"""The near-real-time slice: new telemetry in bronze refreshes only what the 360 view and the
timeline read from it, within seconds of the stream's commit.

`hub stream iot` commits micro-batches to ``bronze/iot/telemetry`` outside Dagster. This sensor
watches that table's Delta version; a new version requests one run of the telemetry slice
(staging telemetry, the customer events and devices, ``customer_360``, ``customer_timeline``,
their Delta copies, and the outbox of outbound events). Identity, the other sources, features and the role databases stay batch:
a reading of a device the identity graph already knows reaches its customer at once; a device
registered since the last batch run waits for it. The slice refreshes only a graph that a batch
run has built, and waits while any other run is in progress (that run holds the warehouse).
"""

import dagster as dg

from pipelines.defs.resources import HubStorage
from warehouse import delta_store

TELEMETRY = dg.AssetKey(["bronze", "iot", "telemetry"])
CUSTOMER_360 = dg.AssetKey(["marts", "customer_360"])
NEAR_REAL_TIME = [
    dg.AssetKey(["staging", "stg_iot__telemetry"]),
    dg.AssetKey(["intermediate", "int_customer_events"]),
    dg.AssetKey(["intermediate", "int_customer_devices"]),
    CUSTOMER_360,
    dg.AssetKey(["marts", "customer_timeline"]),
    dg.AssetKey(["gold", "customer_360"]),
    dg.AssetKey(["gold", "customer_timeline"]),
    dg.AssetKey(["events", "outbox"]),
]
SENSOR_INTERVAL_S = 5
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
]

telemetry_refresh_job = dg.define_asset_job(
    "refresh_from_telemetry",
    selection=dg.AssetSelection.assets(*NEAR_REAL_TIME),
    description="The near-real-time slice: new telemetry into customer_360 and the timeline; identity not re-run.",
)


@dg.sensor(
    name="telemetry_freshness_sensor",
    job=telemetry_refresh_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreshes the telemetry slice of the graph whenever bronze/iot/telemetry gains a Delta version.",
)
def telemetry_freshness_sensor(context: dg.SensorEvaluationContext, storage: HubStorage) -> dg.SensorResult:
    version = delta_store.version(storage.paths().bronze_table(TELEMETRY.path[1], TELEMETRY.path[2]))
    seen = int(context.cursor) if context.cursor else None
    if version is None or version == seen:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new telemetry commit"))
    if context.instance.get_latest_materialization_event(CUSTOMER_360) is None:
        return dg.SensorResult(skip_reason=dg.SkipReason("no batch run has built customer_360 yet"))
    busy = context.instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS), limit=1)
    if busy:
        # The cursor stays: the next free tick refreshes everything committed meanwhile.
        return dg.SensorResult(skip_reason=dg.SkipReason(f"run {busy[0].run_id} is in progress"))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"telemetry-v{version}", tags={"bronze_version": str(version)})],
        cursor=str(version),
        asset_events=[dg.AssetObservation(TELEMETRY, metadata={"delta_version": version})],
    )
