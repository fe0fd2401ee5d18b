"""The silver-level bad rows the simulator plants: each is quarantined under the rule the
simulator's truth names, it reaches neither the identity graph nor the timeline, and the counts
of every silver table reconcile."""

import json

import duckdb
import pytest

from quality.suites import load_suites
from warehouse import delta_store
from warehouse.layout import HubPaths
from warehouse.quality_store import quarantine_listing

pytestmark = pytest.mark.e2e

PLANTED_KINDS = {"impossible_birth_date", "negative_amount", "orphan_order_line", "invoice_before_order",
                 "out_of_range_reading", "unknown_country_code", "duplicate_business_key"}


def test_the_simulator_plants_every_kind_of_silver_defect(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    _, manifest, _ = pipeline_run
    assert {p["kind"] for p in manifest["planted_silver"]} == PLANTED_KINDS


def test_each_planted_row_is_quarantined_under_its_named_rule(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, manifest, _ = pipeline_run
    listing = quarantine_listing(paths).to_pylist()
    silver = {(r["table"], r["record_key"]): r for r in listing if r["layer"] == "silver"}
    for planted in manifest["planted_silver"]:
        row = silver.get((planted["table"], planted["record_key"]))
        assert row is not None, f"not quarantined: {planted}"
        assert planted["rule"] in row["rules"].split(";"), (planted, row["rules"])
        assert row["batch_id"]


def test_nothing_but_the_planted_rows_is_quarantined_in_silver(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, manifest, _ = pipeline_run
    listed = {(r["table"], r["record_key"]) for r in quarantine_listing(paths).to_pylist() if r["layer"] == "silver"}
    assert listed == {(p["table"], p["record_key"]) for p in manifest["planted_silver"]}


def test_quarantined_rows_flow_no_further_and_counts_reconcile(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, manifest, _ = pipeline_run
    refs = {f"{p['source']}/{p['entity']}/{p['record_key']}" for p in manifest["planted_silver"]
            if p["entity"] != "order_lines"}
    people = {(p["source"], p["record_key"]) for p in manifest["planted_silver"] if p["entity"] in ("contacts", "devices")}
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        timeline = {r[0] for r in con.execute("select ref from marts.customer_timeline").fetchall()}
        assert not refs & timeline
        graph = set(con.execute("select source, source_record_id from identity.identity_graph").fetchall())
        assert people and not people & graph
        for suite in load_suites("silver"):
            rows_in = con.execute(f"select count(*) from {suite.table}").fetchone()[0]
            quarantined = delta_store.row_count(paths.layer_quarantine_table("silver", suite.table_name))
            passed = con.execute(
                f"""select count(*) from {suite.table} where {suite.key[0]}::varchar not in
                    (select record_key from quality.silver_rejections where table_name = '{suite.table_name}')"""
            ).fetchone()[0]
            assert rows_in == passed + quarantined, suite.table
        assert con.execute("select count(*) from marts.customer_features_daily").fetchone()[0] > 0


def test_quarantine_holds_no_personal_value_in_clear(pipeline_run: tuple[HubPaths, dict, list[int]]) -> None:
    paths, _, _ = pipeline_run
    contacts = delta_store.read(paths.layer_quarantine_table("silver", "stg_crm__contacts")).to_pylist()
    assert contacts
    for row in contacts:
        payload = json.loads(row["payload"])
        assert not {"email", "phone_e164", "birth_date", "full_name", "street"} & set(payload)
        assert {"email", "birth_date"} <= set(row["withheld"].split(";"))
        assert payload["birth_date_issue"] == "implausible"
