"""One small seeded world per test session; tests that mutate it take a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from demo import world

PEOPLE = 300


@pytest.fixture(scope="session")
def world_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("world_a")
    world.generate(root, people=PEOPLE, seed=42)
    return root


@pytest.fixture(scope="session")
def manifest(world_root: Path) -> dict:
    import json

    return json.loads(world.paths(world_root).manifest.read_text())


@pytest.fixture
def world_copy(world_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "world"
    shutil.copytree(world_root, root)
    return root
