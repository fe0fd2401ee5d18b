"""Run the whole pipeline (or a selection) in this process against the persistent Dagster instance,
so that runs started from the command line show up in the UI like any other.

A run holds the data root's run lock from start to end (:mod:`hub.run_lock`): a second `hub run`
on the same root is refused at once instead of colliding on the warehouse file."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from hub.run_lock import run_lock
from pipelines.environment import hub_paths
from warehouse.layout import HubPaths

LAUNCHED_BY = "hub run"
DATA_ROOT_TAG = "hub/data_root"
ORPHAN_NOTE = "marked failed by the next `hub run`: its process ended without finishing the run"


def fail_orphaned_runs(instance: dg.DagsterInstance, paths: HubPaths) -> list[str]:
    """Mark failed the runs a killed `hub run` of this data root left in STARTED/STARTING.

    Call only while holding the run lock: then no `hub run` of this root is alive, so every such
    run is an orphan. Runs launched otherwise (the UI, sensors) live in their own processes and
    are left alone."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={"launched_by": LAUNCHED_BY},
        )
    )
    failed = []
    for run in runs:
        if run.tags.get(DATA_ROOT_TAG, str(paths.root)) != str(paths.root):
            continue
        instance.report_run_failed(run, ORPHAN_NOTE)
        failed.append(run.run_id)
        print(f"Run {run.run_id} was left unfinished by a stopped process; marked failed.", flush=True)
    return failed


def _causes(error: SerializableErrorInfo | None) -> Iterator[SerializableErrorInfo]:
    while error is not None:
        yield error
        error = error.cause or error.context


def root_cause(error: SerializableErrorInfo) -> str:
    """The first error in the chain that is not Dagster's wrapper, as one line without its class path.

    Dagster reports a failed step as DagsterExecutionStepExecutionError; the exception the step
    raised is its cause."""
    chain = list(_causes(error))
    own = next((e for e in chain if not (e.cls_name or "").startswith("Dagster")), chain[-1])
    message = own.message.strip()
    prefix, sep, rest = message.partition(": ")
    if sep and prefix.rsplit(".", 1)[-1] == own.cls_name:
        message = rest
    return message.splitlines()[0] if message else (own.cls_name or "unknown error")


def step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """One line per failed step: ``<step> failed: <root cause>``."""
    return [
        f"{event.step_key} failed: {root_cause(event.step_failure_data.error)}"
        for event in result.get_step_failure_events()
        if event.step_failure_data and event.step_failure_data.error
    ]


def _execute(
    instance: dg.DagsterInstance, job: dg.JobDefinition, keys: Sequence[dg.AssetKey], tags: dict[str, Any]
) -> bool:
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance, asset_selection=list(keys), raise_on_error=False,
        tags={"launched_by": LAUNCHED_BY, DATA_ROOT_TAG: str(hub_paths().root), **tags},
        # Naming the logger in run config swaps Dagster's verbose console for one line per step.
        run_config={"loggers": {"console": {}}},
    )
    status = "succeeded" if result.success else "FAILED"
    print(f"Run {result.run_id} {status} in {time.perf_counter() - started:.1f}s", flush=True)
    for line in step_failures(result):
        print(f"  {line}", flush=True)
    return result.success


def run_pipeline(selection: str = "*") -> bool:
    """Materialise ``selection`` in up to three runs: the unpartitioned assets the feature snapshots
    build on, then every day partition of the history in one ranged run (one dbt invocation, not one
    per day), then the unpartitioned assets that read the snapshots (the analysts' published copy).

    Raises :class:`hub.run_lock.RunInProgress` at once if another run holds this data root."""
    paths = hub_paths()
    with run_lock(paths.run_lock, paths.root):
        from pipelines.definitions import defs
        from pipelines.defs.transform.partitions import history_range_tags

        graph = defs.resolve_asset_graph()
        keys = dg.AssetSelection.from_string(selection).resolve(graph)
        job = defs.resolve_implicit_global_asset_job_def()
        parted = sorted(k for k in keys if graph.get(k).partitions_def is not None)
        after = set(dg.AssetSelection.assets(*parted).downstream().resolve(graph)) if parted else set()
        before = sorted(k for k in keys if k not in after and k not in parted)
        last = sorted(k for k in keys if k in after and k not in parted)
        print(f"Materialising {len(before) + len(last)} assets and {len(parted)} partitioned ...", flush=True)
        with dg.DagsterInstance.get() as instance:
            fail_orphaned_runs(instance, paths)
            ok = not before or _execute(instance, job, before, {})
            if ok and parted:
                ok = _execute(instance, job, parted, history_range_tags(paths.warehouse_db))
            if ok and last:
                ok = _execute(instance, job, last, {})
        return ok
