"""The identity graph and its change log as Delta tables in gold (DESIGN §4).

``identity`` computes the frames and writes nothing; this module is where they are stored.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from warehouse import delta_store


def publish(graph: pl.DataFrame | None, new_changes: pl.DataFrame, graph_path: Path,
            changes_path: Path) -> None:
    """Write the graph (overwrite; ``None`` when it did not change) and append the changes."""
    if graph is not None:
        delta_store.overwrite(graph_path, graph.to_arrow())
    if new_changes.height:
        delta_store.append(changes_path, new_changes.to_arrow())


def read(path: Path, schema: dict) -> pl.DataFrame:
    """A Delta table as a frame of ``schema`` (empty when the table does not exist yet)."""
    table = delta_store.read(path)
    if table is None:
        return pl.DataFrame(schema=schema)
    return pl.from_arrow(table).cast(schema)  # type: ignore[return-value]
