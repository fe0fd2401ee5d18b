from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipelines.stream.mosquitto import broker  # noqa: F401 (the fixture)
from warehouse.layout import HubPaths


@pytest.fixture
def stream_paths(hub_paths: HubPaths, tiny_world: Path) -> HubPaths:
    """A data root whose world is the session's tiny world (its device registry)."""
    (hub_paths.root / "world").symlink_to(tiny_world, target_is_directory=True)
    return hub_paths
