"""Accuracy of a clustering against ground truth: pairwise and B-cubed precision, recall, F1.

Pairwise counts record pairs: a predicted pair is right when both records belong to one
true person. B-cubed averages, over records, the share of a record's cluster that is
really its person (precision) and the share of its person found in its cluster (recall);
it weighs every record equally, where pairwise metrics are dominated by big clusters.

Truth files use the simulator's layout (``source, entity, source_record_id, person_id``);
``(source, entity)`` maps to the identity source names the pipeline uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

# Simulator (source, entity) -> canonical record source (docs/deviations.md).
TRUTH_SOURCES = {
    ("crm", "contacts"): "crm",
    ("erp", "customers"): "erp",
    ("erp", "customer_contacts"): "erp_contacts",
    ("iot", "devices"): "iot",
}


@dataclass(frozen=True)
class Metrics:
    records: int
    unmatched_truth: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def lines(self) -> list[str]:
        return [
            f"records evaluated: {self.records:,} (records without truth: {self.unmatched_truth:,})",
            f"pairwise  precision {self.pairwise_precision:.4f}  recall {self.pairwise_recall:.4f}"
            f"  F1 {self.pairwise_f1:.4f}  ({self.correct_pairs:,} of {self.predicted_pairs:,}"
            f" predicted pairs correct; {self.true_pairs:,} true pairs)",
            f"B-cubed   precision {self.bcubed_precision:.4f}  recall {self.bcubed_recall:.4f}"
            f"  F1 {self.bcubed_f1:.4f}",
        ]


def read_truth(path: Path | str) -> pl.DataFrame:
    """(source, source_record_id, person_id) from a truth CSV or Parquet file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    df = (pl.read_csv(path, infer_schema=False) if path.suffix.lower() == ".csv"
          else pl.read_parquet(path))
    missing = [c for c in ("source", "source_record_id", "person_id") if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: truth lacks column(s) {', '.join(missing)}")
    return normalise_truth(df)


def normalise_truth(df: pl.DataFrame) -> pl.DataFrame:
    if "entity" in df.columns:
        mapping = pl.DataFrame(
            [(s, e, t) for (s, e), t in TRUTH_SOURCES.items()],
            schema={"source": pl.String, "entity": pl.String, "_to": pl.String}, orient="row")
        df = df.join(mapping, on=["source", "entity"], how="left").with_columns(
            pl.coalesce("_to", "source").alias("source"))
    return df.select(pl.col("source").cast(pl.String), pl.col("source_record_id").cast(pl.String),
                     pl.col("person_id").cast(pl.String)).unique(["source", "source_record_id"])


def _pairs(sizes: pl.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(clusters: pl.DataFrame, truth: pl.DataFrame) -> Metrics:
    """``clusters``: source, source_record_id, customer_id; ``truth``: ..., person_id."""
    df = clusters.select("source", "source_record_id", "customer_id").join(
        truth, on=["source", "source_record_id"], how="inner")
    unmatched = clusters.height - df.height
    cells = df.group_by("customer_id", "person_id").len("n")
    by_cluster = df.group_by("customer_id").len("c")
    by_person = df.group_by("person_id").len("t")
    correct, predicted, true = _pairs(cells["n"]), _pairs(by_cluster["c"]), _pairs(by_person["t"])
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    cells = cells.join(by_cluster, on="customer_id").join(by_person, on="person_id")
    n = max(1, df.height)
    # Each record in a cell of size n: precision n/c, recall n/t; summed over the n records.
    b_p = float((cells["n"] ** 2 / cells["c"]).sum()) / n
    b_r = float((cells["n"] ** 2 / cells["t"]).sum()) / n
    return Metrics(
        records=df.height, unmatched_truth=unmatched,
        pairwise_precision=precision, pairwise_recall=recall, pairwise_f1=_f1(precision, recall),
        bcubed_precision=b_p, bcubed_recall=b_r, bcubed_f1=_f1(b_p, b_r),
        true_pairs=true, predicted_pairs=predicted, correct_pairs=correct,
    )
