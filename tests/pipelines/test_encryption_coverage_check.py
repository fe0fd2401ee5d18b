"""The encryption-coverage check on a real data root: it passes on what bronze wrote and fails,
naming table, column and count, when a protected column holds one cleartext value."""

import json

import pyarrow as pa

from pipelines.defs.privacy.coverage import encryption_coverage
from pipelines.defs.resources import HubStorage
from quality.contracts import ERP_CUSTOMERS
from quality.row_validation import RawRecord
from warehouse import delta_store
from warehouse.bronze import BronzeLanding, bronze_schema
from warehouse.layout import HubPaths


def test_the_check_fails_on_one_cleartext_value(hub_paths: HubPaths) -> None:
    landing = BronzeLanding(hub_paths, ERP_CUSTOMERS)
    landing.add_batch([RawRecord(1, json.dumps({
        "customer_no": "K1", "kind": "person", "first_name": "Zorvek", "national_id": "X1234567",
        "email": "zorvek@example.test", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}))],
        "test://erp", "b1")
    landing.commit()
    storage = HubStorage(data_dir=str(hub_paths.root))
    passed = encryption_coverage(storage=storage)
    assert passed.passed and passed.metadata["values_checked"].value == 3

    planted = {n: None for n in bronze_schema(ERP_CUSTOMERS).names} | {"customer_no": "K2", "national_id": "X7654321"}
    delta_store.append(hub_paths.bronze_table("erp", "customers"),
                       pa.Table.from_pylist([planted], schema=bronze_schema(ERP_CUSTOMERS)))
    failed = encryption_coverage(storage=storage)
    assert not failed.passed
    assert "| bronze/erp/customers | national_id | 1 | 2 |" in failed.metadata["leaks"].value
    assert "X7654321" not in json.dumps({k: str(v) for k, v in failed.metadata.items()})
