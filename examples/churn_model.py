"""Churn model on the demo world: proves the point-in-time features carry signal.

    .venv/bin/python examples/churn_model.py            # after `make demo`
    .venv/bin/python examples/churn_model.py --truth    # also score against the simulator's truth

Labels come from gold/churn_labels (observed behaviour: last sign of life within 90 days,
then silence). Each (customer_id, as_of_date) label row becomes an entity row with
event_ts = as_of_date, and warehouse.features.get_training_frame attaches the features known
at that moment. The split is by time: train on as_of_date before --train-until, test from
--test-from on; the 90-day gap keeps training label windows out of the test period. LightGBM
is compared with two baselines: the trivial one, the base rate (AUC 0.5 by construction), and
a stronger one, the single feature (and direction) that ranks the training rows best.

--truth reads world/truth (never used by the pipeline) to map customers to the simulated
people and scores the same predictions against the churn the simulator planted.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from pipelines.environment import hub_paths
from warehouse.features import get_training_frame
from warehouse.layout import HubPaths

IDENTITY_SOURCES = {
    ("crm", "contacts"): "crm", ("erp", "customers"): "erp", ("erp", "customer_contacts"): "erp_contacts",
    ("social", "posts"): "social", ("iot", "devices"): "iot",
}


def training_frame(paths: HubPaths) -> pl.DataFrame:
    labels = pl.read_delta(str(paths.gold / "churn_labels"))
    entities = labels.select(
        "customer_id",
        pl.col("as_of_date").cast(pl.Datetime("us")).alias("event_ts"),
        pl.col("churned_within_90d").alias("label"),
    )
    started = time.perf_counter()
    frame = get_training_frame(entities, paths=paths)
    print(f"training frame: {frame.height:,} rows x {frame.width - 3} features in {time.perf_counter() - started:.1f}s")
    return frame


def fit_and_score(frame: pl.DataFrame, train_until: date, test_from: date) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Model scores and best-single-feature scores for the test rows."""
    features = [c for c in frame.columns if c not in ("customer_id", "event_ts", "label")]
    when = pl.col("event_ts").dt.date()
    train, test = frame.filter(when < train_until), frame.filter(when >= test_from)
    print(f"train: {train.height:,} rows before {train_until} ({train['label'].mean():.1%} churn); "
          f"test: {test.height:,} rows from {test_from} ({test['label'].mean():.1%} churn)")
    # Shallow trees, many rows per leaf: the labels are noisy and the population drifts in time.
    model = lgb.LGBMClassifier(n_estimators=200, learning_rate=0.03, num_leaves=15, min_child_samples=500,
                               reg_lambda=10.0, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                               verbose=-1, random_state=7)
    model.fit(train.select(features).to_pandas(), train["label"].to_numpy())
    scores = model.predict_proba(test.select(features).to_pandas())[:, 1]
    top = sorted(zip(model.booster_.feature_importance("gain"), features, strict=True), reverse=True)[:8]
    print("top features (gain):", ", ".join(name for _, name in top))
    name, sign = best_single_feature(train, features)
    print(f"best single feature on the training rows: {'-' if sign < 0 else '+'}{name}")
    return test, scores, sign * _filled(test[name])


def best_single_feature(train: pl.DataFrame, features: list[str]) -> tuple[str, int]:
    y = train["label"].to_numpy()
    aucs = {name: roc_auc_score(y, _filled(train[name])) for name in features}
    name = max(aucs, key=lambda n: abs(aucs[n] - 0.5))
    return name, 1 if aucs[name] >= 0.5 else -1


def _filled(column: pl.Series) -> np.ndarray:
    values = column.cast(pl.Float64).to_numpy()
    return np.nan_to_num(values, nan=np.nanmin(values) - 1 if np.isfinite(values).any() else 0.0)


def report(name: str, y: np.ndarray, scores: np.ndarray, rule: np.ndarray) -> None:
    print(f"{name:<32} ROC AUC  model {roc_auc_score(y, scores):.3f} | base rate 0.500 | "
          f"best single feature {roc_auc_score(y, rule):.3f}")


def truth_labels(paths: HubPaths, test: pl.DataFrame) -> np.ndarray:
    """The simulator's churn for the test rows: customer -> most frequent true person -> churned_at."""
    truth = pl.read_parquet(paths.world / "truth" / "truth.parquet").with_columns(
        pl.struct("source", "entity").map_elements(lambda s: IDENTITY_SOURCES[(s["source"], s["entity"])],
                                                   return_dtype=pl.String).alias("source"))
    graph = pl.read_delta(str(paths.gold / "identity_graph")).filter(pl.col("valid_to").is_null())
    person = (graph.join(truth, on=["source", "source_record_id"])
              .group_by("customer_id").agg(pl.col("person_id").mode().first()))
    people = pl.read_parquet(paths.world / "truth" / "people.parquet").select("person_id", "churned_at")
    joined = (test.select("customer_id", pl.col("event_ts").dt.date().alias("d"))
              .join(person.join(people, on="person_id", how="left"), on="customer_id", how="left"))
    churned = (pl.col("churned_at") >= pl.col("d")) & (pl.col("churned_at") < pl.col("d") + pl.duration(days=90))
    return joined.select(churned.fill_null(False)).to_series().to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="HUB_DATA_DIR (default: env or ./.hub)")
    parser.add_argument("--train-until", type=date.fromisoformat, default=date(2025, 7, 1))
    parser.add_argument("--test-from", type=date.fromisoformat, default=date(2025, 10, 1))
    parser.add_argument("--truth", action="store_true", help="also score against the simulator's planted churn")
    args = parser.parse_args()
    paths = HubPaths(args.data_dir.resolve()) if args.data_dir else hub_paths()

    frame = training_frame(paths)
    test, scores, rule = fit_and_score(frame, args.train_until, args.test_from)
    report("observed churn labels (gold)", test["label"].to_numpy(), scores, rule)
    if args.truth:
        truth = truth_labels(paths, test)
        observed = test["label"].to_numpy()
        print(f"observed labels vs planted churn on the test rows: recall {observed[truth].mean():.1%}, "
              f"precision {truth[observed].mean():.1%} (planted rate {truth.mean():.1%})")
        report("planted churn (world/truth)", truth, scores, rule)


if __name__ == "__main__":
    main()
