"""One run at a time per data root, across processes; a killed run leaves nothing that blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from hub.runner import DATA_ROOT_TAG, LAUNCHED_BY, ORPHAN_NOTE, fail_orphaned_runs
from tests.hub.conftest import run_hub
from warehouse.layout import HubPaths

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from hub.run_lock import run_lock
    with run_lock(Path(sys.argv[1]), Path(sys.argv[2])):
        print("held", flush=True)
        time.sleep(600)
    """
)


def _start(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    process.stdout.readline()  # the child says it is ready
    return process


def _kill_9(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_a_second_run_is_refused_at_once_and_a_killed_holder_blocks_nothing(
    hub_paths: HubPaths, hub_env: dict[str, str]
) -> None:
    holder = _start(HOLD_LOCK, str(hub_paths.run_lock), str(hub_paths.root))
    try:
        started = time.perf_counter()
        refused = run_hub(hub_env, "run", "--select", "key:bronze/social/posts", timeout=120)
        elapsed = time.perf_counter() - started
    finally:
        _kill_9(holder)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"a run is in progress on {hub_paths.root} since 20" in refused.stderr
    assert f"(pid {holder.pid} on " in refused.stderr
    assert "Materialising" not in refused.stdout  # refused before anything ran
    assert elapsed < 20, f"refusal took {elapsed:.1f}s"

    # The kernel dropped the dead holder's lock: the next run goes ahead.
    after = run_hub(hub_env, "run", "--select", "key:bronze/social/posts")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "succeeded" in after.stdout


START_A_RUN_AND_HANG = textwrap.dedent(
    """
    import sys, time
    import dagster as dg

    @dg.op
    def wait() -> None:
        print("started", flush=True)
        time.sleep(600)

    @dg.job
    def nightly() -> None:
        wait()

    with dg.DagsterInstance.get() as instance:
        nightly.execute_in_process(instance=instance, tags={"launched_by": sys.argv[1], sys.argv[2]: sys.argv[3]})
    """
)


def _started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run = instance.add_run(DagsterRun(job_name="elsewhere", status=dg.DagsterRunStatus.STARTED, tags=tags))
    return run.run_id


def test_runs_a_killed_hub_run_left_started_are_marked_failed(hub_paths: HubPaths, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    hung = _start(START_A_RUN_AND_HANG, LAUNCHED_BY, DATA_ROOT_TAG, str(hub_paths.root), env=env)
    _kill_9(hung)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        (orphan,) = instance.get_runs(filters=dg.RunsFilter(job_name="nightly"))
        assert orphan.status == dg.DagsterRunStatus.STARTED  # what kill -9 leaves behind
        from_ui = _started_run(instance, {})  # the UI's runs live in their own processes
        other_root = _started_run(instance, {"launched_by": LAUNCHED_BY, DATA_ROOT_TAG: str(tmp_path / "other")})

        assert fail_orphaned_runs(instance, hub_paths) == [orphan.run_id]

        assert instance.get_run_by_id(orphan.run_id).status == dg.DagsterRunStatus.FAILURE
        messages = [e.message for e in instance.all_logs(orphan.run_id)]
        assert ORPHAN_NOTE in messages
        assert instance.get_run_by_id(from_ui).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(other_root).status == dg.DagsterRunStatus.STARTED
        assert fail_orphaned_runs(instance, hub_paths) == []
