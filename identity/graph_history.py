"""The identity graph with history, and the change log (DESIGN §4).

``identity_graph`` has one row per record and validity period: when a record's customer
ID changes, its current row is closed (``valid_to`` set) and a new one opened, so the
assignment at any past time is ``valid_from <= t and (valid_to is null or t < valid_to)``.
A change of match probability alone updates the current row in place: history records
who belongs to whom, not every rescoring.

``identity_changes`` is append-only: one row per record event of a run.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

KEY = ["source", "source_record_id"]
TS = pl.Datetime("us", "UTC")
GRAPH_SCHEMA = {"source": pl.String, "source_record_id": pl.String, "customer_id": pl.String,
                "match_probability": pl.Float64, "valid_from": TS, "valid_to": TS}
CHANGES_SCHEMA = {"run_id": pl.String, "ts": TS, "event": pl.String, "customer_id": pl.String,
                  "other_customer_id": pl.String, "source": pl.String,
                  "source_record_id": pl.String}


def empty_graph() -> pl.DataFrame:
    return pl.DataFrame(schema=GRAPH_SCHEMA)


def update(graph: pl.DataFrame, current: pl.DataFrame, ts: dt.datetime) -> tuple[pl.DataFrame, bool]:
    """(new graph, whether anything changed) given the run's (key, customer_id, probability)."""
    now = pl.lit(ts, dtype=TS)
    open_rows = graph.filter(pl.col("valid_to").is_null())
    closed = graph.filter(pl.col("valid_to").is_not_null())
    cur = current.select(*KEY, "customer_id", pl.col("match_probability").cast(pl.Float64))
    j = open_rows.join(cur, on=KEY, how="full", coalesce=True, suffix="_new")
    same = j.filter(pl.col("customer_id") == pl.col("customer_id_new"))
    moved = j.filter(pl.col("customer_id").is_not_null() & pl.col("customer_id_new").is_not_null()
                     & (pl.col("customer_id") != pl.col("customer_id_new")))
    gone = j.filter(pl.col("customer_id_new").is_null())
    new = j.filter(pl.col("customer_id").is_null())
    prob_changed = same.filter(~pl.col("match_probability").eq_missing(
        pl.col("match_probability_new"))).height
    kept = same.select(*KEY, "customer_id", pl.col("match_probability_new").alias(
        "match_probability"), "valid_from", "valid_to")
    ended = pl.concat([moved, gone]).select(*KEY, "customer_id", "match_probability",
                                            "valid_from", now.alias("valid_to"))
    opened = pl.concat([moved, new]).select(
        *KEY, pl.col("customer_id_new").alias("customer_id"),
        pl.col("match_probability_new").alias("match_probability"),
        now.alias("valid_from"), pl.lit(None, dtype=TS).alias("valid_to"))
    out = pl.concat([closed, kept, ended, opened], how="vertical_relaxed").cast(GRAPH_SCHEMA)
    changed = bool(moved.height or gone.height or new.height or prob_changed)
    return out.sort(*KEY, "valid_from"), changed


def as_of(graph: pl.DataFrame, ts: dt.datetime) -> pl.DataFrame:
    """The assignment that was current at ``ts``."""
    t = pl.lit(ts, dtype=TS)
    return graph.filter((pl.col("valid_from") <= t)
                        & (pl.col("valid_to").is_null() | (t < pl.col("valid_to"))))


def changes(events: pl.DataFrame, keys: pl.DataFrame, run_id: str, ts: dt.datetime) -> pl.DataFrame:
    """Events (event, customer_id, other_customer_id, uid) as identity_changes rows."""
    return (events.join(keys.select("uid", *KEY), on="uid", how="left")
            .select(pl.lit(run_id).alias("run_id"), pl.lit(ts, dtype=TS).alias("ts"), "event",
                    "customer_id", "other_customer_id", *KEY)
            .cast(CHANGES_SCHEMA))

