"""Every delivered row honours its data contract, except exactly the planted ones."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from demo import world
from quality.contracts import CONTRACTS, EntityContract
from quality.timestamps import parse_timestamp
from tests.demo.helpers import lines, sql

TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "float": (float, int),
                                      "bool": (bool,), "json": (dict, list), "timestamp": (str,)}


def _reads_as_timestamp(text: str) -> bool:
    try:
        parse_timestamp(text)
    except ValueError:
        return False
    return True


def problems(row: dict[str, Any], contract: EntityContract) -> list[str]:
    out = []
    for name, spec in contract.fields.items():
        value = row.get(name)
        if value is None:
            if spec.required:
                out.append(f"{name} missing")
            continue
        ok = isinstance(value, TYPES[spec.type]) and not (
            spec.type in ("int", "float") and isinstance(value, bool))
        if not ok or (spec.type == "timestamp" and not _reads_as_timestamp(value)):
            out.append(f"{name} type")
        elif spec.max_len is not None and isinstance(value, str) and len(value) > spec.max_len:
            out.append(f"{name} too long")
    return out


def delivered(root: Path, manifest: dict) -> list[tuple[str, str, int | None, Any]]:
    """(entity, file, line, row-or-raw-text) for everything the sources deliver."""
    p = world.paths(root)
    dups = {d["file"] for d in manifest["duplicate_files"]}
    out: list[tuple[str, str, int | None, Any]] = []
    for entity in ("contacts", "accounts", "opportunities", "activities"):
        for (payload,) in sql(p.crm_db, f"SELECT payload FROM {entity}"):
            out.append((f"crm/{entity}", "crm.sqlite", None, json.loads(payload)))
    for name, contract in CONTRACTS.items():
        if contract.source == "erp":
            cols = list(contract.fields)
            for r in sql(p.erp_db, f"SELECT {','.join(cols)} FROM {contract.entity}"):
                out.append((name, "erp.sqlite", None, dict(zip(cols, r, strict=True))))
    for f in sorted(p.iot_registry_landing.glob("*.csv")):
        with f.open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if "owner_mobile" in r:  # drift: the same field under a new name
                    r["owner_phone"] = r.pop("owner_mobile")
                out.append(("iot/devices", p.rel(f), None,
                            {k: (v if v != "" else None) for k, v in r.items()}))
    for entity, folder in (("social/posts", p.social_landing),
                           ("iot/telemetry", p.iot_telemetry_landing)):
        for f in sorted(folder.glob("*.jsonl")):
            if p.rel(f) not in dups:
                for i, text in enumerate(lines(f), start=1):
                    out.append((entity, p.rel(f), i, text))
    return out


def test_only_planted_rows_break_their_contract(world_root: Path, manifest: dict) -> None:
    planted = {(e["file"], e["line"]) if e["line"] else (e["file"], e["record_id"])
               for e in manifest["planted"]}
    found = set()
    for entity, file, line, row in delivered(world_root, manifest):
        contract = CONTRACTS[entity]
        if isinstance(row, str):
            try:
                row = json.loads(row)
            except json.JSONDecodeError:
                found.add((file, line))
                continue
        if problems(row, contract):
            found.add((file, line) if line else (file, row[contract.key[0]]))
    assert found == planted
