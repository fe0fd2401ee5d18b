"""One identity run: canonical records in, stable customer IDs, graph history and events out.

    canonical -> features -> merge protection -> score pairs -> cluster -> place lone
    records -> carry IDs forward -> graph + changes -> state for the next run

A run is *full* (identity/full_run.py) when there is no previous state or the model or
settings changed, and *incremental* otherwise (identity/incremental.py): only new and
changed records (and records whose identifiers became shared or unshared) are scored, and
only the part of the graph they touch is re-clustered. Both give the same result, because
each stage is a deterministic function of the scored pairs, and a pair's score does not
depend on which other records exist (term frequencies are frozen with the model). What
both share lives in identity/runs.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import polars as pl

from identity import evidence, full_run, incremental, run_state, runs
from identity.model_store import Model
from identity.run_state import State
from identity.runs import RunResult
from identity.settings import IdentityConfig

__all__ = ["RunResult", "run"]


def run(canonical: pl.DataFrame, state_dir: Path, model: Model | None, config: IdentityConfig,
        overrides: pl.DataFrame | None = None, run_id: str | None = None,
        ts: dt.datetime | None = None, full: bool = False,
        models_dir: Path | None = None) -> RunResult:
    """Resolve ``canonical`` records against the state in ``state_dir`` and update it.

    Without a ``model``, one is trained on these records (after merge protection) and
    saved as a new version under ``models_dir``: the bootstrap for a first run.
    """
    clock = runs.Clock()
    ts = ts or dt.datetime.now(dt.UTC)
    run_id = run_id or f"{ts:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    overrides = overrides if overrides is not None else evidence.load_overrides(None)
    canon = runs.with_row_hash(canonical)
    previous_meta = State(state_dir).meta if run_state.exists(state_dir) else None
    if (not full and model is not None and previous_meta is not None
            and previous_meta.get("settings_key") == runs.settings_key(model, config)):
        return incremental.run(canon, state_dir, model, config, overrides, run_id, ts, clock)
    return full_run.run(canon, state_dir, model, config, overrides, run_id, ts, clock, models_dir)
