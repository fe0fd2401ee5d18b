"""What the publisher logged against what reached bronze and quarantine, by message ID."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from deltalake import DeltaTable

from demo.stream import publish_stream
from warehouse.bronze import development_vault
from warehouse.bronze_protection import read_quarantine_opened
from warehouse.layout import HubPaths

HUB = str(Path(sys.executable).parent / "hub")
_MESSAGE_ID = re.compile(r'"message_id":\s*"([^"]+)"')


@dataclass
class Landed:
    bronze: Counter[str]
    quarantine: Counter[str]


def landed(paths: HubPaths) -> Landed:
    table = paths.bronze_table("iot", "telemetry")
    bronze: Counter[str] = Counter()
    if (table / "_delta_log").is_dir():
        bronze.update(DeltaTable(str(table)).to_pyarrow_table(columns=["message_id"])["message_id"].to_pylist())
    quarantine: Counter[str] = Counter()
    # Quarantined payloads are sealed at rest; the consumer's key store opens them.
    q = read_quarantine_opened(paths, "iot", development_vault(paths))
    if q is not None:
        for row in q.select(["_entity", "_raw"]).to_pylist():
            if row["_entity"] == "telemetry":
                found = _MESSAGE_ID.search(row["_raw"])
                quarantine[found.group(1) if found else row["_raw"]] += 1
    return Landed(bronze, quarantine)


def published(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def assert_exactly_once(log: Path, paths: HubPaths) -> dict[str, int]:
    """Every logged message ID is in bronze (or, if malformed, in quarantine) exactly once."""
    lines = published(log)
    good = {str(r["message_id"]) for r in lines if not r["malformed"]}
    bad = {str(r["message_id"]) for r in lines if r["malformed"]}
    got = landed(paths)
    twice = {m: n for m, n in (got.bronze + got.quarantine).items() if n > 1}
    assert not twice, f"landed more than once: {list(twice.items())[:5]}"
    missing = (good - set(got.bronze)) | (bad - set(got.quarantine))
    assert not missing, f"{len(missing)} published messages never landed, e.g. {sorted(missing)[:5]}"
    unexpected = (set(got.bronze) | set(got.quarantine)) - good - bad
    assert not unexpected, f"landed but never published: {sorted(unexpected)[:5]}"
    return {"published": len(lines), "ids": len(good | bad), "malformed": len(bad)}


def wait_until_landed(log: Path, paths: HubPaths, timeout_s: float = 120) -> None:
    """Until every logged message ID is in bronze or quarantine; `assert_exactly_once` then says
    whether each is there once. Call after the publisher exited (its log is complete)."""
    ids = {str(r["message_id"]) for r in published(log)}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = landed(paths)
        if ids <= set(got.bronze) | set(got.quarantine):
            return
        time.sleep(0.2)


def start_consumer(paths: HubPaths, broker: str, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`hub stream iot` as a real process; returns once it has subscribed."""
    env = {**os.environ, "HUB_DATA_DIR": str(paths.root)}
    with out.open("ab") as fh:
        start = fh.tell()
    proc = subprocess.Popen([HUB, "stream", "iot", "--broker", broker, *extra], env=env,
                            stdout=out.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "subscribed to" in out.read_bytes()[start:].decode(errors="replace"):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the consumer did not subscribe:\n{out.read_text()[-3000:]}")


class _Publisher(threading.Thread):
    """`publish_stream` in a thread of the test process: the fleet without a CLI cold start."""

    def __init__(self, world: Path, broker: str, log: Path, rate: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.args = (world, broker, rate, seconds, log)
        self.unacknowledged: int | None = None

    def run(self) -> None:
        self.unacknowledged = publish_stream(*self.args).unacknowledged

    def wait(self, timeout: float) -> int:
        """Like Popen.wait: 0 when the broker acknowledged every message."""
        self.join(timeout)
        return 0 if self.unacknowledged == 0 else 1


def publish_in_background(paths: HubPaths, broker: str, log: Path, rate: int, seconds: float) -> _Publisher:
    publisher = _Publisher(paths.world, broker, log, rate, seconds)
    publisher.start()
    return publisher


def start_publisher(paths: HubPaths, broker: str, log: Path, rate: int, seconds: float,
                    out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HUB_DATA_DIR": str(paths.root)}
    return subprocess.Popen([HUB, "simulate", "--stream", "--broker", broker, "--rate", str(rate),
                             "--seconds", str(seconds), "--log", str(log)], env=env,
                            stdout=out.open("ab"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes], timeout: float = 60) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)
