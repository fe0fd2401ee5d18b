"""The ground truth of planted PII: each span points at the planted value in the world's text."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import polars as pl

from demo import world


def _texts(root: Path) -> dict[tuple[str, str, str], str]:
    p = world.paths(root)
    out = {}
    with sqlite3.connect(p.crm_db) as con:
        for rid, payload in con.execute("select id, payload from activities"):
            out["crm", rid, "body"] = json.loads(payload).get("body") or ""
    for path in p.social_landing.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                out["social", str(record.get("post_id")), "text"] = record["text"]
    return out


def test_spans_point_at_the_planted_values(world_root: Path) -> None:
    spans = pl.read_parquet(world.paths(world_root).pii_spans)
    assert set(spans["type"]) >= {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"}
    texts = _texts(world_root)
    checked = 0
    for row in spans.iter_rows(named=True):
        text = texts.get((row["source"], row["source_record_id"], row["field"]))
        if text is None:
            continue  # a record the simulator later made malformed or changed
        value = text[row["start"]:row["end"]]
        if row["type"] == "EMAIL_ADDRESS":
            assert "@" in value, row
        elif row["type"] == "PHONE_NUMBER":
            assert len(re.sub(r"\D", "", value)) >= 7, row
        else:
            assert value.strip() == value and value, row
        checked += 1
    assert checked >= 0.9 * spans.height


def test_advance_appends_spans(world_copy: Path) -> None:
    before = pl.read_parquet(world.paths(world_copy).pii_spans).height
    world.advance(world_copy, days=3)
    assert pl.read_parquet(world.paths(world_copy).pii_spans).height > before
