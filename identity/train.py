"""Estimate the identity model's parameters: a separate, rarely run step.

1. The prior (how likely two random records match) from deterministic rules on clean
   identifiers, corrected for their assumed recall.
2. u-probabilities from random record pairs (almost all non-matches).
3. m-probabilities from *anchor pairs*, with expectation maximisation as a complement.

Why anchors rather than EM alone: EM fits a two-class mixture to whatever pairs its
blocking rule produces. Blocked on surname or street, the pairs are mostly household
members, and EM happily learns "same surname and address, different first name" as the
match class; how good a model is then depends on which blocks someone picked. Anchors
are pairs that share a clean email, phone or national ID (merge protection has already
removed shared ones), so they are matches with very few exceptions. m for a comparison
is measured on anchors found *through other identifiers* (the email comparison learns
from phone and national-ID anchors), so no comparison is judged by pairs selected for
agreeing on it. Comparisons the anchors see too rarely keep a conservative prior. EM
sessions on the configured blocks still run, as a check: how far EM drifts from the
anchors is recorded per comparison in the model metadata (a large drift means the EM
blocks are dominated by something else, typically households).

Training sees the features *after* merge protection, so shared mailboxes and household
landlines never teach the model that agreeing on them means a match, and it trains on the
columns they fill (identity/columns.py): a file without emails gets a model without the
email comparison, its blocking rule and its EM block. ``train`` is the one call that trains
and stores a model; everything that needs one (the asset, the CLI, a first run) calls it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import polars as pl

from identity import columns, model_store
from identity.settings import (
    DETERMINISTIC_RULES,
    FALLBACK_DETERMINISTIC_RULES,
    IdentityConfig,
    blocking_rule,
    deterministic_rules,
    em_blocks,
    rule_columns,
    splink_settings,
)

log = logging.getLogger(__name__)
ANCHORS = ("email", "phone", "national_id", "social_handle")
# Pseudo-counts of the prior m distribution: small, so data dominates once seen.
PRIOR_WEIGHT = 10.0
MIN_ANCHOR_PAIRS = 50


def tf_tables(features: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Relative frequency of each value, the term-frequency lookups Splink adjusts with."""
    out = {}
    for col in model_store.TF_COLUMNS:
        counts = features.select(col).drop_nulls().group_by(col).len()
        total = max(1, int(counts["len"].sum()))
        out[col] = counts.select(col, (pl.col("len") / total).alias(f"tf_{col}")).sort(col)
    return out


def sample(features: pl.DataFrame, max_records: int, seed: int) -> pl.DataFrame:
    """At most ``max_records`` records, numbered by their key: the same records in any order
    give the same sample and the same uids, and Splink picks its random pairs by hashing
    uids, so the same input trains the same model (a warehouse table has no row order)."""
    keys = [c for c in ("source", "source_record_id") if c in features.columns]
    data = features.sort(keys or "uid").drop("uid").with_row_index("uid")
    data = data.with_columns(pl.col("uid").cast(pl.Int64))
    if data.height <= max_records:
        return data
    return data.sample(n=max_records, seed=seed).sort("uid")


def _anchor_gammas(linker: Any, registered: Any, anchors: tuple[str, ...]) -> pl.DataFrame:
    """Comparison vectors of every pair sharing a clean email, phone or national ID."""
    if not anchors:
        return pl.DataFrame()
    # gamma_ columns are only retained with both flags on.
    linker._settings_obj._retain_intermediate_calculation_columns = True
    linker._settings_obj._retain_matching_columns = True
    try:
        df = linker.inference.predict_within(
            registered, blocking_rules_to_generate_predictions=[blocking_rule((a,)) for a in anchors],
            warning_mode="never")
    finally:
        linker._settings_obj._retain_intermediate_calculation_columns = False
        linker._settings_obj._retain_matching_columns = False
    rel = df.as_duckdbpyrelation()
    out = rel.select(", ".join(c for c in rel.columns if c.startswith("gamma_"))).pl()
    df.drop_table_from_database_and_remove_from_cache()
    return out


def _exact_gamma(linker: Any, comparison: str) -> int:
    cc = next(c for c in linker._settings_obj.comparisons if c.output_column_name == comparison)
    return cc._comparison_levels_excluding_null[0].comparison_vector_value


