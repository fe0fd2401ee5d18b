"""A fleet of connected devices publishing telemetry to an MQTT broker, as real fleets do.

Every message goes out with QoS 1 to ``hub/iot/telemetry/<device_id>`` and carries a
message ID (in the payload and as the MQTT 5 user property ``message_id``). The fleet has
the faults real ones have: some messages are delivered twice under the same ID, some arrive
late with an older timestamp, a few payloads are malformed (cut off, or without a device),
one device goes silent a third of the way in, and now and then a device sends a burst of
alerts. The publisher log gets one JSON line per publish: ``message_id``, ``device_id``,
``published_at`` (ISO UTC) and ``malformed``; tests and benchmarks compare what landed with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from demo import iot
from demo.layout import paths

TOPIC_PREFIX = "hub/iot/telemetry"
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Faults:
    """Shares of messages with each fault; the fleet's habits, not a test's wishes."""

    duplicate: float = 0.01  # re-sent under the same message ID a moment later
    late: float = 0.02  # held back for seconds, so it arrives after newer readings
    malformed: float = 0.005  # cut off mid-payload, or sent without its device
    burst_every_s: float = 10.0  # one device sends a burst of alerts this often
    burst_size: int = 20


@dataclass
class PublishSummary:
    published: int = 0  # publish calls, redeliveries included
    unique_messages: int = 0
    duplicates: int = 0
    late: int = 0
    malformed: int = 0
    alert_bursts: int = 0
    silent_device: str | None = None
    unacknowledged: int = 0  # still without a PUBACK when the publisher gave up waiting
    devices: int = 0
    seconds: float = 0.0


def broker_address(url: str) -> tuple[str, int]:
    """``mqtt://HOST:PORT`` as (host, port); a clear error for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ValueError(f"broker URL {url!r} is not of the form mqtt://HOST:PORT")
    return parts.hostname, parts.port or 1883


def device_ids(world_root: Path) -> list[str]:
    """The connected devices of the world's registry, in a stable order."""
    folder = paths(world_root).iot_registry_landing
    serials: set[str] = set()
    for file in sorted(folder.glob("*.csv")):
        with file.open(newline="", encoding="utf-8") as fh:
            serials.update(row["serial"] for row in csv.DictReader(fh) if row.get("serial"))
    if not serials:
        raise FileNotFoundError(f"no device registry under {folder}; run `hub simulate` first")
    ordered = np.array(sorted(serials), dtype=object)
    return [str(s) for s in ordered[iot.connected(ordered)]]


