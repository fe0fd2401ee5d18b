"""`hub stream iot`: device telemetry from MQTT into bronze, exactly once, within seconds.

Messages are collected into micro-batches (flushed at least every ``flush_interval_s``) and
landed through the same contract, validation and :class:`warehouse.bronze.BronzeLanding` as
the telemetry file drops, so a row from the stream and a row from a file are alike; malformed
payloads go to quarantine with their reason. A message ID already in bronze is dropped (the
IDs are read back from the table at start, so this holds across restarts and kill -9), and a
message is acknowledged only after its batch is committed to Delta. A commit that fails is
not acknowledged: the landing state is rebuilt from the tables (what did commit is then
known) and the same messages are tried again with backoff, while the broker holds the rest.
The small files this makes are compacted and vacuumed every ``compact_every`` commits.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from pipelines.stream.mqtt_source import Delivery, MqttSubscription
from privacy.keys.vault import Vault
from quality.contracts import IOT_TELEMETRY
from quality.row_validation import RawRecord
from warehouse import delta_store
from warehouse.bronze import BronzeLanding, bronze_schema
from warehouse.layout import HubPaths

log = logging.getLogger("hub.stream")

TOPIC = "hub/iot/telemetry/#"


@dataclass(frozen=True)
class StreamOptions:
    host: str
    port: int
    client_id: str = "hub-stream-iot"
    flush_interval_s: float = 0.5  # a micro-batch is committed at least this often
    max_batch: int = 5000
    max_in_flight: int = 20_000  # messages the broker may send before we acknowledge
    idle_exit_s: float | None = None  # stop after this long without a message
    compact_every: int = 120  # commits between compactions (and vacuums)
    vacuum_retention_hours: int = 24
    report_every_s: float = 10.0
    retry_max_s: float = 10.0  # longest wait between attempts at a failing commit


@dataclass
class StreamStats:
    received: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    commits: int = 0
    failed_commits: int = 0
    compactions: int = 0
    reconnects: int = 0
    queue_depth: int = 0
    lag_s_p95: float | None = None  # publish (publisher's clock) to commit, last report window
    lag_s_max: float | None = None
    last_commit_at: str | None = None
    latencies: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("latencies")
        return data


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _record(position: int, payload: bytes) -> RawRecord:
    try:
        return RawRecord(position, payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return RawRecord(position, payload.decode("utf-8", errors="backslashreplace"),
                         f"byte {exc.start}: {exc.reason}")


class IotStreamConsumer:
    """One consumer per data root and client ID; ``run`` returns when ``stop`` is set or idle."""

    def __init__(self, paths: HubPaths, options: StreamOptions,
                 before_commit: Callable[[int], None] | None = None, vault: Vault | None = None) -> None:
        self.paths = paths
        self.vault = vault
        self.options = options
        self.table = paths.bronze_table(IOT_TELEMETRY.source, IOT_TELEMETRY.entity)
        self.status_path = paths.stream_status("iot")
        self.source_uri = f"mqtt://{options.host}:{options.port}/{TOPIC}"
        self.stats = StreamStats()
        self.stop = threading.Event()
        # A seam for fault injection (a stalled or failing disk); called with the commit number.
        self._before_commit = before_commit
        self._run = uuid.uuid4().hex[:8]
        self._landing, self._known = self._restore()
        self.subscribed = threading.Event()

    def _restore(self) -> tuple[BronzeLanding, set[str]]:
        """The landing and the message IDs already in bronze, read back from the tables."""
        _, ids = delta_store.distinct_values_at(self.table, "message_id")
        known = {m for m in ids if m}
        return BronzeLanding(self.paths, IOT_TELEMETRY, vault=self.vault), known

    def run(self) -> StreamStats:
        opts = self.options
        # pyarrow imports pandas on its first from_pylist (seconds on a cold start); pay that
        # before subscribing, not inside the first micro-batch while messages queue up.
        pa.Table.from_pylist([], schema=bronze_schema(IOT_TELEMETRY))
        sub = MqttSubscription(opts.host, opts.port, opts.client_id, TOPIC, opts.max_in_flight)
        sub.subscribed = self.subscribed
        sub.start()
        log.info("stream iot: consuming %s into %s (%d message IDs already landed)",
                 self.source_uri, self.table, len(self._known))
        last_message = time.monotonic()
        last_report = time.monotonic()
        try:
            while not self.stop.is_set():
                batch = self._collect(sub)
                if batch:
                    last_message = time.monotonic()
                    self._land(sub, batch)
                elif opts.idle_exit_s is not None and time.monotonic() - last_message >= opts.idle_exit_s:
                    log.info("stream iot: no message for %.0fs; exiting", opts.idle_exit_s)
                    break
                self.stats.reconnects = sub.reconnects
                if time.monotonic() - last_report >= opts.report_every_s:
                    last_report = time.monotonic()
                    self._report(sub)
            # Flush what has arrived, so a SIGTERM loses nothing and leaves little to redeliver.
            rest = self._drain(sub)
            if rest:
                self._land(sub, rest)
        finally:
            sub.stop()
            self._report(sub)
        return self.stats

    def _collect(self, sub: MqttSubscription) -> list[Delivery]:
        deadline = time.monotonic() + self.options.flush_interval_s
        batch: list[Delivery] = []
        while len(batch) < self.options.max_batch and not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(sub.deliveries.get(timeout=min(remaining, 0.1)))
            except queue.Empty:
                continue
        return batch

    def _drain(self, sub: MqttSubscription) -> list[Delivery]:
        batch: list[Delivery] = []
        while True:
            try:
                batch.append(sub.deliveries.get_nowait())
            except queue.Empty:
                return batch

    def _land(self, sub: MqttSubscription, batch: list[Delivery]) -> None:
        """Commit the new messages of ``batch``, retrying until it holds, then acknowledge all."""
        delay = 0.5
        while True:
            try:
                self._commit(batch)
                break
            except Exception as exc:  # a disk full or a storage error: hold the acks, retry
                self.stats.failed_commits += 1
                log.error("stream iot: commit failed (%s: %s); %d messages stay unacknowledged, "
                          "retrying in %.1fs", type(exc).__name__, exc, len(batch), delay)
                if self.stop.wait(delay):
                    raise SystemExit(1) from exc
                delay = min(delay * 2, self.options.retry_max_s)
                self._landing, self._known = self._restore()
        done = time.time()
        self.stats.latencies.extend(done - d.sent_at for d in batch if d.sent_at is not None)
        sub.ack(batch)
        if self.stats.commits % self.options.compact_every == 0:
            self._compact()

    def _commit(self, batch: list[Delivery]) -> None:
        fresh: list[Delivery] = []
        seen: set[str] = set()
        for d in batch:
            if d.message_id in self._known or d.message_id in seen:
                continue
            seen.add(d.message_id)
            fresh.append(d)
        duplicates = len(batch) - len(fresh)
        if self._before_commit:
            self._before_commit(self.stats.commits + 1)
        before = (self._landing.report.accepted, self._landing.report.quarantined,
                  self._landing.report.already_loaded)
        if fresh:
            now = dt.datetime.now(dt.UTC)
            self._landing.ingested_at = now
            batch_id = f"mqtt-{self._run}-{now:%Y%m%dT%H%M%S%f}"
            self._landing.add_batch((_record(i, d.payload) for i, d in enumerate(fresh, start=1)),
                                    self.source_uri, batch_id)
            report = self._landing.commit()
            self.stats.last_commit_at = now.isoformat(timespec="milliseconds")
        else:
            report = self._landing.report
        self._known.update(seen)
        self.stats.received += len(batch)
        self.stats.accepted += report.accepted - before[0]
        self.stats.quarantined += report.quarantined - before[1]
        self.stats.duplicates += duplicates + report.already_loaded - before[2]
        self.stats.commits += 1

    def _compact(self) -> None:
        started = time.perf_counter()
        tables = (self.table, self.paths.quarantine_table(IOT_TELEMETRY.source), self.paths.batches)
        removed = 0
        for table in tables:
            removed += delta_store.compact(table)["files_removed"]
            delta_store.vacuum(table, self.options.vacuum_retention_hours)
        self.stats.compactions += 1
        log.info("stream iot: compacted %d small files in %.2fs", removed, time.perf_counter() - started)

    def _report(self, sub: MqttSubscription) -> None:
        s = self.stats
        s.queue_depth = sub.deliveries.qsize()
        s.lag_s_p95 = _percentile(s.latencies, 0.95)
        s.lag_s_max = max(s.latencies) if s.latencies else None
        s.latencies = []
        lag = f"{s.lag_s_p95:.2f}s" if s.lag_s_p95 is not None else "n/a"
        log.info("stream iot: received %d, accepted %d, quarantined %d, duplicates %d, commits %d, "
                 "queue %d, lag p95 %s, reconnects %d", s.received, s.accepted, s.quarantined,
                 s.duplicates, s.commits, s.queue_depth, lag, s.reconnects)
        self.status_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(s.as_dict(), indent=1))
        tmp.replace(self.status_path)


def status(path: Path) -> dict[str, object] | None:
    """The consumer's last report (counters, queue depth, lag), if it has run."""
    return json.loads(path.read_text()) if path.exists() else None
