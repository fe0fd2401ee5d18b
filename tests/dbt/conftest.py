"""Gold fixtures: a small hand-made warehouse and identity graph, and a way to run dbt on them."""

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from warehouse.layout import PROJECT_ROOT, HubPaths

DBT = Path(sys.executable).parent / "dbt"


def identity_graph(rows: list[tuple[str, str, str, float]]) -> pa.Table:
    """Current identity rows (source, source_record_id, customer_id, match_probability)."""
    source, record, customer, probability = (list(c) for c in zip(*rows, strict=True))
    return pa.table({
        "source": source, "source_record_id": record, "customer_id": customer,
        "match_probability": probability,
        "valid_from": pa.array([datetime(2026, 6, 30)] * len(rows), pa.timestamp("us")),
        "valid_to": pa.array([None] * len(rows), pa.timestamp("us")),
    })


def write_identity(paths: HubPaths, rows: list[tuple[str, str, str, float]]) -> None:
    write_deltalake(str(paths.gold / "identity_graph"), identity_graph(rows), mode="overwrite")


@pytest.fixture
def run_dbt(hub_paths: HubPaths, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """dbt against the test's data root, with its own target and log paths (never dbt/target)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [
            str(DBT), *args, "--project-dir", str(PROJECT_ROOT / "dbt"), "--profiles-dir", str(PROJECT_ROOT / "dbt"),
            "--target-path", str(tmp_path / "dbt_target"), "--log-path", str(tmp_path / "dbt_logs"),
        ]
        env = {**os.environ, "HUB_DATA_DIR": str(hub_paths.root), "DO_NOT_TRACK": "1"}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT / "dbt", check=False)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        return done

    return run
