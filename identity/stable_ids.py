"""Stable customer IDs: carry IDs forward from the previous run by record overlap.

Rules (DESIGN §4):

- An ID's *home* is the new cluster holding most of its records (ties: the cluster with
  the smallest label). Only its home may keep it, so on a split the largest part keeps
  the ID and the other parts get new IDs.
- A cluster that is home to several IDs keeps the oldest (first issued); the others are
  merged into it and never issued again.
- A cluster that is home to no ID gets a new one.
- Every record whose ID changes is an event: ``merged`` (its ID was merged into the
  survivor), ``split`` (it left its ID for a new one), ``moved`` (it left its ID for
  another existing one), ``created`` (a record seen for the first time) and ``erased``
  (a record no longer in the input). Unchanged input gives no events at all.

IDs are opaque: "C" and 12 base-32 characters derived from the cluster's first record
key, so a rebuild from scratch issues the same IDs, and a collision with any ID ever
issued (kept in the customers table) is resolved by rehashing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

EVENT_SCHEMA = {"event": pl.String, "customer_id": pl.String, "other_customer_id": pl.String,
                "uid": pl.Int64}
CUSTOMER_SCHEMA = {"customer_id": pl.String, "created_seq": pl.Int64, "created_run": pl.String,
                   "status": pl.String, "merged_into": pl.String}


@dataclass
class Carried:
    assignment: pl.DataFrame  # uid, cluster, customer_id
    events: pl.DataFrame      # EVENT_SCHEMA
    customers: pl.DataFrame   # CUSTOMER_SCHEMA, every ID ever issued


def empty_customers() -> pl.DataFrame:
    return pl.DataFrame(schema=CUSTOMER_SCHEMA)


def _candidate(key: str, attempt: int) -> str:
    digest = hashlib.sha256(f"{key}\x1f{attempt}".encode()).digest()
    # The first 12 base-32 characters are the first 60 bits: encoding 10 bytes gives them
    # (the standard library's encoder is pure Python, and the whole digest costs 3x more).
    return "C" + base64.b32encode(digest[:10]).decode()[:12]


def new_ids(seeds: list[str], taken: Callable[[list[str]], set[str]]) -> list[str]:
    """One fresh ID per seed key: a hash of the key, rehashed while it collides with an ID
    already issued (``taken`` answers for a batch) or with another fresh one."""
    out: dict[int, str] = {}
    used: set[str] = set()
    pending = dict.fromkeys(range(len(seeds)), 0)  # seed index -> attempt
    while pending:
        candidates = {i: _candidate(seeds[i], attempt) for i, attempt in pending.items()}
        clash = taken(sorted(set(candidates.values())))
        retry = {}
        for i in sorted(pending, key=seeds.__getitem__):  # deterministic winner on a clash
            cid = candidates[i]
            if cid in clash or cid in used:
                retry[i] = pending[i] + 1
            else:
                used.add(cid)
                out[i] = cid
        pending = retry
    return [out[i] for i in range(len(seeds))]


def carry_forward(clusters: pl.DataFrame, keys: pl.DataFrame, previous: pl.DataFrame | None,
                  customers: pl.DataFrame, run_id: str,
                  taken: Callable[[list[str]], set[str]] | None = None,
                  next_seq: int | None = None) -> Carried:
    """IDs for ``clusters`` (uid, cluster) given ``previous`` (uid, customer_id).

    ``keys`` (uid, source, source_record_id) seeds new IDs. ``customers`` holds the issue
    order (created_seq) of at least the previous IDs of these records; by default it is
    every ID ever issued. An incremental run passes only the relevant rows, with ``taken``
    (is an ID already issued?) and ``next_seq`` to answer for the rest. The returned
    customers are the rows that are new or whose status may have changed.
    """
    previous = previous if previous is not None else pl.DataFrame(
        schema={"uid": pl.Int64, "customer_id": pl.String})
    overlap = (clusters.join(previous, on="uid")
               .group_by("cluster", "customer_id").len("n"))
    home = (overlap.sort(["customer_id", "n", "cluster"], descending=[False, True, False])
            .group_by("customer_id", maintain_order=True).first()
            .select("customer_id", pl.col("cluster").alias("home")))
    seq = customers.select("customer_id", "created_seq")
    keep = (home.join(seq, on="customer_id", how="left")
            .sort(["home", "created_seq", "customer_id"], nulls_last=True)
            .group_by("home", maintain_order=True).first()
            .select(pl.col("home").alias("cluster"), pl.col("customer_id").alias("kept")))
    merged = (home.join(keep.rename({"cluster": "home"}), on="home")
              .filter(pl.col("customer_id") != pl.col("kept"))
              .select("customer_id", "kept"))

    # New IDs for clusters that are home to none, seeded by their smallest record key.
    orphans = clusters.join(keep, on="cluster", how="anti")
    seeds = (orphans.join(keys, on="uid")
             .sort("source", "source_record_id")
             .group_by("cluster", maintain_order=True).first()
             .sort("source", "source_record_id"))
    known = set(customers["customer_id"].to_list())
    is_taken = taken or (lambda ids: known.intersection(ids))
    seed_keys = [f"{s}\x1f{r}" for s, r in
                 zip(seeds["source"].to_list(), seeds["source_record_id"].to_list(), strict=True)]
    fresh = pl.DataFrame({"cluster": seeds["cluster"], "kept": new_ids(seed_keys, is_taken)},
                         schema={"cluster": pl.Int64, "kept": pl.String})
    ids = pl.concat([keep, fresh])
    assignment = clusters.join(ids, on="cluster", how="left").rename({"kept": "customer_id"})

    events = _events(assignment, previous, merged, set(fresh["kept"].to_list()))
    customers = _update_customers(customers, fresh, merged, assignment, run_id, next_seq)
    return Carried(assignment.sort("uid"), events, customers)


def _events(assignment: pl.DataFrame, previous: pl.DataFrame, merged: pl.DataFrame,
            fresh: set[str]) -> pl.DataFrame:
    both = assignment.join(previous.rename({"customer_id": "old"}), on="uid", how="full",
                           coalesce=True)
    merged_map = dict(zip(merged["customer_id"].to_list(), merged["kept"].to_list(), strict=True))
    rows = both.filter(pl.col("customer_id").is_null() | pl.col("old").is_null()
                       | (pl.col("customer_id") != pl.col("old")))
    fresh_s = pl.Series(list(fresh), dtype=pl.String)
    into = pl.col("old").replace_strict(merged_map, default=None, return_dtype=pl.String)
    return rows.select(
        pl.when(pl.col("customer_id").is_null()).then(pl.lit("erased"))
        .when(pl.col("old").is_null()).then(pl.lit("created"))
        .when(into == pl.col("customer_id")).then(pl.lit("merged"))
        .when(pl.col("customer_id").is_in(fresh_s.implode())).then(pl.lit("split"))
        .otherwise(pl.lit("moved")).alias("event"),
        pl.coalesce("customer_id", "old").alias("customer_id"),
        pl.when(pl.col("customer_id").is_null() | pl.col("old").is_null()).then(None)
        .otherwise(pl.col("old")).alias("other_customer_id"),
        pl.col("uid").cast(pl.Int64),
    ).sort("event", "uid")


def _update_customers(customers: pl.DataFrame, fresh: pl.DataFrame, merged: pl.DataFrame,
                      assignment: pl.DataFrame, run_id: str, next_seq: int | None) -> pl.DataFrame:
    start = next_seq if next_seq is not None else (
        int(customers["created_seq"].max() or 0) + 1 if customers.height else 1)
    added = pl.DataFrame({
        "customer_id": fresh["kept"], "created_seq": range(start, start + fresh.height),
        "created_run": [run_id] * fresh.height, "status": ["active"] * fresh.height,
        "merged_into": [None] * fresh.height}, schema=CUSTOMER_SCHEMA)
    out = pl.concat([customers, added])
    live = assignment["customer_id"].unique().implode()
    merged_map = merged.rename({"kept": "_into"})
    out = out.join(merged_map, on="customer_id", how="left").with_columns(
        pl.when(pl.col("_into").is_not_null()).then(pl.lit("merged"))
        .when(pl.col("customer_id").is_in(live)).then(pl.lit("active"))
        .when(pl.col("status") == "merged").then(pl.lit("merged"))
        .otherwise(pl.lit("retired")).alias("status"),
        pl.coalesce("_into", "merged_into").alias("merged_into"),
    ).drop("_into")
    return out.sort("created_seq")
