"""The silver suites, run by Great Expectations on a small DuckDB warehouse: each bad row is caught
by its named rule, the quarantine lists exactly those rows, and counts reconcile."""

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from quality.gx_runner import run_suites
from quality.quarantine import rejections
from quality.suites import SuiteError, load_suite, load_suites
from warehouse import delta_store
from warehouse.layout import HubPaths
from warehouse.quality_store import quarantine_listing, store_silver_quarantine

STAGING = """
create schema staging;
create table staging.stg_erp__customers as select * from (values
    ('C1', date '1980-01-01', null, 'DE', false, '+4930123456', 'Ada', 'b1'),
    ('C2', null, 'implausible', 'DE', false, null, 'Bea', 'b1'),
    ('C3', date '1990-05-01', null, 'ZZ', true, '+4930123457', 'Cem', 'b1'))
    t(customer_no, birth_date, birth_date_issue, country, email_invalid, phone_e164, full_name, _batch_id);
create table staging.stg_erp__products as select 'P1' as sku, 'b1' as _batch_id;
create table staging.stg_erp__sales_orders as select * from (values
    ('O1', 'C1', timestamp '2025-01-01', 'EUR', 'b2'), ('O2', 'C9', timestamp '2025-01-01', 'EUR', 'b2'),
    ('O3', 'C1', timestamp '2025-01-01', 'XXX', 'b2')) t(order_no, customer_no, ordered_at, currency, _batch_id);
create table staging.stg_erp__order_lines as select * from (values
    ('O1-1', 'O1', 'P1', 1, 2.0, 'b3'), ('O1-2', 'O1', 'P1', -1, 2.0, 'b3'), ('O9-1', 'O9', 'P1', 1, 2.0, 'b3'),
    ('O1-3', 'O1', 'PX', 1, 2.0, 'b3')) t(order_line_id, order_no, sku, quantity, unit_price, _batch_id);
create table staging.stg_erp__invoices as select * from (values
    ('I1', 'O1', timestamp '2025-01-02', 10.0, 'EUR', 'b4'), ('I2', 'O1', timestamp '2024-01-01', 10.0, 'EUR', 'b4'),
    ('I3', 'O1', timestamp '2025-01-02', -5.0, 'EUR', 'b4')) t(invoice_no, order_no, invoiced_at, amount, currency, _batch_id);
create table staging.stg_crm__contacts as select * from (values
    ('CT1', date '1975-02-03', null::varchar, 'GB', false, '+447700900123', 'ann@example.org', 'b5'),
    ('CT2', date '1890-01-01', null, 'GB', false, '+447700900124', 'bob@example.org', 'b5'),
    ('CT3', date '1985-01-01', null, 'NO', false, '447700900', 'cy@example.org', 'b5'),
    ('CT4', date '1985-01-01', null, 'QZ', true, null, null, 'b5'))
    t(contact_id, birth_date, birth_date_issue, country, email_invalid, phone_e164, email, _batch_id);
create table staging.stg_crm__accounts as select * from (values ('AC1', 'US', 'b6'), ('AC2', null, 'b6'))
    t(account_id, country, _batch_id);
create table staging.stg_crm__opportunities as select * from (values
    ('OP1', 'proposal', 1000.0, 'EUR', 'b7'), ('OP2', 'closed_won', -10.0, 'EUR', 'b7'),
    ('OP3', 'closed_lost', 10.0, 'ZZZ', 'b7')) t(opportunity_id, stage, amount, currency, _batch_id);
create table staging.stg_social__posts as select * from (values
    ('P1', 3, timestamp '2025-01-01', timestamptz '2025-01-02 00:00:00+00', 'b8'))
    t(post_id, reactions, created_at, _ingested_at, _batch_id);
create table staging.stg_iot__devices as select * from (values
    ('TS2-0000000A', 'US', '+15555550100', 'b9'), ('HPX-0000000B', 'QZ', null, 'b9'))
    t(device_id, owner_country, owner_phone_e164, _batch_id);
create table staging.stg_iot__telemetry as select * from (values
    ('EV1', 'TS2-0000000A', timestamp '2025-01-01', 21.0, 30.0, 15.0, timestamptz '2025-01-02 00:00:00+00', 'b10'),
    ('EV2', 'TS2-0000000A', timestamp '2025-01-01', 250.0, 30.0, 15.0, timestamptz '2025-01-02 00:00:00+00', 'b10'),
    ('EV3', 'HPX-0000000B', timestamp '2025-01-01', 21.0, 9000.0, 15.0, timestamptz '2025-01-02 00:00:00+00', 'b10'),
    ('EV4', 'TS2-0000000A', timestamp '2025-01-01', 21.0, 9000.0, 15.0, timestamptz '2025-01-02 00:00:00+00', 'b10'),
    ('EV5', 'TS2-0000000A', timestamp '2025-01-01', 21.0, 30.0, 15.0, timestamptz '2025-01-02 00:00:00+00', 'b10'),
    ('EV5', 'TS2-0000000A', timestamp '2025-01-01', 22.0, 31.0, 15.0, timestamptz '2025-01-02 00:00:00+00', 'b11'))
    t(event_id, device_id, ts, temp_c, power_w, usage_min, _ingested_at, _batch_id);
"""

