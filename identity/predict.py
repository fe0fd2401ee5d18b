"""Score candidate pairs with a trained model (Splink on DuckDB).

``score_all`` scores every blocked pair in one table (a full run). ``score_new`` scores only
pairs that involve new or changed records: new x existing plus new x new, which is what an
incremental run needs. Both use the model's frozen term-frequency tables, so a pair gets
the same score whichever way it was found.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import Any

import polars as pl

from identity.comparison_columns import MATCH_COLUMNS
from identity.model_store import Model

EDGE_SCHEMA = {"uid_l": pl.Int64, "uid_r": pl.Int64, "match_weight": pl.Float64,
               "match_probability": pl.Float64, "other_weight": pl.Float64}


def _linker(tables: list[pl.DataFrame], model: Model, validate: bool = True,
            extra: tuple[str, ...] = ()) -> tuple[Any, Any, list[Any]]:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    registered = [db_api.register(t.select(*MATCH_COLUMNS, *extra).to_arrow()) for t in tables]
    # Per-comparison weights are kept so that an edge records how much of its score the
    # names gave (placement asks whether anything *besides* the name disagrees).
    settings = {**model.settings, "retain_intermediate_calculation_columns": True}
    linker = Linker(registered[0], settings, log_level=logging.WARNING,
                    validate_settings=validate)
    for col, table in model.tf_tables.items():
        linker.table_management.register_term_frequency_lookup(
            db_api.register(table.to_arrow()), col)
    return linker, db_api, registered


def _edges(splink_df: Any, model: Model) -> pl.DataFrame:
    """Scored pairs; ``other_weight`` is the evidence from everything but the names."""
    rel = splink_df.as_duckdbpyrelation()
    lam = model.settings["probability_two_random_records_match"]
    prior = math.log2(lam / (1 - lam))
    # A model on a file without names has no name comparison: everything is "other".
    name = ("mw_name + coalesce(mw_tf_adj_name, 0)" if "mw_tf_adj_name" in rel.columns
            else "mw_name" if "mw_name" in rel.columns else "0")
    out = rel.select(f"uid_l, uid_r, match_weight, match_probability, "
                     f"match_weight - ({name}) - ({prior}) as other_weight").pl()
    splink_df.drop_table_from_database_and_remove_from_cache()
    return _normalise(out)


def _normalise(edges: pl.DataFrame) -> pl.DataFrame:
    """uid_l < uid_r, one row per pair, rounded so reruns compare equal."""
    return (edges.select(
        pl.min_horizontal("uid_l", "uid_r").cast(pl.Int64).alias("uid_l"),
        pl.max_horizontal("uid_l", "uid_r").cast(pl.Int64).alias("uid_r"),
        pl.col("match_weight").cast(pl.Float64).round(6),
        pl.col("match_probability").cast(pl.Float64).round(6),
        pl.col("other_weight").cast(pl.Float64).round(6))
        .unique(subset=["uid_l", "uid_r"], keep="first").sort("uid_l", "uid_r"))


def empty_edges() -> pl.DataFrame:
    return pl.DataFrame(schema=EDGE_SCHEMA)


def score_all(features: pl.DataFrame, model: Model, threshold: float) -> pl.DataFrame:
    """Every blocked pair at or above ``threshold`` (uid_l, uid_r, match_weight, match_probability)."""
    if features.height < 2:
        return empty_edges()
    linker, _, _ = _linker([features], model)
    return _edges(linker.inference.predict(threshold_match_probability=threshold,
                                           warning_mode="never"), model)


def score_new(existing: pl.DataFrame, new: pl.DataFrame, model: Model,
              threshold: float) -> pl.DataFrame:
    """Pairs new x existing and new x new, without rescoring existing x existing.

    One Splink call: the new records on the left, existing and new ones on the right,
    each rule extended so that a pair of two new records counts once (``predict_within``
    plus ``predict_between`` cost a second pipeline, 0.1 s at 1M records). Models whose
    rules are not plain SQL (salted, exploding) take the two calls.
    """
    if new.height == 0:
        return empty_edges()
    rules = _plain_rules(model)
    if rules is None:
        return _score_new_in_two(existing, new, model, threshold)
    flag = "_existing"
    left = new.select(MATCH_COLUMNS).with_columns(pl.lit(False).alias(flag))
    right = pl.concat([existing.select(MATCH_COLUMNS).with_columns(pl.lit(True).alias(flag)), left])
    # Term frequencies of the values at hand only: Splink joins both sides to the tables,
    # and the full-name one holds a row per name in the training data.
    model = replace(model, tf_tables={
        col: table.join(right.select(col).unique(), on=col, how="semi")
        for col, table in model.tf_tables.items()})
    # The model's settings were validated when it was trained and at every full run;
    # an increment skips the check (a tenth of a second of SQL parsing).
    linker, _, registered = _linker([left, right], model, validate=False, extra=(flag,))
    uid = model.settings.get("unique_id_column_name", "unique_id")
    return _normalise(_edges(linker.inference.predict_between(
        registered[0], registered[1],
        blocking_rules_to_generate_predictions=[
            f"({rule}) and (r.{flag} or l.{uid} < r.{uid})" for rule in rules],
        threshold_match_probability=threshold, warning_mode="never"), model))


def _score_new_in_two(existing: pl.DataFrame, new: pl.DataFrame, model: Model,
                      threshold: float) -> pl.DataFrame:
    tables = [new, existing] if existing.height else [new]
    linker, _, registered = _linker(tables, model, validate=False)
    parts = []
    if new.height > 1:
        parts.append(_edges(linker.inference.predict_within(
            registered[0], threshold_match_probability=threshold, warning_mode="never"), model))
    if existing.height:
        parts.append(_edges(linker.inference.predict_between(
            registered[0], registered[1], threshold_match_probability=threshold,
            warning_mode="never"), model))
    return _normalise(pl.concat(parts)) if parts else empty_edges()


def _plain_rules(model: Model) -> list[str] | None:
    """The model's blocking rules as SQL, or None if one is more than a condition."""
    out = []
    for rule in model.settings.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict):
            if set(rule) - {"blocking_rule", "sql_dialect"}:
                return None
            rule = rule["blocking_rule"]
        out.append(str(rule))
    return out
