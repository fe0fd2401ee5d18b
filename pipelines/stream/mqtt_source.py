"""An MQTT subscription that hands messages over and acknowledges them only when told.

The session is persistent (MQTT 5, ``clean_start`` off, a long session expiry), so the broker
keeps every unacknowledged QoS 1 message for this client ID while it is away, a kill -9
included, and sends them again when it returns. Acknowledgement is manual: the consumer acks
a message after its Delta commit, never on receipt. The MQTT 5 receive maximum caps the
messages the broker sends before they are acknowledged, which is the backpressure: a slow
commit stops the flow at the broker instead of filling this process's memory.

A connection lost (a broker restart) is retried with exponential backoff by paho's loop.
Messages received on a connection that has since dropped are never acknowledged: their
packet IDs belong to the old connection, and the broker sends them again on the new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger("hub.stream")

SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps the session (and its queue) this long


@dataclass(frozen=True)
class Delivery:
    """One message as received: what it says, and what acknowledging it needs."""

    mid: int
    qos: int
    generation: int  # the connection it came on
    topic: str
    payload: bytes
    message_id: str
    sent_at: float | None  # the publisher's clock, when it says so
    received_at: float


def message_id_of(payload: bytes, properties: dict[str, str]) -> str:
    """The publisher's message ID: the MQTT 5 user property, else the payload's own field.

    A payload with neither (malformed and without properties) is named by its bytes, so a
    redelivery of the same bytes is still the same message.
    """
    if properties.get("message_id"):
        return properties["message_id"]
    try:
        decoded = json.loads(payload)
        if isinstance(decoded, dict) and isinstance(decoded.get("message_id"), str):
            return decoded["message_id"]
    except (ValueError, UnicodeDecodeError):
        pass
    return "sha256:" + hashlib.sha256(payload).hexdigest()[:32]


class MqttSubscription:
    def __init__(self, host: str, port: int, client_id: str, topic: str, max_in_flight: int,
                 keepalive_s: int = 15, max_backoff_s: int = 30) -> None:
        self.host, self.port, self.topic = host, port, topic
        self.deliveries: queue.Queue[Delivery] = queue.Queue(maxsize=max_in_flight)
        self.generation = 0
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.reconnects = 0
        self._keepalive = keepalive_s
        self._max_in_flight = max_in_flight
        self._stopping = False
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        client.manual_ack_set(True)
        client.reconnect_delay_set(1, max_backoff_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = min(self._max_in_flight, 65535)
        self.client.connect_async(self.host, self.port, keepalive=self._keepalive,
                                  clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect; the session and its unacknowledged messages stay with the broker."""
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    def ack(self, deliveries: list[Delivery]) -> int:
        """PUBACK, in receive order, what came on the live connection; returns how many."""
        acked = 0
        for d in deliveries:
            if d.generation == self.generation and self.connected.is_set():
                self.client.ack(d.mid, d.qos)
                acked += 1
        return acked

    def _on_connect(self, client: mqtt.Client, _userdata: object, flags: mqtt.ConnectFlags,
                    reason: ReasonCode, _props: Properties | None) -> None:
        if reason.is_failure:
            log.warning("stream: broker %s:%s refused the connection (%s)", self.host, self.port, reason)
            return
        self.generation += 1
        if self.generation > 1:
            self.reconnects += 1
        log.info("stream: connected to %s:%s (session %s)", self.host, self.port,
                 "resumed" if flags.session_present else "new")
        self.connected.set()
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, *_args: object) -> None:
        log.info("stream: subscribed to %s with QoS 1", self.topic)
        self.subscribed.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object,
                       reason: ReasonCode, _props: Properties | None) -> None:
        self.connected.clear()
        if self._stopping:
            return
        log.warning("stream: lost the broker %s:%s (%s); reconnecting with backoff",
                    self.host, self.port, reason)

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        user = dict(getattr(message.properties, "UserProperty", None) or [])
        sent_at = None
        if user.get("sent_at"):
            try:
                sent_at = float(user["sent_at"])
            except ValueError:
                sent_at = None
        # Blocks only if the broker ignored our receive maximum; never drops.
        self.deliveries.put(Delivery(
            mid=message.mid, qos=message.qos, generation=self.generation, topic=message.topic,
            payload=message.payload, message_id=message_id_of(message.payload, user),
            sent_at=sent_at, received_at=time.time(),
        ))
