"""Run the whole pipeline (or a selection) in this process against the persistent Dagster instance,
so that runs started from the command line show up in the UI like any other."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import dagster as dg

from warehouse.layout import HubPaths


def _execute(job: dg.JobDefinition, keys: Sequence[dg.AssetKey], tags: dict[str, Any]) -> bool:
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, asset_selection=list(keys), raise_on_error=False,
            tags={"launched_by": "hub run", **tags},
            # Naming the logger in run config swaps Dagster's verbose console for one line per step.
            run_config={"loggers": {"console": {}}},
        )
    status = "succeeded" if result.success else "FAILED"
    print(f"Run {result.run_id} {status} in {time.perf_counter() - started:.1f}s", flush=True)
    return result.success


def run_pipeline(selection: str = "*") -> bool:
    """Materialise ``selection``: unpartitioned assets first, then the day-partitioned feature
    snapshots for the whole history in one ranged run (one dbt invocation, not one per day)."""
    from pipelines.definitions import defs
    from pipelines.defs.transform.partitions import history_range_tags

    graph = defs.resolve_asset_graph()
    keys = dg.AssetSelection.from_string(selection).resolve(graph)
    job = defs.resolve_implicit_global_asset_job_def()
    plain = sorted(k for k in keys if graph.get(k).partitions_def is None)
    parted = sorted(k for k in keys if graph.get(k).partitions_def is not None)
    print(f"Materialising {len(plain)} assets, then {len(parted)} partitioned ...", flush=True)
    ok = not plain or _execute(job, plain, {})
    if ok and parted:
        ok = _execute(job, parted, history_range_tags(HubPaths.from_env().warehouse_db))
    return ok
