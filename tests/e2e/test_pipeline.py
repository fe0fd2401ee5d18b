"""The whole pipeline on a tiny seeded world: counts reconcile against the simulator's own figures,
every planted bad record is quarantined with a readable reason, and a second run adds nothing."""

import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from quality.contracts import CONTRACTS
from tests.e2e.helpers import quarantine_rows
from warehouse import delta_store
from warehouse.layout import HubPaths

pytestmark = pytest.mark.e2e


def test_counts_reconcile_with_the_simulator(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, manifest, _ = pipeline_run
    quarantined = Counter((q["source"], q["_entity"]) for q in quarantine_rows(paths))
    for name, contract in CONTRACTS.items():
        landed = delta_store.row_count(paths.bronze_table(contract.source, contract.entity))
        assert landed + quarantined[(contract.source, contract.entity)] == manifest["counts"][name], name


def test_every_planted_bad_record_is_quarantined_with_a_reason(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, manifest, _ = pipeline_run
    quarantine = quarantine_rows(paths)
    bad = [p for p in manifest["planted"] if p["kind"] != "schema_drift"]
    assert bad, "the simulator planted no bad records"
    for planted in bad:
        matches = [
            q for q in quarantine
            if q["source"] == planted["source"] and q["_entity"] == planted["entity"]
            and ((planted.get("line") and q["_row_number"] == planted["line"] and q["_source_uri"].endswith(planted["file"].split("/")[-1]))
                 or (planted.get("record_id") and planted["record_id"] in q["_raw"]))
        ]
        assert matches, f"planted record not in quarantine: {planted}"
        error = matches[0]["_error"]
        assert f"{planted['source']}/{planted['entity']}" in error and "row " in error and "[rule: " in error
        if planted.get("field"):
            assert f"field '{planted['field']}'" in error, (planted, error)


def test_duplicate_delivery_is_landed_once(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, manifest, _ = pipeline_run
    assert manifest["duplicate_files"]
    ledger = json.loads((paths.state / "ledgers" / "social_posts.json").read_text())
    names = {entry["file"] for entry in ledger.values()}
    for dup in manifest["duplicate_files"]:
        assert Path(dup["file"]).name not in names
        assert any(Path(dup["file"]).name in entry.get("duplicates", []) for entry in ledger.values())


def test_second_run_adds_no_rows(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    _, _, (first, second) = pipeline_run
    assert first > 0 and second == first


def test_staging_models_are_typed_and_standardised(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, _, _ = pipeline_run
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        contacts = con.execute("select count(*), count(distinct contact_id) from staging.stg_crm__contacts").fetchone()
        assert contacts[0] == contacts[1] > 0
        assert con.execute("select count(*) from staging.stg_crm__contacts where email <> lower(email)").fetchone()[0] == 0
        phones = con.execute("select phone_e164 from staging.stg_erp__customers where phone_e164 is not null").fetchall()
        assert phones and all(p[0].startswith("+") and p[0][1:].isdigit() for p in phones)
        assert con.execute("select typeof(birth_date) from staging.stg_crm__contacts limit 1").fetchone()[0] == "DATE"
        # The simulated sources write birth dates in forms that decide day and month.
        dated = con.execute("select count(birth_date), count(birth_date_issue) from staging.stg_erp__customers").fetchone()
        assert dated[0] > 0 and dated[1] == 0
        drift = con.execute("select count(owner_phone_e164) from staging.stg_iot__devices").fetchone()[0]
        assert drift > 0


def test_social_profiles_carry_what_they_publish(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, _, _ = pipeline_run
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        social = con.execute("""
            select count(*), count(email), count(phone), count(city), count(last_name)
            from intermediate.int_person_records where source = 'social'""").fetchone()
        initials = con.execute("""
            select count(*) from intermediate.int_person_records
            where source = 'social' and regexp_matches(full_name, '^\\S+ \\S\\.$')
              and length(last_name) > 1""").fetchone()[0]
    total, emails, phones, cities, completed = social
    # Contacts come from bios and posts, towns from bios, surnames from handles.
    assert total > 0 and emails > 0 and phones > 0 and cities > 0 and completed > 0
    assert initials > 0


def test_person_records_carry_the_social_links_sources_recorded(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    import polars as pl

    paths, _, _ = pipeline_run
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        per_source = dict(con.execute("""
            select source, count(social_handle) from intermediate.int_person_records group by 1""").fetchall())
        social_without_own = con.execute("""
            select count(*) from intermediate.int_person_records
            where source = 'social' and social_handle is distinct from source_record_id""").fetchall()[0][0]
        links = con.sql("""
            select linked.source, linked.source_record_id, profiles.source_record_id as profile_id
            from intermediate.int_person_records as linked
            left join intermediate.int_person_records as profiles
                on profiles.source = 'social' and profiles.social_handle = linked.social_handle
            where linked.source in ('crm', 'erp') and linked.social_handle is not null""").pl()
    assert per_source["social"] > 0 and social_without_own == 0
    assert per_source["crm"] > 0 and per_source["erp"] > 0
    assert per_source["erp_contacts"] == 0 and per_source["iot"] == 0
    # Each CRM and ERP link equals a landed profile's id and names a profile of the same person.
    assert links["profile_id"].null_count() == 0
    truth = pl.read_parquet(paths.world / "truth" / "truth.parquet")
    profiles = truth.filter(pl.col("source") == "social").select(
        pl.col("source_record_id").str.to_lowercase().alias("profile_id"),
        pl.col("person_id").alias("profile_owner"))
    owners = (links.join(truth.select("source", "source_record_id", "person_id"),
                         on=["source", "source_record_id"])
              .join(profiles, on="profile_id"))
    assert owners.height == links.height
    assert (owners["person_id"] == owners["profile_owner"]).all()


def test_identity_accuracy_against_the_simulators_truth(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    from identity.evaluate import evaluate, read_truth

    paths, _, _ = pipeline_run
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        published = con.sql("select source, source_record_id, customer_id "
                            "from identity.identity_graph where valid_to is null").pl()
    metrics = evaluate(published, read_truth(paths.world / "truth" / "truth.parquet"))
    # A floor, not the target: the 20k demo world's figures are in docs/identity.md.
    assert metrics.pairwise_precision >= 0.98
    assert metrics.bcubed_f1 >= 0.97
