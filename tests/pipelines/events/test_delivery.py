"""Delivery through a real Mosquitto: at least once, and a cursor that moves only on PUBACK."""

from __future__ import annotations

import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from pipelines.events.outbox import Outbox
from pipelines.events.publisher import deliver
from pipelines.events.subscriptions import Subscription
from tests.pipelines.stream.mosquitto import Mosquitto


def _alert(n: int) -> dict[str, object]:
    return {"event_id": f"ev{n}", "topic": "device.alert", "occurred_at": "2026-12-04T00:00:00",
            "customer_id": f"C{n}", "device_id": f"D{n}", "alerts": ["overheat"], "temp_c": 40.0}


def _listen(broker: Mosquitto, received: list[dict[str, object]]) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="scene", protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, m: received.append(json.loads(m.payload))
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.subscribe("hub/events/#", qos=1)
    time.sleep(0.3)
    return client


def test_an_unacknowledged_delivery_is_sent_again_under_the_same_event_id(
        broker: Mosquitto, tmp_path: Path) -> None:
    sub = Subscription("scene", {"device.alert": ("customer_id", "alerts")})
    with Outbox(tmp_path / "outbox.sqlite") as outbox:
        with outbox.transaction() as tx:
            assert outbox.add(tx, [_alert(1), _alert(2)]) == 2
            assert outbox.add(tx, [_alert(1)]) == 0  # the same change derived again: stored once
        broker.stop()
        with pytest.raises(OSError):
            deliver(outbox, [sub], "127.0.0.1", broker.port, timeout_s=2)
        assert outbox.delivered("scene") == 0  # nothing acknowledged, nothing passed
        broker.start()
        received: list[dict[str, object]] = []
        client = _listen(broker, received)
        try:
            assert deliver(outbox, [sub], "127.0.0.1", broker.port) == {"scene": 2}
            deadline = time.monotonic() + 10
            while len(received) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            client.disconnect()
            client.loop_stop()
        assert [r["event_id"] for r in received] == ["ev1", "ev2"]
        assert all(set(r) == {"event_id", "topic", "occurred_at", "customer_id", "alerts"} for r in received)
        # Delivered to every subscriber: the events (and the values they carried) leave the outbox.
        assert outbox.pending("scene") == [] and outbox.con.execute("select count(*) from events").fetchone() == (0,)
