"""What the concurrency-safe bronze commit costs against a plain Delta append.

A bronze table of CRM contacts with BASE rows takes a batch of BATCH new rows, landed through
``BronzeLanding`` (read known hashes, validate, hash, commit). The commit is timed two ways on
identical copies of the table, in the same run:

- ``append``: ``write_deltalake(mode="append")``, the commit bronze used before, which a
  concurrent writer could race into duplicates (the baseline);
- ``checked``: ``delta_store.insert_missing``, what ``BronzeLanding.commit`` runs now: re-read
  the stored hashes, then append the new rows as exactly the next table version, retrying
  when another writer took it;
- ``checked_after_other_commit``: the same, when another writer committed between the
  landing's start and its commit, so the stored hashes are read again (the costly case);
- ``merge``: a Delta MERGE on ``_record_hash`` (``when_not_matched_insert_all``), the other
  concurrency-safe way, measured for comparison.

    .venv/bin/python bench/bronze_append.py [--base 1000000] [--batch 100000] [--repeats 3]

Writes bench/results/bronze_append.json and prints a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from quality.contracts import CRM_CONTACTS
from quality.row_validation import RawRecord
from warehouse import delta_store
from warehouse.bronze import BronzeLanding, bronze_schema
from warehouse.layout import HubPaths

RESULTS = Path(__file__).parent / "results" / "bronze_append.json"
STAMP = "2026-06-01T10:00:00Z"


def _contact(i: int) -> dict[str, object]:
    return {
        "id": f"c{i:08d}", "first_name": f"First{i % 5000}", "last_name": f"Last{i % 7919}",
        "email": f"person{i}@example.test", "phone": f"+49 30 {i:08d}", "company_name": f"Co {i % 997}",
        "account_id": f"a{i % 20000}", "street": f"{i % 300} Main Street", "city": f"City{i % 400}",
        "postcode": f"{i % 99999:05d}", "country": "DE", "birth_date": "1980-01-01", "owner": f"rep{i % 40}",
        "lifecycle_stage": "customer", "email_opt_in": i % 2 == 0, "social_profile": None,
        "created_at": STAMP, "updated_at": STAMP,
    }


def _base_table(rows: int) -> pa.Table:
    """``rows`` stored contacts, in bronze's schema, built column by column (no validation)."""
    schema = bronze_schema(CRM_CONTACTS)
    sample = [_contact(i) for i in range(rows)]
    columns: dict[str, pa.Array] = {}
    for name in CRM_CONTACTS.fields:
        columns[name] = pa.array([r[name] for r in sample], schema.field(name).type)
    del sample
    columns["_extra"] = pa.nulls(rows, pa.string())
    columns["_batch_id"] = pa.array(["base"] * rows, pa.string())
    columns["_ingested_at"] = pa.array([dt.datetime(2026, 6, 1, tzinfo=dt.UTC)] * rows, pa.timestamp("us", tz="UTC"))
    columns["_source_uri"] = pa.array(["bench"] * rows, pa.string())
    columns["_row_number"] = pa.array(range(rows), pa.int64())
    columns["_record_hash"] = pa.array([hashlib.sha256(f"base{i}".encode()).hexdigest()[:32] for i in range(rows)])
    return pa.table(columns, schema=schema)


def _landing(root: Path, batch: list[RawRecord]) -> tuple[BronzeLanding, dict[str, float]]:
    times = {}
    started = time.perf_counter()
    landing = BronzeLanding(HubPaths(root), CRM_CONTACTS)
    times["read_known_hashes_s"] = time.perf_counter() - started
    started = time.perf_counter()
    landing.add_batch(batch, "bench", "bench-batch")
    times["validate_and_hash_s"] = time.perf_counter() - started
    return landing, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-bronze-"))
    try:
        template = HubPaths(work / "template").bronze_table("crm", "contacts")
        started = time.perf_counter()
        write_deltalake(str(template), _base_table(args.base))
        print(f"base table of {args.base} rows written in {time.perf_counter() - started:.1f}s")
        batch = [RawRecord(i, _contact(args.base + i)) for i in range(1, args.batch + 1)]
        variants = ["append", "checked", "checked_after_other_commit", "merge"]
        runs: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for repeat in range(args.repeats):
            for variant in variants[repeat % 4:] + variants[:repeat % 4]:  # rotate: load drifts
                root = work / f"{variant}-{repeat}"
                shutil.copytree(template.parent.parent.parent, root)
                landing, times = _landing(root, batch)
                started = time.perf_counter()
                rows = pa.concat_tables(landing._accepted)
                if variant == "append":
                    delta_store.append(landing.table_path, rows)
                elif variant.startswith("checked"):
                    if variant == "checked_after_other_commit":
                        other = _base_table(1).set_column(
                            bronze_schema(CRM_CONTACTS).get_field_index("_record_hash"), "_record_hash",
                            pa.array(["another-writer"]))
                        write_deltalake(str(landing.table_path), other, mode="append")
                        started = time.perf_counter()
                    landing.commit()
                else:
                    (DeltaTable(str(landing.table_path))
                     .merge(rows, "t._record_hash = s._record_hash", source_alias="s", target_alias="t")
                     .when_not_matched_insert_all().execute())
                times["commit_s"] = time.perf_counter() - started
                rows = delta_store.row_count(landing.table_path)
                assert rows == args.base + args.batch + (variant == "checked_after_other_commit"), (variant, rows)
                runs[variant].append(times)
                print(f"{variant:6s} repeat {repeat}: " + ", ".join(f"{k} {v:.2f}" for k, v in times.items()))
                shutil.rmtree(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(variant: str, key: str) -> float:
        return statistics.median(t[key] for t in runs[variant])

    summary = {
        variant: {key: round(median(variant, key), 3) for key in runs[variant][0]} for variant in runs
    }
    for variant in summary:  # the three phases of one landing
        summary[variant]["landing_total_s"] = round(sum(summary[variant].values()), 3)
    result = {
        "command": f"python bench/bronze_append.py --base {args.base} --batch {args.batch} --repeats {args.repeats}",
        "base_rows": args.base, "batch_rows": args.batch, "repeats": args.repeats,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "median": summary,
        "commit_ratio_over_append": {
            v: round(summary[v]["commit_s"] / summary["append"]["commit_s"], 2) for v in variants},
        "landing_ratio_over_append": {
            v: round(summary[v]["landing_total_s"] / summary["append"]["landing_total_s"], 2) for v in variants},
        "runs": runs,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("median", "commit_ratio_over_append",
                                             "landing_ratio_over_append")}, indent=2))


if __name__ == "__main__":
    main()