def _floor_unobserved_u(linker: Any, pairs: int) -> None:
    """A level never seen among ``pairs`` random pairs gets u = 1 / (2 * pairs).

    Splink leaves such levels untrained and, after a save and load, falls back to a
    generic default (around 1e-3): an exact phone match would then weigh 10 bits
    instead of 20. Not seen in a million pairs means rarer than one in a million. An "all
    other" level never seen (no random pair had the column on both sides, as social handles
    in data without them) is what nearly every non-match is: u = 1, not rare.
    """
    for cc in linker._settings_obj.comparisons:
        for cl in cc._comparison_levels_excluding_null:
            if not isinstance(cl._u_probability, float) or cl._u_probability <= 0:
                cl.u_probability = 1.0 if cl._is_else_level else 0.5 / pairs


def _trust_lone_identifier(linker: Any, identifier: str, pairs: int) -> None:
    """The only identifier in a model (a file of emails, or names and phones) gets the u of
    an unseen level on its exact match: two people never share a clean identifier, which
    merge protection makes true and the anchors assume.

    Random pairs estimate how often two records agree, matches included. Where other
    evidence comes with the identifier, that hardly matters; alone, agreement among
    random pairs is mostly the matches themselves, u comes out near the prior, and an
    exact email would weigh no more than the prior weighs against it (p = 0.5). With two
    identifiers or more each is anchored by the others and keeps what the pairs say.
    """
    cc = next(c for c in linker._settings_obj.comparisons if c.output_column_name == identifier)
    exact = cc._comparison_levels_excluding_null[0]
    exact.u_probability = min(exact.u_probability, 0.5 / pairs)


def _prior(n_levels: int) -> list[float]:
    """Splink's default m: most mass on the first (most similar) level."""
    if n_levels == 1:
        return [1.0]
    return [0.95] + [0.05 / (n_levels - 1)] * (n_levels - 1)


def _set_m_from_anchors(linker: Any, gammas: pl.DataFrame, anchors: tuple[str, ...]
                        ) -> dict[str, dict[str, Any]]:
    """Overwrite m with anchor estimates where anchors are numerous; report per comparison."""
    agree = {a: pl.col(f"gamma_{a}") == _exact_gamma(linker, a) for a in anchors}
    report = {}
    for cc in linker._settings_obj.comparisons:
        name = cc.output_column_name
        others = [agree[a] for a in anchors if a != name]
        col = f"gamma_{name}"
        pairs = (gammas.filter(pl.any_horizontal(others) & (pl.col(col) >= 0)) if others
                 else pl.DataFrame(schema={col: pl.Int64}))
        counts = dict(pairs.group_by(col).len().iter_rows())
        levels = cc._comparison_levels_excluding_null
        prior = _prior(len(levels))
        n = pairs.height
        em_m = {cl.label_for_charts: cl.m_probability for cl in levels}
        if n >= MIN_ANCHOR_PAIRS:
            for cl, p in zip(levels, prior, strict=True):
                k = counts.get(cl.comparison_vector_value, 0)
                cl.m_probability = (k + PRIOR_WEIGHT * p) / (n + PRIOR_WEIGHT)
            source = "anchors"
        else:
            # Too rare to learn from (a national ID is in one source only): a conservative
            # prior, not EM, so the model does not depend on which EM blocks were chosen.
            for cl, p in zip(levels, prior, strict=True):
                cl.m_probability = p
            source = "prior"
        drift = max((abs(cl.m_probability - em_m[cl.label_for_charts])
                     for cl in levels if isinstance(em_m[cl.label_for_charts], float)), default=0.0)
        report[name] = {"m_from": source, "anchor_pairs": n,
                        "em_drift": round(drift, 4) if source == "anchors" else None}
    return report


def _estimate_prior(linker: Any, usage: columns.ColumnUsage, config: IdentityConfig
                    ) -> list[tuple[str, ...] | str]:
    """Estimate the prior from the deterministic rules on usable columns; when they find no
    pair (an identifier only one source keeps), from the fallback rules; else keep Splink's
    default. Returns the rules it was estimated from."""
    tried: list[tuple[str, ...] | str] = []
    for rules in (deterministic_rules(usage),
                  [r for r in FALLBACK_DETERMINISTIC_RULES
                   if usage.uses_all(rule_columns(r))]):
        rules = [r for r in rules if r not in tried]
        if not rules:
            continue
        before = linker._settings_obj._probability_two_random_records_match
        linker.training.estimate_probability_two_random_records_match(
            [blocking_rule(r) for r in rules], recall=config.deterministic_recall)
        if 0 < linker._settings_obj._probability_two_random_records_match < 1:
            return rules
        linker._settings_obj._probability_two_random_records_match = before
        tried += rules
    return []


class TooFewRecords(ValueError):
    """Fewer than two records: no pair to learn from."""


