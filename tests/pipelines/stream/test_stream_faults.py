"""Faults against a real Mosquitto; each compares bronze with the publisher's log by message ID."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from deltalake import DeltaTable

from pipelines.stream.iot_consumer import IotStreamConsumer, StreamOptions
from tests.pipelines.stream.landed import (
    assert_exactly_once,
    landed,
    start_consumer,
    start_publisher,
)
from tests.pipelines.stream.mosquitto import Mosquitto
from warehouse.layout import HubPaths


def test_kill_9_mid_stream_then_restart_lands_everything_once(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    out, log = tmp_path / "consumer.log", tmp_path / "published.jsonl"
    consumer = start_consumer(stream_paths, broker.url, out)
    publisher = start_publisher(stream_paths, broker.url, log, rate=400, seconds=12, out=tmp_path / "pub.log")
    # Kill once part of the stream has landed (the publisher's start-up varies with the load).
    deadline = time.monotonic() + 90
    while sum(landed(stream_paths).bronze.values()) < 300 and time.monotonic() < deadline:
        time.sleep(0.2)
    before = sum(landed(stream_paths).bronze.values())
    consumer.kill()  # SIGKILL: no flush, no disconnect, acks of the batch in hand never sent
    consumer.wait()
    assert before > 0, "the consumer had landed part of the stream before it was killed"
    time.sleep(2)
    restarted = start_consumer(stream_paths, broker.url, out, "--idle-exit", "4")
    assert publisher.wait(timeout=120) == 0, (tmp_path / "pub.log").read_text()
    assert restarted.wait(timeout=120) == 0, out.read_text()[-3000:]
    counts = assert_exactly_once(log, stream_paths)
    assert counts["ids"] > before


def test_broker_restart_mid_stream_loses_nothing_and_duplicates_nothing(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    out, log = tmp_path / "consumer.log", tmp_path / "published.jsonl"
    consumer = start_consumer(stream_paths, broker.url, out, "--idle-exit", "8")
    publisher = start_publisher(stream_paths, broker.url, log, rate=300, seconds=12, out=tmp_path / "pub.log")
    time.sleep(4)
    broker.restart(down_for_s=2)
    assert publisher.wait(timeout=180) == 0, (tmp_path / "pub.log").read_text()
    assert consumer.wait(timeout=180) == 0, out.read_text()[-3000:]
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


def _consume(paths: HubPaths, broker: Mosquitto, disk: _Disk | None, idle_exit_s: float | None
             ) -> tuple[IotStreamConsumer, threading.Thread]:
    consumer = IotStreamConsumer(paths, StreamOptions("127.0.0.1", broker.port, idle_exit_s=idle_exit_s,
                                                      retry_max_s=1.0), before_commit=disk)

    def run() -> None:
        # SystemExit: stopped while the disk was failing, so it exits without acknowledging.
        with contextlib.suppress(SystemExit):
            consumer.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert consumer.subscribed.wait(30), "the consumer did not subscribe"
    return consumer, thread




def test_a_failing_delta_write_is_not_acknowledged_and_resumes_without_loss(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    log = tmp_path / "published.jsonl"
    table = stream_paths.bronze_table("iot", "telemetry")
    # A disk that fills up from the third commit on, and stalls each attempt half a second.
    disk = _Disk(fail_from=3, stall_s=0.5)
    first, thread = _consume(stream_paths, broker, disk, idle_exit_s=None)
    publisher = start_publisher(stream_paths, broker.url, log, rate=300, seconds=6, out=tmp_path / "pub.log")
    deadline = time.monotonic() + 30
    while disk.failures < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert disk.failures >= 3 and first.stats.failed_commits >= 3
    rows_while_failing = DeltaTable(str(table)).to_pyarrow_dataset().count_rows()
    time.sleep(2)
    assert DeltaTable(str(table)).to_pyarrow_dataset().count_rows() == rows_while_failing
    # The process dies while the disk is still full: whatever it held was never acknowledged.
    first.stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert publisher.wait(timeout=120) == 0

    # A new consumer on a healthy disk gets every unacknowledged message again from the broker.
    second, thread = _consume(stream_paths, broker, None, idle_exit_s=4)
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert second.stats.received > 0
    assert_exactly_once(log, stream_paths)


def test_a_stalled_write_that_recovers_lands_everything_once(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    log = tmp_path / "published.jsonl"
    disk = _Disk(fail_from=2, stall_s=1.0)
    consumer, thread = _consume(stream_paths, broker, disk, idle_exit_s=5)
    publisher = start_publisher(stream_paths, broker.url, log, rate=300, seconds=6, out=tmp_path / "pub.log")
    deadline = time.monotonic() + 90
    while disk.failures < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    disk.healthy.set()  # space freed: the consumer's retry goes through
    assert publisher.wait(timeout=120) == 0
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert consumer.stats.failed_commits >= 1
    assert_exactly_once(log, stream_paths)
