"""Versioned identity models on disk: ``<root>/v0001/{model.json, tf_*.parquet, meta.json}``.

A model is a trained Splink settings JSON plus the term-frequency tables it was trained
with. Freezing the tables with the model keeps scores identical between a full run and
an incremental one (the frequencies do not drift with each new record), and makes a
model version mean one thing. ``current.json`` names the version scheduled runs use.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

TF_COLUMNS = ("full_name", "last_name")


@dataclass(frozen=True)
class Model:
    version: str
    settings: dict[str, Any]
    tf_tables: dict[str, pl.DataFrame]
    meta: dict[str, Any]


def digest(settings: dict[str, Any], tf_tables: dict[str, pl.DataFrame]) -> str:
    """What a model is: its parameters and its term frequencies, not when it was trained."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for col in sorted(tf_tables):
        h.update(col.encode())
        h.update(tf_tables[col].write_csv().encode())
    return h.hexdigest()[:16]


def save(root: Path, settings: dict[str, Any], tf_tables: dict[str, pl.DataFrame],
         meta: dict[str, Any], make_current: bool = True) -> Model:
    """Store a new version, unless an identical model is stored already: retraining on
    unchanged input then gives the current version back, and the runs that follow stay
    incremental instead of rescoring everything with a copy of the same model."""
    key = digest(settings, tf_tables)
    same = find(root, key) if root.exists() else None
    if same is not None:
        if make_current:
            set_current(root, same.version)
        return same
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := re.fullmatch(r"v(\d+)", p.name))]
    version = f"v{max(numbers, default=0) + 1:04d}"
    folder = root / version
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps(settings, indent=1))
    for col, table in tf_tables.items():
        table.write_parquet(folder / f"tf_{col}.parquet")
    meta = {**meta, "version": version, "digest": key}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    if make_current:
        set_current(root, version)
    return Model(version, settings, tf_tables, meta)


def set_current(root: Path, version: str) -> None:
    if not (root / version / "model.json").exists():
        raise FileNotFoundError(f"no model {version} under {root}")
    tmp = root / "current.json.tmp"
    tmp.write_text(json.dumps({"version": version}))
    tmp.replace(root / "current.json")


def load(root: Path, version: str | None = None) -> Model | None:
    """The given version, else the current one; None when no model was trained yet."""
    if version is None:
        pointer = root / "current.json"
        if not pointer.exists():
            return None
        version = json.loads(pointer.read_text())["version"]
    folder = root / version
    if not (folder / "model.json").exists():
        return None
    settings = json.loads((folder / "model.json").read_text())
    tf = {p.stem.removeprefix("tf_"): pl.read_parquet(p) for p in folder.glob("tf_*.parquet")}
    meta = json.loads((folder / "meta.json").read_text())
    return Model(version, settings, tf, meta)


def versions(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("v[0-9]*") if (p / "model.json").exists())


def find(root: Path, digest: str) -> Model | None:
    """A stored version whose metadata carries ``digest`` (to reuse rather than duplicate)."""
    for version in reversed(versions(root)):
        meta = json.loads((root / version / "meta.json").read_text())
        if meta.get("digest") == digest:
            return load(root, version)
    return None