def train(clean: pl.DataFrame, config: IdentityConfig, models_dir: Path, *,
          shared_identifiers: int = 0, make_current: bool = True) -> model_store.Model:
    """Fit a model on merge-protected features ``clean`` and store it under ``models_dir``
    (an identical model already stored is that version). The one way a model is trained."""
    if clean.height < 2:
        raise TooFewRecords("too few records to train on")
    settings, meta = _fit(clean, config)
    meta["shared_identifiers"] = shared_identifiers
    tf = tf_tables(clean) if "name" in meta["columns"]["used"] else {}
    return model_store.save(models_dir, settings, tf, meta, make_current)


def train_on_records(records: pl.DataFrame, config: IdentityConfig, models_dir: Path,
                     make_current: bool = True) -> model_store.Model:
    """Features, merge protection, then ``train``: from canonical records to a stored model."""
    from identity import comparison_columns, evidence

    feats = comparison_columns.build(records)
    shared = evidence.find_shared(feats, config)
    return train(evidence.without_shared(feats, shared), config, models_dir,
                 shared_identifiers=shared.height, make_current=make_current)


def _fit(clean: pl.DataFrame, config: IdentityConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trained Splink settings dict, training metadata) from merge-protected features,
    on the columns they fill (identity/columns.py)."""
    from splink import DuckDBAPI, Linker
    from splink.internals.exceptions import EMTrainingException, SplinkException

    from identity.comparison_columns import MATCH_COLUMNS

    started = time.perf_counter()
    usage = columns.measure(clean, config.unused_when_empty)
    columns.require_identifying(usage)
    data = sample(clean, config.train_max_records, config.train_seed)
    db_api = DuckDBAPI()
    registered = db_api.register(data.select(MATCH_COLUMNS).to_arrow())
    linker = Linker(registered, splink_settings(usage), log_level=logging.ERROR)
    used = {c.output_column_name for c in linker._settings_obj.comparisons}
    if "name" in used:
        for col, table in tf_tables(data).items():
            linker.table_management.register_term_frequency_lookup(
                db_api.register(table.to_arrow()), col)
    rules = _estimate_prior(linker, usage, config)
    # One pass over the sampled pairs per comparison: in chunks, Splink stops early only once
    # every level is seen 100 times, which an exact phone or email match among random
    # pairs never is, so it ran a probe and then all ten chunks (11 queries instead of 1).
    linker.training.estimate_u_using_random_sampling(
        max_pairs=config.train_random_pairs, seed=config.train_seed, num_chunks=1)
    _floor_unobserved_u(linker, config.train_random_pairs)
    blocks = em_blocks(usage, config.em_blocks)
    skipped: list[tuple[str, ...] | str] = []
    degenerate: list[tuple[str, ...] | str] = []
    for block in blocks:
        # A session that fails has already taken its blocked comparisons out of the
        # linker's settings (Splink restores them only on success): put them back.
        before = linker._settings_obj.core_model_settings.copy()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                blocking_rule(block), estimate_without_term_frequencies=True, max_pairs=2e6)
        except EMTrainingException:
            # A block with (almost) no pairs: EM is a check here, the anchors decide m.
            linker._settings_obj.core_model_settings = before
            skipped.append(block)
        except SplinkException:
            # A block whose every pair agrees on everything (duplicates copied verbatim)
            # drives EM's match share to 1 and its log-odds to infinity, which Splink's SQL
            # cannot hold. The check has nothing to say there; the anchors still decide m.
            linker._settings_obj.core_model_settings = before
            degenerate.append(block)
    anchors = tuple(a for a in ANCHORS if a in used)
    report = _set_m_from_anchors(linker, _anchor_gammas(linker, registered, anchors), anchors)
    if len(anchors) == 1:
        _trust_lone_identifier(linker, anchors[0], config.train_random_pairs)
        report[anchors[0]]["u_from"] = "merge protection"
    settings = linker.misc.save_model_to_json()
    # A random name Splink gives each linker: not part of the model, and it would make two
    # trainings on the same input two different models.
    settings.pop("linker_uid", None)

    def listed(rs: list[tuple[str, ...] | str]) -> list[list[str] | str]:
        return [list(r) if isinstance(r, tuple) else r for r in rs]

    meta = {
        "trained_records": data.height,
        "input_records": clean.height,
        "columns": usage.as_meta(),
        "em_blocks": listed([b for b in blocks if b not in skipped + degenerate]),
        **({"em_blocks_without_pairs": listed(skipped)} if skipped else {}),
        **({"em_blocks_all_agreeing": listed(degenerate)} if degenerate else {}),
        **({"prior_rules": listed(rules)} if rules != list(DETERMINISTIC_RULES) else {}),
        "probability_two_random_records_match": settings["probability_two_random_records_match"],
        "comparisons": report,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return settings, meta
