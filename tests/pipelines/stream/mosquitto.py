"""A real Mosquitto broker on a free 127.0.0.1 port, with its own config and persistence."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def mosquitto_binary() -> str:
    """The broker's path; a skip when it is missing, a failure when CI requires it."""
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None)
    if found:
        return found
    message = "mosquitto is not installed (apt-get install -y mosquitto)"
    if os.environ.get("HUB_REQUIRE_MOSQUITTO"):
        pytest.fail(f"HUB_REQUIRE_MOSQUITTO is set but {message}")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    def __init__(self, folder: Path) -> None:
        self.binary = mosquitto_binary()
        self.folder = folder
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        folder.mkdir(parents=True, exist_ok=True)
        # persistence: the queue of an absent consumer survives a broker restart.
        # max_queued_messages: the default (1000) would drop a kill -9'd consumer's backlog.
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "max_queued_messages 1000000\n"
            f"user {getpass.getuser()}\n"
            f"log_dest file {self.log}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "-c", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): the broker saves its sessions and queues."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def restart(self, down_for_s: float = 2.0) -> None:
        self.stop()
        time.sleep(down_for_s)
        self.start()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh broker for one test (import this fixture where a test needs one)."""
    server = Mosquitto(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()
