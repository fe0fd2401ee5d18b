"""Reading a world back the way a pipeline would, for assertions."""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl

from demo import world


def sql(db: Path, query: str, *args: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def records(root: Path, source: str, entity: str) -> list[dict[str, Any]]:
    """Parseable rows of one entity (bad lines skipped), as dicts."""
    p = world.paths(root)
    if source == "crm":
        return [json.loads(r[0]) for r in sql(p.crm_db, f"SELECT payload FROM {entity}")]
    if source == "erp":
        con = sqlite3.connect(p.erp_db)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(f"SELECT * FROM {entity}")]
        finally:
            con.close()
    if (source, entity) == ("iot", "devices"):
        out = []
        for f in sorted(p.iot_registry_landing.glob("*.csv")):
            with f.open(newline="", encoding="utf-8") as fh:
                out.extend(csv.DictReader(fh))
        return out
    folder = p.social_landing if source == "social" else p.iot_telemetry_landing
    out = []
    for f in sorted(folder.glob("*.jsonl")):
        for line in lines(f):
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line))
    return out


def delivered_rows(root: Path, manifest: dict[str, Any]) -> dict[str, int]:
    """Rows per entity as actually stored, without the duplicate deliveries."""
    p = world.paths(root)
    dups = {d["file"] for d in manifest["duplicate_files"]}
    counts: dict[str, int] = {}
    for entity in ("contacts", "accounts", "opportunities", "activities"):
        counts[f"crm/{entity}"] = sql(p.crm_db, f"SELECT count(*) FROM {entity}")[0][0]
    for entity in ("customers", "customer_contacts", "products", "sales_orders", "order_lines",
                   "invoices"):
        counts[f"erp/{entity}"] = sql(p.erp_db, f"SELECT count(*) FROM {entity}")[0][0]
    for key, folder, pattern in (("social/posts", p.social_landing, "*.jsonl"),
                                 ("iot/telemetry", p.iot_telemetry_landing, "*.jsonl")):
        counts[key] = sum(len(lines(f)) for f in folder.glob(pattern)
                          if p.rel(f) not in dups)
    counts["iot/devices"] = sum(len(lines(f)) - 1 for f in p.iot_registry_landing.glob("*.csv"))
    return counts


def truth(root: Path) -> pl.DataFrame:
    return pl.read_parquet(world.paths(root).truth)


def people(root: Path) -> pl.DataFrame:
    return pl.read_parquet(world.paths(root).people)
