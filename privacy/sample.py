"""A sample of a table's values, read from a CSV, Parquet or Delta table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.dataset as ds
from deltalake import DeltaTable


class UnreadableTable(ValueError):
    """The path is no CSV file, Parquet file or Delta table the catalog can read."""


def open_dataset(path: Path) -> ds.Dataset:
    if (path / "_delta_log").is_dir():
        # Through the Delta log: the folder's Parquet files include ones the log removed.
        return DeltaTable(str(path)).to_pyarrow_dataset()
    suffix = path.suffix.lower()
    if path.is_file() and suffix == ".csv":
        # Every column as text: the classifier reads values as written, 0-prefixed IDs too.
        header = path.open(encoding="utf-8").readline().rstrip("\r\n").split(",")
        convert = pa.csv.ConvertOptions(column_types={c.strip('"'): pa.string() for c in header})
        return ds.dataset(path, format=ds.CsvFileFormat(convert_options=convert))
    if suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet"))):
        return ds.dataset(path, format="parquet")
    raise UnreadableTable(f"{path}: not a CSV file, Parquet file or Delta table")


def sample_columns(path: Path, size: int = 200, seed: int = 0) -> dict[str, list[object]]:
    """Up to ``size`` rows drawn at random (the same ones for the same seed), by column."""

    if not path.exists():
        raise UnreadableTable(f"{path}: no such file or directory")
    dataset = open_dataset(path)
    total = dataset.count_rows()
    if total <= size:
        table = dataset.to_table()
    else:
        rows = np.sort(np.random.default_rng(seed).choice(total, size=size, replace=False))
        table = dataset.take(pa.array(rows))
    return {name: table.column(name).to_pylist() for name in table.column_names}
