"""Faults against a real Mosquitto; each compares bronze with the publisher's log by message ID."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from pathlib import Path

from deltalake import DeltaTable

from pipelines.stream.iot_consumer import IotStreamConsumer, StreamOptions
from tests.pipelines.stream.landed import (
    assert_exactly_once,
    landed,
    publish_in_background,
    published,
    start_consumer,
    stop,
    wait_until_landed,
)
from tests.pipelines.stream.mosquitto import Mosquitto
from warehouse.layout import HubPaths


def _under_way(paths: HubPaths, rows: int = 300, timeout_s: float = 90) -> int:
    """Wait until part of the stream has landed (the publisher's start-up varies with the load)."""
    deadline = time.monotonic() + timeout_s
    while (count := sum(landed(paths).bronze.values())) < rows and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def test_kill_9_mid_stream_then_restart_lands_everything_once(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    out, log = tmp_path / "consumer.log", tmp_path / "published.jsonl"
    consumer = start_consumer(stream_paths, broker.url, out)
    publisher = publish_in_background(stream_paths, broker.url, log, rate=500, seconds=5)
    before = _under_way(stream_paths)
    killed_at = dt.datetime.now(dt.UTC)
    consumer.kill()  # SIGKILL: no flush, no disconnect, acks of the batch in hand never sent
    consumer.wait()
    assert before > 0, "the consumer had landed part of the stream before it was killed"
    restarted = start_consumer(stream_paths, broker.url, out)
    back_at = dt.datetime.now(dt.UTC)
    assert publisher.wait(timeout=120) == 0
    wait_until_landed(log, stream_paths)
    assert stop(restarted) == 0, out.read_text()[-3000:]
    counts = assert_exactly_once(log, stream_paths)
    assert counts["ids"] > before
    # The broker queued what was published while no consumer was there.
    assert any(killed_at < dt.datetime.fromisoformat(str(r["published_at"])) < back_at for r in published(log))


def test_broker_restart_mid_stream_loses_nothing_and_duplicates_nothing(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    out, log = tmp_path / "consumer.log", tmp_path / "published.jsonl"
    consumer = start_consumer(stream_paths, broker.url, out)
    publisher = publish_in_background(stream_paths, broker.url, log, rate=300, seconds=6)
    assert _under_way(stream_paths) > 0
    broker.restart(down_for_s=1)
    assert publisher.wait(timeout=180) == 0
    wait_until_landed(log, stream_paths)
    assert stop(consumer) == 0, out.read_text()[-3000:]
    assert "reconnecting with backoff" in out.read_text()
    assert "session resumed" in out.read_text()
    assert_exactly_once(log, stream_paths)


class _Disk:
    """Injected storage faults: commits from ``fail_from`` raise like a full disk, or stall."""

    def __init__(self, fail_from: int, stall_s: float = 0.0) -> None:
        self.fail_from, self.stall_s = fail_from, stall_s
        self.failures = 0
        self.healthy = threading.Event()

    def __call__(self, commit: int) -> None:
        if commit >= self.fail_from and not self.healthy.is_set():
            if self.stall_s:
                time.sleep(self.stall_s)
            self.failures += 1
            raise OSError(28, "No space left on device")

    def wait_for_failures(self, count: int, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while self.failures < count and time.monotonic() < deadline:
            time.sleep(0.1)


def _consume(paths: HubPaths, broker: Mosquitto, disk: _Disk | None
             ) -> tuple[IotStreamConsumer, threading.Thread]:
    consumer = IotStreamConsumer(paths, StreamOptions("127.0.0.1", broker.port, retry_max_s=1.0),
                                 before_commit=disk)

    def run() -> None:
        # SystemExit: stopped while the disk was failing, so it exits without acknowledging.
        with contextlib.suppress(SystemExit):
            consumer.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert consumer.subscribed.wait(30), "the consumer did not subscribe"
    return consumer, thread


def _finish(consumer: IotStreamConsumer, thread: threading.Thread, log: Path, paths: HubPaths) -> None:
    """Once everything published has landed, stop the consumer (it flushes) and wait for it."""
    wait_until_landed(log, paths)
    consumer.stop.set()
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_a_failing_delta_write_is_not_acknowledged_and_resumes_without_loss(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    log = tmp_path / "published.jsonl"
    table = stream_paths.bronze_table("iot", "telemetry")
    # A disk that fills up from the third commit on, and stalls each attempt half a second.
    disk = _Disk(fail_from=3, stall_s=0.5)
    first, thread = _consume(stream_paths, broker, disk)
    publisher = publish_in_background(stream_paths, broker.url, log, rate=300, seconds=3)
    disk.wait_for_failures(3)
    assert disk.failures >= 3 and first.stats.failed_commits >= 3
    rows_while_failing = DeltaTable(str(table)).to_pyarrow_dataset().count_rows()
    time.sleep(1.5)  # a retry or more, none of which commits
    assert DeltaTable(str(table)).to_pyarrow_dataset().count_rows() == rows_while_failing
    # The process dies while the disk is still full: whatever it held was never acknowledged.
    first.stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert publisher.wait(timeout=120) == 0

    # A new consumer on a healthy disk gets every unacknowledged message again from the broker.
    second, thread = _consume(stream_paths, broker, None)
    _finish(second, thread, log, stream_paths)
    assert second.stats.received > 0
    assert_exactly_once(log, stream_paths)


def test_a_stalled_write_that_recovers_lands_everything_once(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    log = tmp_path / "published.jsonl"
    disk = _Disk(fail_from=2, stall_s=1.0)
    consumer, thread = _consume(stream_paths, broker, disk)
    publisher = publish_in_background(stream_paths, broker.url, log, rate=300, seconds=3)
    disk.wait_for_failures(2)
    disk.healthy.set()  # space freed: the consumer's retry goes through
    assert publisher.wait(timeout=120) == 0
    _finish(consumer, thread, log, stream_paths)
    assert consumer.stats.failed_commits >= 1
    assert_exactly_once(log, stream_paths)
