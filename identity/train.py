"""Estimate the identity model's parameters: a separate, rarely run step.

1. The prior (how likely two random records match) from deterministic rules on clean
   identifiers, corrected for their assumed recall.
2. u-probabilities from random record pairs (almost all non-matches).
3. m-probabilities by expectation maximisation, one session per configured EM block.

Training sees the features *after* merge protection, so shared mailboxes and household
landlines never teach the model that agreeing on them means a match.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import polars as pl

from identity import model as model_store
from identity.settings import DETERMINISTIC_RULES, IdentityConfig, blocking_rule, splink_settings

log = logging.getLogger(__name__)


def tf_tables(features: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Relative frequency of each value, the term-frequency lookups Splink adjusts with."""
    out = {}
    for col in model_store.TF_COLUMNS:
        counts = features.select(col).drop_nulls().group_by(col).len()
        total = max(1, int(counts["len"].sum()))
        out[col] = counts.select(col, (pl.col("len") / total).alias(f"tf_{col}")).sort(col)
    return out


def sample(features: pl.DataFrame, max_records: int, seed: int) -> pl.DataFrame:
    if features.height <= max_records:
        return features
    return features.sample(n=max_records, seed=seed).sort("uid")


def fit(features: pl.DataFrame, config: IdentityConfig,
        em_blocks: tuple[tuple[str, ...] | str, ...] | None = None) -> tuple[dict[str, Any], dict]:
    """(trained Splink settings dict, training metadata) from merge-protected features."""
    from splink import DuckDBAPI, Linker

    started = time.perf_counter()
    data = sample(features, config.train_max_records, config.train_seed)
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(data.to_arrow()), splink_settings(), log_level=logging.WARNING)
    for col, table in tf_tables(data).items():
        linker.table_management.register_term_frequency_lookup(
            db_api.register(table.to_arrow()), col)
    linker.training.estimate_probability_two_random_records_match(
        [blocking_rule(r) for r in DETERMINISTIC_RULES], recall=config.deterministic_recall)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=config.train_random_pairs, seed=config.train_seed)
    blocks = em_blocks or config.em_blocks
    for block in blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(
            blocking_rule(block), estimate_without_term_frequencies=True)
    settings = linker.misc.save_model_to_json()
    meta = {
        "trained_records": data.height,
        "input_records": features.height,
        "em_blocks": [list(b) if isinstance(b, tuple) else b for b in blocks],
        "probability_two_random_records_match": settings["probability_two_random_records_match"],
        "seconds": round(time.perf_counter() - started, 2),
    }
    return settings, meta
