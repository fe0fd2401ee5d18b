"""Shared state while one world is generated or advanced: the manifest in the making."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from demo.layout import WorldPaths
from demo.pools import Companies, LocalePool
from demo.population import People

PII_SPAN_SCHEMA = {"source": pl.String, "entity": pl.String, "source_record_id": pl.String,
                   "field": pl.String, "type": pl.String, "start": pl.Int64, "end": pl.Int64}
TRUTH_SCHEMA = {"source": pl.String, "entity": pl.String, "source_record_id": pl.String,
                "person_id": pl.String}


@dataclass
class Context:
    paths: WorldPaths
    people: People
    companies: Companies
    pools: list[LocalePool]
    seed: int
    now: int
    counts: dict[str, int] = field(default_factory=dict)
    planted: list[dict[str, Any]] = field(default_factory=list)
    # Rows that land in bronze but break a silver rule (demo/quality_planting.py).
    planted_silver: list[dict[str, Any]] = field(default_factory=list)
    duplicate_files: list[dict[str, str]] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)
    truth: list[pl.DataFrame] = field(default_factory=list)
    # Next free number per id sequence, so advance() never reuses an id.
    sequences: dict[str, int] = field(default_factory=dict)
    # What social.generate leaves for the links pass (demo/links.py): each profile's owner
    # (person, platform, handle; main profiles first) and every DM (platform, handle, _t).
    social_profiles: pl.DataFrame | None = None
    social_dms: pl.DataFrame | None = None
    # Where the PII planted in free text stands (demo/text.py spans), per record and field.
    pii_spans: list[pl.DataFrame] = field(default_factory=list)

    def rng(self, name: str) -> np.random.Generator:
        """One stream per source: changing one simulator leaves the others' output alone."""
        return np.random.default_rng([self.seed, self.now, *name.encode()])

    def count(self, entity: str, rows: int) -> None:
        self.counts[entity] = self.counts.get(entity, 0) + rows

    def ids(self, sequence: str, n: int, prefix: str, width: int) -> np.ndarray:
        """``n`` fresh ids like CT00000042 (object array), continuing the sequence."""
        start = self.sequences.get(sequence, 1)
        self.sequences[sequence] = start + n
        nums = pl.int_range(start, start + n, eager=True).cast(pl.String).str.zfill(width)
        return (prefix + nums).to_numpy().astype(object)

    def add_truth(self, source: str, entity: str, record_ids: Any, person_idx: np.ndarray) -> None:
        self.truth.append(pl.DataFrame({
            "source": [source] * len(person_idx), "entity": [entity] * len(person_idx),
            "source_record_id": list(record_ids),
            "person_id": self.people.person_id[person_idx].tolist(),
        }, schema=TRUTH_SCHEMA))

    def plant(self, source: str, entity: str, file: str, line: int | None,
              record_id: str | None, kind: str, field_name: str | None) -> None:
        self.planted.append({"source": source, "entity": entity, "file": file, "line": line,
                             "record_id": record_id, "kind": kind, "field": field_name})

    def plant_silver(self, source: str, entity: str, table: str, record_key: str, kind: str,
                     rule: str) -> None:
        """A row the silver suites must quarantine: its staging table, business key and rule."""
        self.planted_silver.append({"source": source, "entity": entity, "table": table,
                                    "record_key": record_key, "kind": kind, "rule": rule})

    def add_pii_spans(self, source: str, entity: str, field_name: str, record_ids: Any,
                      spans: list[list[tuple[str, int, int]]]) -> None:
        rows = [(rid, kind, start, end) for rid, text_spans in zip(record_ids, spans, strict=True)
                for kind, start, end in text_spans]
        self.pii_spans.append(pl.DataFrame({
            "source": [source] * len(rows), "entity": [entity] * len(rows),
            "source_record_id": [r[0] for r in rows], "field": [field_name] * len(rows),
            "type": [r[1] for r in rows], "start": [r[2] for r in rows],
            "end": [r[3] for r in rows]}, schema=PII_SPAN_SCHEMA))
