"""Deliver the outbox to each subscriber over MQTT, at least once.

Each subscriber gets, on ``hub/events/<subscriber>/<topic>``, the events of its topics with
only its allow-listed fields (after the masking step), with QoS 1 and the event ID as the MQTT 5
user property ``event_id``. Its cursor moves past a batch only once the broker acknowledged every
message of it; a crash or a lost broker before that delivers the batch again, and the subscriber
deduplicates by event ID.
"""

from __future__ import annotations

import json
import logging

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pipelines.events.outbox import Outbox
from pipelines.events.subscriptions import Masking, Subscription, no_masking

log = logging.getLogger("hub.events")


class DeliveryError(RuntimeError):
    """The broker did not acknowledge a delivery in time; the cursor did not move."""


def deliver(outbox: Outbox, subscriptions: list[Subscription], host: str, port: int,
            masking: Masking = no_masking, client_id: str = "hub-events", timeout_s: float = 30.0,
            batch: int = 1000) -> dict[str, int]:
    """Send every pending event to its subscribers; returns deliveries per subscriber."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(host, port)
    client.loop_start()
    sent: dict[str, int] = {}
    try:
        for sub in subscriptions:
            sent[sub.subscriber] = 0
            while events := outbox.pending(sub.subscriber, batch):
                infos = []
                for event in events:
                    payload = sub.project(event.topic, event.payload)
                    if payload is None:
                        continue
                    props = Properties(PacketTypes.PUBLISH)
                    props.UserProperty = [("event_id", event.event_id)]
                    body = json.dumps(masking(sub, event.topic, payload), default=str)
                    infos.append(client.publish(sub.delivery_topic(event.topic), body, qos=1, properties=props))
                for info in infos:
                    info.wait_for_publish(timeout=timeout_s)
                    if not info.is_published():
                        raise DeliveryError(f"events: the broker {host}:{port} did not acknowledge a delivery "
                                            f"to {sub.subscriber} within {timeout_s:.0f}s; it will be sent again")
                outbox.mark_delivered(sub.subscriber, events[-1].seq)
                sent[sub.subscriber] += len(infos)
        pruned = outbox.prune(s.subscriber for s in subscriptions)
        log.info("events: delivered %s; %d events left the outbox", sent, pruned)
    finally:
        client.disconnect()
        client.loop_stop()
    return sent
