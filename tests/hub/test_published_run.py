"""A real `hub run` succeeds while an analyst holds the published warehouse open, and publishes
the new data beside the analyst's session without disturbing it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from demo import world
from tests.hub.conftest import run_hub
from warehouse.database import DatabaseFile, connect
from warehouse.layout import HubPaths

SELECTION = "key:bronze/social/posts or key:staging/stg_social__posts or key:published/warehouse"
COUNT = "select count(*) from staging.stg_social__posts"
ANALYST = textwrap.dedent(
    f"""
    import sys, duckdb
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach '{{sys.argv[1]}}' as warehouse (encryption_key '{{sys.argv[2]}}', read_only)")
    con.execute("use warehouse")
    for _ in sys.stdin:
        print(con.execute("{COUNT}").fetchone()[0], flush=True)
    """
)


def _ask(analyst: subprocess.Popen[str]) -> int:
    assert analyst.stdin is not None and analyst.stdout is not None
    analyst.stdin.write("?\n")
    analyst.stdin.flush()
    return int(analyst.stdout.readline())


def test_a_run_succeeds_while_an_analyst_reads_the_published_warehouse(
    tiny_world: Path, hub_paths: HubPaths, hub_env: dict[str, str], engineer_copy: DatabaseFile
) -> None:
    shutil.copytree(tiny_world, hub_paths.world)
    env = {**hub_env, "HUB_LANDING_DIR": str(hub_paths.world / "landing")}
    first = run_hub(env, "run", "--select", SELECTION)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "sql --role analyst" in first.stdout

    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(hub_paths.published_db), str(engineer_copy.key)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        before = _ask(analyst)
        assert before > 0
        world.advance(hub_paths.world, days=7)  # new social exports arrive
        second = run_hub(env, "run", "--select", SELECTION)
        assert second.returncode == 0, second.stdout + second.stderr
        assert _ask(analyst) == before  # the open session still reads the copy it opened
        with connect(engineer_copy) as con:
            after = con.execute(COUNT).fetchone()[0]
        assert after > before  # a new session sees the new run's data
    finally:
        analyst.stdin.close()  # type: ignore[union-attr]
        analyst.wait(timeout=10)
    assert analyst.returncode == 0
