"""Row counts for dbt models, fetched once after `dbt build` over one read-only connection.

dagster-dbt's ``fetch_row_counts()`` opens dbt's adapter inside the Dagster process and leaves
its DuckDB connection open, which then blocks every other connection to the warehouse file in
that process. Counting after dbt has exited avoids both that and a connection per model.
"""

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

TABLE_MATERIALIZATIONS = {"table", "incremental"}


def _unique_id(event: Any) -> str | None:
    value = getattr(event, "metadata", {}).get("unique_id")
    return getattr(value, "value", value)


def with_row_counts(events: Iterable[Any], manifest: Mapping[str, Any], warehouse_db: Path) -> Iterator[Any]:
    buffered = list(events)  # dbt's own log lines still stream while this fills
    nodes = manifest.get("nodes", {})
    relations = {
        uid: nodes[uid]["relation_name"]
        for uid in filter(None, (_unique_id(e) for e in buffered if isinstance(e, (dg.Output, dg.AssetMaterialization))))
        if uid in nodes and nodes[uid].get("config", {}).get("materialized") in TABLE_MATERIALIZATIONS
    }
    counts: dict[str, int] = {}
    if relations:
        with duckdb.connect(str(warehouse_db), read_only=True) as con:
            for uid, relation in relations.items():
                counts[uid] = con.execute(f"select count(*) from {relation}").fetchone()[0]
    for event in buffered:
        uid = _unique_id(event)
        if uid in counts and isinstance(event, (dg.Output, dg.AssetMaterialization)):
            event = event.with_metadata({**event.metadata, "dagster/row_count": counts[uid]})
        yield event
