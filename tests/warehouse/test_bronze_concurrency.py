"""Two OS processes landing overlapping batches into one bronze table at the same moment."""

from __future__ import annotations

import json
import multiprocessing as mp
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from quality.contracts import EntityContract, Field
from quality.row_validation import RawRecord
from warehouse import delta_store
from warehouse.bronze import BronzeLanding
from warehouse.layout import HubPaths

CONTRACT = EntityContract("shop", "things", ("id",), {"id": Field("string", True, 20), "n": Field("int")})
BAD = '{"id": "bad", "n": "lots"}'


def _lines(first: int, last: int) -> list[str]:
    return [json.dumps({"id": f"t{i}", "n": i}) for i in range(first, last)] + [BAD]


def _land(root: str, lines: list[str], batch_id: str, ready: Any, out: Any) -> None:
    """One landing run: read the table's state, wait for the other process, then commit."""
    landing = BronzeLanding(HubPaths(Path(root)), CONTRACT)
    landing.add_batch([RawRecord(i, line) for i, line in enumerate(lines, 1)], f"{batch_id}.jsonl", batch_id)
    ready.wait()  # both have read what bronze held before either commits: the race, every time
    report = landing.commit()
    out.put({"batch": batch_id, "accepted": report.accepted, "quarantined": report.quarantined,
             "already_loaded": report.already_loaded, "rows_in": report.rows_in,
             "reconciles": report.reconciles})


@pytest.mark.parametrize("preloaded", [0, 50], ids=["new table", "existing table"])
def test_racing_landings_store_each_row_once_and_lose_none(hub_paths: HubPaths, preloaded: int) -> None:
    if preloaded:
        seed = BronzeLanding(hub_paths, CONTRACT)
        seed.add_batch([RawRecord(i, line) for i, line in enumerate(_lines(0, preloaded), 1)], "seed", "seed")
        seed.commit()
    ctx = mp.get_context("spawn")
    ready, out = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=_land, args=(str(hub_paths.root), _lines(first, last), name, ready, out))
        for name, first, last in (("a", 0, 400), ("b", 200, 600))
    ]
    for worker in workers:
        worker.start()
    reports = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    bronze = delta_store.read(hub_paths.bronze_table("shop", "things"), ["id", "_record_hash"])
    assert bronze is not None
    ids = bronze["id"].to_pylist()
    assert sorted(set(ids)) == sorted(f"t{i}" for i in range(600))  # nothing lost
    assert len(ids) == 600  # nothing twice
    assert len(set(bronze["_record_hash"].to_pylist())) == 600
    quarantine = delta_store.read(hub_paths.quarantine_table("shop"), ["_record_hash"])
    assert quarantine is not None and quarantine.num_rows == 1

    # Each run's counts are true: what one stored, the other counts as already loaded.
    assert all(r["reconciles"] for r in reports)
    assert sum(r["accepted"] for r in reports) == 600 - preloaded
    assert sum(r["quarantined"] for r in reports) == (0 if preloaded else 1)
    batches = delta_store.read(hub_paths.batches)
    assert batches is not None
    logged: Counter[str] = Counter()
    for row in batches.to_pylist():
        if row["batch_id"] in ("a", "b"):
            assert row["rows_in"] == row["accepted"] + row["quarantined"] + row["already_loaded"]
            logged["accepted"] += row["accepted"]
            logged["quarantined"] += row["quarantined"]
    assert logged == Counter(accepted=600 - preloaded, quarantined=0 if preloaded else 1)
