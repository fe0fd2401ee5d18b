"""Encryption at rest on real Delta tables, a real key store and a real DuckDB connection: bronze
seals what the contract protects, staging's UDF opens it, forgetting a key shreds it, and the
coverage check and the byte scan see cleartext wherever it is left."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from privacy.byte_scan import Needles, phone_variants, scan
from privacy.catalog import Declared
from privacy.keys.envelope import Subject, is_ciphertext
from privacy.keys.master_key import MasterKey
from privacy.keys.vault import Vault
from privacy.preview import mask_preview
from quality.contracts import CRM_CONTACTS, IOT_DEVICES
from quality.row_validation import RawRecord
from warehouse import delta_store
from warehouse.bronze import BronzeLanding, bronze_schema
from warehouse.bronze_protection import (
    join_key_column,
    protected_fields,
    read_opened,
    read_quarantine_opened,
)
from warehouse.dbt_plugin import LazyVault, register_udfs
from warehouse.encryption_coverage import column_coverage
from warehouse.layout import HubPaths

# Made-up values for a made-up person; nothing here is a real identifier.
EMAIL = "Zorvek.Thalquin@Example.TEST"
PHONE = "+49 151 2345 6789"


def _contact(record_id: str, email: str = EMAIL, **extra: object) -> RawRecord:
    row = {"id": record_id, "first_name": "Zorvek", "last_name": "Thalquin", "email": email,
           "phone": PHONE, "street": "Quinweg 7", "city": "Moxstadt", "country": "DE",
           "birth_date": "1990-04-03", "owner": "rep-1", "created_at": "2026-01-01T00:00:00Z",
           "updated_at": "2026-01-01T00:00:00Z", **extra}
    return RawRecord(1, json.dumps(row))


@pytest.fixture
def vault(hub_paths: HubPaths) -> Vault:
    with Vault.open(hub_paths.key_store, MasterKey.generate("test")) as opened:
        yield opened


def _land(paths: HubPaths, vault: Vault, *records: RawRecord) -> None:
    landing = BronzeLanding(paths, CRM_CONTACTS, vault=vault)
    landing.add_batch(list(records), "test://contacts", "b1")
    landing.commit()


def test_bronze_seals_what_the_contract_protects_and_keeps_the_rest(hub_paths: HubPaths, vault: Vault) -> None:
    _land(hub_paths, vault, _contact("C-1", nickname="Zo"), _contact("C-2", email=EMAIL.lower()),
          RawRecord(3, "{broken " + EMAIL))
    [one, two] = sorted(delta_store.read(hub_paths.bronze_table("crm", "contacts")).to_pylist(), key=lambda r: r["id"])
    assert set(protected_fields(CRM_CONTACTS)) == {"first_name", "last_name", "email", "phone", "street",
                                                   "birth_date", "social_profile"}
    for field in ("first_name", "last_name", "email", "phone", "street", "birth_date"):
        assert is_ciphertext(one[field]), field
    assert one["city"] == "Moxstadt" and one["owner"] == "rep-1"  # quasi-identifiers and L2 stay readable
    assert one["email"] != two["email"]  # a fresh nonce per value: equal values do not show
    # The join key is the HMAC of the normalised value, so differently written emails join.
    assert one[join_key_column("email")] == two[join_key_column("email")] == vault.join_keys.email(EMAIL.lower())
    assert one[join_key_column("phone")] == vault.join_keys.phone("+4915123456789")
    assert list(json.loads(one["_extra"])) == ["nickname"] and is_ciphertext(json.loads(one["_extra"])["nickname"])
    [quarantined] = delta_store.read(hub_paths.quarantine_table("crm")).to_pylist()
    assert is_ciphertext(quarantined["_raw"])

    opened = {r["id"]: r for r in read_opened(hub_paths, CRM_CONTACTS, vault).to_pylist()}
    assert opened["C-1"]["email"] == EMAIL and opened["C-1"]["phone"] == PHONE
    assert json.loads(opened["C-1"]["_extra"]) == {"nickname": "Zo"}
    assert read_quarantine_opened(hub_paths, "crm", vault).column("_raw").to_pylist() == ["{broken " + EMAIL]


def test_landing_the_same_records_again_stores_nothing_new(hub_paths: HubPaths, vault: Vault) -> None:
    _land(hub_paths, vault, _contact("C-1"))
    landing = BronzeLanding(hub_paths, CRM_CONTACTS, vault=vault)
    report = landing.add_batch([_contact("C-1")], "test://contacts", "b2")
    landing.commit()
    assert report.already_loaded == 1 and report.accepted == 0


def test_staging_udf_opens_values_and_a_forgotten_subject_reads_as_null(hub_paths: HubPaths, vault: Vault) -> None:
    _land(hub_paths, vault, _contact("C-1"), _contact("C-2"))
    con = duckdb.connect()
    register_udfs(con, LazyVault(lambda: vault))
    con.register("contacts", delta_store.read(hub_paths.bronze_table("crm", "contacts")))
    query = ("select id, hub_decrypt('crm/contacts', id, 'email', email) from contacts "
             "union all select 'clear', hub_decrypt('crm/contacts', 'x', 'email', 'not@encrypted.test') order by 1")
    assert con.sql(query).fetchall() == [("C-1", EMAIL), ("C-2", EMAIL), ("clear", "not@encrypted.test")]
    # The wrong field does not open: the field name is bound into the ciphertext.
    with pytest.raises(duckdb.Error, match="does not decrypt"):
        con.sql("select hub_decrypt('crm/contacts', id, 'phone', email) from contacts").fetchall()
    assert vault.store.forget([Subject("crm/contacts", "C-2")]) == 1
    fresh = duckdb.connect()
    register_udfs(fresh, LazyVault(lambda: Vault(vault.store)))
    fresh.register("contacts", delta_store.read(hub_paths.bronze_table("crm", "contacts")))
    assert fresh.sql("select id, hub_decrypt('crm/contacts', id, 'email', email) from contacts order by 1"
                     ).fetchall() == [("C-1", EMAIL), ("C-2", None)]


def test_coverage_counts_a_cleartext_value_in_a_protected_column(hub_paths: HubPaths, vault: Vault) -> None:
    _land(hub_paths, vault, _contact("C-1"))
    assert [g for g in column_coverage(hub_paths) if g.cleartext] == []
    planted = {n: None for n in bronze_schema(CRM_CONTACTS).names} | {"id": "C-9", "email": EMAIL}
    delta_store.append(hub_paths.bronze_table("crm", "contacts"),
                       pa.Table.from_pylist([planted], schema=bronze_schema(CRM_CONTACTS)))
    [gap] = [g for g in column_coverage(hub_paths) if g.cleartext]
    assert (gap.table, gap.column, gap.cleartext, gap.values) == ("bronze/crm/contacts", "email", 1, 2)


def test_the_byte_scan_sees_cleartext_in_parquet_and_duckdb_but_not_ciphertext(hub_paths: HubPaths, vault: Vault) -> None:
    _land(hub_paths, vault, _contact("C-1"))
    landing = BronzeLanding(hub_paths, IOT_DEVICES, vault=vault)
    landing.add_batch([RawRecord(1, {"serial": "D1", "owner_email": EMAIL, "owner_mobile": PHONE})], "t://d", "b")
    landing.commit()
    needles = Needles(emails=[EMAIL], phones=["+4915123456789"])
    assert "015123456789" in phone_variants("+4915123456789")
    assert scan(hub_paths.root, needles).findings == []

    pq.write_table(pa.table({"contact": [EMAIL.lower()] * 50}), hub_paths.root / "copy.parquet", compression="zstd")
    with duckdb.connect(str(hub_paths.root / "copy.duckdb")) as con:
        con.execute("create table t as select '0151 2345 6789' as phone from range(1000)")
    found = {(f.path, f.kind) for f in scan(hub_paths.root, needles).findings}
    assert found == {("copy.parquet", "email"), ("copy.duckdb", "phone")}


def test_a_preview_shows_no_identifier() -> None:
    table = pa.table({"customer_id": ["C1"], "email": [EMAIL], "country": ["DE"], "note": ["call Zorvek"],
                      "orders": [3]})
    masked = mask_preview(table, {"country": Declared("NONE", "L2")}).to_pylist()
    assert masked == [{"customer_id": "C1", "email": "<EMAIL_ADDRESS>", "country": "DE", "note": "<FREE_TEXT>",
                       "orders": 3}]
