"""Feast's offline historical retrieval on the bench data. Runs in bench/.feast-venv (Feast needs
pandas<3), started by bench/features.py; imports nothing from the project.

    python feast_side.py DATA_DIR --store duckdb|file --out result.json

Times only get_historical_features(...).to_df(), not the repo setup (apply)."""

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.types import Float64


def repo(root: Path, store: str) -> FeatureStore:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "feature_store.yaml").write_text(
        "project: bench\nprovider: local\nregistry: data/registry.db\n"
        f"offline_store:\n  type: {'duckdb' if store == 'duckdb' else 'file'}\n"
        "online_store:\n  type: sqlite\n  path: data/online.db\nentity_key_serialization_version: 3\n"
    )
    return FeatureStore(repo_path=str(root))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("--store", choices=["duckdb", "file"], default="duckdb")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    features_path = (args.data / "features.parquet").resolve()
    names = [n for n in pq.read_schema(features_path).names if n.startswith("f_")]
    entities = pd.read_parquet(args.data / "entities.parquet")

    with tempfile.TemporaryDirectory() as tmp:
        store = repo(Path(tmp), args.store)
        customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
        source = FileSource(path=str(features_path), timestamp_field="event_timestamp")
        # ttl=0 means no TTL in Feast: the same semantics as get_training_frame, and it spares
        # Feast's join the expiry predicate a finite TTL adds.
        view = FeatureView(
            name="customer_features_daily", entities=[customer], ttl=timedelta(0),
            schema=[Field(name=n, dtype=Float64) for n in names], source=source,
        )
        store.apply([customer, view])
        refs = [f"customer_features_daily:{n}" for n in names]
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            frame = store.get_historical_features(entity_df=entities, features=refs).to_df()
            times.append(time.perf_counter() - started)
        frame = frame.sort_values("entity_row")
        sample = frame[["entity_row", names[0], names[-1]]].head(1000)
        args.out.write_text(json.dumps({
            "store": args.store, "seconds": times, "rows": len(frame), "features": len(names),
            "sample": json.loads(sample.to_json(orient="records")),
        }))


if __name__ == "__main__":
    main()
