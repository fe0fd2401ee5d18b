"""The installed `hub` runs by its path alone: no uv, no activated venv, no venv on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/bin:/bin"  # holds neither uv nor this venv's scripts


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    return {**env, "PATH": SYSTEM_PATH, "HUB_DATA_DIR": str(tmp_path / "hub")}


def test_hub_help_runs_from_its_path(tmp_path: Path) -> None:
    result = subprocess.run([str(BIN / "hub"), "--help"], env=_env(tmp_path), capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "simulate" in result.stdout and "run" in result.stdout


def test_dbt_is_found_beside_the_interpreter_when_path_lacks_it(tmp_path: Path) -> None:
    probe = ("import subprocess; from pipelines.lib.dbt_project import dbt_executable; "
             "dbt = dbt_executable(); print(dbt); "
             "subprocess.run([dbt, '--version'], check=True, capture_output=True)")
    result = subprocess.run([sys.executable, "-c", probe], env=_env(tmp_path), capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == str(BIN / "dbt")
