"""Shared fixtures: every test gets its own data root, so nothing leaks between tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import HubPaths


@pytest.fixture
def hub_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubPaths:
    root = tmp_path / "hub"
    root.mkdir()
    monkeypatch.setenv("HUB_DATA_DIR", str(root))
    return HubPaths(root)
