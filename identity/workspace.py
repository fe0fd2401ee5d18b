"""Where identity keeps things, and the steps the CLI and the Dagster assets share.

A workspace is a folder:

    models/       versioned models (v0001/, v0002/ ..., current.json)
    overrides/    steward must-link / cannot-link pairs (*.csv or a Delta table)
    run/          the state of the last run (identity/run_state.py)

The pipeline's workspace is ``$HUB_DATA_DIR/state/identity``; ``hub identity resolve``
keeps one in ``DIR/.identity`` next to its outputs, so re-running it on a changed file
keeps customer IDs stable too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from identity import columns, comparison_columns, evidence, model_store, train
from identity import resolve as resolve_mod
from identity.model_store import Model
from identity.runs import RunResult
from identity.settings import IdentityConfig, blocking_rule, deterministic_rules, restrict

DEFAULT_MODEL = Path(__file__).parent / "config" / "default_model.json"
# Below this many records a model is not trained from the input (too few pairs for u and m
# estimates); the bundled model is used, with its prior and term frequencies refitted.
MIN_TRAINING_RECORDS = 2_000


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def overrides(self) -> Path:
        return self.root / "overrides"

    @property
    def run_state(self) -> Path:
        return self.root / "run"

    def model(self, version: str | None = None) -> Model | None:
        return model_store.load(self.models, version)


def default_model(clean: pl.DataFrame, config: IdentityConfig, models_dir: Path | None = None
                  ) -> Model:
    """The bundled model on the columns ``clean`` fills, with prior and term frequencies
    refitted to ``clean`` features.

    With ``models_dir`` it is stored there as a version that is not made current (so that
    explain can find it, while a later, larger input still trains its own), and reused
    when the same input comes again.
    """
    usage = columns.measure(clean, config.unused_when_empty)
    columns.require_identifying(usage)
    settings = restrict(json.loads(DEFAULT_MODEL.read_text()), usage)
    settings["probability_two_random_records_match"] = _prior(clean, settings, config, usage)
    tf = train.tf_tables(clean) if usage.usable("name") else {}
    meta = {"source": "bundled default, refitted", "columns": usage.as_meta()}
    if models_dir is None:
        return Model(f"default-{model_store.digest(settings, tf)}", settings, tf, meta)
    return model_store.save(models_dir, settings, tf, meta, make_current=False)


def _prior(clean: pl.DataFrame, settings: dict, config: IdentityConfig,
           usage: columns.ColumnUsage) -> float:
    """How likely two random records match, from deterministic rules on this data."""
    from splink import DuckDBAPI, Linker

    rules = deterministic_rules(usage)
    if clean.height < 2 or not rules:
        return settings["probability_two_random_records_match"]
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(clean.select(comparison_columns.MATCH_COLUMNS).to_arrow()), settings,
                    log_level=logging.ERROR)
    try:
        linker.training.estimate_probability_two_random_records_match(
            [blocking_rule(r) for r in rules], recall=config.deterministic_recall)
    except ValueError:  # more deterministic matches than the recall allows: keep the default
        return settings["probability_two_random_records_match"]
    value = linker._settings_obj._probability_two_random_records_match
    return float(min(max(value, 1e-9), 0.5)) if value > 0 else 1e-6


def model_for(ws: Workspace, canonical: pl.DataFrame, config: IdentityConfig,
              retrain: bool = False) -> tuple[Model, str]:
    """(model, how it was obtained) for resolving ``canonical`` in workspace ``ws``."""
    current = None if retrain else ws.model()
    if current is not None:
        return current, f"model {current.version}"
    feats = comparison_columns.build(canonical)
    shared = evidence.find_shared(feats, config)
    clean = evidence.without_shared(feats, shared)
    if clean.height < MIN_TRAINING_RECORDS:
        return default_model(clean, config, ws.models), (
            f"bundled model (fewer than {MIN_TRAINING_RECORDS:,} records to train on)")
    saved = train.train(clean, config, ws.models, shared_identifiers=shared.height)
    return saved, f"model {saved.version}, trained on {clean.height:,} records"


def column_lines(model: Model) -> list[str]:
    """The columns the model uses, and each one it leaves out, one line each."""
    usage = columns.ColumnUsage.from_meta(model.meta.get("columns", {}))
    if usage is not None:
        return usage.lines()
    names = ", ".join(c["output_column_name"] for c in model.settings["comparisons"])
    return [f"comparisons: {names}"]


def overrides(ws: Workspace) -> pl.DataFrame:
    return evidence.load_overrides(ws.overrides)


def resolve(canonical: pl.DataFrame, ws: Workspace, config: IdentityConfig,
            retrain: bool = False, full: bool = False, run_id: str | None = None
            ) -> tuple[RunResult, Model, str]:
    """Resolve ``canonical`` in workspace ``ws``: (RunResult, the model, how it was obtained).

    Raises ``columns.NoUsableColumns`` when the records hold no column to find pairs by.
    """
    columns.require_identifying(columns.measure(canonical, config.unused_when_empty))
    if (retrain or ws.model() is None) and canonical.height >= MIN_TRAINING_RECORDS:
        # The full run trains the model on the features and merge protection it computes
        # anyway (``model_for`` would compute them a second time).
        result = resolve_mod.run(canonical, ws.run_state, None, config, overrides(ws),
                                 run_id=run_id, full=True, models_dir=ws.models)
        assert result.model is not None
        return result, result.model, (f"model {result.model.version}, trained on "
                                      f"{result.records:,} records")
    model, how = model_for(ws, canonical, config, retrain)
    result = resolve_mod.run(canonical, ws.run_state, model, config, overrides(ws), run_id=run_id,
                             full=full or retrain)
    return result, model, how


def pairs_table(result: RunResult, threshold: float) -> pl.DataFrame:
    """Scored pairs at or above ``threshold`` with their record keys (the CLI's pairs.parquet)."""
    state = result.state
    keys = state.keys.select("uid", "source", "source_record_id")
    edges = state.edges.filter(pl.col("match_probability") >= threshold)
    return (edges.join(keys.rename({"uid": "uid_l", "source": "source_l",
                                    "source_record_id": "source_record_id_l"}), on="uid_l")
            .join(keys.rename({"uid": "uid_r", "source": "source_r",
                               "source_record_id": "source_record_id_r"}), on="uid_r")
            .select("source_l", "source_record_id_l", "source_r", "source_record_id_r",
                    "match_probability")
            .sort("source_l", "source_record_id_l", "source_r", "source_record_id_r"))


def clusters_table(result: RunResult) -> pl.DataFrame:
    return result.assignment.select("source", "source_record_id", "customer_id").sort(
        "source", "source_record_id")
