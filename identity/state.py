"""What one identity run leaves for the next: records, features, scored pairs, assignments.

Every stage writes a table it can restart from (Splink's production pattern), and the next
run diffs against them: a record whose canonical values hash the same keeps its features
and its scored pairs, so an incremental run only scores what is new or changed.

The state holds personal data (names, emails in the features), so it lives under the
hub's data root, where erasure can reach it; records that leave the input leave the state
on the next run.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from identity import graph as graph_mod
from identity import stable_ids

TABLES = ("canonical", "features", "edges", "assignment", "customers", "shared", "graph",
          "overrides")


@dataclass
class State:
    canonical: pl.DataFrame    # uid, row_hash, canonical columns
    features: pl.DataFrame     # uid + matching features, before merge protection
    edges: pl.DataFrame        # uid_l, uid_r, match_weight, match_probability
    assignment: pl.DataFrame   # uid, base, cluster, customer_id, match_probability
    customers: pl.DataFrame    # every customer ID ever issued
    shared: pl.DataFrame       # shared identifiers (kind, value, n_records, n_people, reason)
    graph: pl.DataFrame        # identity_graph with history
    overrides: pl.DataFrame    # rule, uid_l, uid_r as applied
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> State | None:
        if not (folder / "meta.json").exists():
            return None
        tables = {name: pl.read_parquet(folder / f"{name}.parquet") for name in TABLES}
        tables["customers"] = tables["customers"].cast(stable_ids.CUSTOMER_SCHEMA)
        tables["graph"] = tables["graph"].cast(graph_mod.GRAPH_SCHEMA)
        return cls(**tables, meta=json.loads((folder / "meta.json").read_text()))

    def save(self, folder: Path) -> None:
        """Write to a sibling folder, then swap it in: a crash never leaves half a state."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name in TABLES:
            getattr(self, name).write_parquet(tmp / f"{name}.parquet")
        (tmp / "meta.json").write_text(json.dumps(self.meta, indent=1, default=str))
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
