"""`hub simulate --stream` into `hub stream iot` through a real Mosquitto: exactly once."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from pathlib import Path

from deltalake import DeltaTable

from pipelines.stream.iot_consumer import IotStreamConsumer, StreamOptions
from tests.pipelines.stream.landed import (
    assert_exactly_once,
    publish_in_background,
    published,
    start_consumer,
    start_publisher,
    stop,
    wait_until_landed,
)
from tests.pipelines.stream.mosquitto import Mosquitto
from warehouse.layout import HubPaths


def test_stream_lands_every_message_once_and_quarantines_malformed(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    out, log = tmp_path / "consumer.log", tmp_path / "published.jsonl"
    consumer = start_consumer(stream_paths, broker.url, out)
    publisher = start_publisher(stream_paths, broker.url, log, rate=400, seconds=6, out=tmp_path / "pub.log")
    assert publisher.wait(timeout=120) == 0, (tmp_path / "pub.log").read_text()
    wait_until_landed(log, stream_paths)
    assert stop(consumer) == 0, out.read_text()[-3000:]

    lines = published(log)
    assert set(lines[0]) == {"message_id", "device_id", "published_at", "malformed"}
    redelivered = [m for m, n in Counter(r["message_id"] for r in lines).items() if n > 1]
    assert redelivered, "the fleet re-sends some messages under the same ID"
    counts = assert_exactly_once(log, stream_paths)
    assert counts["malformed"] > 0

    quarantine = DeltaTable(str(stream_paths.quarantine_table("iot"))).to_pyarrow_table().to_pylist()
    rules = {r["_rule"] for r in quarantine}
    assert rules <= {"malformed_json", "missing_required"} and "malformed_json" in rules
    assert all(r["_error"].startswith("iot/telemetry mqtt://127.0.0.1:") for r in quarantine)

    bronze = DeltaTable(str(stream_paths.bronze_table("iot", "telemetry"))).to_pyarrow_table()
    # Alike the file path: the contract's columns and the lineage columns, typed.
    assert {"event_id", "device_id", "ts", "metrics", "alerts", "message_id", "_ingested_at",
            "_batch_id", "_record_hash"} <= set(bronze.column_names)
    assert bronze.schema.field("_ingested_at").type.tz == "UTC"
    assert bronze["_extra"].null_count == bronze.num_rows  # no field outside the contract
    alerts = [json.loads(a) for a in bronze["alerts"].to_pylist()]
    assert sum("overheat" in a for a in alerts) >= 20, "an alert burst reached bronze"

    # A silent device: busy in the first third, then never heard again.
    times = sorted(dt.datetime.fromisoformat(str(r["published_at"])) for r in lines)
    halfway = times[0] + (times[-1] - times[0]) / 2
    last_heard: dict[str, dt.datetime] = {}
    for r in lines:
        at = dt.datetime.fromisoformat(str(r["published_at"]))
        last_heard[str(r["device_id"])] = max(at, last_heard.get(str(r["device_id"]), at))
    assert [d for d, at in last_heard.items() if at < halfway], "one device goes silent"


def test_sigterm_flushes_and_exits_zero_and_a_rerun_adds_nothing(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    out, log = tmp_path / "consumer.log", tmp_path / "published.jsonl"
    consumer = start_consumer(stream_paths, broker.url, out)
    publisher = publish_in_background(stream_paths, broker.url, log, rate=200, seconds=4)
    assert publisher.wait(timeout=120) == 0
    assert stop(consumer) == 0, out.read_text()[-3000:]
    assert_exactly_once(log, stream_paths)
    rows = DeltaTable(str(stream_paths.bronze_table("iot", "telemetry"))).to_pyarrow_dataset().count_rows()

    # The same session again: nothing is redelivered twice into bronze, and --idle-exit ends it.
    again = start_consumer(stream_paths, broker.url, out, "--idle-exit", "2")
    assert again.wait(timeout=60) == 0
    assert DeltaTable(str(stream_paths.bronze_table("iot", "telemetry"))).to_pyarrow_dataset().count_rows() == rows
    status = json.loads(stream_paths.stream_status("iot").read_text())
    assert {"received", "accepted", "quarantined", "duplicates", "queue_depth", "lag_s_p95"} <= set(status)


def test_the_consumer_compacts_and_vacuums_its_small_files(
        stream_paths: HubPaths, broker: Mosquitto, tmp_path: Path) -> None:
    log = tmp_path / "published.jsonl"
    table = stream_paths.bronze_table("iot", "telemetry")
    consumer = IotStreamConsumer(stream_paths, StreamOptions(
        "127.0.0.1", broker.port, idle_exit_s=None, compact_every=4, vacuum_retention_hours=0,
        flush_interval_s=0.2))
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    assert consumer.subscribed.wait(30)
    publisher = publish_in_background(stream_paths, broker.url, log, rate=200, seconds=4)
    assert publisher.wait(timeout=120) == 0
    deadline = time.monotonic() + 60
    while consumer.stats.received < len(published(log)) and time.monotonic() < deadline:
        time.sleep(0.2)
    consumer.stop.set()
    thread.join(timeout=60)
    assert consumer.stats.commits >= 12 and consumer.stats.compactions >= 3
    live = DeltaTable(str(table)).file_uris()
    # Without compaction there would be one file per commit; vacuum left no dead file on disk.
    assert len(live) < consumer.stats.commits / 2
    assert len(list(table.glob("*.parquet"))) == len(live)
    assert_exactly_once(log, stream_paths)


def test_stream_commands_refuse_a_bad_broker_url(hub_paths: HubPaths) -> None:
    import os
    import subprocess

    from tests.pipelines.stream.landed import HUB

    env = {**os.environ, "HUB_DATA_DIR": str(hub_paths.root)}
    cases = [
        (["simulate", "--stream", "--log", "x.jsonl"], "--stream needs --broker"),
        (["simulate", "--stream", "--broker", "http://h:1", "--log", "x.jsonl"], "mqtt://HOST:PORT"),
        (["stream", "iot", "--broker", "127.0.0.1:1883"], "mqtt://HOST:PORT"),
    ]
    # Side by side: each is a cold start of the CLI.
    runs = [(args, message, subprocess.Popen([HUB, *args], env=env, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE, text=True)) for args, message in cases]
    for args, message, proc in runs:
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 2 and message in stderr, (args, stderr)
