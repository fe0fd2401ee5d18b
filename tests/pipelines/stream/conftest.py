from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipelines.stream.mosquitto import Mosquitto
from warehouse.layout import HubPaths


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stream_paths(hub_paths: HubPaths, tiny_world: Path) -> HubPaths:
    """A data root whose world is the session's tiny world (its device registry)."""
    (hub_paths.root / "world").symlink_to(tiny_world, target_is_directory=True)
    return hub_paths