EXPECTED = {
    ("stg_erp__order_lines", "O1-2"): "line_quantity_not_negative",
    ("stg_erp__order_lines", "O9-1"): "line_order_exists",
    ("stg_erp__order_lines", "O1-3"): "line_product_exists",
    ("stg_erp__invoices", "I2"): "invoice_not_before_order",
    ("stg_erp__invoices", "I3"): "invoice_amount_not_negative",
    ("stg_erp__sales_orders", "O2"): "order_customer_exists",
    ("stg_erp__sales_orders", "O3"): "order_currency_is_iso",
    ("stg_erp__customers", "C2"): "customer_birth_date_plausible",
    ("stg_erp__customers", "C3"): "customer_country_is_iso",
    ("stg_crm__contacts", "CT2"): "contact_birth_date_plausible",
    ("stg_crm__contacts", "CT4"): "contact_country_is_iso",
    ("stg_crm__opportunities", "OP2"): "opportunity_amount_not_negative",
    ("stg_crm__opportunities", "OP3"): "opportunity_currency_is_iso",
    ("stg_iot__devices", "HPX-0000000B"): "device_owner_country_is_iso",
    ("stg_iot__telemetry", "EV2"): "telemetry_reading_in_range",
    ("stg_iot__telemetry", "EV4"): "telemetry_reading_in_range",
    ("stg_iot__telemetry", "EV5"): "telemetry_event_id_unique",
}
# Rules that warn (the row flows on): the rows each must flag.
WARNINGS = {"contact_phone_e164": 1, "contact_email_syntax": 1, "customer_email_syntax": 1}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[HubPaths, list]:
    paths = HubPaths(tmp_path_factory.mktemp("silver") / "hub")
    paths.root.mkdir(parents=True)
    with duckdb.connect(str(paths.warehouse_db)) as con:
        con.execute(STAGING)
    return paths, run_suites(paths.warehouse_db, load_suites("silver"))


def test_each_bad_row_fails_its_named_rule(warehouse: tuple[HubPaths, list]) -> None:
    _, results = warehouse
    got = {(r["table_name"], r["record_key"]): r["rules"] for r in rejections(results).to_pylist()}
    assert got == EXPECTED
    outcomes = {o.name: o for s in results for o in s.results}
    for name, rows in WARNINGS.items():
        assert (outcomes[name].success, outcomes[name].rows_failed, outcomes[name].quarantine) == (False, rows, False), name
    # HPX-0000000B's 9000 W is within a heat pump's range; EV4's 9000 W is not within a thermostat's.
    assert outcomes["device_owner_phone_e164"].success and outcomes["post_reactions_not_negative"].success
    assert all(o.error is None for o in outcomes.values()), {n: o.error for n, o in outcomes.items() if o.error}


def test_quarantine_is_stored_and_counts_reconcile(warehouse: tuple[HubPaths, list]) -> None:
    paths, results = warehouse
    stored = store_silver_quarantine(paths, paths.warehouse_db, results, rejections(results))
    assert all(r.balanced for r in stored.reconciliations)
    lines = next(r for r in stored.reconciliations if r.table == "stg_erp__order_lines")
    assert (lines.rows_in, lines.passed, lines.quarantined) == (4, 1, 3)
    listing = quarantine_listing(paths).to_pylist()
    assert {(r["table"], r["record_key"]): r["rules"] for r in listing} == EXPECTED
    assert {r["batch_id"] for r in listing if r["table"] == "stg_erp__invoices"} == {"b4"}
    telemetry = next(r for r in stored.reconciliations if r.table == "stg_iot__telemetry")
    # Both copies of the repeated event id are quarantined: 6 in, 2 pass, 4 held.
    assert (telemetry.rows_in, telemetry.passed, telemetry.quarantined) == (6, 2, 4)
    assert {r["batch_id"] for r in listing if r["record_key"] == "EV5"} == {"b10", "b11"}
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        assert con.execute("select sum(rows) from quality.quarantine_summary").fetchone()[0] == len(EXPECTED) + 1


