"""A device alert published to the broker reaches its customer's 360 row and timeline within
60 s: the real Mosquitto, the real `hub stream iot`, and the telemetry sensor evaluated against
the real Dagster instance, whose run request is executed as the daemon would launch it. Then the
outbound events: a subscriber on the same broker receives the device.alert with only its
allow-listed fields, and another the customer.updated of the device status.

It adds one telemetry row to the session's e2e world, so it runs after test_pipeline.py (whose
counts reconcile against the simulator's) in this folder's alphabetical order."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pipelines.defs.resources import HubStorage
from pipelines.defs.stream.sensors import NEAR_REAL_TIME, SENSOR_INTERVAL_S
from pipelines.events.derive import outbox_path
from pipelines.events.outbox import Outbox
from pipelines.events.publisher import deliver
from pipelines.events.subscriptions import load
from pipelines.events.topics import ENVELOPE
from pipelines.lib.dbt_project import dbt_cli, dbt_project
from tests.pipelines.stream.landed import start_consumer, stop
from tests.pipelines.stream.mosquitto import Mosquitto
from warehouse.layout import HubPaths

pytestmark = pytest.mark.e2e

BUDGET_S = 60


def _row(paths: HubPaths, sql: str, *params: object) -> dict[str, object] | None:
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        rel = con.execute(sql, list(params))
        names = [d[0] for d in rel.description]
        found = rel.fetchone()
    return dict(zip(names, found, strict=True)) if found else None


def _publish_alert(broker: Mosquitto, device_id: str) -> dict[str, object]:
    message_id = f"E2E-{uuid.uuid4().hex[:12]}"
    reading = {
        "message_id": message_id, "event_id": message_id, "device_id": device_id,
        "ts": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metrics": {"temp_c": 41.0, "power_w": 90.0, "usage_min": 30}, "alerts": ["overheat"],
    }
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("message_id", message_id), ("sent_at", f"{time.time():.6f}")]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"e2e-{message_id}", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        info = client.publish(f"hub/iot/telemetry/{device_id}", json.dumps(reading), qos=1, properties=props)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), "the broker did not acknowledge the alert"
    finally:
        client.disconnect()
        client.loop_stop()
    return reading


class _Subscriber:
    """A scene listening on the broker for its deliveries, as a subscriber would."""

    def __init__(self, broker: Mosquitto) -> None:
        self.received: list[tuple[str, dict[str, object], str]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="e2e-scene", protocol=mqtt.MQTTv5)
        self.client.on_message = lambda _c, _u, m: self.received.append(
            (m.topic, json.loads(m.payload), dict(m.properties.UserProperty)["event_id"]))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        subscribed = self.client.subscribe("hub/events/#", qos=1)
        assert subscribed[0] == mqtt.MQTT_ERR_SUCCESS

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_device_alert_reaches_the_customer_360_row_within_60_s(
        pipeline_run: tuple[HubPaths, dict, list[int]], broker: Mosquitto, tmp_path: Path) -> None:
    from pipelines.definitions import defs

    paths, _, _ = pipeline_run
    known = _row(paths, "select customer_id, device_id from intermediate.int_customer_devices "
                        "order by customer_id, device_id limit 1")
    assert known, "the e2e world has a resolved customer with a device"
    customer_id, device_id = known["customer_id"], known["device_id"]
    sensor = defs.resolve_sensor_def("telemetry_freshness_sensor")
    job = defs.resolve_job_def("refresh_from_telemetry")
    resources = {"storage": HubStorage(data_dir=str(paths.root))}

    # dbt's partial-parse state is for the data root it was last parsed under; a code location
    # serving one data root has it for that root, so give it this one's (the e2e runs did not).
    dbt_cli().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()

    with dg.DagsterInstance.get() as instance:
        def tick(cursor: str | None) -> dg.SensorResult:
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
                return sensor(context)

        # The sensor has been running: its cursor is at bronze's current version, and a tick
        # without a new commit asks for nothing.
        cursor = tick(None).cursor
        assert cursor is not None
        assert not tick(cursor).run_requests

        consumer = start_consumer(paths, broker.url, tmp_path / "consumer.log")
        try:
            reading = _publish_alert(broker, device_id)
            published = time.monotonic()
            request = None
            while request is None and time.monotonic() - published < BUDGET_S:
                time.sleep(SENSOR_INTERVAL_S)  # the daemon's tick
                result = tick(cursor)
                request = result.run_requests[0] if result.run_requests else None
                cursor = result.cursor or cursor
            assert request is not None, "the sensor saw no new telemetry commit"
            run = job.execute_in_process(
                instance=instance, asset_selection=request.asset_selection, raise_on_error=False,
                tags={**request.tags, "dagster/run_key": request.run_key or ""})
            assert run.success, [e.message for e in run.get_step_failure_events()]
            row = _row(paths, "select last_telemetry_at, device_alerts_30d, device_status, "
                              "last_device_alert_at from main.customer_360 where customer_id = ?", customer_id)
            timeline = _row(paths, "select event_type, summary from main.customer_timeline "
                                   "where customer_id = ? and ref = ?", customer_id,
                            f"iot/telemetry/{reading['event_id']}")
            elapsed = time.monotonic() - published
        finally:
            assert stop(consumer) == 0

        alert_at = dt.datetime.strptime(str(reading["ts"]), "%Y-%m-%dT%H:%M:%SZ")
        assert row is not None
        assert row["last_telemetry_at"] == alert_at
        assert row["last_device_alert_at"] == alert_at
        assert row["device_alerts_30d"] >= 1
        assert row["device_status"] == "alerting"
        assert timeline == {"event_type": "device_alert", "summary": f'Alert ["overheat"] on {device_id}'}
        assert elapsed < BUDGET_S, f"visible after {elapsed:.1f}s"

        # Only the near-real-time slice ran: identity and the rest of the graph did not.
        materialized = {e.asset_key for e in run.get_asset_materialization_events()}
        assert materialized == set(NEAR_REAL_TIME)
        print(f"alert visible in customer_360 {elapsed:.1f}s after publish")

    # Outbound: the slice's run put the alert and the customer's new device status in the outbox;
    # delivered, each subscriber gets only what its subscription allows.
    outbox = Outbox(outbox_path(paths.state))
    scene = _Subscriber(broker)
    try:
        time.sleep(0.5)
        subscriptions = {s.subscriber: s for s in load()}
        sent = deliver(outbox, list(subscriptions.values()), "127.0.0.1", broker.port)
        deadline = time.monotonic() + 10
        while len(scene.received) < sum(sent.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scene.close()
        outbox.close()
    alerts = [(t, p, i) for t, p, i in scene.received if p["topic"] == "device.alert"]
    assert [t for t, _, _ in alerts] == ["hub/events/field_service/device.alert"]
    _, alert, delivered_id = alerts[0]
    assert set(alert) == {*ENVELOPE, *subscriptions["field_service"].topics["device.alert"]}
    assert alert["event_id"] == delivered_id
    assert (alert["customer_id"], alert["device_id"], alert["alerts"]) == (customer_id, device_id, ["overheat"])
    updates = [p for t, p, _ in scene.received if p["topic"] == "customer.updated" and p["customer_id"] == customer_id]
    assert len(updates) == 1 and "device_status" in updates[0]["changed"]
    assert updates[0]["device_status"] == "alerting"
    assert set(updates[0]) <= {*ENVELOPE, *subscriptions["account_management"].topics["customer.updated"]}