class _Fleet:
    """Decides what each device says next; seeded, so the same seed tells the same story."""

    def __init__(self, devices: list[str], seconds: float, seed: int, faults: Faults) -> None:
        self.rng = np.random.default_rng(seed)
        self.devices = devices
        self.faults = faults
        self.run = uuid.uuid4().hex[:8]  # IDs stay unique across runs of the same seed
        self.seq = 0
        self.silent = devices[int(self.rng.integers(0, len(devices)))] if len(devices) > 1 else None
        self.silent_after = seconds / 3
        self.usual = dict(zip(devices, iot.base_usage(np.array(devices, dtype=object)), strict=True))
        self.burst: list[str] = []

    def next_id(self) -> str:
        self.seq += 1
        return f"M{self.run}-{self.seq:09d}"

    def pick_device(self, elapsed: float) -> str:
        while True:
            device = self.devices[int(self.rng.integers(0, len(self.devices)))]
            if device != self.silent or elapsed < self.silent_after:
                return device

    def reading(self, device: str, when: float, alert: str | None) -> dict[str, object]:
        usage = max(0, round(self.usual[device] * float(self.rng.lognormal(0, 0.25))))
        temp = round(float(self.rng.normal(21.5, 1.8)) + (18 if alert == "overheat" else 0), 1)
        if alert is None and self.rng.random() < 0.03:
            alert = str(iot.ALERTS[int(self.rng.integers(0, len(iot.ALERTS)))])
        message_id = self.next_id()
        return {
            "message_id": message_id, "event_id": message_id, "device_id": device,
            "ts": dt.datetime.fromtimestamp(when, dt.UTC).strftime(TS_FORMAT),
            "metrics": {"temp_c": temp, "power_w": round(usage * float(self.rng.uniform(1.5, 3.0)), 1),
                        "usage_min": usage},
            "alerts": [alert] if alert else [],
        }

    def malform(self, record: dict[str, object]) -> bytes:
        if self.rng.random() < 0.5:
            text = json.dumps(record, separators=(",", ":"))
            return text[: max(30, len(text) // 2)].encode()  # cut off in transmission
        return json.dumps({k: v for k, v in record.items() if k != "device_id"}).encode()


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    message_id: str = field(compare=False)
    device: str = field(compare=False)
    payload: bytes = field(compare=False)
    malformed: bool = field(compare=False)
    late: bool = field(compare=False, default=False)


def _messages(fleet: _Fleet, elapsed: float) -> Iterator[_Pending]:
    """The next fresh message(s): one reading, or the next of an alert burst."""
    faults = fleet.faults
    if fleet.burst:
        device = fleet.burst.pop()
        record = fleet.reading(device, time.time(), "overheat")
    else:
        device = fleet.pick_device(elapsed)
        record = fleet.reading(device, time.time(), None)
    malformed = fleet.rng.random() < faults.malformed
    payload = fleet.malform(record) if malformed else json.dumps(record, separators=(",", ":")).encode()
    message_id = str(record["message_id"])
    now = time.monotonic()
    late = bool(fleet.rng.random() < faults.late)
    due = now + float(fleet.rng.uniform(1.0, 5.0)) if late else now
    yield _Pending(due, fleet.seq, message_id, device, payload, malformed, late)
    if fleet.rng.random() < faults.duplicate:
        yield _Pending(due + float(fleet.rng.uniform(0.2, 3.0)), -fleet.seq, message_id, device,
                       payload, malformed)


def publish_stream(
    world_root: Path, broker: str, rate: float, seconds: float, log_path: Path, seed: int = 42,
    faults: Faults | None = None, progress: Callable[[str], None] | None = None,
    ack_timeout_s: float = 120.0,
) -> PublishSummary:
    """Publish ``rate`` messages a second for ``seconds``; wait for every PUBACK before returning."""
    if rate <= 0 or seconds <= 0:
        raise ValueError("--rate and --seconds must be positive")
    faults = faults or Faults()
    devices = device_ids(world_root)
    fleet = _Fleet(devices, seconds, seed, faults)
    host, port = broker_address(broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hub-fleet-{fleet.run}",
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.reconnect_delay_set(0.2, 5)
    acked = [0]

    def on_publish(*_args: object) -> None:
        acked[0] += 1

    client.on_publish = on_publish
    client.connect_async(host, port, keepalive=30)
    client.loop_start()
    summary = PublishSummary(devices=len(devices), silent_device=fleet.silent)
    seen: set[str] = set()
    queue: list[_Pending] = []
    next_burst = faults.burst_every_s / 2
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started_mono = time.monotonic()
    last_note = 0.0
    try:
        with log_path.open("a", encoding="utf-8", buffering=1) as log:
            while True:
                elapsed = time.monotonic() - started_mono
                fresh_due = int(rate * min(elapsed, seconds)) - fleet.seq
                if elapsed >= seconds and not queue:
                    break
                if elapsed >= next_burst and elapsed < seconds:
                    fleet.burst = [fleet.pick_device(elapsed)] * faults.burst_size
                    summary.alert_bursts += 1
                    next_burst += faults.burst_every_s
                for _ in range(max(0, fresh_due)):
                    for pending in _messages(fleet, elapsed):
                        heapq.heappush(queue, pending)
                now = time.monotonic()
                while queue and queue[0].due <= now:
                    item = heapq.heappop(queue)
                    props = Properties(PacketTypes.PUBLISH)
                    props.UserProperty = [("message_id", item.message_id), ("sent_at", f"{time.time():.6f}")]
                    client.publish(f"{TOPIC_PREFIX}/{item.device}", item.payload, qos=1,
                                   properties=props)
                    published_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
                    log.write(json.dumps({"message_id": item.message_id, "device_id": item.device,
                                          "published_at": published_at, "malformed": item.malformed}) + "\n")
                    summary.published += 1
                    if item.message_id in seen:
                        summary.duplicates += 1
                    else:
                        seen.add(item.message_id)
                        summary.late += item.late
                        summary.malformed += item.malformed
                if progress and elapsed - last_note >= 5:
                    last_note = elapsed
                    progress(f"  {elapsed:5.0f}s  published {summary.published:,}")
                time.sleep(0.005)
        # A message published while the broker was away is sent on reconnect, so count the
        # PUBACKs rather than wait_for_publish (which gives up on a message queued offline).
        deadline = time.monotonic() + ack_timeout_s
        while acked[0] < summary.published and time.monotonic() < deadline:
            time.sleep(0.05)
        summary.unacknowledged = summary.published - acked[0]
    finally:
        client.loop_stop()
        client.disconnect()
    summary.unique_messages = len(seen)
    summary.seconds = time.monotonic() - started_mono
    return summary
