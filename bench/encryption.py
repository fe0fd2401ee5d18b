"""Encryption at rest, cost per million records: bronze sealing and staging's decrypt UDF.

    uv run python -m bench.encryption --records 1000000

Synthetic CRM contacts (made-up values, no real person) go through what a landing does to them:
``seal_rows`` (data keys created in one key-store transaction per batch, seven protected fields
encrypted, join keys of email and phone), in batches of ``--batch`` as pages arrive. Then a
DuckDB query opens the seven fields with ``hub_decrypt`` over Arrow, on a fresh connection
whose vault fetches the keys from the store, as a dbt build does. Baselines, in the same run:
building the same rows as an Arrow table (what bronze does anyway) and the same query without
the UDF. Results go to bench/results/encryption.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from privacy.keys.master_key import MasterKey
from privacy.keys.vault import Vault
from quality.contracts import CRM_CONTACTS
from warehouse.bronze import bronze_schema
from warehouse.bronze_protection import protected_fields, seal_rows
from warehouse.dbt_plugin import LazyVault, register_udfs

T = TypeVar("T")
RESULTS = Path(__file__).parent / "results" / "encryption.json"


def contacts(n: int) -> list[dict[str, object]]:
    return [{
        "id": f"C{i:08d}", "first_name": f"Zor{i % 997}", "last_name": f"Vekov{i % 1009}",
        "email": f"person{i:08d}@example.test", "phone": f"+49151{i:08d}", "company_name": "Moxcorp",
        "account_id": f"A{i % 5000}", "street": f"Quinweg {i % 300}", "city": "Moxstadt", "postcode": "12345",
        "country": "DE", "birth_date": "1990-04-03", "owner": "rep-1", "lifecycle_stage": "customer",
        "email_opt_in": True, "social_profile": f"x:zor_{i}", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "_extra": None,
    } for i in range(n)]


def _timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run(records: int, batch: int) -> dict[str, object]:
    rows = contacts(records)
    schema = bronze_schema(CRM_CONTACTS)
    fields = protected_fields(CRM_CONTACTS)
    pa.Table.from_pylist(rows[:10], schema=schema)  # pyarrow imports pandas on its first call: not timed
    with tempfile.TemporaryDirectory() as tmp:
        master = MasterKey.generate("bench")
        vault = Vault.open(Path(tmp) / "keys.sqlite", master)

        def build_plain() -> pa.Table:
            return pa.concat_tables(pa.Table.from_pylist(rows[i:i + batch], schema=schema)
                                    for i in range(0, records, batch))

        def build_sealed() -> pa.Table:
            return pa.concat_tables(pa.Table.from_pylist(seal_rows(CRM_CONTACTS, rows[i:i + batch], vault), schema=schema)
                                    for i in range(0, records, batch))

        plain, plain_wall, plain_cpu = _timed(build_plain)
        sealed, seal_wall, seal_cpu = _timed(build_sealed)
        vault.close()

        columns = ", ".join(fields)
        opened = ", ".join(f"hub_decrypt('crm/contacts', id, '{f}', {f}) as {f}" for f in fields)

        def query(table: pa.Table, select: str) -> int:
            con = duckdb.connect()
            register_udfs(con, LazyVault(lambda: Vault.open(Path(tmp) / "keys.sqlite", master)))
            con.register("contacts", table)
            return len(con.sql(f"select id, {select} from contacts").to_arrow_table())

        _, read_wall, read_cpu = _timed(lambda: query(plain, columns))
        _, open_wall, open_cpu = _timed(lambda: query(sealed, opened))
    per_m = 1_000_000 / records
    return {
        "command": f"python -m bench.encryption --records {records} --batch {batch}",
        "records": records, "protected_fields_per_record": len(fields), "batch": batch,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "seal_s_per_million": {"wall": round((seal_wall - plain_wall) * per_m, 2),
                               "cpu": round((seal_cpu - plain_cpu) * per_m, 2)},
        "build_without_sealing_s_per_million": {"wall": round(plain_wall * per_m, 2), "cpu": round(plain_cpu * per_m, 2)},
        "open_s_per_million": {"wall": round((open_wall - read_wall) * per_m, 2),
                               "cpu": round((open_cpu - read_cpu) * per_m, 2)},
        "query_without_udf_s_per_million": {"wall": round(read_wall * per_m, 2), "cpu": round(read_cpu * per_m, 2)},
        "bytes_per_record": {"plain": plain.nbytes // records, "sealed": sealed.nbytes // records},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.records, args.batch)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
