"""Run the whole pipeline (or a selection) in this process against the persistent Dagster instance,
so that runs started from the command line show up in the UI like any other."""

from __future__ import annotations

import time

import dagster as dg


def run_pipeline(selection: str = "*") -> bool:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = dg.AssetSelection.from_string(selection).resolve(graph)
    job = defs.resolve_implicit_global_asset_job_def()
    started = time.perf_counter()
    print(f"Materialising {len(keys)} assets ...", flush=True)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, asset_selection=sorted(keys), raise_on_error=False,
            # Naming the logger in run config swaps Dagster's verbose console for one line per step.
            run_config={"loggers": {"console": {}}},
            tags={"launched_by": "hub run"},
        )
    status = "succeeded" if result.success else "FAILED"
    print(f"Run {result.run_id} {status} in {time.perf_counter() - started:.1f}s", flush=True)
    return result.success
