"""The silver suites, run by Great Expectations on a small DuckDB warehouse: each bad row is caught
by its named rule, the quarantine lists exactly those rows, and counts reconcile."""

from pathlib import Path

import duckdb
import pytest

from quality.gx_runner import run_suites
from quality.quarantine import rejections
from quality.suites import SuiteError, load_suite, load_suites
from warehouse.layout import HubPaths
from warehouse.quality_store import quarantine_listing, store_silver_quarantine

STAGING = """
create schema staging;
create table staging.stg_erp__customers as select * from (values
    ('C1', date '1980-01-01', 'DE', 'b1'), ('C2', date '2090-01-01', 'DE', 'b1')) t(customer_no, birth_date, country, _batch_id);
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
"""

EXPECTED = {
    ("stg_erp__order_lines", "O1-2"): "line_quantity_not_negative",
    ("stg_erp__order_lines", "O9-1"): "line_order_exists",
    ("stg_erp__order_lines", "O1-3"): "line_product_exists",
    ("stg_erp__invoices", "I2"): "invoice_not_before_order",
    ("stg_erp__invoices", "I3"): "invoice_amount_not_negative",
    ("stg_erp__sales_orders", "O2"): "order_customer_exists",
    ("stg_erp__sales_orders", "O3"): "order_currency_is_iso",
}


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
    birth = next(o for s in results for o in s.results if o.name == "customer_birth_date_plausible")
    assert (birth.success, birth.rows_failed, birth.quarantine) == (False, 1, False)
    assert all(o.error is None for s in results for o in s.results)


def test_quarantine_is_stored_and_counts_reconcile(warehouse: tuple[HubPaths, list]) -> None:
    paths, results = warehouse
    stored = store_silver_quarantine(paths, paths.warehouse_db, results, rejections(results))
    assert all(r.balanced for r in stored.reconciliations)
    lines = next(r for r in stored.reconciliations if r.table == "stg_erp__order_lines")
    assert (lines.rows_in, lines.passed, lines.quarantined) == (4, 1, 3)
    listing = quarantine_listing(paths).to_pylist()
    assert {(r["table"], r["record_key"]): r["rules"] for r in listing} == EXPECTED
    assert {r["batch_id"] for r in listing if r["table"] == "stg_erp__invoices"} == {"b4"}
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        assert con.execute("select sum(rows) from quality.quarantine_summary").fetchone()[0] == 7


def test_a_fixed_row_is_released_on_the_next_run(warehouse: tuple[HubPaths, list]) -> None:
    paths, _ = warehouse
    with duckdb.connect(str(paths.warehouse_db)) as con:
        con.execute("update staging.stg_erp__invoices set amount = 5.0 where invoice_no = 'I3'")
    results = run_suites(paths.warehouse_db, load_suites("silver"))
    store_silver_quarantine(paths, paths.warehouse_db, results, rejections(results))
    keys = {r["record_key"] for r in quarantine_listing(paths).to_pylist()}
    assert "I3" not in keys and "I2" in keys and len(keys) == 6


def test_a_suite_without_severity_rules_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("table: staging.t\nkey: [id]\nexpectations:\n  - name: x\n    expect: column_values_to_be_unique\n    severity: fatal\n")
    with pytest.raises(SuiteError, match=r"bad\.yml: rule x: severity"):
        load_suite(bad, "silver")
