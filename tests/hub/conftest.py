"""Helpers for tests that run `hub` in a real second process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.layout import PROJECT_ROOT, HubPaths

HUB = str(Path(sys.executable).parent / "hub")


@pytest.fixture
def hub_env(hub_paths: HubPaths, tmp_path: Path) -> dict[str, str]:
    """The environment of a `hub` process on this test's own data root and Dagster instance."""
    landing = tmp_path / "landing"
    for folder in ("social", "iot/registry", "iot/telemetry"):
        (landing / folder).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DAGSTER_"))}
    return {
        **env,
        "HUB_DATA_DIR": str(hub_paths.root),
        "DAGSTER_HOME": str(hub_paths.root / "dagster"),
        "HUB_LANDING_DIR": str(landing),
    }


def run_hub(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HUB, *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