def test_quarantine_keeps_no_personal_value_in_clear(warehouse: tuple[HubPaths, list]) -> None:
    paths, _ = warehouse
    stored = delta_store.read(paths.layer_quarantine_table("silver", "stg_crm__contacts")).to_pylist()
    assert {r["record_key"] for r in stored} == {"CT2", "CT4"}
    for row in stored:
        payload = json.loads(row["payload"])
        assert "email" not in payload and "birth_date" not in payload and "phone_e164" not in payload
        assert {"email", "birth_date", "phone_e164"} <= set(row["withheld"].split(";"))
        assert payload["contact_id"] == row["record_key"] and "country" in payload
    assert "bob@example.org" not in json.dumps(stored, default=str)


def test_a_fixed_row_is_released_on_the_next_run(warehouse: tuple[HubPaths, list]) -> None:
    paths, _ = warehouse
    with duckdb.connect(str(paths.warehouse_db)) as con:
        con.execute("update staging.stg_erp__invoices set amount = 5.0 where invoice_no = 'I3'")
    results = run_suites(paths.warehouse_db, load_suites("silver"))
    store_silver_quarantine(paths, paths.warehouse_db, results, rejections(results))
    keys = [r["record_key"] for r in quarantine_listing(paths).to_pylist() if r["table"] != "stg_iot__telemetry"]
    assert "I3" not in keys and "I2" in keys and len(keys) == len(set(keys)) == len(EXPECTED) - 4


def test_a_suite_without_severity_rules_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("table: staging.t\nkey: [id]\nexpectations:\n  - name: x\n    expect: column_values_to_be_unique\n    severity: fatal\n")
    with pytest.raises(SuiteError, match=r"bad\.yml: rule x: severity"):
        load_suite(bad, "silver")


def _passed_keys(paths: HubPaths, table: str, key: str) -> list[str]:
    # What the intermediate models read: the passed_rows macro's filter (dbt/macros/passed_rows.sql).
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        return [r[0] for r in con.execute(
            f"""select {key}::varchar from staging.{table} where {key}::varchar not in
                (select record_key from quality.silver_rejections where table_name = '{table}')""").fetchall()]


def test_release_after_a_rule_fix_lets_the_row_in_once_and_counts_it_once(tmp_path: Path) -> None:
    paths = HubPaths(tmp_path / "hub")
    paths.root.mkdir(parents=True)
    with duckdb.connect(str(paths.warehouse_db)) as con:
        con.execute(STAGING)
    suites = load_suites("silver")
    for _ in range(2):  # the same data twice: nothing is counted twice
        results = run_suites(paths.warehouse_db, suites)
        store_silver_quarantine(paths, paths.warehouse_db, results, rejections(results))
    listing = quarantine_listing(paths).to_pylist()
    assert len(listing) == len(EXPECTED) + 1  # EV5's two copies
    assert "OP3" not in _passed_keys(paths, "stg_crm__opportunities", "opportunity_id")
    # A steward adds the currency the business started trading in: the rule is fixed, not the data.
    fixed = [
        replace(s, expectations=tuple(
            replace(e, arguments={**e.arguments, "value_set": [*e.arguments["value_set"], "ZZZ"]})
            if e.name == "opportunity_currency_is_iso" else e for e in s.expectations))
        for s in suites
    ]
    results = run_suites(paths.warehouse_db, fixed)
    stored = store_silver_quarantine(paths, paths.warehouse_db, results, rejections(results))
    passed = _passed_keys(paths, "stg_crm__opportunities", "opportunity_id")
    assert passed.count("OP3") == 1 and "OP2" not in passed
    opportunities = next(r for r in stored.reconciliations if r.table == "stg_crm__opportunities")
    assert (opportunities.rows_in, opportunities.passed, opportunities.quarantined) == (3, 2, 1)
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        summary = dict(con.execute("""select rule, sum(rows) from quality.quarantine_summary
                                      where "table" = 'stg_crm__opportunities' group by 1""").fetchall())
    assert summary == {"opportunity_amount_not_negative": 1}
