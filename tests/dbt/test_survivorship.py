"""The survivorship rules a steward declares in dbt/models/intermediate/customers/survivorship.yml are the ones
customer_360 applies: built through dbt on a hand-made identity graph and person records."""

import json

import pytest
import yaml

from tests.dbt.conftest import write_identity
from warehouse.layout import PROJECT_ROOT, HubPaths

RULES_FILE = PROJECT_ROOT / "dbt" / "models" / "intermediate" / "customers" / "survivorship.yml"
CANONICAL = ["full_name", "first_name", "last_name", "birth_date", "email", "phone", "street", "city",
             "postcode", "country", "national_id", "company"]
PERSONS = """
    create schema if not exists intermediate;
    create or replace table intermediate.int_person_records as
    select * from (values
        ('crm', 'CT1', 'Bob', 'Smith', 'Bob Smith', date '1980-01-02', 'bob@x.com', '+4930111', 'Old St 1', 'Berlin', '10115', 'DE', null, 'Acme', timestamp '2026-01-01'),
        ('erp', 'K1', 'Robert', 'Smith', 'Robert Smith', date '1980-01-02', 'robert@x.com', '+4930222', 'New St 2', 'Hamburg', '20095', 'DE', 'X1', null, timestamp '2025-01-01'),
        ('iot', 'D1', null, null, 'R Smith', null, 'bob@x.com', '+4930333', null, null, '10115', 'DE', null, null, timestamp '2026-06-01'),
        ('erp_contacts', 'EC1', 'Robert', 'Smith', 'Robert Smith', null, 'robert.smith@acme.com', null, null, null, null, 'DE', null, 'Acme GmbH', timestamp '2024-01-01')
    ) as t(source, source_record_id, first_name, last_name, full_name, birth_date, email, phone,
           street, city, postcode, country, national_id, company, record_updated_at)
"""


def shipped_rules() -> dict:
    (model,) = yaml.safe_load(RULES_FILE.read_text())["models"]
    return model["config"]["meta"]["survivorship"]


def test_rules_file_is_valid() -> None:
    rules = shipped_rules()
    assert set(rules) == {"name", "email", "phone", "address", "birth_date", "company"}
    for group, spec in rules.items():
        assert set(spec["columns"]) <= set(CANONICAL), group
        for rule in [spec["rule"], *([spec["tie_break"]] if isinstance(spec.get("tie_break"), str) else spec.get("tie_break", []))]:
            assert rule in {"source_priority", "most_recent", "most_frequent"}, group
            if rule == "source_priority":
                assert spec["sources"], group


@pytest.fixture
def persons(hub_paths: HubPaths, warehouse) -> None:
    write_identity(hub_paths, [("crm", "CT1", "C1", 0.9), ("erp", "K1", "C1", 0.95), ("iot", "D1", "C1", 0.8),
                               ("erp_contacts", "EC1", "C1", 0.9)])
    with warehouse() as con:
        con.execute(PERSONS)


def golden(warehouse) -> dict:
    with warehouse("ro") as con:
        rows = con.sql("select * from intermediate.int_customer_golden_records").to_arrow_table().to_pylist()
    assert len(rows) == 1
    return rows[0]


def test_shipped_rules_are_honoured(persons: None, run_dbt, warehouse) -> None:
    run_dbt("run", "--select", "stg_identity__identity_graph", "int_identity_current", "int_customer_golden_records")
    row = golden(warehouse)
    rules = shipped_rules()
    # name: source priority puts ERP first, although the CRM record is newer
    assert rules["name"]["sources"][0] == "erp"
    assert (row["full_name"], row["name_source"]) == ("Robert Smith", "erp")
    # email: the address two records agree on; of those, the newest record's source
    assert (row["email"], row["email_source"]) == ("bob@x.com", "iot")
    # address: the newest complete address; the IoT registration has only a postcode
    assert (row["street"], row["city"], row["address_source"]) == ("Old St 1", "Berlin", "crm")
    assert (row["phone_source"], row["birth_date_source"], row["company"]) == ("iot", "erp", "Acme GmbH")


def test_a_steward_changing_a_rule_changes_the_winner(persons: None, run_dbt, warehouse) -> None:
    rules = shipped_rules()
    rules["name"] = {"columns": rules["name"]["columns"], "rule": "most_recent"}
    rules["address"]["rule"], rules["address"]["tie_break"] = "source_priority", "most_recent"
    run_dbt("run", "--select", "stg_identity__identity_graph", "int_identity_current", "int_customer_golden_records",
            "--vars", json.dumps({"gold_survivorship_rules": rules}))
    row = golden(warehouse)
    assert (row["full_name"], row["name_source"]) == ("R Smith", "iot")
    assert (row["city"], row["address_source"]) == ("Hamburg", "erp")
